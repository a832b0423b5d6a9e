/**
 * Separable smoothing on interleaved float planes: cv2.GaussianBlur's kernels and borders (the
 * three-box approximation and the morphology filters are re-exported from here).
 */

import { reflect101, reflectTable } from './border.js';
import { clampRect, type Rect } from './image.js';
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

/** Buffers {@link gaussianBlurMask} reuses between calls; grown on demand. */
export interface MaskBlurScratch {
  tmp: Float32Array;
  line: Float64Array;
  run: Int32Array;
  /** Per column of the blurred box: the last row where the column changes (see the column pass). */
  change: Int32Array;
}

export function createMaskBlurScratch(): MaskBlurScratch {
  return { tmp: new Float32Array(0), line: new Float64Array(0), run: new Int32Array(0), change: new Int32Array(0) };
}

/**
 * gaussianBlur(src, width, height, 1, ksize, 0, dst) to the bit, for a plane that is zero outside
 * `nonZero` (plane coordinates) and mostly made of long flat runs (a feathered mask). Each output
 * is the same sequence of float operations as there; a window of one constant value v gives the
 * same result wherever it lies, so it is computed once per value (0 gives 0) and copied.
 */
export function gaussianBlurMask(src: Float32Array, width: number, height: number, ksize: number, nonZero: Rect, dst: Float32Array, scratch: MaskBlurScratch): Float32Array {
  const r = ksize >> 1;
  dst.fill(0, 0, width * height);
  const { x0: nx0, y0: ny0, x1: nx1, y1: ny1 } = clampRect(nonZero, width, height);
  if (nx1 <= nx0 || ny1 <= ny0) return dst;
  // Reflections that bounce more than once, or too small a plane: the plain filter.
  if (width <= 2 * r + 1 || height <= 2 * r + 1) return gaussianBlur(src, width, height, 1, ksize, 0, dst);
  const half = gaussianKernel(ksize, 0).slice(r);
  const w0 = half[0];
  const flat = (v: number): number => {
    let a = w0 * v;
    for (let j = 1; j <= r; j++) a += half[j] * (v + v);
    return Math.fround(a);
  };
  const bx0 = Math.max(0, nx0 - r);
  const bx1 = Math.min(width, nx1 + r);
  const by0 = Math.max(0, ny0 - r);
  const by1 = Math.min(height, ny1 + r);
  const n = width * height;
  // With WebAssembly SIMD the row pass writes into the module's memory, where the column pass's
  // non-flat runs are worked out two at a time (the same operations, the same floats).
  const simd = simdKernels()?.maskBlurPlane(width, height, half);
  if (!simd && scratch.tmp.length < n) scratch.tmp = new Float32Array(n);
  const lineLen = bx1 - bx0 + 2 * r;
  if (scratch.line.length < lineLen) {
    scratch.line = new Float64Array(lineLen);
    scratch.run = new Int32Array(lineLen);
  }
  const { line, run } = scratch;
  const tmp = simd ? simd.tmp : scratch.tmp;
  // Rows: only rows ny0…ny1 hold non-zero values; the others stay 0 in tmp.
  const ty0 = by0 - r < 0 ? 0 : by0 - r;
  const ty1 = by1 + r > height ? height : by1 + r;
  for (let y = ty0; y < ty1; y++) tmp.fill(0, y * width + bx0, y * width + bx1);
  let v255 = -1;
  // Windows that stay inside the row read it in place; a window is flat when no value changes
  // within it, i.e. the last change at or before its right end is not after its left end.
  const inPlace = bx0 - r >= 0 && bx1 + r <= width;
  for (let y = ny0; inPlace && y < ny1; y++) {
    const base = y * width;
    let change = base + bx0 - r;
    for (let j = change + 1; j < base + bx0 + r; j++) if (src[j] !== src[j - 1]) change = j;
    if (simd) simd.loadRow(src, base + bx0 - r, bx1 - bx0 + 2 * r);
    for (let x = bx0, i = base + bx0; x < bx1; x++, i++) {
      if (src[i + r] !== src[i + r - 1]) change = i + r;
      const v = src[i];
      let acc: number;
      if (change <= i - r) {
        if (v === 0) continue;
        if (v === 255) acc = v255 < 0 ? (v255 = flat(255)) : v255;
        else acc = flat(v);
      } else if (simd) {
        // The run of windows that are not flat, worked out in the module.
        let end = i + 1;
        for (; end < base + bx1; end++) {
          if (src[end + r] !== src[end + r - 1]) change = end + r;
          if (change <= end - r) break;
        }
        simd.rowRun(x - bx0 + r, end - i, i);
        x += end - i - 1;
        i = end - 1;
        continue;
      } else {
        acc = w0 * v;
        for (let j = 1; j <= r; j++) acc += half[j] * (src[i - j] + src[i + j]);
      }
      tmp[i] = acc;
    }
  }
  for (let y = ny0; !inPlace && y < ny1; y++) {
    const base = y * width;
    for (let p = bx0 - r, i = 0; i < lineLen; p++, i++) line[i] = src[base + (p < 0 || p >= width ? reflect101(p, width) : p)];
    run[lineLen - 1] = lineLen;
    for (let i = lineLen - 2; i >= 0; i--) run[i] = line[i] === line[i + 1] ? run[i + 1] : i + 1;
    for (let x = bx0, i = 0; x < bx1; x++, i++) {
      const v = line[i];
      let acc: number;
      if (run[i] > i + 2 * r) {
        if (v === 0) continue;
        if (v === 255) acc = v255 < 0 ? (v255 = flat(255)) : v255;
        else acc = flat(v);
      } else {
        const ce = i + r;
        acc = w0 * line[ce];
        for (let j = 1; j <= r; j++) acc += half[j] * (line[ce - j] + line[ce + j]);
      }
      tmp[base + x] = acc;
    }
  }
  // Columns: change[x] is the last row, among those fed so far, where column x differs from the
  // row above (ty0 when none): the window rows y − r … y + r are all equal when it is ≤ y − r.
  if (scratch.change.length < bx1 - bx0) scratch.change = new Int32Array(bx1 - bx0);
  const change = scratch.change;
  change.fill(ty0, 0, bx1 - bx0);
  let fed = ty0;
  const flats = new Map<number, number>();
  let lastV = 0;
  let lastF = 0;
  for (let y = by0; y < by1; y++) {
    const inner = y - r >= 0 && y + r < height;
    const top = (y - r) * width;
    const base = y * width;
    for (const last = y + r < ty1 ? y + r : ty1 - 1; fed < last;) {
      fed++;
      for (let x = bx0, i = fed * width + bx0; x < bx1; x++, i++) if (tmp[i] !== tmp[i - width]) change[x - bx0] = fed;
    }
    for (let x = bx0; x < bx1; x++) {
      if (inner && change[x - bx0] <= y - r) {
        const v = tmp[top + x];
        if (v === 0) continue;
        if (v !== lastV) {
          let f = flats.get(v);
          if (f === undefined) flats.set(v, (f = flat(v)));
          lastV = v;
          lastF = f;
        }
        dst[base + x] = lastF;
        continue;
      }
      if (inner && simd) {
        let end = x + 1;
        while (end < bx1 && change[end - bx0] > y - r) end++;
        simd.columns(base + x, end - x, dst);
        x = end - 1;
        continue;
      }
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
  return dst;
}
