/**
 * Blending a face patch into its background: plain alpha, and Burt–Adelson multiband blending
 * (each frequency band gets a mask blurred to its own scale, so seams vanish without halos).
 */

import { createFloatImage, type FloatImage } from './image.js';

/** out = mask·fg + (1 − mask)·bg per pixel (mask: width·height, 0..1). `out` may be fg or bg. */
export function alphaBlend(fg: FloatImage, bg: FloatImage, mask: Float32Array, out?: FloatImage): FloatImage {
  checkSizes(fg, bg, mask);
  const c = fg.channels;
  const dst = out ?? createFloatImage(fg.width, fg.height, c);
  const f = fg.data;
  const b = bg.data;
  const d = dst.data;
  const n = fg.width * fg.height;
  for (let i = 0; i < n; i++) {
    const a = mask[i];
    const na = 1 - a;
    for (let k = i * c, end = k + c; k < end; k++) d[k] = a * f[k] + na * b[k];
  }
  return dst;
}

/** Levels so that the coarsest band is still about 8 pixels or more across (1 … 8). */
export function defaultPyramidLevels(width: number, height: number): number {
  const m = Math.min(width, height);
  return m < 16 ? 1 : Math.min(8, Math.floor(Math.log2(m / 8)) + 1);
}

/**
 * Multiband blend of fg over bg with a soft mask; see {@link PyramidBlender}. One-off use; keep a
 * PyramidBlender to reuse its buffers across frames.
 */
export function laplacianPyramidBlend(fg: FloatImage, bg: FloatImage, mask: Float32Array, levels?: number, out?: FloatImage): FloatImage {
  return new PyramidBlender(fg.width, fg.height, fg.channels, levels).blend(fg, bg, mask, out);
}

/** Taps of a 1-D resampling: output i = Σ_t weights[i·T + t] · input[taps[i·T + t]]. */
interface Resampler {
  taps: Int32Array;
  weights: Float32Array;
  count: number;
}

/**
 * Burt–Adelson blending with buffers sized once for width × height × channels. Because every
 * step is linear, blending the Laplacian bands of fg and bg with the mask's Gaussian pyramid
 * equals bg + collapse(maskᵢ · Laplacianᵢ(fg − bg)): one pyramid instead of two. Levels are
 * ceil-halved (cv2.pyrDown sizes: 5-tap binomial, REFLECT_101), so odd sizes need no padding.
 * A mask of all ones returns fg and all zeros returns bg (to float rounding).
 */
export class PyramidBlender {
  readonly levels: number;
  private readonly widths: number[] = [];
  private readonly heights: number[] = [];
  /** Gaussian pyramids of fg − bg and of the mask; level 0 of the mask is the caller's. */
  private readonly diff: Float32Array[] = [];
  private readonly masks: Float32Array[] = [];
  /** Collapsed result per level, and scratch for the separable passes. */
  private readonly result: Float32Array[] = [];
  private readonly up: Float32Array;
  private readonly scratch: Float32Array;
  private readonly downX: Resampler[] = [];
  private readonly downY: Resampler[] = [];
  private readonly upX: Resampler[] = [];
  private readonly upY: Resampler[] = [];

  constructor(
    readonly width: number,
    readonly height: number,
    readonly channels: number,
    levels?: number,
  ) {
    this.levels = Math.max(1, Math.floor(levels ?? defaultPyramidLevels(width, height)));
    let w = width;
    let h = height;
    for (let i = 0; i < this.levels; i++) {
      this.widths.push(w);
      this.heights.push(h);
      this.diff.push(new Float32Array(w * h * channels));
      this.masks.push(new Float32Array(i === 0 ? 0 : w * h));
      this.result.push(new Float32Array(w * h * channels));
      const nw = (w + 1) >> 1;
      const nh = (h + 1) >> 1;
      if (i + 1 < this.levels) {
        this.downX.push(downsampler(w, nw));
        this.downY.push(downsampler(h, nh));
        this.upX.push(upsampler(nw, w));
        this.upY.push(upsampler(nh, h));
      }
      w = nw;
      h = nh;
    }
    this.up = new Float32Array(width * height * channels);
    this.scratch = new Float32Array(width * height * channels);
  }

  blend(fg: FloatImage, bg: FloatImage, mask: Float32Array, out?: FloatImage): FloatImage {
    checkSizes(fg, bg, mask);
    const c = this.channels;
    if (fg.width !== this.width || fg.height !== this.height || fg.channels !== c) {
      throw new RangeError(`PyramidBlender: built for ${this.width}×${this.height}×${c}, got ${fg.width}×${fg.height}×${fg.channels}`);
    }
    const dst = out ?? createFloatImage(this.width, this.height, c);
    const f = fg.data;
    const b = bg.data;
    const d0 = this.diff[0];
    for (let i = 0; i < d0.length; i++) d0[i] = f[i] - b[i];
    const last = this.levels - 1;
    for (let i = 0; i < last; i++) {
      const w = this.widths[i];
      const h = this.heights[i];
      const nw = this.widths[i + 1];
      const mk = i === 0 ? mask : this.masks[i];
      resample2d(this.diff[i], w, h, c, this.downX[i], this.downY[i], nw, this.heights[i + 1], this.scratch, this.diff[i + 1]);
      resample2d(mk, w, h, 1, this.downX[i], this.downY[i], nw, this.heights[i + 1], this.scratch, this.masks[i + 1]);
    }
    // Coarsest band: the Gaussian level itself.
    multiplyByMask(this.diff[last], last === 0 ? mask : this.masks[last], c, this.result[last], null);
    for (let i = last - 1; i >= 0; i--) {
      const w = this.widths[i];
      const h = this.heights[i];
      const cw = this.widths[i + 1];
      const ch = this.heights[i + 1];
      const r = this.result[i];
      // r = up(result[i+1]) + mask · (diff[i] − up(diff[i+1]))
      resample2d(this.diff[i + 1], cw, ch, c, this.upX[i], this.upY[i], w, h, this.scratch, this.up);
      resample2d(this.result[i + 1], cw, ch, c, this.upX[i], this.upY[i], w, h, this.scratch, r);
      multiplyByMask(this.diff[i], i === 0 ? mask : this.masks[i], c, r, this.up);
    }
    const r0 = this.result[0];
    const o = dst.data;
    for (let i = 0; i < r0.length; i++) o[i] = b[i] + r0[i];
    return dst;
  }
}

/** acc += mask · (band − minus) per pixel (acc = mask · band when minus is null). */
function multiplyByMask(band: Float32Array, mask: Float32Array, c: number, acc: Float32Array, minus: Float32Array | null): void {
  const n = band.length / c;
  for (let p = 0; p < n; p++) {
    const m = mask[p];
    for (let k = p * c, end = k + c; k < end; k++) {
      if (minus) acc[k] += m * (band[k] - minus[k]);
      else acc[k] = m * band[k];
    }
  }
}

/** Separable resampling: rows with `rx` into scratch (outW × inH), then columns with `ry`. */
function resample2d(
  src: Float32Array,
  inW: number,
  inH: number,
  c: number,
  rx: Resampler,
  ry: Resampler,
  outW: number,
  outH: number,
  scratch: Float32Array,
  dst: Float32Array,
): void {
  const tx = rx.taps;
  const wx = rx.weights;
  const nt = rx.count;
  for (let y = 0; y < inH; y++) {
    const sRow = y * inW * c;
    const dRow = y * outW * c;
    for (let x = 0; x < outW; x++) {
      for (let k = 0; k < c; k++) {
        let acc = 0;
        for (let t = x * nt, end = t + nt; t < end; t++) acc += wx[t] * src[sRow + tx[t] * c + k];
        scratch[dRow + x * c + k] = acc;
      }
    }
  }
  const ty = ry.taps;
  const wy = ry.weights;
  const mt = ry.count;
  const rowLen = outW * c;
  for (let y = 0; y < outH; y++) {
    const dRow = y * rowLen;
    const t0 = y * mt;
    for (let e = 0; e < rowLen; e++) {
      let acc = 0;
      for (let t = t0; t < t0 + mt; t++) acc += wy[t] * scratch[ty[t] * rowLen + e];
      dst[dRow + e] = acc;
    }
  }
}

function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

/** cv2.pyrDown along one axis: binomial [1 4 6 4 1]/16 centred on every even input sample. */
function downsampler(n: number, out: number): Resampler {
  const kernel = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16];
  const taps = new Int32Array(out * 5);
  const weights = new Float32Array(out * 5);
  for (let i = 0; i < out; i++) {
    for (let t = 0; t < 5; t++) {
      taps[i * 5 + t] = reflect101(2 * i + t - 2, n);
      weights[i * 5 + t] = kernel[t];
    }
  }
  return { taps, weights, count: 5 };
}

/**
 * The matching expansion from n samples to `out` (2n or 2n − 1): even outputs (1 6 1)/8 around
 * their sample, odd ones the mean of the two neighbours (the last odd one repeats the edge).
 */
function upsampler(n: number, out: number): Resampler {
  const taps = new Int32Array(out * 3);
  const weights = new Float32Array(out * 3);
  for (let x = 0; x < out; x++) {
    const i = x >> 1;
    const o = x * 3;
    if ((x & 1) === 0) {
      taps[o] = reflect101(i - 1, n);
      taps[o + 1] = i;
      taps[o + 2] = reflect101(i + 1, n);
      weights[o] = 1 / 8;
      weights[o + 1] = 6 / 8;
      weights[o + 2] = 1 / 8;
    } else {
      taps[o] = i;
      taps[o + 1] = Math.min(i + 1, n - 1);
      taps[o + 2] = i;
      weights[o] = 0.5;
      weights[o + 1] = 0.5;
      weights[o + 2] = 0;
    }
  }
  return { taps, weights, count: 3 };
}

function checkSizes(fg: FloatImage, bg: FloatImage, mask: Float32Array): void {
  if (fg.width !== bg.width || fg.height !== bg.height || fg.channels !== bg.channels) {
    throw new RangeError(`blend: fg is ${fg.width}×${fg.height}×${fg.channels}, bg ${bg.width}×${bg.height}×${bg.channels}`);
  }
  if (mask.length < fg.width * fg.height) throw new RangeError(`blend: mask holds ${mask.length} values, needs ${fg.width * fg.height}`);
}
