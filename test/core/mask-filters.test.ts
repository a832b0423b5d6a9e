/** The mask fast paths give exactly what the general erode and Gaussian blur give. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMaskBlurScratch, gaussianBlur, gaussianBlurMask } from '../../src/core/filters.js';
import { createErodeMaskScratch, erode, erodeMask } from '../../src/core/morphology.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** A thresholded-looking mask: 255 inside a tilted square, a ragged border of other values, 0 outside a box. */
function mask(width: number, height: number, seed: number): { data: Float32Array; box: { x0: number; y0: number; x1: number; y1: number } } {
  const random = seeded(seed);
  const data = new Float32Array(width * height);
  const box = { x0: 11, y0: 7, x1: width - 9, y1: height - 13 };
  for (let y = box.y0; y < box.y1; y++) {
    for (let x = box.x0; x < box.x1; x++) {
      const u = (x - width / 2) * 0.9 + (y - height / 2) * 0.3;
      const v = -(x - width / 2) * 0.3 + (y - height / 2) * 0.9;
      const d = Math.max(Math.abs(u), Math.abs(v));
      data[y * width + x] = d < 20 ? 255 : d < 24 ? Math.floor(random() * 256) : random() < 0.05 ? 255 : 0;
    }
  }
  return { data, box };
}

test('erodeMask equals erode for several kernels, reusing its scratch', () => {
  const scratch = createErodeMaskScratch();
  for (const [seed, k] of [
    [1, 3],
    [2, 10],
    [3, 11],
    [4, 14],
  ] as const) {
    const { data, box } = mask(90, 80, seed);
    const fast = erodeMask(data, 90, 80, k, box, 255, new Float32Array(90 * 80), scratch);
    assert.deepEqual(fast, erode(data, 90, 80, k), `k = ${k}`);
  }
});

test('gaussianBlurMask equals gaussianBlur for several kernels, reusing its scratch', () => {
  const scratch = createMaskBlurScratch();
  for (const [seed, ksize] of [
    [5, 3],
    [6, 11],
    [7, 15],
    [8, 21],
  ] as const) {
    const { data, box } = mask(96, 84, seed);
    const fast = gaussianBlurMask(data, 96, 84, ksize, box, new Float32Array(96 * 84), scratch);
    assert.deepEqual(fast, gaussianBlur(data, 96, 84, 1, ksize, 0), `ksize = ${ksize}`);
  }
});
