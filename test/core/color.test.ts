import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labToRgb, meanStd, rgbToLab } from '../../src/core/color.js';
import type { FloatImage, Image } from '../../src/core/image.js';

function labOf(r: number, g: number, b: number): number[] {
  const px: Image = { width: 1, height: 1, channels: 3, data: Uint8ClampedArray.from([r, g, b]) };
  return Array.from(rgbToLab(px, { x0: 0, y0: 0, x1: 1, y1: 1 }).data);
}

function assertClose(actual: number[], expected: number[], tol: number, what: string): void {
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= tol, `${what}[${i}]: ${v} vs ${expected[i]} (±${tol})`));
}

describe('rgbToLab / labToRgb', () => {
  it('known colours (D65, L 0..100)', () => {
    assertClose(labOf(255, 255, 255), [100, 0, 0], 1e-3, 'white');
    assertClose(labOf(0, 0, 0), [0, 0, 0], 1e-6, 'black');
    // Exact-formula values (skimage 0.19 rgb2lab gives 53.2406, 80.0923, 67.2028 with its own matrix).
    assertClose(labOf(255, 0, 0), [53.24, 80.09, 67.2], 0.01, 'red');
    assertClose(labOf(0, 255, 0), [87.735, -86.181, 83.177], 0.01, 'green');
    assertClose(labOf(0, 0, 255), [32.296, 79.187, -107.862], 0.01, 'blue');
    assertClose(labOf(128, 128, 128), [53.585, 0, 0], 1e-3, 'grey');
    // Dark colours use the linear segment of f(t): (1, 2, 3) → L ≈ 0.51.
    assertClose(labOf(1, 2, 3), [0.5098, -0.1225, -0.4705], 1e-3, 'near black');
  });

  it('round trip returns every sampled 8-bit colour within 1 LSB', () => {
    // Every 3rd level per channel (86³ ≈ 636k colours) plus both ends of the range.
    const levels: number[] = [];
    for (let v = 0; v < 256; v += 3) levels.push(v);
    if (levels[levels.length - 1] !== 255) levels.push(255);
    const n = levels.length;
    const img: Image = { width: n * n, height: n, channels: 4, data: new Uint8ClampedArray(n * n * n * 4) };
    let i = 0;
    for (const r of levels) for (const g of levels) for (const b of levels) img.data.set([r, g, b, 77], 4 * i++);
    const rect = { x0: 0, y0: 0, x1: n * n, y1: n };
    const lab = rgbToLab(img, rect);
    const back: Image = { width: n * n, height: n, channels: 4, data: new Uint8ClampedArray(img.data.length).fill(200) };
    labToRgb(lab, back, rect);
    let worst = 0;
    let exact = 0;
    for (let p = 0; p < n * n * n; p++) {
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(back.data[4 * p + c] - img.data[4 * p + c]));
      if (back.data[4 * p] === img.data[4 * p] && back.data[4 * p + 1] === img.data[4 * p + 1] && back.data[4 * p + 2] === img.data[4 * p + 2]) exact++;
      assert.equal(back.data[4 * p + 3], 200, 'alpha is left alone');
    }
    assert.ok(worst <= 1, `worst round-trip error ${worst}`);
    assert.ok(exact / (n * n * n) > 0.99, `only ${exact} of ${n * n * n} exact`);
  });

  it('works on a rectangle of a larger image and reuses `out`', () => {
    const img: Image = { width: 4, height: 3, channels: 3, data: new Uint8ClampedArray(36) };
    img.data.set([255, 0, 0], (1 * 4 + 2) * 3);
    const rect = { x0: 2, y0: 1, x1: 4, y1: 3 };
    const out: FloatImage = { width: 2, height: 2, channels: 3, data: new Float32Array(12) };
    assert.equal(rgbToLab(img, rect, out), out);
    assertClose(Array.from(out.data.subarray(0, 3)), [53.24, 80.09, 67.2], 0.01, 'red at (2, 1)');
    assertClose(Array.from(out.data.subarray(3, 6)), [0, 0, 0], 1e-6, 'black at (3, 1)');
    out.data.set([100, 0, 0], 9);
    const dst: Image = { width: 4, height: 3, channels: 3, data: new Uint8ClampedArray(36) };
    labToRgb(out, dst, rect);
    assert.deepEqual(Array.from(dst.data.subarray((2 * 4 + 3) * 3, (2 * 4 + 3) * 3 + 3)), [255, 255, 255]);
    assert.deepEqual(Array.from(dst.data.subarray((1 * 4 + 2) * 3, (1 * 4 + 2) * 3 + 3)), [255, 0, 0]);
    assert.deepEqual(Array.from(dst.data.subarray(0, 6)), [0, 0, 0, 0, 0, 0], 'outside the rectangle untouched');
    assert.throws(() => labToRgb(out, dst, { x0: 0, y0: 0, x1: 3, y1: 3 }), RangeError);
  });
});

describe('meanStd', () => {
  const values: FloatImage = { width: 4, height: 1, channels: 2, data: Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40]) };

  it('unweighted: population mean and standard deviation', () => {
    const s = meanStd(values, 1);
    assert.equal(s.mean, 25);
    assert.ok(Math.abs(s.std - Math.sqrt(125)) < 1e-12);
    assert.equal(s.weight, 4);
  });

  it('weighted: a weight of 0 excludes a pixel, fractional weights count proportionally', () => {
    const s = meanStd(values, 0, Float32Array.from([0, 1, 1, 2]));
    // values 2, 3, 4, 4 → mean 3.25, variance ((1.25)² + 0.25² + 2·0.75²)/4 = 0.6875
    assert.ok(Math.abs(s.mean - 3.25) < 1e-12);
    assert.ok(Math.abs(s.std - Math.sqrt(0.6875)) < 1e-12);
    assert.deepEqual(meanStd(values, 0, new Float32Array(4)), { mean: 0, std: 0, weight: 0 });
  });
});
