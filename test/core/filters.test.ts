import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boxBlurFast, boxRadii, dilate, erode, gaussianBlur, gaussianKernel, gaussianKsize, reflectTable } from '../../src/core/filters.js';

function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = ''): void {
  assert.equal(actual.length, expected.length, `${what} length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (±${tol})`);
  }
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('gaussianKernel / gaussianKsize', () => {
  it("uses OpenCV's fixed kernels when sigma ≤ 0 and ksize ≤ 9", () => {
    assert.deepEqual(Array.from(gaussianKernel(1, 0)), [1]);
    assert.deepEqual(Array.from(gaussianKernel(3, 0)), [0.25, 0.5, 0.25]);
    assert.deepEqual(Array.from(gaussianKernel(5, -1)), [0.0625, 0.25, 0.375, 0.25, 0.0625]);
    assert.deepEqual(Array.from(gaussianKernel(7, 0)), [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125]);
    // cv2.getGaussianKernel(9, 0) in opencv-python 4.6.0:
    assert.deepEqual(Array.from(gaussianKernel(9, 0)), [0.015625, 0.05078125, 0.1171875, 0.19921875, 0.234375, 0.19921875, 0.1171875, 0.05078125, 0.015625]);
  });

  it('otherwise follows the closed form, with sigma = 0.3((k−1)/2 − 1) + 0.8 when sigma ≤ 0', () => {
    const k = gaussianKernel(21, 3.5);
    const raw = Array.from({ length: 21 }, (_, i) => Math.exp(-((i - 10) ** 2) / (2 * 3.5 * 3.5)));
    const sum = raw.reduce((a, b) => a + b, 0);
    assertAllClose(
      k,
      raw.map((v) => v / sum),
      1e-15,
      'k21',
    );
    // cv2.getGaussianKernel(11, 0) (sigma 2.0):
    assertAllClose(
      gaussianKernel(11, 0),
      [
        0.008812229292562288, 0.027143577143479373, 0.06511405659938269, 0.12164907301380962, 0.1769983568313557, 0.20056541423882085, 0.1769983568313557, 0.12164907301380962,
        0.06511405659938269, 0.027143577143479373, 0.008812229292562288,
      ],
      1e-15,
      'k11',
    );
    assert.throws(() => gaussianKernel(4, 1), RangeError);
  });

  it('derives ksize from sigma like cv2 (×3 for uint8, ×4 for float)', () => {
    assert.equal(gaussianKsize(5, 'float32'), 41);
    assert.equal(gaussianKsize(5, 'uint8'), 31);
    assert.equal(gaussianKsize(3, 'uint8'), 19); // Deep-Live-Cam sharpening
    assert.equal(gaussianKsize(4.75), 39); // FaceFusion box mask at 128 (spec F9.3)
    assert.equal(gaussianKsize(9.5), 77);
  });
});

describe('gaussianBlur', () => {
  it('matches cv2.GaussianBlur on float32 (5×5, sigma 1.1, BORDER_REFLECT_101)', () => {
    const src = Float32Array.from([0, 7, 28, 13, 12, 25, 13, 25, 1, 41, 45, 13, 26, 43, 24, 19, 28, 1, 39, 11, 47, 47, 11, 39, 2, 29, 20, 25, 44, 27]);
    // opencv-python 4.6.0, rounded to 5 decimals:
    const expected = [
      15.93951, 17.08227, 19.96155, 23.67998, 24.97131, 24.57557, 19.55489, 20.29414, 22.29684, 24.99333, 25.30522, 24.466, 25.01497, 25.56112, 26.73167, 27.36402, 25.75743,
      24.30296, 25.51536, 26.89456, 29.54423, 30.14414, 28.00941, 26.60798, 24.30332, 26.23307, 29.90799, 31.04806, 29.33057, 28.24343,
    ];
    assertAllClose(gaussianBlur(src, 6, 5, 1, 5, 1.1), expected, 1e-4, 'blur');
  });

  it('reflects without repeating the edge pixel (REFLECT_101), hand-computed', () => {
    // One row, ksize 3 = [¼ ½ ¼]: out[0] = ½a + ¼b + ¼b (the tap left of a reads b, not a).
    const out = gaussianBlur(Float32Array.from([8, 0, 0, 4]), 4, 1, 1, 3, 0);
    assert.deepEqual(Array.from(out), [4, 2, 1, 2]);
    assert.deepEqual(Array.from(reflectTable(4, 2)), [2, 1, 0, 1, 2, 3, 2, 1]);
    assert.deepEqual(Array.from(reflectTable(2, 3)), [1, 0, 1, 0, 1, 0, 1, 0]); // wider than the image
  });

  it('keeps a constant image constant, at the borders too', () => {
    const src = new Float32Array(17 * 13 * 3).fill(42.5);
    for (const [k, s] of [
      [3, 0],
      [0, 2.5],
      [31, 0],
      [0, 8],
    ]) {
      assertAllClose(gaussianBlur(src, 17, 13, 3, k, s), src, 1e-4, `k ${k} sigma ${s}`);
    }
  });

  it('preserves the sum of content away from the borders, and can work in place', () => {
    const w = 60;
    const h = 50;
    const src = new Float32Array(w * h * 3);
    const rand = rng(3);
    for (let y = 22; y < 28; y++) for (let x = 25; x < 33; x++) for (let c = 0; c < 3; c++) src[(y * w + x) * 3 + c] = rand() * 255;
    const total = (a: Float32Array, c: number) => a.reduce((s, v, i) => (i % 3 === c ? s + v : s), 0);
    const sums = [0, 1, 2].map((c) => total(src, c));
    const out = gaussianBlur(src, w, h, 3, 0, 3);
    [0, 1, 2].forEach((c) => assert.ok(Math.abs(total(out, c) - sums[c]) < 1e-3 * sums[c]));
    const copy = src.slice();
    assert.equal(gaussianBlur(copy, w, h, 3, 0, 3, copy), copy);
    assertAllClose(copy, out, 1e-6, 'in place');
  });
});

describe('boxBlurFast', () => {
  it('picks boxes whose variances add up to sigma²', () => {
    for (const sigma of [2, 3.3, 8, 15.5]) {
      const variance = boxRadii(sigma).reduce((s, r) => s + ((2 * r + 1) ** 2 - 1) / 12, 0);
      assert.ok(Math.abs(variance - sigma * sigma) < 0.12 * sigma * sigma, `sigma ${sigma}: variance ${variance}`);
    }
  });

  it('keeps constants, preserves mass, and stays close to the true Gaussian', () => {
    const w = 120;
    const h = 100;
    const flat = new Float32Array(w * h).fill(3);
    assertAllClose(boxBlurFast(flat, w, h, 1, 8), flat, 1e-4, 'constant');
    const step = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) step[y * w + x] = x > 40 && x < 80 && y > 30 && y < 70 ? 1 : 0;
    const fast = boxBlurFast(step, w, h, 1, 8);
    const exact = gaussianBlur(step, w, h, 1, 0, 8);
    let worst = 0;
    for (let i = 0; i < fast.length; i++) worst = Math.max(worst, Math.abs(fast[i] - exact[i]));
    assert.ok(worst < 0.03, `worst difference from the Gaussian ${worst}`);
    const mass = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(mass(fast) - mass(step)) < 1e-3 * mass(step));
    const inPlace = step.slice();
    boxBlurFast(inPlace, w, h, 1, 8, inPlace);
    assertAllClose(inPlace, fast, 1e-6, 'in place');
  });
});

describe('erode / dilate', () => {
  /** The definition: min/max over offsets [−⌊k/2⌋, k−1−⌊k/2⌋], pixels outside ignored. */
  function brute(src: ArrayLike<number>, w: number, h: number, k: number, max: boolean): number[] {
    const a = k >> 1;
    const out: number[] = [];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let v = max ? -Infinity : Infinity;
        for (let yy = Math.max(0, y - a); yy <= Math.min(h - 1, y - a + k - 1); yy++) {
          for (let xx = Math.max(0, x - a); xx <= Math.min(w - 1, x - a + k - 1); xx++) {
            v = max ? Math.max(v, src[yy * w + xx]) : Math.min(v, src[yy * w + xx]);
          }
        }
        out.push(v);
      }
    }
    return out;
  }

  it('equals the brute-force definition on random masks, odd and even k', () => {
    const rand = rng(9);
    for (const [w, h] of [
      [23, 17],
      [5, 31],
      [1, 9],
    ]) {
      const f = Float32Array.from({ length: w * h }, () => (rand() < 0.3 ? 0 : rand()));
      const u = Uint8Array.from(f, (v) => Math.round(v * 255));
      for (const k of [1, 2, 3, 4, 5, 6, 7, 10, 16, 40]) {
        assert.deepEqual(Array.from(erode(f, w, h, k)), brute(f, w, h, k, false), `erode f32 ${w}×${h} k ${k}`);
        assert.deepEqual(Array.from(dilate(f, w, h, k)), brute(f, w, h, k, true), `dilate f32 ${w}×${h} k ${k}`);
        assert.deepEqual(Array.from(erode(u, w, h, k)), brute(u, w, h, k, false), `erode u8 ${w}×${h} k ${k}`);
        assert.deepEqual(Array.from(dilate(u, w, h, k)), brute(u, w, h, k, true), `dilate u8 ${w}×${h} k ${k}`);
      }
    }
  });

  it('keeps the input type, works in place, and rejects bad kernel sizes', () => {
    const m = Uint8Array.from([0, 255, 255, 255, 0, 255, 255, 255, 255]);
    const e = erode(m, 3, 3, 2);
    assert.ok(e instanceof Uint8Array);
    // k = 2 reaches one pixel up/left: (x, y) = min over {x−1, x} × {y−1, y}.
    assert.deepEqual(Array.from(e), [0, 0, 255, 0, 0, 0, 255, 0, 0]);
    const copy = m.slice();
    dilate(copy, 3, 3, 3, copy);
    assert.deepEqual(Array.from(copy), new Array(9).fill(255));
    assert.throws(() => erode(m, 3, 3, 0), RangeError);
  });
});
