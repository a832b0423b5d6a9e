/**
 * The reader's row kernels: one frame row (or four) of luma area-averaged onto the 480 grid
 * columns, with word-at-a-time paths for frames 4 × 480 wide, and for any other colour frame whose
 * rows are whole words, the lane sums: a chip row's frame rows added byte by byte in 16-bit lanes
 * of 32-bit words, the channels pulled apart and the luma taken once per chip row. Hot: run on
 * every row of every frame that is embedded or measured.
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

/**
 * Adds `weight` × every byte of one frame row, read as 32-bit little-endian words, into 16-bit
 * lanes: the even bytes of word j into `even[j]`, the odd bytes into `odd[j]`. Any width and
 * colour layout: the channels are pulled apart once per grid row ({@link lumaFromLanes}), not once
 * per frame row. The caller keeps each lane's total under 32768 (255 × the summed weights), so the words stay positive.
 */
export function accumulateWords(words: Int32Array, q0: number, count: number, weight: number, even: Int32Array, odd: Int32Array): void {
  for (let j = 0, q = q0; j < count; j++, q++) {
    const w = words[q];
    even[j] += (w & EVEN_BYTES) * weight;
    odd[j] += ((w >>> 8) & EVEN_BYTES) * weight;
  }
}

/**
 * The BT.601 luma of each pixel from the lanes {@link accumulateWords} filled, divided by `total`
 * (the summed weights). RGBA: word j is pixel j (R and B even, G odd). RGB: 3 words hold 4 pixels,
 * bytes R0 G0 B0 R1 | G1 B1 R2 G2 | B2 R3 G3 B3.
 */
export function lumaFromLanes(even: Int32Array, odd: Int32Array, width: number, channels: 3 | 4, total: number, luma: Float32Array): void {
  const kr = 0.299 / total;
  const kg = 0.587 / total;
  const kb = 0.114 / total;
  if (channels === 4) {
    for (let x = 0; x < width; x++) {
      const e = even[x];
      luma[x] = kr * (e & 0xffff) + kb * (e >>> 16) + kg * (odd[x] & 0xffff);
    }
    return;
  }
  for (let x = 0, j = 0; x < width; x += 4, j += 3) {
    const e0 = even[j],
      o0 = odd[j],
      e1 = even[j + 1],
      o1 = odd[j + 1],
      e2 = even[j + 2],
      o2 = odd[j + 2];
    luma[x] = kr * (e0 & 0xffff) + kg * (o0 & 0xffff) + kb * (e0 >>> 16);
    luma[x + 1] = kr * (o0 >>> 16) + kg * (e1 & 0xffff) + kb * (o1 & 0xffff);
    luma[x + 2] = kr * (e1 >>> 16) + kg * (o1 >>> 16) + kb * (e2 & 0xffff);
    luma[x + 3] = kr * (o2 & 0xffff) + kg * (e2 >>> 16) + kb * (o2 >>> 16);
  }
}

/**
 * One chip row straight from up to four frame rows (word offsets a..d, weights qa..qd in whole
 * units, 0 for a row not used): the weighted sum of each pixel's bytes in 16-bit lanes, its
 * BT.601 luma divided by `total`, and the running sum of that luma along the row into `prefix`
 * (prefix[x] = the sum of pixels 0..x−1). One pass, no intermediate rows. Same lane rules as
 * {@link accumulateWords}; RGB rows are 4k pixels wide.
 */
export function lumaPrefixRow(
  words: Int32Array,
  a: number,
  b: number,
  c: number,
  d: number,
  qa: number,
  qb: number,
  qc: number,
  qd: number,
  width: number,
  rgba: boolean,
  total: number,
  prefix: Float64Array,
): void {
  const kr = 0.299 / total;
  const kg = 0.587 / total;
  const kb = 0.114 / total;
  let running = 0;
  prefix[0] = 0;
  if (rgba) {
    for (let x = 0; x < width; x++) {
      const wa = words[a + x],
        wb = words[b + x],
        wc = words[c + x],
        wd = words[d + x];
      const e = (wa & EVEN_BYTES) * qa + (wb & EVEN_BYTES) * qb + (wc & EVEN_BYTES) * qc + (wd & EVEN_BYTES) * qd;
      const g = ((wa >>> 8) & 255) * qa + ((wb >>> 8) & 255) * qb + ((wc >>> 8) & 255) * qc + ((wd >>> 8) & 255) * qd;
      running += kr * (e & 0xffff) + kb * (e >>> 16) + kg * g;
      prefix[x + 1] = running;
    }
    return;
  }
  for (let x = 0, j = 0; x < width; x += 4, j += 3) {
    // Bytes R0 G0 B0 R1 | G1 B1 R2 G2 | B2 R3 G3 B3: even lanes hold bytes 0 and 2 of a word, odd lanes 1 and 3.
    let wa = words[a + j],
      wb = words[b + j],
      wc = words[c + j],
      wd = words[d + j];
    const e0 = (wa & EVEN_BYTES) * qa + (wb & EVEN_BYTES) * qb + (wc & EVEN_BYTES) * qc + (wd & EVEN_BYTES) * qd;
    const o0 = ((wa >>> 8) & EVEN_BYTES) * qa + ((wb >>> 8) & EVEN_BYTES) * qb + ((wc >>> 8) & EVEN_BYTES) * qc + ((wd >>> 8) & EVEN_BYTES) * qd;
    wa = words[a + j + 1];
    wb = words[b + j + 1];
    wc = words[c + j + 1];
    wd = words[d + j + 1];
    const e1 = (wa & EVEN_BYTES) * qa + (wb & EVEN_BYTES) * qb + (wc & EVEN_BYTES) * qc + (wd & EVEN_BYTES) * qd;
    const o1 = ((wa >>> 8) & EVEN_BYTES) * qa + ((wb >>> 8) & EVEN_BYTES) * qb + ((wc >>> 8) & EVEN_BYTES) * qc + ((wd >>> 8) & EVEN_BYTES) * qd;
    wa = words[a + j + 2];
    wb = words[b + j + 2];
    wc = words[c + j + 2];
    wd = words[d + j + 2];
    const e2 = (wa & EVEN_BYTES) * qa + (wb & EVEN_BYTES) * qb + (wc & EVEN_BYTES) * qc + (wd & EVEN_BYTES) * qd;
    const o2 = ((wa >>> 8) & EVEN_BYTES) * qa + ((wb >>> 8) & EVEN_BYTES) * qb + ((wc >>> 8) & EVEN_BYTES) * qc + ((wd >>> 8) & EVEN_BYTES) * qd;
    running += kr * (e0 & 0xffff) + kg * (o0 & 0xffff) + kb * (e0 >>> 16);
    prefix[x + 1] = running;
    running += kr * (o0 >>> 16) + kg * (e1 & 0xffff) + kb * (o1 & 0xffff);
    prefix[x + 2] = running;
    running += kr * (e1 >>> 16) + kg * (o1 >>> 16) + kb * (e2 & 0xffff);
    prefix[x + 3] = running;
    running += kr * (o2 & 0xffff) + kg * (e2 >>> 16) + kb * (o2 >>> 16);
    prefix[x + 4] = running;
  }
}
