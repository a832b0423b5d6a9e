import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { multiplyAffine, type Affine } from '../../src/core/affine.js';
import type { FloatImage, Image } from '../../src/core/image.js';
import { createWarpSampler, warpAffine, type BorderMode } from '../../src/core/warp.js';

function bytes(width: number, height: number, channels: 1 | 3 | 4, seed: number): Image {
  const data = new Uint8ClampedArray(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = ((i + seed) * 2654435761) >>> 24;
  return { width, height, channels, data };
}

function floats(width: number, height: number, seed: number): FloatImage {
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (((i + seed) * 2654435761) >>> 20) / 16;
  return { width, height, channels: 1, data };
}

// Source → destination maps: rotations and scales placed inside, across every edge, beyond the
// frame, axis-aligned ones (a zero coefficient) and a mirror.
const place = (angle: number, scale: number, tx: number, ty: number): Affine => {
  const a = scale * Math.cos(angle);
  const b = scale * Math.sin(angle);
  return multiplyAffine([1, 0, tx, 0, 1, ty], [a, -b, 0, b, a, 0]);
};
const matrices: [string, Affine][] = [
  ['rotated, inside', place(0.3, 1.7, 60, 20)],
  ['rotated the other way, enlarged', place(-0.8, 2.3, 40, 90)],
  ['across the left and top edges', place(0.5, 1.9, -50, -40)],
  ['across the right and bottom edges', place(-0.2, 2.1, 150, 110)],
  ['axis-aligned, shrunk', [0.6, 0, 12.25, 0, 0.6, 7.75]],
  ['axis-aligned, exact half-pixel shifts', [2, 0, 0.5, 0, 2, -0.5]],
  ['mirrored', [-1.5, 0.1, 190, 0.1, 1.5, 5]],
  ['beyond the frame', place(0.1, 1, 900, 900)],
];

const W = 200;
const H = 160;

/** Every row of the sampler's output, whole and in pieces, against warpAffine on the full frame. */
function check<T extends Image | FloatImage>(
  src: T,
  m: Affine,
  options: { precision: 'float32' | 'fixed-point'; border: BorderMode; borderValue?: number; uniform?: boolean },
): void {
  const full = warpAffine(src, m, W, H, options);
  const c = src.channels;
  const sampler = createWarpSampler(src, m, W, options);
  const row = src.data instanceof Float32Array ? new Float32Array(W * c) : new Uint8ClampedArray(W * c);
  for (let y = 0; y < H; y++) {
    const expected = full.data.subarray(y * W * c, (y + 1) * W * c);
    row.fill(7);
    sampler.row(y, 0, W, row, 0);
    assert.deepEqual(row, expected, `row ${y}`);
    const { interiorX0: a, interiorX1: b } = sampler;
    assert.ok(a <= b && a >= 0 && b <= W, `row ${y}: interior ${a}…${b}`);
    // Pieces that start and end inside, across and outside the interior, written at an offset.
    for (const [x0, x1] of [
      [0, 1],
      [a, b],
      [Math.max(0, a - 3), Math.min(W, a + 2)],
      [Math.max(0, b - 2), Math.min(W, b + 4)],
      [37, 151],
      [W - 1, W],
    ]) {
      if (x1 <= x0) continue;
      const piece = src.data instanceof Float32Array ? new Float32Array((x1 - x0 + 2) * c) : new Uint8ClampedArray((x1 - x0 + 2) * c);
      sampler.row(y, x0, x1, piece, c);
      assert.deepEqual(piece.subarray(c, (x1 - x0 + 1) * c), expected.subarray(x0 * c, x1 * c), `row ${y}, columns ${x0}…${x1}`);
    }
  }
}

describe('createWarpSampler: rows identical to warpAffine', () => {
  for (const [name, m] of matrices) {
    for (const precision of ['float32', 'fixed-point'] as const) {
      it(`${name}, ${precision}: 8-bit, 1/3/4 channels, constant and replicate borders`, () => {
        for (const channels of [1, 3, 4] as const) {
          const src = bytes(71, 53, channels, channels);
          check(src, m, { precision, border: 'constant' });
          check(src, m, { precision, border: 'constant', borderValue: 200 });
          check(src, m, { precision, border: 'replicate' });
        }
      });
      it(`${name}, ${precision}: float source`, () => {
        check(floats(64, 48, 3), m, { precision, border: 'constant' });
        check(floats(64, 48, 5), m, { precision, border: 'replicate' });
      });
      it(`${name}, ${precision}: uniform white mask (255 inside without the weights, the border band bilinear)`, () => {
        const white: FloatImage = { width: 128, height: 128, channels: 1, data: new Float32Array(128 * 128).fill(255) };
        check(white, multiplyAffine(m, [0.5, 0, 0, 0, 0.5, 0]), { precision, border: 'constant', uniform: true });
        const grey: Image = { width: 40, height: 30, channels: 3, data: new Uint8ClampedArray(40 * 30 * 3).fill(77) };
        check(grey, m, { precision, border: 'constant', uniform: true });
      });
    }
  }
});
