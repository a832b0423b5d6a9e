/**
 * The writer's float row kernel: the residual grid bilinearly upsampled to one frame row and added
 * to its channels with a clamp table. For one-channel frames and residuals beyond the fixed point of
 * upsample-simd.ts (whose kernels and TypeScript twins do colour frames).
 */

import type { Taps } from '../upsample-simd.js';

/** Offset that keeps rounded deltas positive for the `| 0` truncation, and the clamp table it indexes. */
const DELTA_BIAS = 384;
const CLAMP = (() => {
  const t = new Uint8Array(256 + 2 * DELTA_BIAS);
  for (let i = 0; i < t.length; i++) t[i] = Math.max(0, Math.min(255, i - DELTA_BIAS));
  return t;
})();

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
