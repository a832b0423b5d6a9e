/**
 * Integer-factor area downsampling and bilinear upsampling between a full-resolution region and a
 * coarse grid. Smooth fields (feathered masks, shading, statistics) are computed on the grid:
 * the result is the same to the eye at a fraction of the cost.
 *
 * Grid cell (i, j) covers full-resolution pixels [i·f, (i+1)·f) × [j·f, (j+1)·f) (clipped at the
 * right and bottom edges), so its centre sits at ((i + ½)·f, (j + ½)·f).
 */

import type { Image } from './image.js';

export function gridSize(length: number, factor: number): number {
  return Math.ceil(length / factor);
}

/** Mean of each f×f cell of an 8-bit image region (all channels), as a smaller 8-bit image. */
export function downsampleImage(src: Image, x0: number, y0: number, width: number, height: number, factor: number): Image {
  const gw = gridSize(width, factor);
  const gh = gridSize(height, factor);
  const c = src.channels;
  const out = new Uint8ClampedArray(gw * gh * c);
  const acc = new Float64Array(gw * c);
  const count = new Float64Array(gw);
  for (let gy = 0; gy < gh; gy++) {
    acc.fill(0);
    count.fill(0);
    const yEnd = Math.min(height, (gy + 1) * factor);
    for (let y = gy * factor; y < yEnd; y++) {
      let si = ((y0 + y) * src.width + x0) * c;
      for (let x = 0; x < width; x++, si += c) {
        const g = (x / factor) | 0;
        count[g]++;
        for (let k = 0; k < c; k++) acc[g * c + k] += src.data[si + k];
      }
    }
    for (let g = 0; g < gw; g++) for (let k = 0; k < c; k++) out[(gy * gw + g) * c + k] = acc[g * c + k] / count[g];
  }
  return { width: gw, height: gh, channels: c, data: out };
}

/** Mean of each f×f cell of a float field with `channels` interleaved channels. */
export function downsampleField(src: Float32Array, width: number, height: number, channels: number, factor: number): Float32Array {
  const gw = gridSize(width, factor);
  const gh = gridSize(height, factor);
  const out = new Float32Array(gw * gh * channels);
  const count = new Float32Array(gw * gh);
  for (let y = 0; y < height; y++) {
    const gy = (y / factor) | 0;
    for (let x = 0; x < width; x++) {
      const g = gy * gw + ((x / factor) | 0);
      count[g]++;
      for (let k = 0; k < channels; k++) out[g * channels + k] += src[(y * width + x) * channels + k];
    }
  }
  for (let g = 0; g < gw * gh; g++) for (let k = 0; k < channels; k++) out[g * channels + k] /= count[g];
  return out;
}

/**
 * Bilinear interpolation of a grid with `channels` interleaved channels back to width×height
 * (edges clamped). With factor 1 it is a copy.
 */
export function upsampleField(grid: Float32Array, factor: number, width: number, height: number, out?: Float32Array, channels = 1): Float32Array {
  const gw = gridSize(width, factor);
  const gh = gridSize(height, factor);
  const c = channels;
  const dst = out ?? new Float32Array(width * height * c);
  if (factor === 1) {
    dst.set(grid.subarray(0, width * height * c));
    return dst;
  }
  // Horizontal taps are the same for every row: compute them once.
  const x0s = new Int32Array(width);
  const x1s = new Int32Array(width);
  const fxs = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const gx = Math.min(gw - 1, Math.max(0, (x + 0.5) / factor - 0.5));
    x0s[x] = Math.floor(gx) * c;
    x1s[x] = Math.min(gw - 1, Math.floor(gx) + 1) * c;
    fxs[x] = gx - Math.floor(gx);
  }
  for (let y = 0; y < height; y++) {
    const gy = Math.min(gh - 1, Math.max(0, (y + 0.5) / factor - 0.5));
    const r0 = Math.floor(gy) * gw * c;
    const r1 = Math.min(gh - 1, Math.floor(gy) + 1) * gw * c;
    const fy = gy - Math.floor(gy);
    let o = y * width * c;
    for (let x = 0; x < width; x++) {
      const fx = fxs[x];
      const a0 = r0 + x0s[x], a1 = r0 + x1s[x], b0 = r1 + x0s[x], b1 = r1 + x1s[x];
      for (let k = 0; k < c; k++, o++) {
        const a = grid[a0 + k] + (grid[a1 + k] - grid[a0 + k]) * fx;
        const b = grid[b0 + k] + (grid[b1 + k] - grid[b0 + k]) * fx;
        dst[o] = a + (b - a) * fy;
      }
    }
  }
  return dst;
}
