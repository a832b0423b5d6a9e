/**
 * Gaussian pyramid steps on interleaved float images: cv2.pyrDown's reduction and the matching
 * 2× expansion, the building blocks of multiband blending.
 */

import { reflect101 } from './border.js';

/**
 * cv2.pyrDown: blur with [1 4 6 4 1]/16 in both directions (BORDER_REFLECT_101) and keep the even
 * rows and columns; the result is ceil(width/2) × ceil(height/2). `scratch` holds
 * ceil(width/2)·height·channels floats.
 */
export function pyrDown(src: Float32Array, width: number, height: number, channels: number, dst?: Float32Array, scratch?: Float32Array): Float32Array {
  const c = channels;
  const nw = (width + 1) >> 1;
  const nh = (height + 1) >> 1;
  const out = dst ?? new Float32Array(nw * nh * c);
  const tmp = scratch && scratch.length >= nw * height * c ? scratch : new Float32Array(nw * height * c);
  // Offsets (in floats) of the five taps of each output column.
  const taps = new Int32Array(nw * 5);
  for (let x = 0; x < nw; x++) for (let t = 0; t < 5; t++) taps[x * 5 + t] = reflect101(2 * x + t - 2, width) * c;
  const inRow = width * c;
  const outRow = nw * c;
  for (let y = 0; y < height; y++) {
    const s = y * inRow;
    const d = y * outRow;
    for (let x = 0; x < nw; x++) {
      const t = x * 5;
      const o0 = s + taps[t];
      const o1 = s + taps[t + 1];
      const o2 = s + taps[t + 2];
      const o3 = s + taps[t + 3];
      const o4 = s + taps[t + 4];
      for (let k = 0; k < c; k++) {
        tmp[d + x * c + k] = (src[o0 + k] + src[o4 + k] + 4 * (src[o1 + k] + src[o3 + k]) + 6 * src[o2 + k]) * 0.0625;
      }
    }
  }
  for (let y = 0; y < nh; y++) {
    const r0 = reflect101(2 * y - 2, height) * outRow;
    const r1 = reflect101(2 * y - 1, height) * outRow;
    const r2 = reflect101(2 * y, height) * outRow;
    const r3 = reflect101(2 * y + 1, height) * outRow;
    const r4 = reflect101(2 * y + 2, height) * outRow;
    const d = y * outRow;
    for (let e = 0; e < outRow; e++) {
      out[d + e] = (tmp[r0 + e] + tmp[r4 + e] + 4 * (tmp[r1 + e] + tmp[r3 + e]) + 6 * tmp[r2 + e]) * 0.0625;
    }
  }
  return out;
}

/**
 * Taps of a 2× expansion from n samples to `out` (2n or 2n − 1), as cv2.pyrUp computes it: the
 * samples are spread to the even positions of a zero-filled line of length 2n, which is filtered
 * with [1 4 6 4 1]/8 under REFLECT_101 and cut to `out` (so an odd-sized output ends with
 * (s[n−2] + 7·s[n−1])/8, not a mirrored value). Even outputs get (1 6 1)/8 of three samples, odd
 * ones (1 1)/2 of two; the third entry of an odd output has weight 0.
 */
export function expansionTaps(n: number, out: number): { taps: Int32Array; weights: Float32Array } {
  const taps = new Int32Array(out * 3);
  const weights = new Float32Array(out * 3);
  for (let x = 0; x < out; x++) {
    // Reflection keeps parity, so even outputs only ever see even (= sample) positions.
    const at = (j: number): number => reflect101(j, 2 * n) >> 1;
    if ((x & 1) === 0) {
      taps.set([at(x - 2), at(x), at(x + 2)], x * 3);
      weights.set([0.125, 0.75, 0.125], x * 3);
    } else {
      taps.set([at(x - 1), at(x + 1), at(x - 1)], x * 3);
      weights.set([0.5, 0.5, 0], x * 3);
    }
  }
  return { taps, weights };
}

/** The horizontal half of {@link pyrUp}: each row of `src` (width wide) expanded to outWidth. */
export function expandColumns(src: Float32Array, width: number, height: number, channels: number, outWidth: number, dst: Float32Array): void {
  const c = channels;
  const inRow = width * c;
  const outRow = outWidth * c;
  const { taps } = expansionTaps(width, outWidth);
  for (let y = 0; y < height; y++) {
    const s = y * inRow;
    const d = y * outRow;
    let x = 0;
    for (; x + 1 < outWidth; x += 2) {
      const a = s + taps[3 * x] * c;
      const b = s + taps[3 * x + 1] * c;
      const e = s + taps[3 * x + 2] * c;
      const p = s + taps[3 * x + 3] * c;
      const q = s + taps[3 * x + 4] * c;
      const o = d + x * c;
      for (let k = 0; k < c; k++) {
        dst[o + k] = (src[a + k] + src[e + k]) * 0.125 + src[b + k] * 0.75;
        dst[o + c + k] = (src[p + k] + src[q + k]) * 0.5;
      }
    }
    if (x < outWidth) {
      const a = s + taps[3 * x] * c;
      const b = s + taps[3 * x + 1] * c;
      const e = s + taps[3 * x + 2] * c;
      for (let k = 0; k < c; k++) dst[d + x * c + k] = (src[a + k] + src[e + k]) * 0.125 + src[b + k] * 0.75;
    }
  }
}

/**
 * 2× expansion of a width × height image to outWidth × outHeight (each 2n or 2n − 1), the inverse
 * step of {@link pyrDown} in a Laplacian pyramid: cv2.pyrUp(src, dstsize=(outWidth, outHeight)).
 * Weights sum to 1, so constants stay constant.
 */
export function pyrUp(
  src: Float32Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
  dst?: Float32Array,
  scratch?: Float32Array,
): Float32Array {
  const outRow = outWidth * channels;
  const out = dst ?? new Float32Array(outRow * outHeight);
  const tmp = scratch && scratch.length >= outRow * height ? scratch : new Float32Array(outRow * height);
  expandColumns(src, width, height, channels, outWidth, tmp);
  const { taps: rows, weights } = expansionTaps(height, outHeight);
  for (let y = 0; y < outHeight; y++) {
    const a = rows[3 * y] * outRow;
    const b = rows[3 * y + 1] * outRow;
    const r = rows[3 * y + 2] * outRow;
    const wa = weights[3 * y];
    const wb = weights[3 * y + 1];
    const wr = weights[3 * y + 2];
    const d = y * outRow;
    for (let e = 0; e < outRow; e++) out[d + e] = wa * tmp[a + e] + wb * tmp[b + e] + wr * tmp[r + e];
  }
  return out;
}
