/**
 * cv2.warpAffine one destination row at a time, to the bit: for fused warp-and-blend loops that
 * need only some destination pixels.
 */

import { invertAffine, type Affine } from './affine.js';
import type { FloatImage, Image } from './image.js';
import { interiorGuess, interiorU8C3, mix, mixFixed, roundHalfEven, sampleNearBorder, type BorderMode } from './warp-taps.js';

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
        // Settle each end on the exact test, from the guess (a column or two away): the interior
        // columns form one interval, so both ends interior means all between are.
        while (lo < hi && !inside(lo)) lo++;
        while (hi > lo && !inside(hi - 1)) hi--;
        while (lo > x0 && inside(lo - 1)) lo--;
        while (hi < x1 && inside(hi)) hi++;
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
