import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { affineCentredToCorner, invertAffine, type Affine } from '../../src/core/affine.js';
import type { FloatImage, Image } from '../../src/core/image.js';
import { sampleAffineToTensor, warpAffine } from '../../src/core/warp.js';

function image(width: number, height: number, channels: 1 | 3 | 4, value: (x: number, y: number, c: number) => number): Image {
  const data = new Uint8ClampedArray(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = value(x, y, c);
  return { width, height, channels, data };
}

const PRECISIONS = ['float32', 'fixed-point'] as const;

describe('warpAffine', () => {
  const src = image(7, 5, 3, (x, y, c) => (x * 37 + y * 91 + c * 59) % 256);

  for (const precision of PRECISIONS) {
    it(`${precision}: the identity reproduces the source exactly`, () => {
      assert.deepEqual(warpAffine(src, [1, 0, 0, 0, 1, 0], 7, 5, { precision }).data, src.data);
    });

    it(`${precision}: integer translations are exact, with the border value outside`, () => {
      const out = warpAffine(src, [1, 0, 3, 0, 1, -2], 7, 5, { precision, borderValue: 9 });
      for (let y = 0; y < 5; y++) {
        for (let x = 0; x < 7; x++) {
          const sx = x - 3;
          const sy = y + 2;
          for (let c = 0; c < 3; c++) {
            const expected = sx >= 0 && sy < 5 ? src.data[(sy * 7 + sx) * 3 + c] : 9;
            assert.equal(out.data[(y * 7 + x) * 3 + c], expected, `(${x}, ${y}, ${c})`);
          }
        }
      }
    });
  }

  it('a half-pixel shift averages neighbours: half to even (float32), half up (fixed-point)', () => {
    const row = image(6, 1, 1, (x) => [10, 13, 20, 27, 40, 41][x]);
    const f = warpAffine(row, [1, 0, 0.5, 0, 1, 0], 6, 1, { precision: 'float32' });
    const q = warpAffine(row, [1, 0, 0.5, 0, 1, 0], 6, 1, { precision: 'fixed-point' });
    // dst(x) = src(x − 0.5): taps x−1 and x; dst(0) mixes the border 0 with 10.
    assert.deepEqual(Array.from(f.data), [5, 12, 16, 24, 34, 40]); // 11.5 → 12, 16.5 → 16, 23.5 → 24, 33.5 → 34, 40.5 → 40
    assert.deepEqual(Array.from(q.data), [5, 12, 17, 24, 34, 41]);
  });

  it('fixed-point matches cv2 4.6 warpAffine bit for bit (rotation + scale, constant and replicate)', () => {
    // Generated with opencv-python 4.6.0: img[y, x] = (37x + 91y + 13xy) % 256, 8×6 uint8,
    // M = [[1.3cos .3, −1.3sin .3, 2.7], [1.3sin .3, 1.3cos .3, −1.9]], dsize (10, 8), INTER_LINEAR.
    const img = image(8, 6, 1, (x, y) => (x * 37 + y * 91 + x * y * 13) % 256);
    const M: Affine = [1.241937435863288, -0.38417626865974147, 2.7, 0.38417626865974147, 1.241937435863288, -1.9];
    const constant = [
      [7, 36, 130, 158, 161, 182, 189, 127, 139, 182],
      [7, 42, 146, 228, 132, 128, 184, 88, 70, 129],
      [7, 27, 48, 124, 124, 130, 141, 164, 175, 123],
      [22, 95, 136, 130, 131, 219, 149, 127, 200, 112],
      [71, 165, 127, 103, 62, 144, 154, 110, 148, 200],
      [43, 83, 42, 125, 174, 180, 173, 96, 94, 160],
      [7, 7, 9, 43, 115, 126, 110, 171, 96, 138],
      [7, 7, 7, 7, 7, 7, 36, 77, 40, 100],
    ].flat();
    const replicate = [
      [182, 162, 142, 158, 161, 182, 189, 127, 139, 187],
      [58, 94, 146, 228, 132, 128, 184, 88, 70, 129],
      [60, 40, 48, 124, 124, 130, 141, 164, 175, 123],
      [128, 108, 136, 130, 131, 219, 149, 127, 200, 112],
      [193, 165, 127, 103, 62, 144, 154, 110, 148, 200],
      [199, 151, 51, 125, 174, 180, 173, 96, 94, 160],
      [199, 112, 74, 150, 224, 172, 117, 171, 96, 138],
      [194, 79, 96, 173, 246, 138, 140, 168, 57, 110],
    ].flat();
    assert.deepEqual(Array.from(warpAffine(img, M, 10, 8, { precision: 'fixed-point', borderValue: 7 }).data), constant);
    assert.deepEqual(Array.from(warpAffine(img, M, 10, 8, { precision: 'fixed-point', border: 'replicate' }).data), replicate);
  });

  it('a rotation matches an independent double-precision bilinear reference within ±1', () => {
    // Everywhere for float32; away from the border for fixed-point, whose 1/32-pixel grid moves
    // the steep step to the border value by up to 3 levels.
    const smooth = image(40, 30, 3, (x, y, c) => 128 + 100 * Math.sin(x * 0.21 + c) * Math.cos(y * 0.17 - c));
    const M: Affine = [Math.cos(0.4) * 0.9, -Math.sin(0.4) * 0.9, 8.3, Math.sin(0.4) * 0.9, Math.cos(0.4) * 0.9, -3.6];
    const inv = invertAffine(M);
    for (const precision of PRECISIONS) {
      const out = warpAffine(smooth, M, 36, 32, { precision });
      let worst = 0;
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 36; x++) {
          const sx = inv[0] * x + inv[1] * y + inv[2];
          const sy = inv[3] * x + inv[4] * y + inv[5];
          const interior = sx > 0.1 && sy > 0.1 && sx < 38.9 && sy < 28.9;
          if (precision === 'fixed-point' && !interior) continue;
          for (let c = 0; c < 3; c++) {
            let v = 0;
            for (const [dx, dy] of [
              [0, 0],
              [1, 0],
              [0, 1],
              [1, 1],
            ]) {
              const px = Math.floor(sx) + dx;
              const py = Math.floor(sy) + dy;
              const w = (dx ? sx - Math.floor(sx) : 1 - (sx - Math.floor(sx))) * (dy ? sy - Math.floor(sy) : 1 - (sy - Math.floor(sy)));
              if (px >= 0 && py >= 0 && px < 40 && py < 30) v += w * smooth.data[(py * 40 + px) * 3 + c];
            }
            worst = Math.max(worst, Math.abs(out.data[(y * 36 + x) * 3 + c] - v));
          }
        }
      }
      assert.ok(worst <= 1, `${precision}: worst difference ${worst}`);
    }
  });

  it('writes only the requested rectangle of `out`, and warps float images without rounding', () => {
    const out = image(7, 5, 3, () => 201);
    warpAffine(src, [1, 0, 0, 0, 1, 0], 7, 5, { rect: { x0: 2, y0: 1, x1: 4, y1: 3 }, out });
    for (let y = 0; y < 5; y++) {
      for (let x = 0; x < 7; x++) {
        const inside = x >= 2 && x < 4 && y >= 1 && y < 3;
        assert.equal(out.data[(y * 7 + x) * 3], inside ? src.data[(y * 7 + x) * 3] : 201);
      }
    }
    const mask: FloatImage = { width: 2, height: 1, channels: 1, data: new Float32Array([0, 255]) };
    const warped = warpAffine(mask, [1, 0, 0.25, 0, 1, 0], 2, 1);
    assert.ok(warped.data instanceof Float32Array);
    assert.deepEqual(Array.from(warped.data), [0, 191.25]);
  });
});

describe('sampleAffineToTensor', () => {
  const rgba = image(5, 4, 4, (x, y, c) => (c === 3 ? 255 : x * 40 + y * 10 + c));

  it('the identity map reads each pixel at its centre: value·scale + offset, NHWC RGB', () => {
    const t = sampleAffineToTensor(rgba, [1, 0, 0, 0, 1, 0], 5, 4, 1 / 255, -0.5);
    for (let i = 0; i < 20; i++) for (let c = 0; c < 3; c++) assert.equal(t[i * 3 + c], Math.fround(rgba.data[i * 4 + c] / 255 - 0.5));
  });

  it('outside the source gives the value of a 0 pixel; replicate gives the edge', () => {
    const t = sampleAffineToTensor(rgba, [1, 0, 100, 0, 1, 0], 2, 2, 2, 7);
    assert.ok(t.every((v) => v === 7));
    const r = sampleAffineToTensor(rgba, [1, 0, 100, 0, 1, 0], 1, 1, 1, 0, undefined, { border: 'replicate' });
    assert.deepEqual(Array.from(r), [160, 161, 162]); // pixel (4, 0)
  });

  it('a 2× reduction averages pixel pairs (centres map to pixel boundaries)', () => {
    const grey = image(4, 2, 1, (x, y) => [0, 10, 20, 50][x] + y * 100);
    const t = sampleAffineToTensor(grey, [2, 0, 0, 0, 2, 0], 2, 1, 1, 0);
    // Output (0.5, 0.5) → source (1, 1): the mean of the 2×2 block; grey is replicated to RGB.
    assert.deepEqual(Array.from(t), [55, 55, 55, 85, 85, 85]);
  });

  it('per-channel scale/offset, BGR order and NCHW layout', () => {
    const t = sampleAffineToTensor(rgba, [1, 0, 0, 0, 1, 0], 5, 4, [1, 2, 3], [0, -1, -2], undefined, { layout: 'nchw', channelOrder: 'bgr' });
    const plane = 20;
    for (let i = 0; i < plane; i++) {
      assert.equal(t[i], rgba.data[i * 4 + 2] * 1);
      assert.equal(t[plane + i], rgba.data[i * 4 + 1] * 2 - 1);
      assert.equal(t[2 * plane + i], rgba.data[i * 4] * 3 - 2);
    }
  });

  it('with quantize, equals cv2-style warpAffine followed by a blob (the reference crop path)', () => {
    const frame = image(60, 50, 4, (x, y, c) => (c === 3 ? 255 : 128 + 120 * Math.sin(x * 0.3 + y * 0.11 + c)));
    const M: Affine = [0.8 * Math.cos(0.3), -0.8 * Math.sin(0.3), 4.2, 0.8 * Math.sin(0.3), 0.8 * Math.cos(0.3), -2.7];
    const crop = warpAffine(frame, M, 32, 32);
    const t = sampleAffineToTensor(frame, affineCentredToCorner(invertAffine(M)), 32, 32, 1 / 255, 0, undefined, { quantize: true });
    let mismatches = 0;
    for (let i = 0; i < 32 * 32; i++) for (let c = 0; c < 3; c++) if (t[i * 3 + c] !== Math.fround(crop.data[i * 4 + c] / 255)) mismatches++;
    assert.ok(mismatches <= 2, `${mismatches} values differ`); // float32 vs float64 coordinates may flip a tie
  });

  it('reuses `out` and rejects one that is too small', () => {
    const out = new Float32Array(5 * 4 * 3);
    assert.equal(sampleAffineToTensor(rgba, [1, 0, 0, 0, 1, 0], 5, 4, 1, 0, out), out);
    assert.throws(() => sampleAffineToTensor(rgba, [1, 0, 0, 0, 1, 0], 5, 4, 1, 0, new Float32Array(3)), RangeError);
  });

  it('a map without rotation (a letterbox) gives the same values as the general loop, borders included', () => {
    const noise = image(37, 23, 3, (x, y, c) => ((x * 31 + y * 17 + c * 7) * 2654435761) >>> 24);
    const grey = image(37, 23, 1, (x, y) => (x * 13 + y * 29) % 256);
    // A shear of 1e-300 changes no coordinate but takes the general loop.
    const sheared = (m: Affine): Affine => [m[0], 1e-300, m[2], 1e-300, m[4], m[5]];
    for (const src of [noise, grey]) {
      for (const m of [
        [37 / 16, 0, 0.3, 0, 37 / 16, -7.1],
        [0.7, 0, -3.2, 0, 0.9, 20.5],
        [1.5, 0, 30.25, 0, 1.5, -2.75],
      ] as Affine[]) {
        for (const options of [{}, { layout: 'nchw' as const, channelOrder: 'bgr' as const }]) {
          const fast = sampleAffineToTensor(src, m, 16, 16, 1 / 127.5, -1, undefined, options);
          const general = sampleAffineToTensor(src, sheared(m), 16, 16, 1 / 127.5, -1, undefined, options);
          assert.deepEqual(fast, general);
        }
      }
    }
  });
});
