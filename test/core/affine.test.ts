import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  affineCentredToCorner,
  affineCornerToCentred,
  affineFromTriangles,
  applyAffine,
  applyAffineToPoints,
  invertAffine,
  multiplyAffine,
  similarityFromPoints,
  type Affine,
} from '../../src/core/affine.js';

function assertAffineClose(actual: Affine, expected: readonly number[], tol: number): void {
  for (let i = 0; i < 6; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `entry ${i}: ${actual[i]} vs ${expected[i]} (±${tol})`);
  }
}

// Spec §4.3 test vector: five detected points and the arcface template (§4.1).
const DETECTED = [220, 240, 300, 236, 262, 290, 228, 330, 296, 327];
const ARCFACE_112 = [38.2946, 51.6963, 73.5318, 51.5014, 56.0252, 71.7366, 41.5493, 92.3655, 70.7299, 92.2041];

describe('similarityFromPoints (Umeyama)', () => {
  it('reproduces the spec §4.3 matrix for the 112 template', () => {
    const m = similarityFromPoints(DETECTED, ARCFACE_112);
    assertAffineClose(m, [0.4422566444, -0.0117539038, -56.1461145028, 0.0117539038, 0.4422566444, -57.0355806484], 1e-9);
  });

  it('reproduces the spec §4.3 matrix and inverse for the 128 template (x + 8)', () => {
    const template = ARCFACE_112.map((v, i) => (i % 2 === 0 ? v + 8 : v));
    const m = similarityFromPoints(DETECTED, template);
    assertAffineClose(m, [0.4422566444, -0.0117539038, -48.1461145028, 0.0117539038, 0.4422566444, -57.0355806484], 1e-9);
    assertAffineClose(invertAffine(m), [2.2595345225, 0.0600518989, 112.2129027658, -0.0600518989, 2.2595345225, 125.9825978842], 1e-8);
  });

  it('agrees with skimage 0.19 SimilarityTransform.estimate on float32 inputs to 1e-6', () => {
    // skimage casts the points to float32 first; its params for the 112 template:
    const skimage = [0.44225659588123994, -0.011753912164242725, -56.14610357528865, 0.011753912164242725, 0.44225659588123994, -57.03557216378039];
    const m = similarityFromPoints(Float32Array.from(DETECTED), Float32Array.from(ARCFACE_112));
    assertAffineClose(m, skimage, 1e-6 * 60);
  });

  it('recovers an exact similarity, and never returns a reflection', () => {
    const truth: Affine = [1.5 * Math.cos(0.7), -1.5 * Math.sin(0.7), 12, 1.5 * Math.sin(0.7), 1.5 * Math.cos(0.7), -4];
    const src = [0, 0, 10, 3, -4, 8, 7, 7, 2, -6];
    const dst = Array.from(applyAffineToPoints(truth, src, new Float32Array(10)));
    assertAffineClose(similarityFromPoints(src, dst), truth, 1e-4);
    const mirrored = src.map((v, i) => (i % 2 === 0 ? -v : v));
    const m = similarityFromPoints(src, mirrored);
    assert.ok(m[0] * m[4] - m[1] * m[3] >= 0, 'determinant must not be negative');
  });

  it('rejects coincident source points and mismatched counts', () => {
    assert.throws(() => similarityFromPoints([1, 1, 1, 1, 1, 1], [0, 0, 1, 0, 0, 1]), RangeError);
    assert.throws(() => similarityFromPoints([0, 0, 1, 1], [0, 0, 1, 1, 2, 2]), RangeError);
  });
});

describe('affine algebra', () => {
  const m: Affine = [2, 0.5, 3, -0.25, 1.5, -7];

  it('inverts like cv2.invertAffineTransform and composes to the identity', () => {
    const inv = invertAffine(m);
    assertAffineClose(multiplyAffine(m, inv), [1, 0, 0, 0, 1, 0], 1e-12);
    assertAffineClose(multiplyAffine(inv, m), [1, 0, 0, 0, 1, 0], 1e-12);
    assert.throws(() => invertAffine([1, 2, 0, 2, 4, 0]), RangeError);
  });

  it('multiplyAffine(outer, inner) applies inner first', () => {
    const inner: Affine = [1, 0, 5, 0, 1, 0];
    const outer: Affine = [2, 0, 0, 0, 2, 0];
    assert.deepEqual(applyAffine(multiplyAffine(outer, inner), 1, 1), [12, 2]);
  });

  it('solves the affine of three point pairs exactly', () => {
    const src = [0, 0, 4, 1, 1, 5];
    const dst = Array.from(applyAffineToPoints(m, src, new Float32Array(6)));
    assertAffineClose(affineFromTriangles(src, dst), m, 1e-5);
    assert.throws(() => affineFromTriangles([0, 0, 1, 1, 2, 2], dst), RangeError);
  });

  it('converts between the centred and corner pixel conventions', () => {
    // A 2× upscale: in OpenCV's convention x' = 2x; in continuous coordinates the centre of
    // source pixel 0 (0.5) must land on the continuous image of index 0 (0.5 in the output).
    const corner = affineCentredToCorner([2, 0, 0, 0, 2, 0]);
    assert.deepEqual(applyAffine(corner, 0.5, 0.5), [0.5, 0.5]);
    assertAffineClose(affineCornerToCentred(corner), [2, 0, 0, 0, 2, 0], 0);
    assertAffineClose(affineCornerToCentred(affineCentredToCorner(m)), m, 1e-12);
  });
});
