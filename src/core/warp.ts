/**
 * Bilinear affine resampling: cv2.warpAffine reproduced to the rounding (for the reference crops
 * and paste-back), and a direct sampler that turns a rotated crop into a model's float tensor.
 */

import { affineCornerToCentred, invertAffine, type Affine } from './affine.js';
import { createFloatImage, createImage, type FloatImage, type Image, type Rect } from './image.js';

export { warpTriangles, type TriangleWarpOptions } from './triangles.js';

export type BorderMode = 'constant' | 'replicate';

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
 * the project's continuous convention with {@link affineCornerToCentred} first. 8-bit outputs are
 * rounded half to even (saturate_cast), float outputs keep the interpolated value.
 */
export function warpAffine<T extends Image | FloatImage>(
  src: T,
  m: Affine,
  dstWidth: number,
  dstHeight: number,
  options: WarpAffineOptions<T> = {},
): T {
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

export interface WarpSamplerOptions {
  border?: BorderMode;
  borderValue?: number;
  precision?: 'float32' | 'fixed-point';
  /**
   * The caller vouches that every source sample has the same value (a white mask): where all four
   * taps lie inside the source the bilinear mix of equal values is that value exactly, so it is
   * written without reading the taps.
   */
  uniform?: boolean;
}

/**
 * Row-at-a-time form of {@link warpAffine} for callers that need only some destination pixels
 * (a fused warp-and-blend): `row` writes the same values warpAffine gives at those pixels, to the
 * bit. After each call, [interiorX0, interiorX1) is the part of the row (possibly empty) where all
 * four taps fell inside the source.
 */
export interface WarpSampler {
  row(y: number, x0: number, x1: number, dst: Uint8ClampedArray | Float32Array, at: number): void;
  interiorX0: number;
  interiorX1: number;
}

/** A {@link WarpSampler} for cv2.warpAffine(src, m, (dstWidth, ·)) with INTER_LINEAR. */
export function createWarpSampler(src: Image | FloatImage, m: Affine, dstWidth: number, options: WarpSamplerOptions = {}): WarpSampler {
  const c = src.channels;
  const isFloat = src.data instanceof Float32Array;
  const inv = invertAffine(m);
  const fixed = options.precision === 'fixed-point';
  const replicate = options.border === 'replicate';
  const uniform = options.uniform === true;
  const bv = options.borderValue ?? 0;
  const sd = src.data;
  const sw = src.width;
  const sh = src.height;
  const stride = sw * c;
  const u8Fixed = fixed && !isFloat;

  // The float path works on float32 coefficients (spec F1.6); the fixed path on the double inverse.
  const m0 = fixed ? inv[0] : Math.fround(inv[0]);
  const m1 = fixed ? inv[1] : Math.fround(inv[1]);
  const m2 = fixed ? inv[2] : Math.fround(inv[2]);
  const m3 = fixed ? inv[3] : Math.fround(inv[3]);
  const m4 = fixed ? inv[4] : Math.fround(inv[4]);
  const m5 = fixed ? inv[5] : Math.fround(inv[5]);
  // Fixed path: per-column offsets in 1/1024 pixel, as OpenCV precomputes them per row block.
  const adelta = new Int32Array(fixed ? Math.max(0, dstWidth) : 0);
  const bdelta = new Int32Array(fixed ? Math.max(0, dstWidth) : 0);
  for (let x = 0; fixed && x < dstWidth; x++) {
    adelta[x] = roundHalfEven(m0 * x * 1024);
    bdelta[x] = roundHalfEven(m3 * x * 1024);
  }
  const value = uniform ? sd[0] : 0;

  // Row state, set by `row` before any helper below runs.
  let rowX = 0;
  let rowY = 0;
  let fx0 = 0;
  let fy0 = 0;
  // Whether all four taps of destination column x (on the current row) lie inside the source.
  // floor(source coordinate) is non-decreasing in x (every step of its computation is), so the
  // columns where this holds form one interval.
  const inside = (x: number): boolean => {
    let ix: number;
    let iy: number;
    if (fixed) {
      ix = (fx0 + adelta[x]) >> 10;
      iy = (fy0 + bdelta[x]) >> 10;
    } else {
      ix = Math.floor(Math.fround(x * m0 + rowX));
      iy = Math.floor(Math.fround(x * m3 + rowY));
    }
    return ix >= 0 && iy >= 0 && ix < sw - 1 && iy < sh - 1;
  };

  const sampler: WarpSampler = {
    interiorX0: 0,
    interiorX1: 0,
    row(y, x0, x1, dd, at) {
      rowX = m1 * y + m2;
      rowY = m4 * y + m5;
      fx0 = fixed ? roundHalfEven(rowX * 1024) + 16 : 0;
      fy0 = fixed ? roundHalfEven(rowY * 1024) + 16 : 0;
      // The interior interval, first from the real-valued solution, then settled on the exact test.
      // Both ends are checked, so the fast loop only ever sees interior columns.
      const span = interiorGuess(m0, rowX, sw - 1, x0, x1);
      const spanY = interiorGuess(m3, rowY, sh - 1, x0, x1);
      let lo = Math.max(span[0], spanY[0]);
      let hi = Math.min(span[1], spanY[1]);
      if (hi > lo) {
        const mid = (lo + hi) >> 1;
        if (inside(mid)) {
          // Grow from a known interior point, then never past the first outside column.
          let a = mid;
          while (a > x0 && inside(a - 1)) a--;
          let b = mid + 1;
          while (b < x1 && inside(b)) b++;
          lo = a;
          hi = b;
        } else {
          // Settle each end on the exact test; both ends interior means all between are.
          while (lo < hi && !inside(lo)) lo++;
          while (hi > lo && !inside(hi - 1)) hi--;
          while (lo > x0 && inside(lo - 1)) lo--;
          while (hi < x1 && inside(hi)) hi++;
        }
      }
      if (hi <= lo) lo = hi = x0;
      sampler.interiorX0 = lo;
      sampler.interiorX1 = hi;
      edge(x0, lo, dd, at);
      const ai = at + (lo - x0) * c;
      if (uniform) {
        if (c === 1) dd.fill(value, ai, ai + (hi - lo));
        else for (let i = ai, e = ai + (hi - lo) * c; i < e; i++) dd[i] = value;
      } else if (!fixed && c === 3 && sd instanceof Uint8ClampedArray && dd instanceof Uint8ClampedArray) {
        interiorU8C3(sd, stride, dd, ai, lo, hi, m0, m3, rowX, rowY);
      } else {
        for (let x = lo, di = ai; x < hi; x++, di += c) {
          let ix: number;
          let iy: number;
          let ax: number;
          let ay: number;
          if (fixed) {
            const qx = (fx0 + adelta[x]) >> 5;
            const qy = (fy0 + bdelta[x]) >> 5;
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
          const o = iy * stride + ix * c;
          for (let k = 0; k < c; k++) {
            const i = o + k;
            dd[di + k] = u8Fixed
              ? mixFixed(sd[i], sd[i + c], sd[i + stride], sd[i + stride + c], ax, ay)
              : mix(sd[i], sd[i + c], sd[i + stride], sd[i + stride + c], fixed ? ax / 32 : ax, fixed ? ay / 32 : ay);
          }
        }
      }
      edge(hi, x1, dd, at + (hi - x0) * c);
    },
  };

  // Columns [x0, x1) of the current row, none of them interior: border value or clamped taps.
  function edge(x0: number, x1: number, dd: Uint8ClampedArray | Float32Array, at: number): void {
    for (let x = x0, di = at; x < x1; x++, di += c) {
      let ix: number;
      let iy: number;
      let ax: number;
      let ay: number;
      if (fixed) {
        const qx = (fx0 + adelta[x]) >> 5;
        const qy = (fy0 + bdelta[x]) >> 5;
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
      sampleNearBorder(sd, sw, sh, c, ix, iy, ax, ay, replicate, bv, u8Fixed, fixed, dd, di);
    }
  }
  return sampler;
}

/**
 * The columns of [x0, x1) where a·x + b lies in [0, limit), widened by a column or two each side:
 * a first guess of a row's interior, which the caller settles on the exact test.
 */
function interiorGuess(a: number, b: number, limit: number, x0: number, x1: number): [number, number] {
  if (a === 0) return b >= -1 && b < limit + 1 ? [x0, x1] : [x0, x0];
  const u = -b / a;
  const v = (limit - b) / a;
  return [Math.max(x0, Math.floor(Math.min(u, v)) - 1), Math.min(x1, Math.ceil(Math.max(u, v)) + 2)];
}

/**
 * The float32 path's interior columns [lo, hi) of one row for 3-channel 8-bit images (all four
 * taps inside): the spec F1.10 mix with every tap read, written from dd[at] on.
 */
function interiorU8C3(
  sd: Uint8ClampedArray,
  stride: number,
  dd: Uint8ClampedArray,
  at: number,
  lo: number,
  hi: number,
  m0: number,
  m3: number,
  rowX: number,
  rowY: number,
): void {
  for (let x = lo, di = at; x < hi; x++, di += 3) {
    const sx = Math.fround(x * m0 + rowX);
    const sy = Math.fround(x * m3 + rowY);
    const ix = Math.floor(sx);
    const iy = Math.floor(sy);
    const ax = sx - ix;
    const ay = sy - iy;
    const o = iy * stride + ix * 3;
    dd[di] = mix(sd[o], sd[o + 3], sd[o + stride], sd[o + stride + 3], ax, ay);
    dd[di + 1] = mix(sd[o + 1], sd[o + 4], sd[o + stride + 1], sd[o + stride + 4], ax, ay);
    dd[di + 2] = mix(sd[o + 2], sd[o + 5], sd[o + stride + 2], sd[o + stride + 5], ax, ay);
  }
}

/** Bilinear mix in the order of spec F1.10 (horizontal lerps, then vertical). */
/**
 * One output pixel whose taps are not all inside the source: each tap is a clamped pixel
 * (replicate) or the border value, and a pixel whose taps are all outside is the border value.
 * Shared by warpAffine and the row sampler so both treat the border identically.
 */
function sampleNearBorder(
  sd: ArrayLike<number>,
  sw: number,
  sh: number,
  c: number,
  ix: number,
  iy: number,
  ax: number,
  ay: number,
  replicate: boolean,
  bv: number,
  u8Fixed: boolean,
  fixed: boolean,
  dd: Uint8ClampedArray | Float32Array,
  di: number,
): void {
  if (!replicate && (ix < -1 || ix >= sw || iy < -1 || iy >= sh)) {
    for (let k = 0; k < c; k++) dd[di + k] = bv;
    return;
  }
  const stride = sw * c;
  const cx0 = ix < 0 ? 0 : ix >= sw ? sw - 1 : ix;
  const cx1 = ix + 1 < 0 ? 0 : ix + 1 >= sw ? sw - 1 : ix + 1;
  const cy0 = iy < 0 ? 0 : iy >= sh ? sh - 1 : iy;
  const cy1 = iy + 1 < 0 ? 0 : iy + 1 >= sh ? sh - 1 : iy + 1;
  const inX0 = replicate || cx0 === ix;
  const inX1 = replicate || cx1 === ix + 1;
  const inY0 = replicate || cy0 === iy;
  const inY1 = replicate || cy1 === iy + 1;
  for (let k = 0; k < c; k++) {
    const p00 = inX0 && inY0 ? sd[cy0 * stride + cx0 * c + k] : bv;
    const p01 = inX1 && inY0 ? sd[cy0 * stride + cx1 * c + k] : bv;
    const p10 = inX0 && inY1 ? sd[cy1 * stride + cx0 * c + k] : bv;
    const p11 = inX1 && inY1 ? sd[cy1 * stride + cx1 * c + k] : bv;
    dd[di + k] = u8Fixed ? mixFixed(p00, p01, p10, p11, ax, ay) : mix(p00, p01, p10, p11, fixed ? ax / 32 : ax, fixed ? ay / 32 : ay);
  }
}

function mix(p00: number, p01: number, p10: number, p11: number, ax: number, ay: number): number {
  const v0 = p00 + ax * (p01 - p00);
  const v1 = p10 + ax * (p11 - p10);
  return v0 + ay * (v1 - v0);
}

/** OpenCV ≤ 4.10 8-bit bilinear: weights (32−fx)(32−fy)·32 etc. sum to 2^15; round half up. */
function mixFixed(p00: number, p01: number, p10: number, p11: number, fx: number, fy: number): number {
  const gx = 32 - fx;
  const gy = 32 - fy;
  return (((p00 * gx + p01 * fx) * gy + (p10 * gx + p11 * fx) * fy) * 32 + 16384) >> 15;
}

/** cvRound / lrint: nearest integer, ties to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

export interface TensorSampleOptions {
  /** 'nhwc' (default): [1, H, W, 3]; 'nchw': [1, 3, H, W]. */
  layout?: 'nhwc' | 'nchw';
  /** Channel order written; default 'rgb'. Grey sources are replicated. */
  channelOrder?: 'rgb' | 'bgr';
  /** 'constant' (default): outside pixels read as 0; 'replicate': the nearest edge pixel. */
  border?: BorderMode;
  /**
   * Round each interpolated pixel to 8 bits (half to even) before scaling, as when a uint8 crop is
   * made with cv2.warpAffine and then turned into a blob; default false (full precision).
   */
  quantize?: boolean;
}

/**
 * Sample an outWidth × outHeight RGB float tensor from `src`, value = pixel·scale + offset
 * (per output channel when arrays are given). Coordinates are the project's continuous ones on
 * both sides: output pixel (i, j) is sampled at its centre (i + 0.5, j + 0.5), mapped through
 * `dstToSrc` into the source, where pixel (x, y) covers [x, x+1) × [y, y+1). Bilinear; only the
 * output pixels are visited, so a 192×192 crop of a 1080p frame costs 192² samples.
 */
export function sampleAffineToTensor(
  src: Image,
  dstToSrc: Affine,
  outWidth: number,
  outHeight: number,
  scale: number | ArrayLike<number>,
  offset: number | ArrayLike<number>,
  out?: Float32Array,
  options: TensorSampleOptions = {},
): Float32Array {
  const plane = outWidth * outHeight;
  const dst = out ?? new Float32Array(plane * 3);
  if (dst.length < plane * 3) throw new RangeError(`sampleAffineToTensor: out holds ${dst.length} values, needs ${plane * 3}`);
  const nchw = options.layout === 'nchw';
  const ps = nchw ? 1 : 3;
  const cs = nchw ? plane : 1;
  const c = src.channels;
  const bgr = options.channelOrder === 'bgr';
  const c0 = c === 1 ? 0 : bgr ? 2 : 0;
  const c1 = c === 1 ? 0 : 1;
  const c2 = c === 1 ? 0 : bgr ? 0 : 2;
  const s0 = typeof scale === 'number' ? scale : scale[0];
  const s1 = typeof scale === 'number' ? scale : scale[1];
  const s2 = typeof scale === 'number' ? scale : scale[2];
  const o0 = typeof offset === 'number' ? offset : offset[0];
  const o1 = typeof offset === 'number' ? offset : offset[1];
  const o2 = typeof offset === 'number' ? offset : offset[2];
  const replicate = options.border === 'replicate';
  const quantize = options.quantize === true;
  const q = new Uint8ClampedArray(3);
  const sd = src.data;
  const sw = src.width;
  const sh = src.height;
  const stride = sw * c;
  // In OpenCV's convention the map from output index to source index is a plain affine.
  const [a, b, tx, d, e, ty] = affineCornerToCentred(dstToSrc);
  for (let j = 0; j < outHeight; j++) {
    const rowX = b * j + tx;
    const rowY = e * j + ty;
    for (let i = 0; i < outWidth; i++) {
      const sx = a * i + rowX;
      const sy = d * i + rowY;
      const ix = Math.floor(sx);
      const iy = Math.floor(sy);
      const ax = sx - ix;
      const ay = sy - iy;
      let v0: number;
      let v1: number;
      let v2: number;
      if (ix >= 0 && iy >= 0 && ix < sw - 1 && iy < sh - 1) {
        const o = iy * stride + ix * c;
        v0 = mix(sd[o + c0], sd[o + c + c0], sd[o + stride + c0], sd[o + stride + c + c0], ax, ay);
        v1 = mix(sd[o + c1], sd[o + c + c1], sd[o + stride + c1], sd[o + stride + c + c1], ax, ay);
        v2 = mix(sd[o + c2], sd[o + c + c2], sd[o + stride + c2], sd[o + stride + c + c2], ax, ay);
      } else if (!replicate && (ix < -1 || ix >= sw || iy < -1 || iy >= sh)) {
        v0 = v1 = v2 = 0;
      } else {
        const cx0 = ix < 0 ? 0 : ix >= sw ? sw - 1 : ix;
        const cx1 = ix + 1 < 0 ? 0 : ix + 1 >= sw ? sw - 1 : ix + 1;
        const cy0 = iy < 0 ? 0 : iy >= sh ? sh - 1 : iy;
        const cy1 = iy + 1 < 0 ? 0 : iy + 1 >= sh ? sh - 1 : iy + 1;
        // Zero weight for taps outside the image (constant border of 0).
        const wx0 = replicate || cx0 === ix ? 1 - ax : 0;
        const wx1 = replicate || cx1 === ix + 1 ? ax : 0;
        const wy0 = replicate || cy0 === iy ? 1 - ay : 0;
        const wy1 = replicate || cy1 === iy + 1 ? ay : 0;
        const r0 = cy0 * stride;
        const r1 = cy1 * stride;
        const w00 = wx0 * wy0;
        const w01 = wx1 * wy0;
        const w10 = wx0 * wy1;
        const w11 = wx1 * wy1;
        v0 = sd[r0 + cx0 * c + c0] * w00 + sd[r0 + cx1 * c + c0] * w01 + sd[r1 + cx0 * c + c0] * w10 + sd[r1 + cx1 * c + c0] * w11;
        v1 = sd[r0 + cx0 * c + c1] * w00 + sd[r0 + cx1 * c + c1] * w01 + sd[r1 + cx0 * c + c1] * w10 + sd[r1 + cx1 * c + c1] * w11;
        v2 = sd[r0 + cx0 * c + c2] * w00 + sd[r0 + cx1 * c + c2] * w01 + sd[r1 + cx0 * c + c2] * w10 + sd[r1 + cx1 * c + c2] * w11;
      }
      if (quantize) {
        q[0] = v0;
        q[1] = v1;
        q[2] = v2;
        v0 = q[0];
        v1 = q[1];
        v2 = q[2];
      }
      const p = (j * outWidth + i) * ps;
      dst[p] = v0 * s0 + o0;
      dst[p + cs] = v1 * s1 + o1;
      dst[p + 2 * cs] = v2 * s2 + o2;
    }
  }
  return dst;
}
