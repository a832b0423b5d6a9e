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

/** Mean of each f×f cell of an 8-bit image region (all channels), as a smaller 8-bit image (written to `into` when given). */
export function downsampleImage(src: Image, x0: number, y0: number, width: number, height: number, factor: number, into?: Uint8ClampedArray): Image {
  const gw = gridSize(width, factor);
  const gh = gridSize(height, factor);
  const c = src.channels;
  const out = into ?? new Uint8ClampedArray(gw * gh * c);
  if (factor === 2 && c !== 1) return downsampleByTwo(src, x0, y0, width, height, out);
  const acc = new Float64Array(gw * c);
  // Offset of each column's cell in `acc`, so the inner loop has no division.
  const cellOf = new Int32Array(width);
  for (let x = 0; x < width; x++) cellOf[x] = ((x / factor) | 0) * c;
  const sd = src.data;
  for (let gy = 0; gy < gh; gy++) {
    acc.fill(0);
    const yEnd = Math.min(height, (gy + 1) * factor);
    for (let y = gy * factor; y < yEnd; y++) {
      let si = ((y0 + y) * src.width + x0) * c;
      if (c === 3) {
        for (let x = 0; x < width; x++, si += 3) {
          const g = cellOf[x];
          acc[g] += sd[si];
          acc[g + 1] += sd[si + 1];
          acc[g + 2] += sd[si + 2];
        }
      } else if (c === 4) {
        for (let x = 0; x < width; x++, si += 4) {
          const g = cellOf[x];
          acc[g] += sd[si];
          acc[g + 1] += sd[si + 1];
          acc[g + 2] += sd[si + 2];
          acc[g + 3] += sd[si + 3];
        }
      } else {
        for (let x = 0; x < width; x++, si += c) for (let k = 0; k < c; k++) acc[cellOf[x] + k] += sd[si + k];
      }
    }
    const rows = yEnd - gy * factor;
    for (let g = 0; g < gw; g++) {
      const inv = 1 / (rows * (Math.min(width, (g + 1) * factor) - g * factor));
      for (let k = 0; k < c; k++) out[(gy * gw + g) * c + k] = acc[g * c + k] * inv;
    }
  }
  return { width: gw, height: gh, channels: c, data: out };
}

/**
 * downsampleImage for factor 2 and 3 or 4 channels: the mean of each 2×2 cell read directly (a
 * clipped cell at the right or bottom edge averages what it holds). The same sums and scales as
 * the general loop, so the same bytes.
 */
function downsampleByTwo(src: Image, x0: number, y0: number, width: number, height: number, out: Uint8ClampedArray): Image {
  const gw = gridSize(width, 2);
  const gh = gridSize(height, 2);
  const c = src.channels;
  const sd = src.data;
  const stride = src.width * c;
  const pairs = width >> 1;
  for (let gy = 0; gy < gh; gy++) {
    const top = ((y0 + 2 * gy) * src.width + x0) * c;
    const twoRows = 2 * gy + 1 < height;
    const bottom = twoRows ? top + stride : top;
    const inv = twoRows ? 0.25 : 0.5;
    let o = gy * gw * c;
    for (let g = 0, a = top, b = bottom; g < pairs; g++, a += 2 * c, b += 2 * c, o += c) {
      if (twoRows) {
        out[o] = (sd[a] + sd[a + c] + sd[b] + sd[b + c]) * inv;
        out[o + 1] = (sd[a + 1] + sd[a + c + 1] + sd[b + 1] + sd[b + c + 1]) * inv;
        out[o + 2] = (sd[a + 2] + sd[a + c + 2] + sd[b + 2] + sd[b + c + 2]) * inv;
        if (c === 4) out[o + 3] = (sd[a + 3] + sd[a + 7] + sd[b + 3] + sd[b + 7]) * inv;
      } else {
        for (let k = 0; k < c; k++) out[o + k] = (sd[a + k] + sd[a + c + k]) * inv;
      }
    }
    if (width & 1) {
      const a = top + 2 * pairs * c;
      const b = bottom + 2 * pairs * c;
      for (let k = 0; k < c; k++) out[o + k] = twoRows ? (sd[a + k] + sd[b + k]) * 0.5 : sd[a + k];
    }
  }
  return { width: gw, height: gh, channels: c, data: out };
}

/** Mean of each f×f cell of a float field with `channels` interleaved channels (written to `into` when given). */
export function downsampleField(src: Float32Array, width: number, height: number, channels: number, factor: number, into?: Float32Array): Float32Array {
  const gw = gridSize(width, factor);
  const gh = gridSize(height, factor);
  const out = into ?? new Float32Array(gw * gh * channels);
  if (factor === 2) return fieldByTwo(src, width, height, channels, out);
  out.fill(0);
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
 * downsampleField for factor 2: each cell's values summed in the general loop's order (row by
 * row, each sum rounded to float32 as its Float32Array does) and divided by their count, so the
 * same floats without the count plane.
 */
function fieldByTwo(src: Float32Array, width: number, height: number, channels: number, out: Float32Array): Float32Array {
  const f = Math.fround;
  const gw = gridSize(width, 2);
  const gh = gridSize(height, 2);
  const c = channels;
  const rowLen = width * c;
  for (let gy = 0; gy < gh; gy++) {
    const top = 2 * gy * rowLen;
    const twoRows = 2 * gy + 1 < height;
    const bottom = top + rowLen;
    for (let gx = 0; gx < gw; gx++) {
      const twoCols = 2 * gx + 1 < width;
      const count = (twoRows ? 2 : 1) * (twoCols ? 2 : 1);
      const a = top + 2 * gx * c;
      const b = bottom + 2 * gx * c;
      const o = (gy * gw + gx) * c;
      for (let k = 0; k < c; k++) {
        let sum = src[a + k];
        if (twoCols) sum = f(sum + src[a + c + k]);
        if (twoRows) {
          sum = f(sum + src[b + k]);
          if (twoCols) sum = f(sum + src[b + c + k]);
        }
        out[o + k] = sum / count;
      }
    }
  }
  return out;
}

/**
 * Bilinear interpolation of a grid with `channels` interleaved channels to width×height (edges
 * clamped), handed out one output row at a time so callers can consume it without a full-size
 * buffer. Each grid row is interpolated horizontally once and reused by the `factor` output rows
 * around it, so most output values cost one lerp. The row buffer is reused between calls.
 */
export function upsampleRows(grid: Float32Array, factor: number, width: number, height: number, channels: number, onRow: (y: number, row: Float32Array) => void): void {
  const gw = gridSize(width, factor);
  const gh = gridSize(height, factor);
  const c = channels;
  const rowLen = width * c;
  const x0s = new Int32Array(width);
  const x1s = new Int32Array(width);
  const fxs = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const gx = Math.min(gw - 1, Math.max(0, (x + 0.5) / factor - 0.5));
    x0s[x] = Math.floor(gx) * c;
    x1s[x] = Math.min(gw - 1, Math.floor(gx) + 1) * c;
    fxs[x] = gx - Math.floor(gx);
  }
  // Two horizontally interpolated grid rows, swapped as the output walks down.
  let upper = new Float32Array(rowLen);
  let lower = new Float32Array(rowLen);
  const row = new Float32Array(rowLen);
  let upperRow = -1;
  let lowerRow = -1;
  const expand = (r: number, target: Float32Array): void => {
    const base = r * gw * c;
    for (let x = 0, o = 0; x < width; x++) {
      const a = base + x0s[x];
      const b = base + x1s[x];
      const f = fxs[x];
      for (let k = 0; k < c; k++, o++) target[o] = grid[a + k] + (grid[b + k] - grid[a + k]) * f;
    }
  };
  for (let y = 0; y < height; y++) {
    const gy = Math.min(gh - 1, Math.max(0, (y + 0.5) / factor - 0.5));
    const r0 = Math.floor(gy);
    const r1 = Math.min(gh - 1, r0 + 1);
    if (r0 !== upperRow) {
      if (r0 === lowerRow) {
        [upper, lower] = [lower, upper];
        lowerRow = upperRow;
      } else {
        expand(r0, upper);
      }
      upperRow = r0;
    }
    if (r1 !== lowerRow) {
      expand(r1, lower);
      lowerRow = r1;
    }
    const fy = gy - r0;
    if (fy === 0) row.set(upper);
    else for (let e = 0; e < rowLen; e++) row[e] = upper[e] + (lower[e] - upper[e]) * fy;
    onRow(y, row);
  }
}

/** {@link upsampleRows} into one width×height buffer. With factor 1 it is a copy. */
export function upsampleField(grid: Float32Array, factor: number, width: number, height: number, out?: Float32Array, channels = 1): Float32Array {
  const rowLen = width * channels;
  const dst = out ?? new Float32Array(height * rowLen);
  if (factor === 1) {
    dst.set(grid.subarray(0, height * rowLen));
    return dst;
  }
  upsampleRows(grid, factor, width, height, channels, (y, row) => dst.set(row, y * rowLen));
  return dst;
}
