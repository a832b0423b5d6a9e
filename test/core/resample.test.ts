/** Coarse-grid resampling: box means down, bilinear up, with the documented cell convention. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { downsampleField, downsampleImage, gridSize, upsampleField, upsampleRows } from '../../src/core/resample.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('downsampling', () => {
  test('each cell is the mean of its pixels, edge cells clipped', () => {
    // 5×3 single-channel image, factor 2: cells are 2×2 except the last column (1 wide) and row (1 tall).
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    const field = downsampleField(Float32Array.from(values), 5, 3, 1, 2);
    assert.deepEqual([...field], [(1 + 2 + 6 + 7) / 4, (3 + 4 + 8 + 9) / 4, (5 + 10) / 2, (11 + 12) / 2, (13 + 14) / 2, 15]);
    const image = downsampleImage({ width: 5, height: 3, channels: 1, data: Uint8ClampedArray.from(values) }, 0, 0, 5, 3, 2);
    assert.equal(image.width, 3);
    assert.equal(image.height, 2);
    assert.deepEqual([...image.data], [4, 6, 8, 12, 14, 15]); // 4, 6, 7.5→8, 11.5→12, 13.5→14, 15
  });

  test('a region of a colour image, all channels', () => {
    const rgb = new Uint8ClampedArray(6 * 4 * 3);
    for (let i = 0; i < 24; i++) rgb.set([i, 100 + i, 200], 3 * i);
    const out = downsampleImage({ width: 6, height: 4, channels: 3, data: rgb }, 2, 1, 4, 2, 2);
    // First cell: pixels (2,1),(3,1),(2,2),(3,2) = indices 8, 9, 14, 15 → mean 11.5 → 12 (half to even).
    assert.deepEqual([...out.data.subarray(0, 3)], [12, 112, 200]);
  });
});

describe('upsampling', () => {
  test('factor 1 copies; constant grids stay constant', () => {
    const g = Float32Array.from([1, 2, 3, 4]);
    assert.deepEqual([...upsampleField(g, 1, 2, 2)], [1, 2, 3, 4]);
    const up = upsampleField(new Float32Array(gridSize(13, 3) * gridSize(7, 3)).fill(0.25), 3, 13, 7);
    assert.ok(up.every((v) => Math.abs(v - 0.25) < 1e-7));
  });

  test('matches a direct bilinear evaluation at pixel centres, several channels', () => {
    const random = seeded(7);
    const factor = 4;
    const width = 37;
    const height = 22;
    const channels = 3;
    const gw = gridSize(width, factor);
    const gh = gridSize(height, factor);
    const grid = Float32Array.from({ length: gw * gh * channels }, () => random());
    const up = upsampleField(grid, factor, width, height, undefined, channels);
    const at = (x: number, y: number, k: number) => grid[(Math.min(gh - 1, Math.max(0, y)) * gw + Math.min(gw - 1, Math.max(0, x))) * channels + k];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const gx = Math.min(gw - 1, Math.max(0, (x + 0.5) / factor - 0.5));
        const gy = Math.min(gh - 1, Math.max(0, (y + 0.5) / factor - 0.5));
        const x0 = Math.floor(gx),
          y0 = Math.floor(gy);
        for (let k = 0; k < channels; k++) {
          const top = at(x0, y0, k) + (at(x0 + 1, y0, k) - at(x0, y0, k)) * (gx - x0);
          const bottom = at(x0, y0 + 1, k) + (at(x0 + 1, y0 + 1, k) - at(x0, y0 + 1, k)) * (gx - x0);
          const expected = top + (bottom - top) * (gy - y0);
          assert.ok(Math.abs(up[(y * width + x) * channels + k] - expected) < 1e-5, `(${x}, ${y}, ${k})`);
        }
      }
    }
  });

  test('rows are handed out in order, each once', () => {
    const seen: number[] = [];
    upsampleRows(new Float32Array(9), 2, 5, 6, 1, (y, row) => {
      assert.equal(row.length, 5);
      seen.push(y);
    });
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
  });

  test('down then up of a smooth ramp returns close to the ramp', () => {
    const width = 64;
    const height = 16;
    const ramp = Float32Array.from({ length: width * height }, (_, i) => (i % width) / width);
    const round = upsampleField(downsampleField(ramp, width, height, 1, 4), 4, width, height);
    for (let x = 4; x < width - 4; x++) assert.ok(Math.abs(round[5 * width + x] - ramp[5 * width + x]) < 1e-5);
  });

  test('downsampleImage by 2 (its own loop for colour images) gives the rounded mean of each cell, clipped cells at the edges included', () => {
    for (const channels of [3, 4] as const) {
      const width = 41;
      const height = 27;
      const data = new Uint8ClampedArray(width * height * channels);
      for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
      for (const [x0, y0, w, h] of [
        [0, 0, 41, 27],
        [3, 2, 37, 25],
        [1, 1, 1, 1],
        [4, 5, 2, 1],
      ]) {
        const out = downsampleImage({ width, height, channels, data }, x0, y0, w, h, 2);
        const expected = new Uint8ClampedArray(Math.ceil(w / 2) * Math.ceil(h / 2) * channels);
        for (let gy = 0; gy < Math.ceil(h / 2); gy++) {
          for (let gx = 0; gx < Math.ceil(w / 2); gx++) {
            for (let k = 0; k < channels; k++) {
              let sum = 0;
              let count = 0;
              for (let y = 2 * gy; y < Math.min(h, 2 * gy + 2); y++) {
                for (let x = 2 * gx; x < Math.min(w, 2 * gx + 2); x++, count++) sum += data[((y0 + y) * width + x0 + x) * channels + k];
              }
              expected[(gy * Math.ceil(w / 2) + gx) * channels + k] = sum / count;
            }
          }
        }
        assert.deepEqual(out.data, expected, `${channels} channels, ${w}×${h} at (${x0}, ${y0})`);
      }
    }
  });

  test('downsampleField by 2 (its own loop) gives the float32 mean of each cell, summed row by row, clipped cells included', () => {
    for (const [width, height, channels] of [
      [37, 23, 3],
      [6, 4, 1],
      [1, 1, 4],
    ]) {
      const src = Float32Array.from({ length: width * height * channels }, (_, i) => Math.sin(i * 1.37) * 300);
      const gw = Math.ceil(width / 2);
      const expected = new Float32Array(gw * Math.ceil(height / 2) * channels);
      const count = new Float32Array(expected.length / channels);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const g = (y >> 1) * gw + (x >> 1);
          count[g]++;
          for (let k = 0; k < channels; k++) expected[g * channels + k] += src[(y * width + x) * channels + k];
        }
      }
      for (let g = 0; g < count.length; g++) for (let k = 0; k < channels; k++) expected[g * channels + k] /= count[g];
      assert.deepEqual(downsampleField(src, width, height, channels, 2), expected);
    }
  });
});
