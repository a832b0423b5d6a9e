import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { invertAffine } from '../../src/core/affine.js';
import type { Image } from '../../src/core/image.js';
import { ARCFACE_TEMPLATE_112, alignmentTemplate, arcfaceInputBlob, blobFromImage, estimateNorm, inswapperInputBlob, normCrop } from '../../src/face/align.js';
import { compare, goldenCases, goldenImage } from '../fixtures/goldens/load.js';

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

describe('alignment template (spec §4.1–4.2)', () => {
  it('112 is the template itself, 128 shifts x by 8, 224 doubles, 256 doubles and shifts by 16', () => {
    assertClose(alignmentTemplate(112), ARCFACE_TEMPLATE_112, 0, '112');
    assertClose(alignmentTemplate(128), [46.2946, 51.6963, 81.5318, 51.5014, 64.0252, 71.7366, 49.5493, 92.3655, 78.7299, 92.2041], 1e-5, '128');
    assertClose(
      alignmentTemplate(224),
      Array.from(ARCFACE_TEMPLATE_112, (v) => 2 * v),
      1e-5,
      '224',
    );
    const t256 = alignmentTemplate(256);
    assert.ok(Math.abs(t256[0] - (2 * 38.2946 + 16)) < 1e-4 && Math.abs(t256[1] - 2 * 51.6963) < 1e-4);
  });

  it('rejects sizes that are multiples of neither 112 nor 128', () => {
    assert.throws(() => alignmentTemplate(100), /multiple of 112 or 128/);
    assert.throws(() => estimateNorm([1, 2, 3], 112), /5 keypoints/);
  });
});

// The spec's vectors use a float64 template; insightface's is float32, hence ~1e-5 on the translation.
describe('estimateNorm (Umeyama, spec §4.3 vectors)', () => {
  const src = [220, 240, 300, 236, 262, 290, 228, 330, 296, 327];
  it('size 112', () => {
    assertClose(estimateNorm(src, 112), [0.4422566444, -0.0117539038, -56.1461145028, 0.0117539038, 0.4422566444, -57.0355806484], 1e-5, 'M112');
  });
  it('size 128 and its inverse', () => {
    const m = estimateNorm(src, 128);
    assertClose(m, [0.4422566444, -0.0117539038, -48.1461145028, 0.0117539038, 0.4422566444, -57.0355806484], 1e-5, 'M128');
    assertClose(invertAffine(m), [2.2595345225, 0.0600518989, 112.2129027658, -0.0600518989, 2.2595345225, 125.9825978842], 2e-5, 'inverse');
  });
  it('matches the numpy Umeyama of the golden script on the hand-picked astronaut keypoints', () => {
    for (const c of goldenCases('pasteBack')) {
      const m = estimateNorm(c.kps!.flat(), 128);
      assertClose(m, c.matrix!, 1e-9, c.name);
    }
  });
});

describe('normCrop against cv2.warpAffine goldens', () => {
  for (const c of goldenCases('warpAffine').filter((x) => x.kps)) {
    const size = c.width!;
    it(`${c.name}: bit-exact with the fixed-point warp (OpenCV 4.6); the matrix is the golden's`, async () => {
      const src = await goldenImage(c.src!);
      const { crop, matrix } = normCrop(src, c.kps!.flat(), size, { precision: 'fixed-point' });
      assertClose(matrix, c.matrix!, 1e-9, 'matrix');
      assert.equal(crop.width, size);
      assert.deepEqual(compare(crop.data, (await goldenImage(c.expected)).data), { maxAbs: 0, exact: 1 });
    });
  }

  it("the paste-back goldens' 128 crops (aimg) of astronaut.png: bit-exact, float32 default within 4", async () => {
    for (const c of goldenCases('pasteBack')) {
      const target = await goldenImage(c.target!);
      const aimg = await goldenImage(c.aimg!);
      assert.deepEqual(compare(normCrop(target, c.kps!.flat(), 128, { precision: 'fixed-point' }).crop.data, aimg.data), { maxAbs: 0, exact: 1 });
      const f = compare(normCrop(target, c.kps!.flat(), 128).crop.data, aimg.data);
      assert.ok(f.maxAbs <= 4 && f.exact > 0.85, JSON.stringify(f));
    }
  });
});

describe('input blobs', () => {
  const img: Image = { width: 2, height: 1, channels: 3, data: Uint8ClampedArray.of(0, 127, 255, 10, 20, 30) };
  it('ArcFace: RGB planes, (p − 127.5)/127.5', () => {
    const b = arcfaceInputBlob(img);
    assertClose(b, [-1, (10 - 127.5) / 127.5, -0.5 / 127.5, (20 - 127.5) / 127.5, 1, (30 - 127.5) / 127.5], 1e-7, 'arcface');
  });
  it('InSwapper: RGB planes, p / 255, float32', () => {
    const b = inswapperInputBlob(img);
    assert.deepEqual(
      Array.from(b),
      [0, 10, 127, 20, 255, 30].map((v) => Math.fround(v / 255)),
    );
  });
  it("'bgr' reverses the planes; grey is replicated; out is reused", () => {
    const out = new Float32Array(6);
    assert.equal(blobFromImage(img, 1, 0, 'bgr', out), out);
    assert.deepEqual(Array.from(out), [255, 30, 127, 20, 0, 10]);
    const grey: Image = { width: 1, height: 1, channels: 1, data: Uint8ClampedArray.of(51) };
    assert.deepEqual(Array.from(blobFromImage(grey, 1 / 255, 0)), [0.2, 0.2, 0.2].map(Math.fround));
  });
});
