/**
 * A Gaussian approximated by three box filters per axis: O(1) per pixel whatever sigma, for wide
 * feathers of masks and shading where OpenCV fidelity is not needed.
 */

import { reflectTable } from './border.js';
import { simdKernels } from './simd-kernels.js';

/** The transposed plane between the two SIMD passes when the caller gives no scratch: kept, as the call finishes before any other can start. */
let transposed = new Float32Array(0);

/**
 * Gaussian blur approximated by three box filters per axis (running sums: O(1) per pixel for any
 * sigma), REFLECT_101 borders. The box widths are chosen so the variances add up to about sigma²;
 * the result is within a few percent of the true Gaussian, good for masks and shading, not for
 * reproducing OpenCV. `out` may be `src`; `scratch`, when given, must hold 2 × the image.
 */
export function boxBlurFast(src: Float32Array, width: number, height: number, channels: number, sigma: number, out?: Float32Array, scratch?: Float32Array): Float32Array {
  const kernels = simdKernels();
  if (!kernels) return boxBlurPlain(src, width, height, channels, sigma, out, scratch);
  const n = width * height * channels;
  const dst = out ?? new Float32Array(n);
  const radii = boxRadii(sigma);
  if (radii[0] + radii[1] + radii[2] === 0) {
    if (dst !== src) dst.set(src.subarray(0, n));
    return dst;
  }
  // The column passes in WebAssembly (the same floats as boxColumns); the transposes stay here.
  const ownScratch = scratch && scratch.length >= n && scratch.buffer !== src.buffer && scratch.buffer !== dst.buffer;
  if (!ownScratch && transposed.length < n) transposed = new Float32Array(n);
  const across = ownScratch ? scratch.subarray(0, n) : transposed.subarray(0, n);
  kernels.boxColumns(src, width * channels, height, radii, dst);
  transpose(dst, across, width, height, channels);
  kernels.boxColumns(across, height * channels, width, radii, across);
  transpose(across, dst, height, width, channels);
  return dst;
}

/** {@link boxBlurFast} in TypeScript alone: where WebAssembly SIMD is missing, and to check the kernel against. */
export function boxBlurPlain(src: Float32Array, width: number, height: number, channels: number, sigma: number, out?: Float32Array, scratch?: Float32Array): Float32Array {
  const n = width * height * channels;
  const dst = out ?? new Float32Array(n);
  const radii = boxRadii(sigma);
  if (radii[0] + radii[1] + radii[2] === 0) {
    if (dst !== src) dst.set(src.subarray(0, n));
    return dst;
  }
  const shared = scratch && scratch.length >= 2 * n && scratch.buffer !== src.buffer && scratch.buffer !== dst.buffer;
  const a = shared ? scratch.subarray(0, n) : new Float32Array(n);
  const b = shared ? scratch.subarray(n, 2 * n) : new Float32Array(n);
  // Running sums along columns keep one independent sum per element of a row, which pipelines
  // well; rows are done as columns of the transposed image rather than as serial sums.
  let cur = boxColumns(src, a, b, width, height, channels, radii);
  const other = cur === a ? b : a;
  transpose(cur, other, width, height, channels);
  cur = boxColumns(other, cur, other, height, width, channels, radii); // the input may be overwritten after pass 1
  transpose(cur, dst, height, width, channels);
  return dst;
}

/** Three vertical box passes over `src`, ping-ponging between p and q; returns the one holding the result. */
function boxColumns(src: Float32Array, p: Float32Array, q: Float32Array, width: number, height: number, channels: number, radii: readonly number[]): Float32Array {
  const rowLen = width * channels;
  const acc = new Float64Array(rowLen);
  let from = src;
  let to = p;
  for (const r of radii) {
    if (r === 0) continue;
    const rows = reflectTable(height, r + 1);
    for (let i = 0; i < rows.length; i++) rows[i] *= rowLen;
    const inv = 1 / (2 * r + 1);
    acc.fill(0);
    // Table entry i is position i − r − 1, so row y's window [y − r, y + r] is entries y+1 … y+2r+1.
    for (let j = 1; j <= 2 * r + 1; j++) {
      const o = rows[j];
      for (let e = 0; e < rowLen; e++) acc[e] += from[o + e];
    }
    for (let y = 0; y < height; y++) {
      const base = y * rowLen;
      const add = rows[y + 2 * r + 2];
      const sub = rows[y + 1];
      for (let e = 0; e < rowLen; e++) {
        const v = acc[e];
        to[base + e] = v * inv;
        acc[e] = v + from[add + e] - from[sub + e];
      }
    }
    from = to;
    to = to === p ? q : p;
  }
  return from === src ? copyInto(src, p) : from;
}

function copyInto(src: Float32Array, dst: Float32Array): Float32Array {
  dst.set(src.subarray(0, dst.length));
  return dst;
}

/**
 * (width × height × channels) → (height × width × channels), in cache-sized tiles, each tile's
 * column written as one run (the reads step down the rows). One-channel planes, the masks', have a
 * loop of their own: the generic loop over channels cost them about three times as much.
 */
function transpose(src: Float32Array, dst: Float32Array, width: number, height: number, channels: number): void {
  const T = 16;
  for (let y0 = 0; y0 < height; y0 += T) {
    const y1 = Math.min(height, y0 + T);
    for (let x0 = 0; x0 < width; x0 += T) {
      const x1 = Math.min(width, x0 + T);
      if (channels === 1) {
        for (let x = x0; x < x1; x++) {
          for (let y = y0, s = y0 * width + x, d = x * height + y0; y < y1; y++, s += width) dst[d++] = src[s];
        }
        continue;
      }
      const step = width * channels;
      for (let x = x0; x < x1; x++) {
        for (let y = y0, s = (y0 * width + x) * channels, d = (x * height + y0) * channels; y < y1; y++, s += step) {
          for (let k = 0; k < channels; k++) dst[d++] = src[s + k];
        }
      }
    }
  }
}

/**
 * Radii of three boxes whose variances r(r+1)/3 (for width 2r + 1) add up to the closest value to
 * sigma², preferring equal boxes (the closer to equal, the closer to a Gaussian). A small search
 * around the ideal equal radius beats the usual "m boxes of w, the rest of w + 2" rule at small
 * sigma (sigma 2: radii 0, 2, 2 give exactly 4).
 */
export function boxRadii(sigma: number): [number, number, number] {
  const target = sigma * sigma;
  const ideal = (Math.sqrt(1 + 4 * target) - 1) / 2; // three equal boxes: 3·r(r+1)/3 = sigma²
  const lo = Math.max(0, Math.floor(ideal) - 2);
  const hi = Math.ceil(ideal) + 2;
  let best: [number, number, number] = [0, 0, 0];
  let bestErr = Infinity;
  for (let a = lo; a <= hi; a++) {
    for (let b = a; b <= hi; b++) {
      for (let c = b; c <= hi; c++) {
        const err = Math.abs((a * (a + 1) + b * (b + 1) + c * (c + 1)) / 3 - target) + 1e-3 * (c - a);
        if (err < bestErr) {
          bestErr = err;
          best = [a, b, c];
        }
      }
    }
  }
  return best;
}
