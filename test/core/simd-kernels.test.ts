import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createImage, type Image } from '../../src/core/image.js';
import { upsampleRows } from '../../src/core/resample.js';
import { simdKernels } from '../../src/core/simd-kernels.js';

function noiseImage(width: number, height: number, channels: 3 | 4, seed: number): Image {
  const image = createImage(width, height, channels);
  for (let i = 0; i < image.data.length; i++) image.data[i] = ((i + seed) * 2654435761) >>> 24;
  return image;
}

/** Byte differences between two images: the largest, and how many bytes differ. */
function compare(a: Uint8ClampedArray, b: Uint8ClampedArray): { max: number; count: number } {
  let max = 0;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > 0) count++;
    if (d > max) max = d;
  }
  return { max, count };
}

const kernels = simdKernels();

describe('SIMD kernels', () => {
  it('compile where WebAssembly SIMD exists (Node 20 has it)', () => {
    assert.ok(kernels, 'simdKernels() returned undefined on a runtime with WebAssembly SIMD');
  });

  describe('upsampleMix', () => {
    for (const [channels, factor, fw, fh] of [
      [3, 2, 362, 386],
      [4, 2, 101, 57],
      [3, 3, 100, 31],
      [4, 1, 40, 20],
    ] as const) {
      it(`${channels} channels, factor ${factor}, ${fw}×${fh}: the TypeScript mix to within one level, mostly exact`, () => {
        const gw = Math.ceil(fw / factor);
        const gh = Math.ceil(fh / factor);
        const grid = new Float32Array(gw * gh * 4);
        for (let i = 0; i < gw * gh; i++) {
          const m = ((i * 7) % 23) / 22; // 0..1, with exact 0 and 1
          grid[4 * i] = m;
          for (let k = 1; k < 4; k++) grid[4 * i + k] = m * (((i * 31 + k * 57) % 300) - 20); // some beyond 0..255: clamped
        }
        const frame = noiseImage(fw + 30, fh + 20, channels, 5);
        const expected = { ...frame, data: frame.data.slice() };
        const x0 = 13;
        const y0 = 7;
        upsampleRows(grid, factor, fw, fh, 4, (y, row) => {
          let fi = ((y0 + y) * frame.width + x0) * channels;
          for (let p = 0; p < 4 * fw; p += 4, fi += channels) {
            const keep = 1 - row[p];
            for (let k = 0; k < 3; k++) expected.data[fi + k] = expected.data[fi + k] * keep + row[p + 1 + k];
          }
        });
        kernels!.upsampleMix(grid, factor, frame, x0, y0, fw, fh);
        const { max, count } = compare(frame.data, expected.data);
        assert.ok(max <= 1, `largest difference ${max}`);
        assert.ok(count <= frame.data.length * 0.02, `${count} bytes differ`);
      });
    }

    it('leaves alpha and everything outside the region untouched', () => {
      const frame = noiseImage(50, 40, 4, 9);
      const before = frame.data.slice();
      const grid = new Float32Array(10 * 8 * 4).fill(0.5);
      kernels!.upsampleMix(grid, 2, frame, 5, 6, 20, 16);
      for (let y = 0; y < 40; y++) {
        for (let x = 0; x < 50; x++) {
          const i = (y * 50 + x) * 4;
          const inside = x >= 5 && x < 25 && y >= 6 && y < 22;
          assert.equal(frame.data[i + 3], before[i + 3]);
          if (!inside) for (let k = 0; k < 3; k++) assert.equal(frame.data[i + k], before[i + k], `(${x}, ${y}) changed`);
        }
      }
    });
  });
});
