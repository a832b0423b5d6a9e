/**
 * The reader's row kernels: one frame row (or four) of luma area-averaged onto the 480 grid
 * columns, with word-at-a-time paths for frames 4 × 480 wide. Hot: run on every row of every
 * frame that is embedded or measured.
 */

import { GRID_W } from './pattern.js';

export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const EVEN_BYTES = 0x00ff00ff;

/**
 * One chip row of a 1920×1080 frame: the BT.601 luma mean of each 4×4 box. Four frame rows are
 * summed word by word in 16-bit lanes (even and odd bytes apart, at most 4 × 255 per lane), and the
 * channels are pulled out of the lanes once per box instead of once per row.
 */
export function boxBlockRow(words: Int32Array, q0: number, stride: number, rgba: boolean, grid: Float32Array, o: number): void {
  const kr = 0.299 / 16;
  const kg = 0.587 / 16;
  const kb = 0.114 / 16;
  const q1 = q0 + stride;
  const q2 = q1 + stride;
  const q3 = q2 + stride;
  if (!rgba) {
    for (let i = 0, q = 0; i < GRID_W; i++, q += 3) {
      // Word k of the box's run in each row, even bytes (lanes 0, 2) and odd bytes (lanes 1, 3).
      let a = words[q0 + q],
        b = words[q1 + q],
        c = words[q2 + q],
        d = words[q3 + q];
      const e0 = (a & EVEN_BYTES) + (b & EVEN_BYTES) + (c & EVEN_BYTES) + (d & EVEN_BYTES);
      const o0 = ((a >>> 8) & EVEN_BYTES) + ((b >>> 8) & EVEN_BYTES) + ((c >>> 8) & EVEN_BYTES) + ((d >>> 8) & EVEN_BYTES);
      a = words[q0 + q + 1];
      b = words[q1 + q + 1];
      c = words[q2 + q + 1];
      d = words[q3 + q + 1];
      const e1 = (a & EVEN_BYTES) + (b & EVEN_BYTES) + (c & EVEN_BYTES) + (d & EVEN_BYTES);
      const o1 = ((a >>> 8) & EVEN_BYTES) + ((b >>> 8) & EVEN_BYTES) + ((c >>> 8) & EVEN_BYTES) + ((d >>> 8) & EVEN_BYTES);
      a = words[q0 + q + 2];
      b = words[q1 + q + 2];
      c = words[q2 + q + 2];
      d = words[q3 + q + 2];
      const e2 = (a & EVEN_BYTES) + (b & EVEN_BYTES) + (c & EVEN_BYTES) + (d & EVEN_BYTES);
      const o2 = ((a >>> 8) & EVEN_BYTES) + ((b >>> 8) & EVEN_BYTES) + ((c >>> 8) & EVEN_BYTES) + ((d >>> 8) & EVEN_BYTES);
      // Bytes R0 G0 B0 R1 | G1 B1 R2 G2 | B2 R3 G3 B3: even lanes hold bytes 0 and 2, odd 1 and 3.
      const r = (e0 & 0xffff) + (o0 >>> 16) + (e1 >>> 16) + (o2 & 0xffff);
      const gr = (o0 & 0xffff) + (e1 & 0xffff) + (o1 >>> 16) + (e2 >>> 16);
      const bl = (e0 >>> 16) + (o1 & 0xffff) + (e2 & 0xffff) + (o2 >>> 16);
      grid[o + i] = kr * r + kg * gr + kb * bl;
    }
    return;
  }
  for (let i = 0, q = 0; i < GRID_W; i++) {
    let even = 0; // R in lane 0, B in lane 2
    let odd = 0; // G in lane 1 (alpha in lane 3, unused)
    for (let k = 0; k < 4; k++, q++) {
      const a = words[q0 + q],
        b = words[q1 + q],
        c = words[q2 + q],
        d = words[q3 + q];
      even += (a & EVEN_BYTES) + (b & EVEN_BYTES) + (c & EVEN_BYTES) + (d & EVEN_BYTES);
      odd += ((a >>> 8) & 0xff) + ((b >>> 8) & 0xff) + ((c >>> 8) & 0xff) + ((d >>> 8) & 0xff);
    }
    grid[o + i] = kr * (even & 0xffff) + kg * odd + kb * (even >>> 16);
  }
}

/** Mean luma of each run of `k` colour pixels in one row (frames whose width is k × 480). */
export function boxRow(data: Uint8ClampedArray, p0: number, channels: number, k: number, rowSum: Float32Array): void {
  const step = k * channels;
  const scale = 1 / k;
  for (let i = 0, p = p0; i < GRID_W; i++, p += step) {
    let r = 0;
    let gr = 0;
    let b = 0;
    for (let q = p; q < p + step; q += channels) {
      r += data[q];
      gr += data[q + 1];
      b += data[q + 2];
    }
    rowSum[i] = scale * (0.299 * r + 0.587 * gr + 0.114 * b);
  }
}

/**
 * {@link boxRow} for k = 4 from 32-bit little-endian words: RGB packs 4 pixels in 3 words, RGBA
 * one pixel per word. A quarter of the loads of byte access, which is what the downscale costs.
 */
export function boxRowTimesFour(words: Int32Array, q0: number, channels: number, rowSum: Float32Array): void {
  const kr = 0.299 / 4;
  const kg = 0.587 / 4;
  const kb = 0.114 / 4;
  if (channels === 3) {
    for (let i = 0, q = q0; i < GRID_W; i++, q += 3) {
      const w0 = words[q];
      const w1 = words[q + 1];
      const w2 = words[q + 2];
      const r = (w0 & 255) + (w0 >>> 24) + ((w1 >>> 16) & 255) + ((w2 >>> 8) & 255);
      const gr = ((w0 >>> 8) & 255) + (w1 & 255) + (w1 >>> 24) + ((w2 >>> 16) & 255);
      const b = ((w0 >>> 16) & 255) + ((w1 >>> 8) & 255) + (w2 & 255) + (w2 >>> 24);
      rowSum[i] = kr * r + kg * gr + kb * b;
    }
  } else {
    for (let i = 0, q = q0; i < GRID_W; i++, q += 4) {
      const w0 = words[q];
      const w1 = words[q + 1];
      const w2 = words[q + 2];
      const w3 = words[q + 3];
      const r = (w0 & 255) + (w1 & 255) + (w2 & 255) + (w3 & 255);
      const gr = ((w0 >>> 8) & 255) + ((w1 >>> 8) & 255) + ((w2 >>> 8) & 255) + ((w3 >>> 8) & 255);
      const b = ((w0 >>> 16) & 255) + ((w1 >>> 16) & 255) + ((w2 >>> 16) & 255) + ((w3 >>> 16) & 255);
      rowSum[i] = kr * r + kg * gr + kb * b;
    }
  }
}
