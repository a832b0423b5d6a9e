/**
 * The adaptive quality controller on synthetic timings: an overloaded frame budget steps it down
 * the ladder (and says what and why; two rungs at once when far short), headroom brings it back up
 * after a few calm windows, and a load right at the edge does not make it oscillate.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QUALITY_LADDER, QualityController, describeChange, type QualityChange } from '../../src/pipeline/adaptive-quality.js';
import { DEFAULT_LIVE_SETTINGS, DEFAULT_TARGET_FPS, resolveTargetFps } from '../../src/pipeline/live-options.js';

/**
 * Feeds `seconds` of frames to the controller as a worker that takes `costMs(level)` per frame would
 * produce them, with a camera offering `cameraFps`, as the page feeds it: a camera frame that
 * arrived while one was processed waits in the one slot and goes next; otherwise the next frame is
 * the camera's next one (frames are never queued).
 */
function run(controller: QualityController, seconds: number, costMs: (level: number) => number, cameraFps = 30, clock = { now: 0 }): QualityChange[] {
  const changes: QualityChange[] = [];
  const end = clock.now + seconds * 1000;
  const frameMs = 1000 / cameraFps;
  while (clock.now < end) {
    const busyMs = costMs(controller.levelIndex);
    const change = controller.record({ at: clock.now, busyMs });
    if (change) changes.push(change);
    clock.now = busyMs >= frameMs ? clock.now + busyMs : Math.ceil((clock.now + busyMs) / frameMs) * frameMs;
  }
  return changes;
}

describe('QualityController', () => {
  it('steps down while frames cost more than the budget, saying what and why', () => {
    const controller = new QualityController({ targetFps: 30 });
    // 40 ms a frame at the top, each rung 25 % cheaper: 25 fps (short, not far short), then faster.
    const changes = run(controller, 20, (level) => 40 * 0.75 ** level);
    assert.ok(changes.length >= 1);
    assert.ok(changes.every((c) => c.direction === 'down'));
    assert.equal(changes[0]!.what, describeChange(QUALITY_LADDER[0]!, QUALITY_LADDER[1]!));
    assert.match(changes[0]!.why, /fps < 30 target, processing busy \d+ %/);
    assert.match(changes[0]!.what, /face search every 2 → 3 frames/);
    // 40 × 0.75 = 30 ms fits a 33 ms budget: it stops there.
    assert.equal(controller.levelIndex, 1);
    assert.deepEqual(controller.last, changes.at(-1));
  });

  it('far short of the target (under 70 %) steps two rungs at once, and judges the very next window', () => {
    const controller = new QualityController({ targetFps: 30 });
    // 50 ms a frame at the top (20 fps), each rung 25 % cheaper: two rungs down to 28 ms, which holds 30 fps.
    const clock = { now: 0 };
    const changes = run(controller, 3, (level) => 50 * 0.75 ** level, 30, clock);
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.what, describeChange(QUALITY_LADDER[0]!, QUALITY_LADDER[2]!));
    assert.equal(controller.levelIndex, 2);
    assert.deepEqual(
      run(controller, 10, (level) => 50 * 0.75 ** level, 30, clock),
      [],
    );
  });

  it('goes to the bottom of the ladder when nothing is cheap enough, and stays there', () => {
    const controller = new QualityController({ targetFps: 240 });
    const changes = run(controller, 30, () => 40);
    assert.equal(controller.levelIndex, QUALITY_LADDER.length - 1);
    // Far short of 240 fps: two rungs a step, the last one from rung 2 to the bottom.
    assert.equal(changes.length, Math.ceil((QUALITY_LADDER.length - 1) / 2));
    assert.equal(changes.at(-1)!.what, 'face search every 4 → 6 frames, detection 2× → 3× less often, working resolution 100 → 50 %');
  });

  it('steps back up when there is headroom, after a few calm windows', () => {
    const clock = { now: 0 };
    const controller = new QualityController({ targetFps: 30, start: 3 });
    assert.deepEqual(
      run(controller, 2, () => 8, 30, clock),
      [],
      'no step up after one calm window',
    );
    const changes = run(controller, 30, () => 8, 30, clock);
    assert.equal(controller.levelIndex, 0);
    assert.ok(changes.every((c) => c.direction === 'up'));
    assert.match(changes[0]!.why, /^headroom: /);
  });

  it('holds still when the rate meets the target without much headroom', () => {
    const controller = new QualityController({ targetFps: 30, start: 1 });
    // 25 ms a frame: every camera frame is taken, but a step up would not clearly fit.
    assert.deepEqual(
      run(controller, 30, () => 25),
      [],
    );
    assert.equal(controller.levelIndex, 1);
  });

  it('does not oscillate when the dearer rung is just too dear', () => {
    const controller = new QualityController({ targetFps: 30 });
    // Rung 0 costs 45 ms (overloaded); rung 1 costs 12 ms (headroom).
    const time = [0, 0];
    const changes = run(controller, 120, (level) => {
      const ms = level === 0 ? 45 : 12;
      time[level]! += Math.max(ms, 1000 / 30);
      return ms;
    });
    const ups = changes.filter((c) => c.direction === 'up').length;
    // Each step up that is taken back doubles the wait before the next: 2 minutes hold only a few round trips.
    assert.ok(ups <= 5, `${ups} steps up in 120 s`);
    assert.ok(changes.length <= 2 * ups + 1);
    // Nearly all the time is spent on the rung that holds the rate.
    assert.ok(time[1]! > 0.85 * (time[0]! + time[1]!), `${Math.round(time[0]!)} ms on the dear rung, ${Math.round(time[1]!)} ms on the cheap one`);
  });

  it('leaves the rate alone when the camera, not the processing, is slow', () => {
    const controller = new QualityController({ targetFps: 30, start: 1 });
    // A 15 fps camera and 10 ms frames: short of the target, but processing is mostly idle.
    assert.deepEqual(
      run(controller, 20, () => 10, 15),
      [],
    );
  });

  it("holds the target's own rate by default; a chosen rate or 0 (off) overrides it", () => {
    assert.equal(DEFAULT_LIVE_SETTINGS.targetFps, 'source');
    assert.equal(resolveTargetFps('source', 25), 25);
    assert.equal(resolveTargetFps('source', 59.94), 59.94);
    assert.equal(resolveTargetFps('source', null), DEFAULT_TARGET_FPS, 'until the rate is known');
    assert.equal(resolveTargetFps('source', 0), DEFAULT_TARGET_FPS);
    assert.equal(resolveTargetFps(60, 25), 60);
    assert.equal(resolveTargetFps(0, 25), 0);
  });

  it('refuses a target that is not a positive number', () => {
    assert.throws(() => new QualityController({ targetFps: 0 }), /above 0/);
    assert.throws(() => new QualityController({ targetFps: Number.NaN }), /above 0/);
  });
});
