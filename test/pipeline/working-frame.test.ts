/**
 * The working resolution's pixel loops: sizes that keep the frame's shape, nearest-pixel resampling
 * (and mirroring), and the paste back of only what was painted on a smaller working frame.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Image } from '../../src/core/image.js';
import { mirrorRgba, pasteBack, resampleRgba, workingSize } from '../../src/pipeline/working-frame.js';

/** An RGBA image whose red channel is the column and green the row (blue 7), for telling pixels apart. */
function gradient(width: number, height: number): Image {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      data.set([x, y, 7, 255], o);
    }
  return { width, height, channels: 4, data };
}

const pixel = (image: Image, x: number, y: number): number[] => [...image.data.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 4)];

describe('working frame', () => {
  it('sizes a working frame with even sides in the frame’s shape, and leaves full scale alone', () => {
    assert.deepEqual(workingSize(1280, 720, 0.5), { width: 640, height: 360 });
    assert.deepEqual(workingSize(1280, 720, 0.75), { width: 960, height: 540 });
    assert.deepEqual(workingSize(641, 361, 1), { width: 641, height: 361 });
    assert.deepEqual(workingSize(3, 3, 0.1), { width: 2, height: 2 });
  });

  it('resamples to the nearest pixel, mirrored when asked', () => {
    const image = gradient(8, 4);
    const half = resampleRgba(image, 4, 2);
    assert.deepEqual(pixel(half, 0, 0), [1, 1, 7, 255]);
    assert.deepEqual(pixel(half, 3, 1), [7, 3, 7, 255]);
    const mirrored = resampleRgba(image, 4, 2, true);
    assert.deepEqual(pixel(mirrored, 0, 0), [7, 1, 7, 255]);
    const copy = { ...image, data: image.data.slice() };
    mirrorRgba(copy);
    assert.deepEqual(pixel(copy, 0, 2), [7, 2, 7, 255]);
    assert.deepEqual(pixel(copy, 7, 2), [0, 2, 7, 255]);
  });

  it('pastes back only the pixels painted on the working frame, scaled up', () => {
    const full = gradient(16, 8);
    const original = full.data.slice();
    const work = resampleRgba(full, 8, 4);
    const before = work.data.slice();
    assert.equal(pasteBack(full, work, before), false, 'nothing painted, nothing changed');
    assert.deepEqual(full.data, original);
    // Paint a 2×2 block of the working frame white.
    for (const [x, y] of [
      [2, 1],
      [3, 1],
      [2, 2],
      [3, 2],
    ] as const)
      work.data.set([255, 255, 255, 255], (y * 8 + x) * 4);
    assert.equal(pasteBack(full, work, before), true);
    // Its middle in full-size pixels is white; far corners are as they were.
    assert.deepEqual(pixel(full, 6, 3), [255, 255, 255, 255]);
    assert.deepEqual(pixel(full, 5, 4), [255, 255, 255, 255]);
    assert.deepEqual(pixel(full, 0, 0), [0, 0, 7, 255]);
    assert.deepEqual(pixel(full, 15, 7), [15, 7, 7, 255]);
    // Only the neighbourhood of the painted block changed.
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 16; x++) {
        const near = x >= 2 && x <= 11 && y >= 0 && y <= 7;
        if (!near) assert.deepEqual(pixel(full, x, y), [x, y, 7, 255], `pixel ${x},${y} kept`);
      }
  });

  it('a changed-pixel map reused from frame to frame gives what a fresh one gives', () => {
    const work = resampleRgba(gradient(16, 8), 8, 4);
    const before = work.data.slice();
    const map = new Uint8Array(8 * 4).fill(1); // stale: every pixel marked
    work.data.set([255, 255, 255, 255], (1 * 8 + 5) * 4);
    const reused = gradient(16, 8);
    const fresh = gradient(16, 8);
    assert.equal(pasteBack(reused, work, before, map), true);
    assert.equal(pasteBack(fresh, work, before), true);
    assert.deepEqual(reused.data, fresh.data);
    assert.notDeepEqual(reused.data, gradient(16, 8).data);
  });
});
