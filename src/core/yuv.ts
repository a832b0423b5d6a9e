/**
 * Limited-range 8-bit Y′CbCr to RGB, as ffmpeg's exact-rounding conversion does it, from planes
 * already at full resolution (4:4:4). Decoding video, ffmpeg upsamples the chroma cheaply and
 * precisely but its exact-rounding matrix is slow (about 9 ms of a 1280×720 frame against 3 for
 * the decode itself); this matrix, in 16-bit fixed point, takes a fraction of that. Platform-free.
 */

import { simdKernels } from './simd-kernels.js';

/** The matrices ffmpeg applies to tagged or untagged video: BT.601 (untagged, smpte170m, bt470bg) and BT.709. */
export type YuvMatrix = 'bt601' | 'bt709';

/** Kr and Kb of each matrix. */
const WEIGHTS: Record<YuvMatrix, readonly [number, number]> = { bt601: [0.299, 0.114], bt709: [0.2126, 0.0722] };

/**
 * The matrix for a stream's colour-matrix tag as ffprobe prints it ('unknown' when untagged, which
 * ffmpeg decodes as BT.601), or undefined for the others (BT.2020, FCC, SMPTE 240M…), which are
 * left to ffmpeg.
 */
export function yuvMatrixFor(tag: string): YuvMatrix | undefined {
  if (tag === 'bt709') return 'bt709';
  if (tag === 'unknown' || tag === 'smpte170m' || tag === 'bt470bg') return 'bt601';
  return undefined;
}

const SHIFT = 16;
const ONE = 1 << SHIFT;

/** The matrix's five factors in 16-bit fixed point: luma, Cr→R, Cb→B, Cb→G, Cr→G (limited range: luma 16–235, chroma 16–240). */
export function yuvFactors(matrix: YuvMatrix): { y: number; rv: number; bu: number; gu: number; gv: number } {
  const [kr, kb] = WEIGHTS[matrix];
  const kg = 1 - kr - kb;
  const c = 255 / 224;
  return {
    y: Math.round((255 / 219) * ONE),
    rv: Math.round(2 * (1 - kr) * c * ONE),
    bu: Math.round(2 * (1 - kb) * c * ONE),
    gu: Math.round(((2 * kb * (1 - kb)) / kg) * c * ONE),
    gv: Math.round(((2 * kr * (1 - kr)) / kg) * c * ONE),
  };
}

/**
 * `planes` (width × height luma, then Cb, then Cr, one byte a sample) into `out` as RGB or RGBA
 * (alpha 255), each channel rounded to the nearest level and clipped to 0–255. `out` must not
 * share memory with `planes`.
 */
export function yuv444ToRgb(planes: Uint8Array | Uint8ClampedArray, width: number, height: number, matrix: YuvMatrix, out: Uint8ClampedArray, channels: 3 | 4): void {
  const n = width * height;
  if (planes.length < 3 * n) throw new RangeError(`yuv444ToRgb: ${width}×${height} planes need ${3 * n} bytes; got ${planes.length}`);
  if (out.length < channels * n) throw new RangeError(`yuv444ToRgb: ${width}×${height}×${channels} needs ${channels * n} bytes; got ${out.length}`);
  const factors = yuvFactors(matrix);
  // WebAssembly SIMD for whole runs of 16 pixels (about a tenth of the loop's time), the loop for the rest.
  const kernels = channels === 3 ? simdKernels() : undefined;
  const done = kernels ? n - (n % 16) : 0;
  if (kernels && done > 0) kernels.yuvToRgb(planes, n, done, factors, out);
  yuvLoop(planes, n, done, factors, out, channels);
}

/** {@link yuv444ToRgb} in TypeScript from pixel `from` on: where the kernels are missing, for RGBA, for a last run under 16, and to check the kernel against. */
export function yuvLoop(planes: Uint8Array | Uint8ClampedArray, n: number, from: number, factors: ReturnType<typeof yuvFactors>, out: Uint8ClampedArray, channels: 3 | 4): void {
  const { y: fy, rv, bu, gu, gv } = factors;
  const half = ONE >> 1;
  // The clamped array clips each sum to 0–255; the sums are whole numbers, so nothing else rounds.
  for (let i = from, o = from * channels; i < n; i++, o += channels) {
    const luma = fy * (planes[i]! - 16) + half;
    const cb = planes[n + i]! - 128;
    const cr = planes[2 * n + i]! - 128;
    out[o] = (luma + rv * cr) >> SHIFT;
    out[o + 1] = (luma - gu * cb - gv * cr) >> SHIFT;
    out[o + 2] = (luma + bu * cb) >> SHIFT;
    if (channels === 4) out[o + 3] = 255;
  }
}
