import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gaussianBlur } from '../../src/core/filters.js';
import type { FloatImage, Image } from '../../src/core/image.js';
import { unsharpMask, unsharpMaskRegion } from '../../src/core/sharpen.js';

describe('unsharpMask', () => {
  const w = 24;
  const h = 6;
  const step: FloatImage = { width: w, height: h, channels: 1, data: Float32Array.from({ length: w * h }, (_, i) => (i % w < 12 ? 50 : 150)) };

  it('is (1 + amount)·x − amount·blur(x), and leaves flat areas alone', () => {
    const out = unsharpMask(step, 0.8, 2);
    const blur = gaussianBlur(step.data, w, h, 1, 0, 2);
    for (let i = 0; i < w * h; i++) assert.ok(Math.abs(out.data[i] - (1.8 * step.data[i] - 0.8 * blur[i])) < 1e-4);
    assert.ok(out.data[11] < 50 && out.data[12] > 150, 'the edge gains contrast');
    assert.equal(out.data[0], 50);
    assert.equal(out.data[w - 1], 150);
  });

  it('a mask fades the effect per pixel, amount 0 is the identity', () => {
    const mask = new Float32Array(w * h);
    for (let i = 0; i < w * h; i += 2) mask[i] = 1;
    const sharp = unsharpMask(step, 1, 2);
    const masked = unsharpMask(step, 1, 2, { mask });
    for (let i = 0; i < w * h; i++) assert.equal(masked.data[i], i % 2 === 0 ? sharp.data[i] : step.data[i]);
    assert.deepEqual(unsharpMask(step, 0, 2).data, step.data);
  });
});

describe('unsharpMaskRegion', () => {
  it('sharpens only the colour channels inside the rectangle, saturating to 0..255', () => {
    const W = 20;
    const H = 10;
    const img: Image = { width: W, height: H, channels: 4, data: new Uint8ClampedArray(W * H * 4) };
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) img.data.set([x < 10 ? 10 : 250, 100, x < 10 ? 250 : 10, 128], (y * W + x) * 4);
    const before = img.data.slice();
    const rect = { x0: 4, y0: 2, x1: 16, y1: 8 };
    unsharpMaskRegion(img, rect, 1.5, 1);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = (y * W + x) * 4;
        const inside = x >= 4 && x < 16 && y >= 2 && y < 8;
        if (!inside) assert.deepEqual(img.data.subarray(i, i + 4), before.subarray(i, i + 4), `(${x}, ${y}) changed`);
        assert.equal(img.data[i + 3], 128, 'alpha kept');
        assert.equal(img.data[i + 1], 100, 'a flat channel stays flat');
      }
    }
    const edge = (3 * W + 9) * 4;
    assert.equal(img.data[edge], 0, 'dark side of the edge clips to 0');
    assert.equal(img.data[edge + 2], 255, 'bright side clips to 255');
  });
});
