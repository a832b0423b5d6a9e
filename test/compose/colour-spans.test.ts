/**
 * The colour transfer runs only over each row's run of non-zero mask (unless sharpening reads the
 * neighbours): the kernel with spans gives the same pixels inside them and leaves the rest, and the
 * compositor's output does not depend on the face's pixels where its mask is zero (outside the
 * cells its colour statistics are taken from).
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Compositor } from '../../src/compose/paste.js';
import type { FeatheredPatch } from '../../src/compose/patch.js';
import { createImage, type Channels, type Image } from '../../src/core/image.js';
import { simdKernels } from '../../src/core/simd-kernels.js';

function textured(width: number, height: number, channels: Channels, seed: number): Image {
  const image = createImage(width, height, channels);
  for (let i = 0; i < image.data.length; i++) image.data[i] = ((i + seed) * 2654435761) >>> 24;
  return image;
}

test('colourTransfer with spans: the same pixels inside each run, the others untouched', (t) => {
  const kernels = simdKernels();
  if (!kernels) return t.skip('no WebAssembly SIMD here');
  for (const channels of [3, 4] as const) {
    const image = textured(53, 41, channels, channels);
    const ratio = new Float32Array(18 * 14).map((_, i) => 0.8 + ((i * 37) % 40) / 100);
    const active = { x0: 2, y0: 1, x1: 50, y1: 39 };
    const spans = new Int32Array(2 * 41);
    for (let y = 0; y < 41; y++) {
      spans[2 * y] = (y * 7) % 30;
      spans[2 * y + 1] = y % 5 === 0 ? spans[2 * y] : spans[2 * y] + 1 + ((y * 11) % 23);
    }
    const whole = { ...image, data: image.data.slice() };
    const narrowed = { ...image, data: image.data.slice() };
    kernels.colourTransfer(whole, active, [1.1, 0.9, 1.2], [3, -2, 1], ratio, 3);
    kernels.colourTransfer(narrowed, active, [1.1, 0.9, 1.2], [3, -2, 1], ratio, 3, spans);
    let changed = 0;
    for (let y = 0; y < 41; y++) {
      for (let x = 0; x < 53; x++) {
        const inRun = y >= active.y0 && y < active.y1 && x >= Math.max(active.x0, spans[2 * y]) && x < Math.min(active.x1, spans[2 * y + 1]);
        for (let k = 0; k < channels; k++) {
          const i = (y * 53 + x) * channels + k;
          assert.equal(narrowed.data[i], inRun ? whole.data[i] : image.data[i], `(${x}, ${y}) channel ${k}`);
          if (inRun && whole.data[i] !== image.data[i]) changed++;
        }
      }
    }
    assert.ok(changed > 1000, 'the transfer changed the pixels of the runs');
  }
});

test('the feathered paste reads the face only where its mask is non-zero', () => {
  const rect = { x0: 40, y0: 30, x1: 240, y1: 250 };
  const factor = 2;
  const w = 100;
  const h = 110;
  const face = textured(w, h, 4, 5);
  const mask = new Float32Array(w * h);
  const weights = new Float32Array(Math.ceil(w / 4) * Math.ceil(h / 4));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d = Math.hypot((x - 50) / 40, (y - 55) / 48);
      mask[y * w + x] = Math.min(1, Math.max(0, (1 - d) * 4));
    }
  }
  // Statistics only from cells wholly inside the mask (they are read before the transfer, from every pixel of a cell).
  const gw = Math.ceil(w / 4);
  for (let i = 0; i < weights.length; i++) {
    const [cx, cy] = [4 * (i % gw), 4 * Math.floor(i / gw)];
    let inside = true;
    for (let y = cy; y < Math.min(h, cy + 4); y++) for (let x = cx; x < Math.min(w, cx + 4); x++) inside &&= mask[y * w + x] > 0;
    weights[i] = inside ? 1 : 0;
  }
  const patchWith = (pixels: Image): FeatheredPatch => ({ strategy: 'feathered', rect, factor, pixels, mask, statsMask: { grid: 4, weights }, faceSize: 90 });
  // The same face, with other bytes wherever the mask is zero.
  const other = { ...face, data: face.data.slice() };
  for (let i = 0; i < w * h; i++) if (!(mask[i] > 0)) other.data.fill(255 - (i % 200), 4 * i, 4 * i + 3);
  for (const sharpness of [0, 0.6]) {
    const settings = { mouthMask: true, opacity: 1, sharpness, colorMatch: true };
    const frame = textured(300, 300, 3, 9);
    const a = { ...frame, data: frame.data.slice() };
    const b = { ...frame, data: frame.data.slice() };
    new Compositor().compose(a, patchWith({ ...face, data: face.data.slice() }), settings);
    new Compositor().compose(b, patchWith(other), settings);
    assert.notDeepEqual(a.data, frame.data, 'the face was pasted');
    if (sharpness === 0) assert.deepEqual(b.data, a.data);
  }
});
