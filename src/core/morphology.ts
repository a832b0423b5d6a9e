/**
 * Erosion and dilation of single-channel masks by a k×k square with cv2's anchor and border rules,
 * in O(1) per pixel whatever k (van Herk / Gil–Werman block minima, rows then columns).
 */

import { clampRect, type Rect } from './image.js';
import { clearOutsideRows, createMaskRows, maskRowsOf, sizeMaskRows, type MaskRows } from './mask-rows.js';
import { simdKernels } from './simd-kernels.js';

/** Windows up to this size go to the SIMD kernel (k comparisons per pixel, four pixels at a time); wider ones to the O(1) loop here. */
const MAX_SIMD_WINDOW = 15;

export type MaskArray = Float32Array | Uint8Array | Uint8ClampedArray;

/**
 * cv2.erode(mask, np.ones((k, k))): each output is the minimum over the window of offsets
 * [−⌊k/2⌋, k−1−⌊k/2⌋] in x and y (one more on the negative side for even k); pixels outside the
 * image are ignored. `out` (same length, any of the mask types) may be `src`.
 */
export function erode<T extends MaskArray>(src: T, width: number, height: number, k: number, out?: MaskArray): T {
  return morph(src, width, height, k, out, 1) as T;
}

/** cv2.dilate with a k×k square: the maximum over the same window as {@link erode}. */
export function dilate<T extends MaskArray>(src: T, width: number, height: number, k: number, out?: MaskArray): T {
  return morph(src, width, height, k, out, -1) as T;
}

/** Minimum filter of sign·src (sign −1 turns the maximum into a minimum), written back times sign. */
function morph(src: MaskArray, width: number, height: number, k: number, out: MaskArray | undefined, sign: 1 | -1): MaskArray {
  const n = width * height;
  if (src.length < n) throw new RangeError(`erode/dilate: mask holds ${src.length} values, needs ${n}`);
  const dst = out ?? new (src.constructor as new (length: number) => MaskArray)(n);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`erode/dilate: kernel size must be a positive integer, got ${k}`);
  if (k === 1 || n === 0) {
    if (dst !== src) dst.set(src.subarray(0, n));
    return dst;
  }
  const kernels = k <= MAX_SIMD_WINDOW ? simdKernels() : undefined;
  if (kernels && src instanceof Float32Array && dst instanceof Float32Array) {
    kernels.morph(src, width, height, k, sign === 1 ? 'erode' : 'dilate', dst);
    return dst;
  }
  const anchor = k >> 1;
  const tmp = new Float32Array(n);

  // Rows: windows over a line padded with +∞ (ignored border), as min(suffix[x], prefix[x+k−1])
  // where prefix/suffix restart every k samples.
  const len = width + k - 1;
  const line = new Float32Array(len);
  const pre = new Float32Array(len);
  const suf = new Float32Array(len);
  line.fill(Infinity);
  for (let y = 0; y < height; y++) {
    const base = y * width;
    for (let x = 0; x < width; x++) line[x + anchor] = sign * src[base + x];
    for (let start = 0; start < len; start += k) {
      const end = Math.min(start + k, len);
      let m = line[start];
      pre[start] = m;
      for (let j = start + 1; j < end; j++) {
        const v = line[j];
        if (v < m) m = v;
        pre[j] = m;
      }
      m = line[end - 1];
      suf[end - 1] = m;
      for (let j = end - 2; j >= start; j--) {
        const v = line[j];
        if (v < m) m = v;
        suf[j] = m;
      }
    }
    for (let x = 0; x < width; x++) {
      const a = suf[x];
      const b = pre[x + k - 1];
      tmp[base + x] = a < b ? a : b;
    }
  }

  // Columns: the same recurrences with whole rows as the elements, so memory is read in order.
  const rowsLen = height + k - 1;
  const preRows = new Float32Array(rowsLen * width);
  const sufRows = new Float32Array(rowsLen * width);
  for (let j = 0; j < rowsLen; j++) {
    const y = j - anchor;
    const o = j * width;
    const inside = y >= 0 && y < height;
    if (j % k === 0) {
      if (inside) preRows.set(tmp.subarray(y * width, y * width + width), o);
      else preRows.fill(Infinity, o, o + width);
    } else if (inside) {
      const s = y * width;
      for (let x = 0; x < width; x++) {
        const v = tmp[s + x];
        const p = preRows[o - width + x];
        preRows[o + x] = v < p ? v : p;
      }
    } else {
      preRows.copyWithin(o, o - width, o);
    }
  }
  for (let j = rowsLen - 1; j >= 0; j--) {
    const y = j - anchor;
    const o = j * width;
    const inside = y >= 0 && y < height;
    if (j % k === k - 1 || j === rowsLen - 1) {
      if (inside) sufRows.set(tmp.subarray(y * width, y * width + width), o);
      else sufRows.fill(Infinity, o, o + width);
    } else if (inside) {
      const s = y * width;
      for (let x = 0; x < width; x++) {
        const v = tmp[s + x];
        const q = sufRows[o + width + x];
        sufRows[o + x] = v < q ? v : q;
      }
    } else {
      sufRows.copyWithin(o, o + width, o + 2 * width);
    }
  }
  for (let y = 0; y < height; y++) {
    const a = y * width;
    const b = (y + k - 1) * width;
    const o = y * width;
    for (let x = 0; x < width; x++) {
      const u = sufRows[a + x];
      const v = preRows[b + x];
      dst[o + x] = sign * (u < v ? u : v);
    }
  }
  return dst;
}

/** Buffers {@link erodeRows} and {@link erodeMask} reuse between calls; grown on demand. */
export interface ErodeMaskScratch {
  /** The row pass's output, plane-sized, valid on its spans only. */
  tmp: Float32Array;
  /** The row pass's spans; {@link erodeMask}'s input and output spans. */
  mid: MaskRows;
  input: MaskRows;
  output: MaskRows;
}

export function createErodeMaskScratch(): ErodeMaskScratch {
  return { tmp: new Float32Array(0), mid: createMaskRows(), input: createMaskRows(), output: createMaskRows() };
}

/**
 * erode(src, width, height, k) to the bit for a mask described by `rows` (see MaskRows), whose
 * values lie in [0, rows.flat] (a thresholded mask: 0 outside, `flat` inside, a few others on its
 * border). The result is written into `dst` on the spans set in `out` (flat: rows.flat) and
 * nowhere else. A window that reaches a 0 gives 0, one inside a flat run gives the flat value;
 * only the others are scanned, so the time goes with the spans' borders, not their area.
 */
export function erodeRows(src: Float32Array, width: number, height: number, k: number, rows: MaskRows, dst: Float32Array, out: MaskRows, scratch: ErodeMaskScratch): MaskRows {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`erode/dilate: kernel size must be a positive integer, got ${k}`);
  const n = width * height;
  if (scratch.tmp.length < n) scratch.tmp = new Float32Array(n);
  const tmp = scratch.tmp;
  const flat = rows.flat;
  const anchor = k >> 1;
  const after = k - 1 - anchor;
  // Along a line of `len` samples output x reads [x − anchor, x + after] ∩ [0, len): the outputs
  // whose window lies inside [a, b) start at first(a) and end before last(b, len).
  const first = (a: number): number => (a === 0 ? 0 : a + anchor);
  const last = (b: number, len: number): number => (b === len ? len : b - after);

  // Rows, into tmp and `mid`.
  const mid = sizeMaskRows(scratch.mid, height, flat);
  mid.y0 = rows.y0;
  mid.y1 = rows.y1;
  for (let y = rows.y0; y < rows.y1; y++) {
    const lo = rows.lo[y];
    const hi = rows.hi[y];
    const olo = first(lo);
    const ohi = last(hi, width);
    if (hi <= lo || ohi <= olo) continue;
    let fl = Math.max(olo, first(rows.flatLo[y]));
    let fh = Math.min(ohi, last(rows.flatHi[y], width));
    if (rows.flatHi[y] <= rows.flatLo[y] || fh <= fl) fl = fh = olo;
    const base = y * width;
    for (const [from, to] of [
      [olo, fl],
      [fh, ohi],
    ]) {
      for (let x = from; x < to; x++) {
        const a = base + (x - anchor < 0 ? 0 : x - anchor);
        const b = base + (x + after >= width ? width - 1 : x + after);
        let m = src[a];
        for (let j = a + 1; j <= b; j++) if (src[j] < m) m = src[j];
        tmp[base + x] = m;
      }
    }
    tmp.fill(flat, base + fl, base + fh);
    setTrimmed(mid, y, tmp, base, olo, ohi, fl, fh);
  }

  // Columns: an output row is non-zero only where every row of its window has a span; there it
  // is `flat` except on the window rows' non-flat parts, which are the only values read.
  sizeMaskRows(out, height, flat);
  const oy0 = first(rows.y0);
  const oy1 = last(rows.y1, height);
  out.y0 = oy0;
  out.y1 = Math.max(oy0, oy1);
  for (let y = oy0; y < oy1; y++) {
    const a = y - anchor < 0 ? 0 : y - anchor;
    const b = y + after >= height ? height - 1 : y + after;
    let sLo = 0;
    let sHi = width;
    let fLo = 0;
    let fHi = width;
    for (let j = a; j <= b; j++) {
      if (mid.lo[j] > sLo) sLo = mid.lo[j];
      if (mid.hi[j] < sHi) sHi = mid.hi[j];
      if (mid.flatLo[j] > fLo) fLo = mid.flatLo[j];
      if (mid.flatHi[j] < fHi) fHi = mid.flatHi[j];
    }
    if (sHi <= sLo) continue;
    if (fLo < sLo) fLo = sLo;
    if (fHi > sHi) fHi = sHi;
    if (fHi <= fLo) fLo = fHi = sLo;
    const base = y * width;
    dst.fill(flat, base + sLo, base + sHi);
    for (let j = a; j <= b; j++) {
      const row = j * width;
      const left = mid.flatLo[j] < sHi ? mid.flatLo[j] : sHi;
      for (let x = sLo; x < left; x++) if (tmp[row + x] < dst[base + x]) dst[base + x] = tmp[row + x];
      for (let x = mid.flatHi[j] > sLo ? mid.flatHi[j] : sLo; x < sHi; x++) if (tmp[row + x] < dst[base + x]) dst[base + x] = tmp[row + x];
    }
    setTrimmed(out, y, dst, base, sLo, sHi, fLo, fHi);
  }
  return out;
}

/**
 * Row y's span [lo, hi) with flat run [fl, fh) of `plane` (row at `base`), less the zeros at its
 * ends: the tighter the spans, the less the next filter scans or computes.
 */
function setTrimmed(rows: MaskRows, y: number, plane: Float32Array, base: number, lo: number, hi: number, fl: number, fh: number): void {
  if (fh <= fl) {
    while (lo < hi && plane[base + lo] === 0) lo++;
    while (hi > lo && plane[base + hi - 1] === 0) hi--;
    fl = fh = lo;
  } else {
    while (lo < fl && plane[base + lo] === 0) lo++;
    while (hi > fh && plane[base + hi - 1] === 0) hi--;
  }
  if (hi <= lo) return;
  rows.lo[y] = lo;
  rows.hi[y] = hi;
  rows.flatLo[y] = fl;
  rows.flatHi[y] = fh;
}

/**
 * erode(src, width, height, k, dst) to the bit for a non-negative plane that is zero outside
 * `nonZero` and mostly `full` inside (a thresholded mask), through {@link erodeRows}. dst outside
 * the box is 0.
 */
export function erodeMask(src: Float32Array, width: number, height: number, k: number, nonZero: Rect, full: number, dst: Float32Array, scratch: ErodeMaskScratch): Float32Array {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`erode/dilate: kernel size must be a positive integer, got ${k}`);
  const box = clampRect(nonZero, width, height);
  // erodeRows takes the flat value for the largest: the plane's maximum when it exceeds `full`.
  let top = full;
  for (let y = box.y0; y < box.y1; y++) for (let i = y * width + box.x0, e = y * width + box.x1; i < e; i++) if (src[i] > top) top = src[i];
  const rows = maskRowsOf(src, width, height, box, top, scratch.input);
  erodeRows(src, width, height, k, rows, dst, scratch.output, scratch);
  return clearOutsideRows(dst, width, height, scratch.output);
}
