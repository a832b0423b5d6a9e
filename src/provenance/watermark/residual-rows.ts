/**
 * The writer's row kernels: the residual grid bilinearly upsampled to one frame row and added to
 * its colour channels with a clamp table (the plain TypeScript paths; upsample-simd.ts has the
 * WebAssembly one). Hot: run on every row of every marked frame.
 */

import type { Taps } from '../upsample-simd.js';
import { GRID_W } from './pattern.js';

/** Offset that keeps rounded deltas positive for the `| 0` truncation, and the clamp table it indexes. */
const DELTA_BIAS = 384;
const CLAMP = (() => {
  const t = new Uint8Array(256 + 2 * DELTA_BIAS);
  for (let i = 0; i < t.length; i++) t[i] = Math.max(0, Math.min(255, i - DELTA_BIAS));
  return t;
})();

/**
 * One frame row of a 4× bilinear upsample of `interp` (pixel centres aligned, edges clamped) added
 * to the colour channels: fixed fractions, no tap tables. Same result as the general path. No
 * test for a zero delta: whether a pixel's delta rounds to 0 is close to random, and the branch
 * mispredictions cost more than the writes they would save.
 */
export function addRowTimesFour(interp: Float32Array, bytes: Uint8Array, row: number, c: number): void {
  let p = row;
  for (let i = 0; i < GRID_W; i++) {
    const mid = interp[i];
    const lo = i > 0 ? interp[i - 1] : mid;
    const hi = i < GRID_W - 1 ? interp[i + 1] : mid;
    const left = mid - lo;
    const right = hi - mid;
    const base = mid + DELTA_BIAS + 0.5;
    const d0 = (base - 0.375 * left) | 0;
    const d1 = (base - 0.125 * left) | 0;
    const d2 = (base + 0.125 * right) | 0;
    const d3 = (base + 0.375 * right) | 0;
    bytes[p] = CLAMP[bytes[p] + d0];
    bytes[p + 1] = CLAMP[bytes[p + 1] + d0];
    bytes[p + 2] = CLAMP[bytes[p + 2] + d0];
    p += c;
    bytes[p] = CLAMP[bytes[p] + d1];
    bytes[p + 1] = CLAMP[bytes[p + 1] + d1];
    bytes[p + 2] = CLAMP[bytes[p + 2] + d1];
    p += c;
    bytes[p] = CLAMP[bytes[p] + d2];
    bytes[p + 1] = CLAMP[bytes[p + 1] + d2];
    bytes[p + 2] = CLAMP[bytes[p + 2] + d2];
    p += c;
    bytes[p] = CLAMP[bytes[p] + d3];
    bytes[p + 1] = CLAMP[bytes[p + 1] + d3];
    bytes[p + 2] = CLAMP[bytes[p + 2] + d3];
    p += c;
  }
}

/**
 * One frame row of the bilinear upsample added to the colour channels. The delta is rounded once
 * per pixel (floor(v + 0.5) for |v| < 384) and clamped through a table: integer work instead of
 * three float→clamped-byte conversions per pixel.
 */
export function addRow(interp: Float32Array, bytes: Uint8Array, row: number, width: number, channels: number, taps: Taps): void {
  const { i0, i1, frac } = taps;
  if (channels === 1) {
    for (let x = 0, p = row; x < width; x++, p++) {
      const lo = interp[i0[x]];
      bytes[p] = CLAMP[bytes[p] + ((lo + frac[x] * (interp[i1[x]] - lo) + DELTA_BIAS + 0.5) | 0)];
    }
    return;
  }
  for (let x = 0, p = row; x < width; x++, p += channels) {
    const lo = interp[i0[x]];
    const d = (lo + frac[x] * (interp[i1[x]] - lo) + DELTA_BIAS + 0.5) | 0;
    bytes[p] = CLAMP[bytes[p] + d];
    bytes[p + 1] = CLAMP[bytes[p + 1] + d];
    bytes[p + 2] = CLAMP[bytes[p + 2] + d];
  }
}
