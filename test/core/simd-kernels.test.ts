import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boxBlurFast, boxBlurPlain } from '../../src/core/box-blur.js';
import { labToRgb, rgbToLab } from '../../src/core/color.js';
import { createImage, type Image, type Rect } from '../../src/core/image.js';
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

  describe('colourTransfer', () => {
    /** matchColour's TypeScript transfer: L*a*b*, gains and offsets, L times the upsampled ratio, back to sRGB. */
    function reference(image: Image, active: Rect, gains: number[], offsets: number[], ratio: Float32Array, factor: number): void {
      const aw = active.x1 - active.x0;
      const lab = rgbToLab(image, active);
      const f = lab.data;
      upsampleRows(ratio, factor, image.width, image.height, 1, (y, row) => {
        if (y < active.y0 || y >= active.y1) return;
        for (let x = 0, i = 3 * (y - active.y0) * aw; x < aw; x++, i += 3) {
          f[i] = (f[i] * gains[0] + offsets[0]) * row[active.x0 + x];
          f[i + 1] = f[i + 1] * gains[1] + offsets[1];
          f[i + 2] = f[i + 2] * gains[2] + offsets[2];
        }
      });
      labToRgb(lab, image, active);
    }

    for (const [channels, w, h, active] of [
      [4, 181, 193, { x0: 5, y0: 3, x1: 170, y1: 190 }],
      [3, 97, 41, { x0: 0, y0: 0, x1: 97, y1: 41 }],
      [4, 30, 9, { x0: 2, y0: 1, x1: 5, y1: 8 }],
    ] as const) {
      it(`${channels} channels, ${w}×${h}: the TypeScript transfer to within one level, almost always exact`, () => {
        const image = noiseImage(w, h, channels, 3);
        // Include the extremes: black, white, and saturated primaries.
        image.data.fill(0, 0, 4 * channels);
        image.data.fill(255, 4 * channels, 8 * channels);
        const factor = 4;
        const ratio = new Float32Array(Math.ceil(w / factor) * Math.ceil(h / factor)).map((_, i) => 0.6 + (i % 9) * 0.1);
        const gains = [1.1, 0.8, 1.3];
        const offsets = [4, -6, 3];
        const expected = { ...image, data: image.data.slice() };
        reference(expected, active, gains, offsets, ratio, factor);
        const before = image.data.slice();
        kernels!.colourTransfer(image, active, gains, offsets, ratio, factor);
        const { max, count } = compare(image.data, expected.data);
        assert.ok(max <= 1, `largest difference ${max}`);
        assert.ok(count <= image.data.length * 1e-3, `${count} bytes differ`);
        // Outside the active rectangle, and alpha everywhere, nothing changes.
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const i = (y * w + x) * channels;
            const inside = x >= active.x0 && x < active.x1 && y >= active.y0 && y < active.y1;
            if (channels === 4) assert.equal(image.data[i + 3], before[i + 3]);
            if (!inside) for (let k = 0; k < 3; k++) assert.equal(image.data[i + k], before[i + k]);
          }
        }
      });
    }
  });

  describe('boxBlurFast (its column passes in WebAssembly)', () => {
    for (const [w, h, channels, sigma] of [
      [181, 193, 1, 5.4],
      [37, 23, 3, 4],
      [64, 48, 3, 0.7],
      [10, 7, 1, 9],
      [9, 40, 4, 2],
    ] as const) {
      it(`${w}×${h}×${channels}, sigma ${sigma}: the TypeScript loop's floats exactly`, () => {
        const src = new Float32Array(w * h * channels).map((_, i) => ((i * 2654435761) >>> 24) / 7);
        assert.deepEqual(boxBlurFast(src, w, h, channels, sigma), boxBlurPlain(src, w, h, channels, sigma));
        // In place, and with a scratch buffer.
        const copy = src.slice();
        assert.deepEqual(boxBlurFast(copy, w, h, channels, sigma, copy, new Float32Array(2 * src.length)), boxBlurPlain(src, w, h, channels, sigma));
      });
    }
  });

  describe('morph (erode and dilate of float masks)', () => {
    /** The window's minimum or maximum by brute force, pixels outside ignored. */
    function bruteForce(src: Float32Array, w: number, h: number, k: number, kind: 'erode' | 'dilate'): Float32Array {
      const out = new Float32Array(w * h);
      const a = k >> 1;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          let best = kind === 'erode' ? Infinity : -Infinity;
          for (let yy = Math.max(0, y - a); yy <= Math.min(h - 1, y + k - 1 - a); yy++) {
            for (let xx = Math.max(0, x - a); xx <= Math.min(w - 1, x + k - 1 - a); xx++) {
              const v = src[yy * w + xx];
              best = kind === 'erode' ? Math.min(best, v) : Math.max(best, v);
            }
          }
          out[y * w + x] = best;
        }
      }
      return out;
    }

    for (const [w, h, k] of [
      [61, 43, 9],
      [37, 23, 4],
      [10, 7, 12],
      [5, 40, 2],
      [1, 1, 3],
    ] as const) {
      it(`${w}×${h}, k = ${k}: the window's extremum, border ignored, also in place`, () => {
        const src = new Float32Array(w * h).map((_, i) => ((i * 2654435761) >>> 24) / 255);
        for (const kind of ['erode', 'dilate'] as const) {
          const out = new Float32Array(w * h);
          kernels!.morph(src, w, h, k, kind, out);
          assert.deepEqual(out, bruteForce(src, w, h, k, kind));
          const copy = src.slice();
          kernels!.morph(copy, w, h, k, kind, copy);
          assert.deepEqual(copy, out);
        }
      });
    }
  });
});
