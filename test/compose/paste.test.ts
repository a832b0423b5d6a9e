/** The compositor's blend on synthetic patches: exact where the mask is 0 or 1, smooth between. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Compositor } from '../../src/compose/paste.js';
import { createImage, type Image } from '../../src/core/image.js';
import type { FeatheredPatch, SwapPatch } from '../../src/compose/patch.js';

const settings = { mouthMask: true, opacity: 1, sharpness: 0, colorMatch: false };

/** A textured frame, so blending mistakes show as changed pixels. */
function frame(width: number, height: number): Image {
  const image = createImage(width, height, 3);
  for (let i = 0; i < width * height; i++) image.data.set([(i * 7) % 256, (i * 13) % 256, 90], 3 * i);
  return image;
}

/** A uniform patch over `rect` at the given factor with a disc mask: 1 inside radius r0, 0 past r1. */
function patch(rect: SwapPatch['rect'], factor: number, colour: [number, number, number], r0: number, r1: number): FeatheredPatch {
  const w = Math.ceil((rect.x1 - rect.x0) / factor);
  const h = Math.ceil((rect.y1 - rect.y0) / factor);
  const pixels = createImage(w, h, 4);
  const mask = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      pixels.data.set([...colour, 255], 4 * (y * w + x));
      const d = Math.hypot((x + 0.5) * factor - (rect.x1 - rect.x0) / 2, (y + 0.5) * factor - (rect.y1 - rect.y0) / 2);
      mask[y * w + x] = Math.min(1, Math.max(0, (r1 - d) / (r1 - r0)));
    }
  }
  return { strategy: 'feathered', rect, factor, pixels, mask, statsMask: { grid: 1, weights: new Float32Array(w * h) }, faceSize: (rect.x1 - rect.x0) / factor };
}

function pixel(image: Image, x: number, y: number): number[] {
  return [...image.data.subarray(3 * (y * image.width + x), 3 * (y * image.width + x) + 3)];
}

describe('Compositor', () => {
  for (const factor of [1, 2, 3]) {
    test(`factor ${factor}: the face where the mask is 1, the frame untouched where it is 0 and beyond`, () => {
      const target = frame(400, 300);
      const out = { ...target, data: target.data.slice() };
      const rect = { x0: 100, y0: 50, x1: 340, y1: 290 };
      new Compositor().compose(out, patch(rect, factor, [200, 40, 10], 50, 80), settings);
      // Centre of the disc: the patch colour, to rounding.
      for (const [x, y] of [
        [220, 170],
        [200, 150],
        [240, 190],
      ]) {
        const [r, g, b] = pixel(out, x, y);
        assert.ok(Math.abs(r - 200) <= 1 && Math.abs(g - 40) <= 1 && Math.abs(b - 10) <= 1, `(${x}, ${y}) is ${r},${g},${b}`);
      }
      // Outside the patch rectangle nothing changes at all.
      for (let y = 0; y < 300; y++) {
        for (let x = 0; x < 400; x++) {
          if (x >= rect.x0 && x < rect.x1 && y >= rect.y0 && y < rect.y1) continue;
          assert.deepEqual(pixel(out, x, y), pixel(target, x, y));
        }
      }
      // Far outside the disc (corners of the rectangle) the frame is kept within one level.
      for (const [x, y] of [
        [102, 52],
        [337, 287],
      ]) {
        const diff = pixel(out, x, y).map((v, k) => Math.abs(v - pixel(target, x, y)[k]));
        assert.ok(Math.max(...diff) <= 1, `(${x}, ${y}) moved by ${diff.join(',')}`);
      }
    });
  }

  test('opacity scales the face in: half opacity lands half way', () => {
    const target = createImage(200, 200, 3);
    target.data.fill(100);
    const rect = { x0: 20, y0: 20, x1: 180, y1: 180 };
    new Compositor().compose(target, patch(rect, 1, [200, 200, 200], 40, 70), { ...settings, opacity: 0.5 });
    assert.deepEqual(pixel(target, 100, 100), [150, 150, 150]);
  });
});
