/** Evaluation measures on known inputs: pose and expression, PSNR, seams, flicker, identity, jitter. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createImage, type Image } from '../../src/core/image.js';
import { attributeDifference, expression, headPose, OPENNESS_FLOOR } from '../../src/eval/attributes.js';
import { cosineSimilarity, landmarkJitter, nearest } from '../../src/eval/identity.js';
import { flicker, insideBox, meanGradient, outsideBoxes, psnr, seamRatio } from '../../src/eval/image-metrics.js';
import { CANONICAL_UV } from '../../src/face/canonical-uv.js';
import type { Face } from '../../src/face/face.js';
import { POINT } from '../../src/face/mesh-indices.js';
import { summarise } from '../../src/node/eval/eval-stats.js';

/** A flat frontal face from the canonical layout, scaled, rotated in the image plane and moved. */
function canonicalFace(size: number, rollDegrees = 0, dx = 100, dy = 100): Face {
  const landmarks = new Float32Array(468 * 3);
  const r = (rollDegrees * Math.PI) / 180;
  for (let i = 0; i < 468; i++) {
    const u = (CANONICAL_UV[2 * i] - 0.5) * size;
    const v = (CANONICAL_UV[2 * i + 1] - 0.5) * size;
    landmarks[3 * i] = dx + u * Math.cos(r) - v * Math.sin(r);
    landmarks[3 * i + 1] = dy + u * Math.sin(r) + v * Math.cos(r);
  }
  return { box: [dx - size / 2, dy - size / 2, size, size], score: 1, meshScore: 1, kps5: new Float32Array(10), landmarks, roi: { cx: dx, cy: dy, size, angle: r } };
}

describe('pose and expression', () => {
  test('a flat frontal face has no yaw or pitch; roll follows an in-plane rotation', () => {
    const upright = headPose(canonicalFace(200));
    assert.ok(Math.abs(upright.yaw) < 1e-6 && Math.abs(upright.pitch) < 1e-6);
    const base = upright.roll;
    assert.ok(Math.abs(headPose(canonicalFace(200, 20)).roll - base - 20) < 1e-3);
    assert.ok(Math.abs(headPose(canonicalFace(200, -35)).roll - base + 35) < 1e-3);
  });

  test('turning the depth of one side gives yaw of the expected sign', () => {
    const face = canonicalFace(200);
    // FaceMesh depth grows away from the camera. With the image-right half pushed back, the face
    // has turned towards image right, as in the three-quarter fixture photo (camera.png).
    for (let i = 0; i < 468; i++) face.landmarks[3 * i + 2] = (face.landmarks[3 * i] - 100) * 0.5;
    assert.ok(Math.abs(headPose(face).yaw - (Math.atan(0.5) * 180) / Math.PI) < 1e-6, `yaw ${headPose(face).yaw}`);
  });

  test('openness ratios are scale-free and grow when the lips part', () => {
    const small = expression(canonicalFace(100));
    const large = expression(canonicalFace(400));
    assert.ok(Math.abs(small.mouthOpen - large.mouthOpen) < 1e-5);
    const open = canonicalFace(100);
    open.landmarks[3 * POINT.lowerLipInner + 1] += 10;
    assert.ok(expression(open).mouthOpen > small.mouthOpen + 0.1);
  });

  test('differences: zero against itself; landmark error relative to face size', () => {
    const a = canonicalFace(200);
    const same = attributeDifference(a, a);
    assert.deepEqual(
      Object.values(same).every((v) => v === 0),
      true,
    );
    const moved = canonicalFace(200, 0, 104, 100);
    assert.ok(Math.abs(attributeDifference(moved, a).landmarkError - 4 / 200) < 1e-6);
  });

  test('relative openness: |O − T| over the target, or over the floor when the target is closed', () => {
    const target = canonicalFace(200);
    const open = canonicalFace(200);
    open.landmarks[3 * POINT.lowerLipInner + 1] += 20;
    const t = expression(target).mouthOpen;
    const o = expression(open).mouthOpen;
    const d = attributeDifference(open, target);
    assert.ok(Math.abs(d.mouthOpen - Math.abs(o - t)) < 1e-9, 'the absolute difference keeps its meaning');
    assert.ok(Math.abs(d.mouthOpenRelative - Math.abs(o - t) / Math.max(t, OPENNESS_FLOOR)) < 1e-9);
    // The other way round the open mouth is the target: the difference is relative to its opening.
    assert.ok(Math.abs(attributeDifference(target, open).mouthOpenRelative - Math.abs(o - t) / o) < 1e-9);
    assert.equal(d.eyesOpenRelative, 0, 'the eyes did not move');
  });
});

function grey(width: number, height: number, value: (x: number, y: number) => number): Image {
  const image = createImage(width, height, 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) image.data.fill(value(x, y), (y * width + x) * 3, (y * width + x) * 3 + 3);
  return image;
}

describe('image measures', () => {
  test('PSNR: infinite for identical images, 20·log10(255/d) for a constant error d', () => {
    const a = grey(32, 32, () => 100);
    assert.equal(psnr(a, a), Infinity);
    const b = grey(32, 32, () => 110);
    assert.ok(Math.abs(psnr(a, b) - 20 * Math.log10(255 / 10)) < 1e-9);
    const region = outsideBoxes([[8, 8, 8, 8]], 0);
    const c = grey(32, 32, (x, y) => (x >= 8 && x < 16 && y >= 8 && y < 16 ? 0 : 100));
    assert.equal(psnr(a, c, region), Infinity, 'changes inside the box do not count');
  });

  test('a hard edge in the band raises the seam ratio; a smooth one does not', () => {
    const target = grey(64, 64, (x) => 100 + x * 0.5);
    const band: (x: number, y: number) => boolean = (x) => x >= 28 && x < 36;
    const seam = grey(64, 64, (x) => (x < 32 ? 100 + x * 0.5 : 140 + x * 0.5));
    assert.ok(seamRatio(seam, target, band) > 3);
    assert.ok(Math.abs(seamRatio(target, target, band) - 1) < 1e-9);
    assert.ok(meanGradient(target, band) > 0.4 && meanGradient(target, band) < 0.6);
  });

  test('flicker is the mean absolute change between consecutive frames in the region', () => {
    const frames = [grey(8, 8, () => 10), grey(8, 8, () => 14), grey(8, 8, () => 10)];
    assert.equal(flicker(frames, insideBox([0, 0, 8, 8])), 4);
    assert.equal(
      flicker(frames.slice(0, 1), () => true),
      0,
    );
  });
});

describe('identity and stability', () => {
  test('cosine similarity and nearest candidate', () => {
    const a = Float32Array.from([1, 0, 0]);
    const b = Float32Array.from([0.9, 0.1, 0]);
    const c = Float32Array.from([0, 1, 0]);
    assert.ok(Math.abs(cosineSimilarity(a, a) - 1) < 1e-7);
    assert.equal(cosineSimilarity(a, c), 0);
    assert.equal(nearest(Float32Array.from([1, 0.05, 0]), [c, b, a]), 2);
  });

  test('jitter is the RMS distance from the mean position', () => {
    const still = [Float32Array.from([0, 0, 0, 10, 10, 0]), Float32Array.from([0, 0, 0, 10, 10, 0])];
    assert.equal(landmarkJitter(still), 0);
    // One point moving ±1 px in x around its mean, the other still: RMS over both points = √(1/2).
    const shaking = [Float32Array.from([-1, 0, 0, 5, 5, 0]), Float32Array.from([1, 0, 0, 5, 5, 0])];
    assert.ok(Math.abs(landmarkJitter(shaking) - Math.SQRT1_2) < 1e-9);
  });

  test('summary statistics', () => {
    const s = summarise([5, 1, 4, 2, 3]);
    assert.deepEqual({ ...s }, { count: 5, mean: 3, min: 1, median: 3, p95: 5, max: 5 });
    assert.equal(summarise([1, 2, 3, 4]).median, 2.5);
  });
});
