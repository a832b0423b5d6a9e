/**
 * The WebAssembly warp-and-blend row kernel against the TypeScript row sampler (float32 path) and
 * the paste-back's float32 blend: the same bytes for 1, 3 and 4 channels, turned and scaled crops,
 * masks of 0, 255 and everything between.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invertAffine, multiplyAffine, type Affine } from '../../src/core/affine.js';
import type { Channels, Image } from '../../src/core/image.js';
import { createWarpSampler } from '../../src/core/warp-sampler.js';
import { warpBlendKernel } from '../../src/core/warp-blend-kernel.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function noise(width: number, height: number, channels: Channels, random: () => number): Image {
  const data = new Uint8ClampedArray(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(random() * 256);
  return { width, height, channels, data };
}

/** frame → crop: turned by `angle`, `scale` crop pixels per frame pixel, the crop's origin at (tx, ty). */
const rot = (angle: number, scale: number, tx: number, ty: number): Affine => {
  const a = scale * Math.cos(angle);
  const b = scale * Math.sin(angle);
  return multiplyAffine([a, b, 0, -b, a, 0], [1, 0, -tx, 0, 1, -ty]);
};

test('warpBlendKernel: the row sampler’s bytes warped in, the paste-back’s bytes blended in', (t) => {
  const kernel = warpBlendKernel();
  if (!kernel) return t.skip('no WebAssembly here');
  const random = seeded(5);
  const f = Math.fround;
  let pixels = 0;
  for (const channels of [1, 3, 4] as const) {
    for (const [angle, scale] of [
      [0.3, 0.6],
      [-1.1, 0.35],
      [0, 0.5],
      [2.5, 1.3],
    ] as const) {
      const crop = noise(128, 128, channels, random);
      const W = 301;
      const H = 257;
      const matrix = rot(angle, scale, 80 + random() * 20, 70 + random() * 20);
      const im = invertAffine(matrix);
      const sampler = createWarpSampler(crop, im, W, { precision: 'float32' });
      const [m0, m1, m2, m3, m4, m5] = invertAffine(im).map((v) => Math.fround(v));
      kernel.load(crop, W);
      const base = noise(W, H, channels, random);
      const expected = base.data.slice();
      const direct: Image = { ...base, data: base.data.slice() };
      const blended: Image = { ...base, data: base.data.slice() };
      const warped = new Uint8ClampedArray(W * channels);
      const mask = new Float32Array(W).map(() => {
        const u = random();
        return u < 0.2 ? 0 : u < 0.4 ? 255 : f(random() * 255);
      });
      for (let y = 0; y < H; y++) {
        sampler.row(y, 0, W, warped, 0);
        const a = sampler.interiorX0;
        const b = sampler.interiorX1;
        if (b <= a) continue;
        pixels += b - a;
        kernel.row(direct, y, a, b, m0, m3, m1 * y + m2, m4 * y + m5);
        kernel.row(blended, y, a, b, m0, m3, m1 * y + m2, m4 * y + m5, mask, a);
        for (let x = a; x < b; x++) {
          for (let k = 0; k < channels; k++) {
            const i = (y * W + x) * channels + k;
            assert.equal(direct.data[i], warped[x * channels + k], `${channels} channels, angle ${angle}: warped (${x}, ${y})`);
            const m = mask[x];
            if (m === 0) continue;
            const alpha = f(m / 255);
            const v = f(f(alpha * warped[x * channels + k]) + f(f(1 - alpha) * base.data[i]));
            expected[i] = v >= 255 ? 255 : v > 0 ? Math.floor(v) : 0;
          }
        }
      }
      assert.deepEqual(blended.data, expected, `${channels} channels, angle ${angle}: blended`);
    }
  }
  assert.ok(pixels > 50_000);
});
