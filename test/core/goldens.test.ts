import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Affine } from '../../src/core/affine.js';
import { gaussianBlur } from '../../src/core/filters.js';
import type { FloatImage } from '../../src/core/image.js';
import { erode } from '../../src/core/morphology.js';
import { resizeBilinear } from '../../src/core/resize.js';
import { warpAffine } from '../../src/core/warp.js';
import { compare, goldenCases, goldenFloats, goldenImage, goldenManifest } from '../fixtures/goldens/load.js';

// Goldens from tools/make-opencv-goldens.py (Debian OpenCV 4.6: the legacy fixed-point warp).

describe('OpenCV goldens', () => {
  it('record the OpenCV and numpy versions they were made with', () => {
    const m = goldenManifest();
    assert.match(m.opencv, /^\d+\.\d+\.\d+/);
    assert.match(m.numpy, /^\d+\.\d+/);
    assert.ok(m.cases.length >= 20);
  });
});

describe('resizeBilinear against cv2.resize INTER_LINEAR', () => {
  for (const c of goldenCases('resize')) {
    it(`${c.name}: bit-exact`, async () => {
      const src = await goldenImage(c.src!);
      const expected = await goldenImage(c.expected);
      const got = resizeBilinear(src, c.width!, c.height!);
      assert.equal(got.width, expected.width);
      assert.deepEqual(compare(got.data, expected.data), { maxAbs: 0, exact: 1 });
    });
  }

  it("'exact' row combine differs by at most 1 (the reduced-precision path is what OpenCV runs)", async () => {
    const c = goldenCases('resize').find((x) => x.name === '131x97')!;
    const r = compare(resizeBilinear(await goldenImage(c.src!), 131, 97, { vertical: 'exact' }).data, (await goldenImage(c.expected)).data);
    assert.equal(r.maxAbs, 1);
    assert.ok(r.exact > 0.8 && r.exact < 1, `exact share ${r.exact}`);
  });
});

describe('warpAffine against cv2.warpAffine (bilinear, constant 0)', () => {
  for (const c of goldenCases('warpAffine')) {
    it(`${c.name}: fixed-point is bit-exact with OpenCV 4.6; float32 (OpenCV ≥ 4.11) within 4`, async () => {
      const src = await goldenImage(c.src!);
      const expected = await goldenImage(c.expected);
      const m = c.matrix as unknown as Affine;
      assert.deepEqual(compare(warpAffine(src, m, c.width!, c.height!, { precision: 'fixed-point' }).data, expected.data), { maxAbs: 0, exact: 1 });
      const f = compare(warpAffine(src, m, c.width!, c.height!).data, expected.data);
      assert.ok(f.maxAbs <= 4 && f.exact > 0.85, JSON.stringify(f));
    });

    it(`${c.name}: a window gives the full warp's pixels there`, async () => {
      const src = await goldenImage(c.src!);
      const m = c.matrix as unknown as Affine;
      for (const precision of ['float32', 'fixed-point'] as const) {
        const full = warpAffine(src, m, c.width!, c.height!, { precision });
        const window = { x0: 7, y0: 11, x1: c.width! - 5, y1: c.height! + 20 };
        const part = warpAffine(src, m, c.width!, c.height!, { precision, window });
        assert.equal(part.width, window.x1 - window.x0);
        assert.equal(part.height, c.height! - window.y0);
        for (let y = 0; y < part.height; y++) {
          const a = full.data.subarray(((y + window.y0) * c.width! + window.x0) * 3, ((y + window.y0) * c.width! + window.x1) * 3);
          assert.deepEqual(part.data.subarray(y * part.width * 3, (y + 1) * part.width * 3), a);
        }
      }
    });
  }

  for (const c of goldenCases('warpAffineFloat')) {
    it(`${c.name}: float32 mask, fixed-point bit-exact`, () => {
      const white: FloatImage = { width: c.srcWidth!, height: c.srcHeight!, channels: 1, data: new Float32Array(c.srcWidth! * c.srcHeight!).fill(c.srcFill!) };
      const got = warpAffine(white, c.matrix as unknown as Affine, c.width!, c.height!, { precision: 'fixed-point' });
      assert.deepEqual(compare(got.data, goldenFloats(c.expected)), { maxAbs: 0, exact: 1 });
    });
  }
});

describe('erode against cv2.erode(np.ones((k, k)))', () => {
  for (const c of goldenCases('erode')) {
    it(`${c.name}: bit-exact on a float32 mask`, () => {
      const got = erode(goldenFloats(c.src!), c.width!, c.height!, c.k!);
      assert.deepEqual(compare(got, goldenFloats(c.expected)), { maxAbs: 0, exact: 1 });
    });
  }
});

describe('gaussianBlur against cv2.GaussianBlur on float32', () => {
  for (const c of goldenCases('gaussianBlur')) {
    it(`${c.name}: within float32 accumulation error (< 1e-4 on 0..255)`, () => {
      const src = goldenFloats(c.src!);
      const got = gaussianBlur(src, c.width!, c.height!, 1, c.ksize!, c.sigma!);
      const r = compare(got, goldenFloats(c.expected));
      assert.ok(r.maxAbs < 1e-4, JSON.stringify(r));
    });
  }
});
