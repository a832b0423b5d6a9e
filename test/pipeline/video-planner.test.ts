/**
 * The video planner at shot changes and misses, with a scripted face finder on synthetic frames:
 * after a cut no face of a track begun before it is painted and the frame is detected afresh; a
 * detection frame paints only what the detector found; a face the tracker loses between detections
 * is still held within a shot.
 */

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Image } from '../../src/core/image.js';
import { boxIoU } from '../../src/pipeline/cluster.js';
import { DEFAULT_VIDEO_FACE_OPTIONS, VideoFacePlanner, type FramePlan, type VideoFaceOptions } from '../../src/pipeline/video.js';
import { panShot } from '../helpers/pan-shot.js';
import { scriptedFinder } from '../helpers/scripted-finder.js';
import { makeFace } from '../helpers/synthetic-face.js';

const FPS = 30;
const W = 320;
const H = 180;

/** `frames` frames of a fixture photo drifting right by 1 px a frame (a slow pan). */
const shot = (photo: string, frames: number): Promise<Image[]> => panShot(photo, frames, W, H);

const options = (over: Partial<VideoFaceOptions> = {}): VideoFaceOptions => ({ ...DEFAULT_VIDEO_FACE_OPTIONS, smoothing: false, selection: { kind: 'all' }, ...over });

async function planAll(planner: VideoFacePlanner, frames: readonly Image[]): Promise<FramePlan[]> {
  const plans: FramePlan[] = [];
  for (const [i, frame] of frames.entries()) plans.push(await planner.plan(frame, i / FPS, i));
  return plans;
}

/** Frames (index ≥ cut) that paint a face from a track first seen before the cut. */
function ghostFrames(plans: readonly FramePlan[], cut: number): number[] {
  const firstSeen = new Map<number, number>();
  plans.forEach((plan, i) => plan.tracks.forEach((t) => firstSeen.has(t.trackId) || firstSeen.set(t.trackId, i)));
  return plans.flatMap((plan, i) => (i >= cut && plan.faces.some((f) => firstSeen.get(f.trackId)! < cut) ? [i] : []));
}

describe('VideoFacePlanner at cuts and misses', () => {
  const CUT = 12;
  let first: Image[];
  let second: Image[];
  before(async () => {
    first = await shot('grace_hopper.jpg', CUT);
    second = await shot('astronaut.png', 12);
  });
  const faceA = makeFace(120, 30, 90);
  const faceB = makeFace(20, 60, 60);

  for (const [name, secondFaces] of [
    ['no face', []],
    ['a face elsewhere', [faceB]],
  ] as const) {
    test(`a face, then a cut to ${name}: no face of the first shot is painted after the cut`, async () => {
      const frames = [...first, ...second];
      const script = new Map(frames.map((frame, i) => [frame, i < CUT ? [faceA] : [...secondFaces]]));
      const finder = scriptedFinder(script);
      const plans = await planAll(new VideoFacePlanner(finder, options()), frames);
      assert.deepEqual(
        plans.flatMap((p, i) => (p.cut ? [i] : [])),
        [CUT],
        'the cut is found at its first frame',
      );
      assert.equal(plans[CUT]!.detected, true, 'the first frame of the new shot is detected afresh');
      assert.ok(
        plans.slice(0, CUT).every((p) => p.faces.length === 1),
        'the first shot is painted throughout',
      );
      assert.deepEqual(ghostFrames(plans, CUT), []);
      const after = plans.slice(CUT);
      if (secondFaces.length === 0)
        assert.ok(
          after.every((p) => p.faces.length === 0),
          'nothing painted on the second shot',
        );
      else
        assert.ok(
          after.every((p) => p.faces.length === 1 && boxIoU(p.faces[0]!.face.box, faceB.box) > 0.9),
          'only the new face is painted',
        );

      // Without looking for cuts, the tracker follows the old face into the new shot: ghosts.
      const blind = await planAll(new VideoFacePlanner(scriptedFinder(script), options({ shotChange: false })), frames);
      assert.ok(ghostFrames(blind, CUT).length > 0, 'shotChange: false paints the old face after the cut');
      assert.ok(blind.every((p) => !p.cut));
    });
  }

  test('a cut drops smoothing, primary choice and identity state: the new shot starts its own tracks', async () => {
    const frames = [...first, ...second];
    // The same place in both shots: without the cut the track (and its smoothing) would carry on.
    const script = new Map(frames.map((frame) => [frame, [faceA]]));
    const plans = await planAll(
      new VideoFacePlanner(scriptedFinder(script), options({ smoothing: { minCutoff: 1, beta: 0.01, dCutoff: 1 }, selection: { kind: 'primary' } })),
      frames,
    );
    const before = new Set(plans.slice(0, CUT).flatMap((p) => p.faces.map((f) => f.trackId)));
    const after = new Set(plans.slice(CUT).flatMap((p) => p.faces.map((f) => f.trackId)));
    assert.equal(before.size, 1);
    assert.equal(after.size, 1);
    assert.notDeepEqual([...after], [...before], 'a new track after the cut');
    assert.ok(
      plans.slice(CUT).every((p) => p.tracks.every((t) => after.has(t.trackId))),
      'no track of the first shot is followed after the cut',
    );
  });

  test('a detection frame paints only the faces the detector found; the track lives on for when it returns', async () => {
    const frames = first;
    const script = new Map(frames.map((frame, i) => [frame, i === 4 || i === 5 ? [] : [faceA]]));
    const plans = await planAll(new VideoFacePlanner(scriptedFinder(script, new Set(), false), options()), frames);
    assert.ok(
      plans.every((p) => p.detected),
      'no tracker: the detector runs on every frame',
    );
    assert.deepEqual(
      plans.map((p) => p.faces.length),
      frames.map((_, i) => (i === 4 || i === 5 ? 0 : 1)),
    );
    assert.deepEqual(new Set(plans.flatMap((p) => p.faces.map((f) => f.trackId))).size, 1, 'one person, one track');
  });

  test('a scheduled detection is told which faces are followed (to look for them where they were); a first frame and a cut tell it none', async () => {
    const frames = [...first, ...second];
    const script = new Map(frames.map((frame, i) => [frame, i < CUT ? [faceA] : [faceB]]));
    const finder = scriptedFinder(script);
    const plans = await planAll(new VideoFacePlanner(finder, options({ detectEvery: 5 })), frames);
    const detectedAt = plans.flatMap((p, i) => (p.detected ? [i] : []));
    assert.deepEqual(detectedAt, [0, 5, 10, CUT, CUT + 5, CUT + 10]);
    assert.deepEqual(
      finder.known.map((k) => k?.length),
      [0, 1, 1, 0, 1, 1],
      'the first frame and the cut: nothing followed; between: the face followed',
    );
    // What the detector is told is the face as the tracker last saw it (the frame before).
    const told = finder.known[1]![0]!;
    assert.ok(boxIoU(told.box, faceA.box) > 0.9, 'the followed face, where it was');
    assert.ok(boxIoU(finder.known[4]![0]!.box, faceB.box) > 0.9, "after the cut, the new shot's face");
  });

  test('within a shot, a face the tracker loses is held until the next detection (holdFrames), then only if found', async () => {
    const frames = first;
    // Detections at 0, 5, 10; the tracker loses the face on frame 2, the detector misses it on frame 3.
    const script = new Map(frames.map((frame, i) => [frame, i === 3 ? [] : [faceA]]));
    const lose = new Set([frames[2]!]);
    const plans = await planAll(new VideoFacePlanner(scriptedFinder(script, lose), options()), frames);
    const row = (i: number) => ({ detected: plans[i]!.detected, painted: plans[i]!.faces.length, observed: plans[i]!.tracks[0]?.observed });
    assert.deepEqual(row(2), { detected: false, painted: 1, observed: false }, 'held on the frame the tracker lost it');
    assert.deepEqual(row(3), { detected: true, painted: 0, observed: false }, 'not painted when the detector does not find it either');
    assert.deepEqual(row(4), { detected: true, painted: 1, observed: true }, 'painted again once found');
    const none = await planAll(new VideoFacePlanner(scriptedFinder(script, lose), options({ holdFrames: 0 })), frames);
    assert.equal(none[2]!.faces.length, 0, 'holdFrames 0: no hold');
  });

  test('reset starts afresh: the next frame is detected, and is no cut', async () => {
    const script = new Map(first.map((frame) => [frame, [faceA]]));
    const finder = scriptedFinder(script);
    const planner = new VideoFacePlanner(finder, options());
    await planAll(planner, first.slice(0, 3));
    const before = (await planner.plan(first[3]!, 3 / FPS, 3)).tracks[0]!.trackId;
    planner.reset();
    const plan = await planner.plan(first[4]!, 4 / FPS, 4);
    assert.equal(plan.detected, true);
    assert.equal(plan.cut, false);
    assert.notEqual(plan.tracks[0]!.trackId, before);
  });

  test('shotChange options are checked', () => {
    const finder = scriptedFinder(new Map());
    assert.throws(() => new VideoFacePlanner(finder, options({ shotChange: { minStructure: 2, minHistogram: 0.2, minJump: 3 } })), /minStructure/);
  });
});
