/**
 * The bilinear taps shared by warpAffine, the row sampler and the tensor sampler: the mixes of
 * spec F1.10, the border rule, and the interior search; one copy so every warp rounds alike.
 */

export type BorderMode = 'constant' | 'replicate';

/**
 * The columns of [x0, x1) where a·x + b lies in [0, limit), widened by a column or two each side:
 * a first guess of a row's interior, which the caller settles on the exact test.
 */
export function interiorGuess(a: number, b: number, limit: number, x0: number, x1: number): [number, number] {
  if (a === 0) return b >= -1 && b < limit + 1 ? [x0, x1] : [x0, x0];
  const u = -b / a;
  const v = (limit - b) / a;
  return [Math.max(x0, Math.floor(Math.min(u, v)) - 1), Math.min(x1, Math.ceil(Math.max(u, v)) + 2)];
}

/**
 * The float32 path's interior columns [lo, hi) of one row for 3-channel 8-bit images (all four
 * taps inside): the spec F1.10 mix with every tap read, written from dd[at] on.
 */
export function interiorU8C3(
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
export function sampleNearBorder(
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

export function mix(p00: number, p01: number, p10: number, p11: number, ax: number, ay: number): number {
  const v0 = p00 + ax * (p01 - p00);
  const v1 = p10 + ax * (p11 - p10);
  return v0 + ay * (v1 - v0);
}

/** OpenCV ≤ 4.10 8-bit bilinear: weights (32−fx)(32−fy)·32 etc. sum to 2^15; round half up. */
export function mixFixed(p00: number, p01: number, p10: number, p11: number, fx: number, fy: number): number {
  const gx = 32 - fx;
  const gy = 32 - fy;
  return (((p00 * gx + p01 * fx) * gy + (p10 * gx + p11 * fx) * fy) * 32 + 16384) >> 15;
}

/** cvRound / lrint: nearest integer, ties to even. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}
