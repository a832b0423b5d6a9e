/**
 * Erosion and dilation of single-channel masks by a k×k square with cv2's anchor and border rules,
 * in O(1) per pixel whatever k (van Herk / Gil–Werman block minima, rows then columns).
 */

import { clampRect, type Rect } from './image.js';
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

/** Buffers {@link erodeMask} reuses between calls; grown on demand. */
export interface ErodeMaskScratch {
  /** The row pass's output over the box. */
  tmp: Float32Array;
  /** Per column of the box, the last row fed holding a 0 / a value other than `full`. */
  lastZero: Int32Array;
  lastOther: Int32Array;
}

export function createErodeMaskScratch(): ErodeMaskScratch {
  return { tmp: new Float32Array(0), lastZero: new Int32Array(0), lastOther: new Int32Array(0) };
}

/**
 * erode(src, width, height, k, dst) to the bit for a non-negative plane that is zero outside
 * `nonZero` and mostly `full` inside (a thresholded mask): a window holding a 0 gives 0, one
 * holding only `full` gives `full`, and only the few others are scanned. dst outside the box is 0.
 */
export function erodeMask(src: Float32Array, width: number, height: number, k: number, nonZero: Rect, full: number, dst: Float32Array, scratch: ErodeMaskScratch): Float32Array {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`erode/dilate: kernel size must be a positive integer, got ${k}`);
  dst.fill(0, 0, width * height);
  const { x0, y0, x1, y1 } = clampRect(nonZero, width, height);
  if (x1 <= x0 || y1 <= y0) return dst;
  const bw = x1 - x0;
  const bh = y1 - y0;
  const n = bw * bh;
  if (scratch.tmp.length < n) scratch.tmp = new Float32Array(n);
  if (scratch.lastZero.length < bw) {
    scratch.lastZero = new Int32Array(bw);
    scratch.lastOther = new Int32Array(bw);
  }
  const { tmp } = scratch;
  const anchor = k >> 1;
  // Window of an output along a line: samples outside the plane are ignored, those outside the box
  // (inside the plane) are 0. Scanning forward, the window's right end only moves right, so the
  // last 0 and the last value ≠ full at or before it say whether the window holds a 0, or only full.
  // Rows first, into tmp (box-sized).
  for (let y = 0; y < bh; y++) {
    const s = (y + y0) * width + x0;
    const o = y * bw;
    let fed = -1;
    let lastZero = -1;
    let lastOther = -1;
    for (let x = 0; x < bw; x++) {
      const px = x + x0;
      const lo = px - anchor < 0 ? 0 : px - anchor;
      const hi = px + k - 1 - anchor >= width ? width - 1 : px + k - 1 - anchor;
      let v: number;
      if (lo < x0 || hi >= x1) v = 0;
      else {
        for (const end = hi - x0; fed < end;) {
          fed++;
          const u = src[s + fed];
          if (u === 0) lastZero = fed;
          if (u !== full) lastOther = fed;
        }
        const start = lo - x0;
        if (lastZero >= start) v = 0;
        else if (lastOther < start) v = full;
        else {
          v = Infinity;
          for (let j = start; j <= hi - x0; j++) if (src[s + j] < v) v = src[s + j];
        }
      }
      tmp[o + x] = v;
    }
  }
  // Columns: the same, one last-0 / last-other row per column, rows fed top to bottom.
  const { lastZero, lastOther } = scratch;
  lastZero.fill(-1, 0, bw);
  lastOther.fill(-1, 0, bw);
  let fed = -1;
  for (let y = 0; y < bh; y++) {
    const py = y + y0;
    const lo = py - anchor < 0 ? 0 : py - anchor;
    const hi = py + k - 1 - anchor >= height ? height - 1 : py + k - 1 - anchor;
    const d = py * width + x0;
    if (lo < y0 || hi >= y1) continue;
    for (const end = hi - y0; fed < end;) {
      fed++;
      for (let x = 0, i = fed * bw; x < bw; x++, i++) {
        const u = tmp[i];
        if (u === 0) lastZero[x] = fed;
        if (u !== full) lastOther[x] = fed;
      }
    }
    const start = lo - y0;
    for (let x = 0; x < bw; x++) {
      if (lastZero[x] >= start) continue;
      if (lastOther[x] < start) {
        dst[d + x] = full;
        continue;
      }
      let v = Infinity;
      for (let j = start; j <= hi - y0; j++) if (tmp[j * bw + x] < v) v = tmp[j * bw + x];
      dst[d + x] = v;
    }
  }
  return dst;
}
