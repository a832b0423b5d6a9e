/** Face tracking across frames on synthetic faces: ids, misses, the primary face, smoothing, options. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { DEFAULT_ONE_EURO } from '../../src/core/one-euro.js';
import { MESH_POINTS, type Face } from '../../src/face/face.js';
import { boxIoU as boxIou } from '../../src/pipeline/cluster.js';
import { FaceTracker, type TrackedFace } from '../../src/pipeline/tracker.js';

const FPS = 30;

/** Deterministic standard normal noise. */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32;
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/**
 * A face whose landmarks sit on a fixed pattern inside the box [x, y, size, size], each point
 * moved by `noise` px of Gaussian jitter. Returns the noiseless landmarks too, for error measures.
 */
function makeFace(x: number, y: number, size: number, noise = 0, g = gaussian(1), extras = false): Face {
  const landmarks = new Float32Array(MESH_POINTS * 3);
  for (let i = 0; i < MESH_POINTS; i++) {
    landmarks[3 * i] = x + size * (0.05 + (0.9 * ((i * 37) % 101)) / 100) + noise * g();
    landmarks[3 * i + 1] = y + size * (0.05 + (0.9 * ((i * 53) % 97)) / 96) + noise * g();
    landmarks[3 * i + 2] = 0;
  }
  const at = (u: number, v: number) => [x + u * size + noise * g(), y + v * size + noise * g()];
  const kps5 = Float32Array.from([...at(0.3, 0.35), ...at(0.7, 0.35), ...at(0.5, 0.55), ...at(0.35, 0.75), ...at(0.65, 0.75)]);
  const face: Face = {
    box: [x, y, size, size],
    score: 0.9,
    meshScore: 0.95,
    kps5,
    landmarks,
    roi: { cx: x + size / 2, cy: y + size / 2, size: size * 1.5, angle: 0.01 * noise * g() },
  };
  if (extras) {
    face.kps5Reference = kps5.map((v) => v - 0.5);
    face.landmarks106 = new Float32Array(212).map((_, i) => (i % 2 === 0 ? x : y) + size * 0.5 + noise * g());
  }
  return face;
}

const ids = (tracks: TrackedFace[]) => tracks.map((t) => t.id);

describe('FaceTracker', () => {
  test('two faces crossing sides slowly keep their ids', () => {
    const tracker = new FaceTracker();
    const frames = 240;
    let leftStarter = -1;
    for (let k = 0; k < frames; k++) {
      const p = k / (frames - 1);
      // A starts left and ends right, B the reverse; B passes a little lower so boxes do not coincide.
      const a = makeFace(40 + 400 * p, 100, 100);
      const b = makeFace(440 - 400 * p, 160, 100);
      const faces = [a, b];
      const tracks = tracker.update(faces, k / FPS, k);
      assert.equal(tracks.length, 2, `frame ${k}: ${tracks.length} tracks`);
      assert.deepEqual(ids(tracks), [0, 1]);
      if (k === 0) leftStarter = tracks.find((t) => t.raw === a)!.id;
      const trackA = tracks.find((t) => t.id === leftStarter)!;
      assert.equal(trackA.raw, a, `frame ${k}: the face that started left keeps id ${leftStarter}`);
      assert.ok(trackA.observed && trackA.missed === 0 && trackA.age === k && trackA.firstFrame === 0);
    }
  });

  test('a face missed for up to maxMissed frames keeps its id; longer starts a new one', () => {
    const tracker = new FaceTracker({ maxMissed: 3 });
    const face = makeFace(100, 100, 120);
    tracker.update([face], 0, 0);
    for (let k = 1; k <= 3; k++) {
      const last = tracker.update([], k / FPS, k);
      assert.equal(last.length, 1);
      assert.equal(last[0]!.id, 0);
      assert.equal(last[0]!.observed, false);
      assert.equal(last[0]!.missed, k);
      assert.equal(last[0]!.raw, face, 'keeps the last observed face');
    }
    const back = tracker.update([makeFace(104, 102, 120)], 4 / FPS, 4);
    assert.deepEqual(ids(back), [0]);
    assert.ok(back[0]!.observed && back[0]!.missed === 0 && back[0]!.age === 4);

    for (let k = 5; k <= 8; k++) tracker.update([], k / FPS, k);
    assert.equal(tracker.primaryId(), undefined, 'no live track after 4 misses');
    const fresh = tracker.update([makeFace(104, 102, 120)], 9 / FPS, 9);
    assert.deepEqual(ids(fresh), [1]);
    assert.equal(fresh[0]!.firstFrame, 9);
    assert.equal(tracker.primaryId(), 1);
  });

  test('the primary stays on the first largest face until its track dies', () => {
    const tracker = new FaceTracker({ maxMissed: 2 });
    tracker.update([makeFace(50, 50, 150), makeFace(300, 50, 120)], 0, 0);
    assert.equal(tracker.primaryId(), 0);
    // The second face grows past the first: the primary does not flip.
    for (let k = 1; k < 30; k++) {
      const big = makeFace(300, 50, 120 + k * 2);
      const tracks = tracker.update([big, makeFace(50, 50, 150)], k / FPS, k);
      assert.deepEqual(ids(tracks), [0, 1]);
      assert.equal(tracker.primaryId(), 0, `frame ${k}`);
    }
    // Missed but alive: still primary.
    tracker.update([makeFace(300, 50, 178)], 30 / FPS, 30);
    assert.equal(tracker.primaryId(), 0);
    tracker.update([makeFace(300, 50, 178)], 31 / FPS, 31);
    assert.equal(tracker.primaryId(), 0);
    // Dies: the largest observed live track takes over.
    const tracks = tracker.update([makeFace(300, 50, 178)], 32 / FPS, 32);
    assert.deepEqual(ids(tracks), [1]);
    assert.equal(tracker.primaryId(), 1);
    tracker.reset();
    assert.equal(tracker.primaryId(), undefined);
    assert.deepEqual(ids(tracker.update([makeFace(300, 50, 178)], 33 / FPS, 33)), [2], 'ids are not reused after reset');
  });

  test('smoothing cuts the landmark jitter of a still face more than 2×', (t) => {
    const truth = makeFace(200, 150, 200);
    const jitter = (smoothing: false | undefined) => {
      const tracker = new FaceTracker(smoothing === false ? { smoothing } : {});
      const g = gaussian(5);
      let sum = 0;
      let n = 0;
      for (let k = 0; k < 300; k++) {
        const [track] = tracker.update([makeFace(200, 150, 200, 1, g, true)], k / FPS, k);
        assert.equal(track!.id, 0);
        const smoothed = track!.face;
        assert.notEqual(smoothed.landmarks, track!.raw.landmarks, 'a copy, never the raw arrays');
        assert.equal(smoothed.landmarks106?.length, 212);
        assert.equal(smoothed.kps5Reference?.length, 10);
        if (k < FPS) continue;
        for (let i = 0; i < MESH_POINTS * 3; i += 3) {
          sum += (smoothed.landmarks[i]! - truth.landmarks[i]!) ** 2 + (smoothed.landmarks[i + 1]! - truth.landmarks[i + 1]!) ** 2;
          n += 2;
        }
      }
      return Math.sqrt(sum / n);
    };
    const raw = jitter(false);
    const smoothed = jitter(undefined);
    t.diagnostic(`landmark jitter ${raw.toFixed(3)} → ${smoothed.toFixed(3)} px (${(raw / smoothed).toFixed(2)}×)`);
    assert.ok(raw > 0.9 && raw < 1.1, `raw jitter ${raw}`);
    assert.ok(raw / smoothed >= 2, `landmark jitter ${raw.toFixed(3)} → ${smoothed.toFixed(3)} px (${(raw / smoothed).toFixed(2)}×)`);
  });

  test('smoothing follows a moving face closely and keeps the box and roi consistent', () => {
    const tracker = new FaceTracker();
    let track: TrackedFace | undefined;
    for (let k = 0; k < 60; k++) [track] = tracker.update([makeFace(100 + 4 * k, 100, 150)], k / FPS, k);
    const { face, raw } = track!;
    // 120 px/s is 0.8 face sizes per second: the smoothed face trails by a few pixels at most.
    assert.ok(Math.abs(face.box[0] - raw.box[0]) < 4, `box lag ${face.box[0] - raw.box[0]}`);
    assert.ok(Math.abs(face.kps5[0]! - raw.kps5[0]!) < 4 && Math.abs(face.roi.cx - raw.roi.cx) < 4);
    assert.ok(Math.abs(face.roi.size - raw.roi.size) < 1e-3 && Math.abs(face.box[2] - 150) < 1e-3);
  });

  test('faces smaller than minFaceSize are not tracked', () => {
    const tracker = new FaceTracker({ minFaceSize: 40 });
    const tracks = tracker.update([makeFace(10, 10, 100), makeFace(300, 10, 30)], 0, 0);
    assert.equal(tracks.length, 1);
    assert.equal(tracks[0]!.raw.box[2], 100);
    assert.deepEqual(new FaceTracker().update([makeFace(0, 0, 20)], 0, 0), []);
  });

  test('IoU of boxes', () => {
    assert.equal(boxIou([0, 0, 10, 10], [0, 0, 10, 10]), 1);
    assert.equal(boxIou([0, 0, 10, 10], [10, 0, 10, 10]), 0);
    assert.ok(Math.abs(boxIou([0, 0, 10, 10], [5, 0, 10, 10]) - 50 / 150) < 1e-12);
  });

  test('options are validated with stable messages', () => {
    assert.deepEqual(new FaceTracker().options, { maxMissed: 5, minIou: 0.3, minFaceSize: 24, smoothing: { ...DEFAULT_ONE_EURO } });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ maxMissed: -1 }, /^Expected an integer >= 0 for maxMissed but received -1$/],
      [{ maxMissed: 1.5 }, /for maxMissed/],
      [{ minIou: 0 }, /^Expected a number in \(0, 1\] for minIou but received 0$/],
      [{ minIou: 1.2 }, /for minIou/],
      [{ minFaceSize: -3 }, /^Expected a finite number >= 0 \(px\) for minFaceSize but received -3$/],
      [{ smoothing: { minCutoff: 0, beta: 1, dCutoff: 1 } }, /for minCutoff/],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => new FaceTracker(options),
        (e: unknown) => e instanceof LiveswapError && e.kind === 'usage' && message.test(e.message),
        JSON.stringify(options),
      );
    }
  });
});
