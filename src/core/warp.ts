/**
 * Bilinear affine resampling: cv2.warpAffine reproduced to the rounding (for the reference crops
 * and paste-back), and a direct sampler that turns a rotated crop into a model's float tensor.
 */

import { invertAffine, type Affine } from './affine.js';
import { createFloatImage, createImage, type FloatImage, type Image, type Rect } from './image.js';
import { mix, mixFixed, roundHalfEven, sampleNearBorder, type BorderMode } from './warp-taps.js';

export { warpTriangles, type TriangleWarpOptions } from './triangles.js';
export type { BorderMode } from './warp-taps.js';
export { createWarpSampler, type WarpSampler, type WarpSamplerOptions } from './warp-sampler.js';
export { sampleAffineToTensor, type TensorSampleOptions } from './tensor-sample.js';

export interface WarpAffineOptions<T extends Image | FloatImage> {
  /** 'constant' (default, cv2.BORDER_CONSTANT) or 'replicate' (cv2.BORDER_REPLICATE). */
  border?: BorderMode;
  /** Value of every channel outside the source with the constant border; default 0. */
  borderValue?: number;
  /**
   * 'float32' (default): OpenCV ≥ 4.11, float32 source coordinates and float interpolation
   * (spec F1.6–F1.10), what both reference stacks run. 'fixed-point': OpenCV ≤ 4.10, source
   * coordinates on a 1/32-pixel grid (INTER_BITS = 5, AB_BITS = 10) and, for 8-bit images,
   * 15-bit integer weights with round-half-up.
   */
  precision?: 'float32' | 'fixed-point';
  /** Destination pixels to compute (dst coordinates); the rest of `out` is left untouched. */
  rect?: Rect;
  /**
   * Compute only this rectangle of the dstWidth × dstHeight destination (clamped to it) and return
   * it as a window-sized image: pixel (x, y) of the destination lands at (x − x0, y − y0). The
   * values are the ones a full-size warp gives there, to the bit. `out` must then be window-sized.
   */
  window?: Rect;
  /** Destination to write into; must be dstWidth × dstHeight (or the window's size) with the source's channel count. */
  out?: T;
}

/**
 * cv2.warpAffine(src, m, (dstWidth, dstHeight)) with INTER_LINEAR. `m` maps source to destination
 * in OpenCV's pixel convention (pixel (i, j) has its centre at (i, j)); convert a map written in
 * the project's continuous convention with `affineCornerToCentred` (core/affine.ts) first. 8-bit outputs are
 * rounded half to even (saturate_cast), float outputs keep the interpolated value.
 */
export function warpAffine<T extends Image | FloatImage>(src: T, m: Affine, dstWidth: number, dstHeight: number, options: WarpAffineOptions<T> = {}): T {
  const c = src.channels;
  const isFloat = src.data instanceof Float32Array;
  const win = options.window;
  // Origin and size of the buffer written: the whole destination, or the window.
  const ox = win ? Math.max(0, win.x0) : 0;
  const oy = win ? Math.max(0, win.y0) : 0;
  const outW = win ? Math.max(0, Math.min(dstWidth, win.x1) - ox) : dstWidth;
  const outH = win ? Math.max(0, Math.min(dstHeight, win.y1) - oy) : dstHeight;
  let out = options.out;
  if (out) {
    if (out.width !== outW || out.height !== outH || out.channels !== c) {
      throw new RangeError(`warpAffine: out is ${out.width}×${out.height}×${out.channels}, expected ${outW}×${outH}×${c}`);
    }
  } else {
    out = (isFloat ? createFloatImage(outW, outH, c) : createImage(outW, outH, (src as Image).channels)) as T;
  }
  const r = options.rect;
  const x0 = Math.max(ox, r ? r.x0 : 0);
  const y0 = Math.max(oy, r ? r.y0 : 0);
  const x1 = Math.min(ox + outW, r ? r.x1 : dstWidth);
  const y1 = Math.min(oy + outH, r ? r.y1 : dstHeight);
  if (x1 <= x0 || y1 <= y0) return out;

  const inv = invertAffine(m);
  const fixed = options.precision === 'fixed-point';
  const replicate = options.border === 'replicate';
  const bv = options.borderValue ?? 0;
  const sd = src.data;
  const dd = out.data;
  const sw = src.width;
  const sh = src.height;
  const stride = sw * c;
  const u8Fixed = fixed && !isFloat;
  // The common case (a 3-channel crop, float32 coordinates) with its channel loop unrolled.
  const rgbFloat = !fixed && c === 3;

  // The float path works on float32 coefficients (spec F1.6); the fixed path on the double inverse.
  const m0 = fixed ? inv[0] : Math.fround(inv[0]);
  const m1 = fixed ? inv[1] : Math.fround(inv[1]);
  const m2 = fixed ? inv[2] : Math.fround(inv[2]);
  const m3 = fixed ? inv[3] : Math.fround(inv[3]);
  const m4 = fixed ? inv[4] : Math.fround(inv[4]);
  const m5 = fixed ? inv[5] : Math.fround(inv[5]);
  // Fixed path: per-column offsets in 1/1024 pixel, as OpenCV precomputes them per row block.
  const adelta = new Int32Array(fixed ? x1 - x0 : 0);
  const bdelta = new Int32Array(fixed ? x1 - x0 : 0);
  for (let x = x0; fixed && x < x1; x++) {
    adelta[x - x0] = roundHalfEven(m0 * x * 1024);
    bdelta[x - x0] = roundHalfEven(m3 * x * 1024);
  }

  for (let y = y0; y < y1; y++) {
    const rowX = m1 * y + m2;
    const rowY = m4 * y + m5;
    const fx0 = fixed ? roundHalfEven(rowX * 1024) + 16 : 0;
    const fy0 = fixed ? roundHalfEven(rowY * 1024) + 16 : 0;
    for (let x = x0; x < x1; x++) {
      let ix: number;
      let iy: number;
      let ax: number;
      let ay: number;
      if (fixed) {
        const qx = (fx0 + adelta[x - x0]) >> 5;
        const qy = (fy0 + bdelta[x - x0]) >> 5;
        ix = qx >> 5;
        iy = qy >> 5;
        ax = qx & 31;
        ay = qy & 31;
      } else {
        const sx = Math.fround(x * m0 + rowX);
        const sy = Math.fround(x * m3 + rowY);
        ix = Math.floor(sx);
        iy = Math.floor(sy);
        ax = sx - ix;
        ay = sy - iy;
      }
      const di = ((y - oy) * outW + (x - ox)) * c;
      if (ix >= 0 && iy >= 0 && ix < sw - 1 && iy < sh - 1) {
        const o = iy * stride + ix * c;
        if (rgbFloat) {
          const q = o + stride;
          dd[di] = mix(sd[o], sd[o + 3], sd[q], sd[q + 3], ax, ay);
          dd[di + 1] = mix(sd[o + 1], sd[o + 4], sd[q + 1], sd[q + 4], ax, ay);
          dd[di + 2] = mix(sd[o + 2], sd[o + 5], sd[q + 2], sd[q + 5], ax, ay);
          continue;
        }
        for (let k = 0; k < c; k++) {
          const i = o + k;
          dd[di + k] = u8Fixed
            ? mixFixed(sd[i], sd[i + c], sd[i + stride], sd[i + stride + c], ax, ay)
            : mix(sd[i], sd[i + c], sd[i + stride], sd[i + stride + c], fixed ? ax / 32 : ax, fixed ? ay / 32 : ay);
        }
        continue;
      }
      sampleNearBorder(sd, sw, sh, c, ix, iy, ax, ay, replicate, bv, u8Fixed, fixed, dd, di);
    }
  }
  return out;
}
