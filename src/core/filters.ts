/**
 * Separable smoothing on interleaved float planes: cv2.GaussianBlur's kernels and borders (the
 * three-box approximation and the morphology filters are re-exported from here).
 */

import { reflect101, reflectTable } from './border.js';
import type { Rect } from './image.js';
import { clearOutsideRows, createMaskRows, maskRowsOf, sizeMaskRows, type MaskRows } from './mask-rows.js';
import { simdKernels } from './simd-kernels.js';

export { boxBlurFast, boxRadii } from './box-blur.js';
export { reflectTable } from './border.js';
export { dilate, erode } from './morphology.js';

/** Element type of a Gaussian blur, which decides cv2's kernel size for a given sigma. */
export type BlurDepth = 'uint8' | 'float32';

/**
 * OpenCV's fixed kernels for sigma ≤ 0 and ksize ≤ 9 (exact in binary). The spec lists 1–7;
 * cv2 4.6's getGaussianKernel(9, 0) returns the 9-tap row too ([4 13 30 51 60 …]/256).
 */
const SMALL_KERNELS: Readonly<Record<number, readonly number[]>> = {
  1: [1],
  3: [0.25, 0.5, 0.25],
  5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
  7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
  9: [4 / 256, 13 / 256, 30 / 256, 51 / 256, 60 / 256, 51 / 256, 30 / 256, 13 / 256, 4 / 256],
};

/** cv2's kernel size for ksize = 0: round(sigma·k·2 + 1) | 1, k = 3 for uint8 images, 4 for float. */
export function gaussianKsize(sigma: number, depth: BlurDepth = 'float32'): number {
  const k = depth === 'uint8' ? 3 : 4;
  return Math.max(1, roundHalfEven(sigma * k * 2 + 1) | 1);
}

/**
 * cv2.getGaussianKernel(ksize, sigma): the fixed table for ksize ≤ 9 and sigma ≤ 0; otherwise
 * exp(−(i − (ksize−1)/2)² / 2σ²) normalised to sum 1, with σ = 0.3·((ksize−1)/2 − 1) + 0.8 when
 * sigma ≤ 0. Computed in double.
 */
export function gaussianKernel(ksize: number, sigma: number): Float64Array {
  if (!Number.isInteger(ksize) || ksize < 1 || ksize % 2 === 0) throw new RangeError(`gaussianKernel: ksize must be a positive odd integer, got ${ksize}`);
  const fixed = sigma <= 0 ? SMALL_KERNELS[ksize] : undefined;
  if (fixed) return Float64Array.from(fixed);
  const s = sigma > 0 ? sigma : 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8;
  const scale = -0.5 / (s * s);
  const kernel = new Float64Array(ksize);
  let sum = 0;
  for (let i = 0; i < ksize; i++) {
    const x = i - (ksize - 1) * 0.5;
    kernel[i] = Math.exp(scale * x * x);
    sum += kernel[i];
  }
  for (let i = 0; i < ksize; i++) kernel[i] /= sum;
  return kernel;
}

export interface BlurOptions {
  /** Decides ksize when it is 0 (see {@link gaussianKsize}); default 'float32'. */
  depth?: BlurDepth;
  /** width·height·channels floats reused as the intermediate buffer. */
  scratch?: Float32Array;
}

/**
 * cv2.GaussianBlur(src, (ksize, ksize), sigma) on an interleaved float image, BORDER_REFLECT_101
 * (…c b | a b c … : the edge pixel is not repeated). ksize = 0 derives it from sigma; sigma ≤ 0
 * derives sigma from ksize. Rows, then columns; `out` may be `src`.
 */
export function gaussianBlur(
  src: Float32Array,
  width: number,
  height: number,
  channels: number,
  ksize: number,
  sigma: number,
  out?: Float32Array,
  options: BlurOptions = {},
): Float32Array {
  const n = width * height * channels;
  const dst = out ?? new Float32Array(n);
  const size = ksize > 0 ? ksize : gaussianKsize(sigma, options.depth);
  const kernel = gaussianKernel(size, sigma);
  const r = size >> 1;
  // Symmetric kernel: weight of offset ±j.
  const half = kernel.slice(r);
  const s = options.scratch;
  const tmp = s && s.length >= n && s.buffer !== src.buffer && s.buffer !== dst.buffer ? s : new Float32Array(n);
  const line = new Float64Array((width + 2 * r) * channels);
  const cols = reflectTable(width, r);
  const rowLen = width * channels;
  const w0 = half[0];
  const span = r * channels;
  // Four neighbouring outputs per inner loop: independent sums keep the FPU busy (one running
  // sum is bound by the add latency, about 3× slower here).
  for (let y = 0; y < height; y++) {
    const base = y * rowLen;
    fillPaddedLine(line, src, base, cols, channels);
    let e = 0;
    for (; e + 4 <= rowLen; e += 4) {
      const ce = e + span;
      let a0 = w0 * line[ce];
      let a1 = w0 * line[ce + 1];
      let a2 = w0 * line[ce + 2];
      let a3 = w0 * line[ce + 3];
      for (let j = 1, o = channels; j <= r; j++, o += channels) {
        const w = half[j];
        const lo = ce - o;
        const hi = ce + o;
        a0 += w * (line[lo] + line[hi]);
        a1 += w * (line[lo + 1] + line[hi + 1]);
        a2 += w * (line[lo + 2] + line[hi + 2]);
        a3 += w * (line[lo + 3] + line[hi + 3]);
      }
      tmp[base + e] = a0;
      tmp[base + e + 1] = a1;
      tmp[base + e + 2] = a2;
      tmp[base + e + 3] = a3;
    }
    for (; e < rowLen; e++) {
      const ce = e + span;
      let acc = w0 * line[ce];
      for (let j = 1, o = channels; j <= r; j++, o += channels) acc += half[j] * (line[ce - o] + line[ce + o]);
      tmp[base + e] = acc;
    }
  }
  // Columns: same blocking, whole rows apart; `rows` holds the offset of each reflected row.
  const rows = reflectTable(height, r);
  for (let i = 0; i < rows.length; i++) rows[i] *= rowLen;
  for (let y = 0; y < height; y++) {
    const base = y * rowLen;
    let e = 0;
    for (; e + 4 <= rowLen; e += 4) {
      const ce = base + e;
      let a0 = w0 * tmp[ce];
      let a1 = w0 * tmp[ce + 1];
      let a2 = w0 * tmp[ce + 2];
      let a3 = w0 * tmp[ce + 3];
      for (let j = 1; j <= r; j++) {
        const w = half[j];
        const lo = rows[y + r - j] + e;
        const hi = rows[y + r + j] + e;
        a0 += w * (tmp[lo] + tmp[hi]);
        a1 += w * (tmp[lo + 1] + tmp[hi + 1]);
        a2 += w * (tmp[lo + 2] + tmp[hi + 2]);
        a3 += w * (tmp[lo + 3] + tmp[hi + 3]);
      }
      dst[ce] = a0;
      dst[ce + 1] = a1;
      dst[ce + 2] = a2;
      dst[ce + 3] = a3;
    }
    for (; e < rowLen; e++) {
      let acc = w0 * tmp[base + e];
      for (let j = 1; j <= r; j++) acc += half[j] * (tmp[rows[y + r - j] + e] + tmp[rows[y + r + j] + e]);
      dst[base + e] = acc;
    }
  }
  return dst;
}

function fillPaddedLine(line: Float64Array, src: Float32Array, base: number, cols: Int32Array, channels: number): void {
  for (let i = 0, o = 0; i < cols.length; i++) {
    const s = base + cols[i] * channels;
    for (let ch = 0; ch < channels; ch++, o++) line[o] = src[s + ch];
  }
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/** Buffers {@link gaussianBlurRows} and {@link gaussianBlurMask} reuse between calls; grown on demand. */
export interface MaskBlurScratch {
  /** The row pass's plane where WebAssembly SIMD is missing (else it lives in the module). */
  tmp: Float32Array;
  /** One row of the input with its zeros and reflected border, around a span. */
  line: Float32Array;
  /** The row pass's spans; {@link gaussianBlurMask}'s input and output spans. */
  mid: MaskRows;
  input: MaskRows;
  output: MaskRows;
}

export function createMaskBlurScratch(): MaskBlurScratch {
  return { tmp: new Float32Array(0), line: new Float32Array(0), mid: createMaskRows(), input: createMaskRows(), output: createMaskRows() };
}

/**
 * gaussianBlur(src, width, height, 1, ksize, 0) to the bit for a mask described by `rows` (see
 * MaskRows), written into `dst` on the spans set in `out` and nowhere else. Each value computed is
 * the same sequence of float operations as there; a window inside a flat run gives the flat value's
 * blur, the same wherever it lies, so it is filled, and a window of zeros is left out: the time
 * goes with the spans' borders (the feather), not their area.
 */
export function gaussianBlurRows(
  src: Float32Array,
  width: number,
  height: number,
  ksize: number,
  rows: MaskRows,
  dst: Float32Array,
  out: MaskRows,
  scratch: MaskBlurScratch,
): MaskRows {
  const r = ksize >> 1;
  const n = width * height;
  const half = gaussianKernel(ksize, 0).slice(r);
  const w0 = half[0];
  const blurFlat = (v: number): number => {
    let a = w0 * v;
    for (let j = 1; j <= r; j++) a += half[j] * (v + v);
    return Math.fround(a);
  };
  const f1 = blurFlat(rows.flat);
  const f2 = blurFlat(f1);
  if (width <= 2 * r + 1 || height <= 2 * r + 1) {
    // Reflections that bounce more than once, or too small a plane: the plain filter on the whole plane.
    if (scratch.tmp.length < n) scratch.tmp = new Float32Array(n);
    const whole = clearOutsideRows(scratch.tmp.subarray(0, n), width, height, rows);
    for (let y = 0; y < height; y++) if (y >= rows.y0 && y < rows.y1) whole.set(src.subarray(y * width + rows.lo[y], y * width + rows.hi[y]), y * width + rows.lo[y]);
    gaussianBlur(whole, width, height, 1, ksize, 0, dst);
    sizeMaskRows(out, height, f2);
    out.y1 = height;
    out.hi.fill(width, 0, height);
    return out;
  }
  // With WebAssembly SIMD the row pass writes into the module's memory, where the column pass's
  // computed runs are worked out two at a time (the same operations, the same floats).
  const simd = simdKernels()?.maskBlurPlane(width, height, half);
  if (!simd && scratch.tmp.length < n) scratch.tmp = new Float32Array(n);
  const tmp = simd ? simd.tmp : scratch.tmp;
  if (scratch.line.length < width + 2 * r + 2) scratch.line = new Float32Array(width + 2 * r + 2);
  const line = scratch.line;

  // Rows: a row's blur is 0 more than r from its span and f1 more than r inside its flat run.
  const mid = sizeMaskRows(scratch.mid, height, f1);
  mid.y0 = rows.y0;
  mid.y1 = rows.y1;
  let gLo = width;
  let gHi = 0;
  for (let y = rows.y0; y < rows.y1; y++) {
    const lo = rows.lo[y];
    const hi = rows.hi[y];
    if (hi <= lo) continue;
    const tlo = Math.max(0, lo - r);
    const thi = Math.min(width, hi + r);
    let tfl = Math.max(tlo, rows.flatLo[y] + r);
    let tfh = Math.min(thi, rows.flatHi[y] - r);
    if (tfh <= tfl) tfl = tfh = tlo;
    // line[i] is position tlo − r + i, reflected into the row, 0 outside the span.
    const start = tlo - r;
    const len = thi - tlo + 2 * r;
    const base = y * width;
    line.fill(0, 0, len);
    line.set(src.subarray(base + lo, base + hi), lo - start);
    for (let i = 0; i < -start; i++) line[i] = -(start + i) >= lo && -(start + i) < hi ? src[base - start - i] : 0;
    for (let i = Math.max(0, width - start); i < len; i++) {
      const q = 2 * width - 2 - (start + i);
      line[i] = q >= lo && q < hi ? src[base + q] : 0;
    }
    if (simd) simd.loadRow(line, 0, len);
    for (const [from, to] of [
      [tlo, tfl],
      [tfh, thi],
    ]) {
      if (to <= from) continue;
      if (simd) {
        simd.rowRun(from - start, to - from, base + from);
        continue;
      }
      for (let x = from; x < to; x++) {
        const ce = x - start;
        let acc = w0 * line[ce];
        for (let j = 1; j <= r; j++) acc += half[j] * (line[ce - j] + line[ce + j]);
        tmp[base + x] = acc;
      }
    }
    tmp.fill(f1, base + tfl, base + tfh);
    mid.lo[y] = tlo;
    mid.hi[y] = thi;
    mid.flatLo[y] = tfl;
    mid.flatHi[y] = tfh;
    if (tlo < gLo) gLo = tlo;
    if (thi > gHi) gHi = thi;
  }
  sizeMaskRows(out, height, f2);
  if (gHi <= gLo) return out;
  // The column pass reads the row pass's plane over [gLo, gHi) up to 2r rows from its spans: zeros
  // there outside them.
  const zy0 = Math.max(0, rows.y0 - 2 * r);
  const zy1 = Math.min(height, rows.y1 + 2 * r);
  for (let y = zy0; y < zy1; y++) {
    const base = y * width;
    if (mid.hi[y] > mid.lo[y]) {
      tmp.fill(0, base + gLo, base + mid.lo[y]);
      tmp.fill(0, base + mid.hi[y], base + gHi);
    } else tmp.fill(0, base + gLo, base + gHi);
  }

  // Columns: an output row spans the union of its window rows' spans and is f2 on the
  // intersection of their flat runs; the rest is computed.
  out.y0 = Math.max(0, rows.y0 - r);
  out.y1 = Math.min(height, rows.y1 + r);
  for (let y = out.y0; y < out.y1; y++) {
    const inner = y - r >= 0 && y + r < height;
    let dlo = width;
    let dhi = 0;
    let dfl = 0;
    let dfh = width;
    for (let j = y - r; j <= y + r; j++) {
      const q = j < 0 || j >= height ? reflect101(j, height) : j;
      if (mid.flatLo[q] > dfl) dfl = mid.flatLo[q];
      if (mid.flatHi[q] < dfh) dfh = mid.flatHi[q];
      if (mid.hi[q] <= mid.lo[q]) continue;
      if (mid.lo[q] < dlo) dlo = mid.lo[q];
      if (mid.hi[q] > dhi) dhi = mid.hi[q];
    }
    if (dhi <= dlo) continue;
    if (!inner || dfh <= dfl) dfl = dfh = dlo;
    const base = y * width;
    for (const [from, to] of [
      [dlo, dfl],
      [dfh, dhi],
    ]) {
      if (to <= from) continue;
      if (inner && simd) {
        simd.columns(base + from, to - from, dst);
        continue;
      }
      for (let x = from; x < to; x++) {
        const i = base + x;
        let acc = w0 * tmp[i];
        if (inner) {
          // The same taps in the same order as below, without the reflection.
          for (let j = 1, dj = width; j <= r; j++, dj += width) acc += half[j] * (tmp[i - dj] + tmp[i + dj]);
        } else {
          for (let j = 1; j <= r; j++) acc += half[j] * (tmp[reflect101(y - j, height) * width + x] + tmp[reflect101(y + j, height) * width + x]);
        }
        dst[i] = acc;
      }
    }
    dst.fill(f2, base + dfl, base + dfh);
    out.lo[y] = dlo;
    out.hi[y] = dhi;
    out.flatLo[y] = dfl;
    out.flatHi[y] = dfh;
  }
  return out;
}

/**
 * gaussianBlur(src, width, height, 1, ksize, 0, dst) to the bit, for a plane that is zero outside
 * `nonZero` (plane coordinates), through {@link gaussianBlurRows}. dst outside the blurred spans is 0.
 */
export function gaussianBlurMask(src: Float32Array, width: number, height: number, ksize: number, nonZero: Rect, dst: Float32Array, scratch: MaskBlurScratch): Float32Array {
  const rows = maskRowsOf(src, width, height, nonZero, 255, scratch.input);
  gaussianBlurRows(src, width, height, ksize, rows, dst, scratch.output, scratch);
  return clearOutsideRows(dst, width, height, scratch.output);
}
