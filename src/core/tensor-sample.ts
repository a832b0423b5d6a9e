/**
 * A model's float input tensor sampled straight from a rotated crop of the frame: only the output
 * pixels are visited, bilinear, in the project's continuous coordinates.
 */

import { affineCornerToCentred, type Affine } from './affine.js';
import type { Image } from './image.js';
import { mix, type BorderMode } from './warp-taps.js';

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
  if (b === 0 && d === 0 && !quantize && !replicate) {
    sampleAxisAligned(src, a, tx, e, ty, outWidth, outHeight, [c0, c1, c2], [s0, s1, s2], [o0, o1, o2], dst, ps, cs);
    return dst;
  }
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

/**
 * sampleAffineToTensor's loop for a map without rotation or shear (a letterbox): each column's taps
 * and weight and each row's are worked out once, and every pixel mixes them as the general loop
 * does, so the values are the same. Constant border (0 outside).
 */
function sampleAxisAligned(
  src: Image,
  a: number,
  tx: number,
  e: number,
  ty: number,
  outWidth: number,
  outHeight: number,
  [c0, c1, c2]: readonly number[],
  [s0, s1, s2]: readonly number[],
  [o0, o1, o2]: readonly number[],
  dst: Float32Array,
  ps: number,
  cs: number,
): void {
  const sd = src.data;
  const c = src.channels;
  const sw = src.width;
  const sh = src.height;
  const stride = sw * c;
  // Per column: byte offsets of the left and right taps (−1 when outside: it reads as 0) and the weight.
  const left = new Int32Array(outWidth);
  const right = new Int32Array(outWidth);
  const wx = new Float64Array(outWidth);
  for (let i = 0; i < outWidth; i++) {
    const sx = a * i + tx;
    const ix = Math.floor(sx);
    wx[i] = sx - ix;
    left[i] = ix >= 0 && ix < sw ? ix * c : -1;
    right[i] = ix + 1 >= 0 && ix + 1 < sw ? (ix + 1) * c : -1;
  }
  for (let j = 0; j < outHeight; j++) {
    const sy = e * j + ty;
    const iy = Math.floor(sy);
    const ay = sy - iy;
    const top = iy >= 0 && iy < sh ? iy * stride : -1;
    const bottom = iy + 1 >= 0 && iy + 1 < sh ? (iy + 1) * stride : -1;
    let p = j * outWidth * ps;
    if (top < 0 && bottom < 0) {
      for (let i = 0; i < outWidth; i++, p += ps) {
        dst[p] = o0;
        dst[p + cs] = o1;
        dst[p + 2 * cs] = o2;
      }
      continue;
    }
    for (let i = 0; i < outWidth; i++, p += ps) {
      const l = left[i];
      const r = right[i];
      const ax = wx[i];
      let v0 = 0;
      let v1 = 0;
      let v2 = 0;
      if (l >= 0 && r >= 0 && top >= 0 && bottom >= 0) {
        const o = top + l;
        const u = bottom + l;
        v0 = mix(sd[o + c0], sd[o + c + c0], sd[u + c0], sd[u + c + c0], ax, ay);
        v1 = mix(sd[o + c1], sd[o + c + c1], sd[u + c1], sd[u + c + c1], ax, ay);
        v2 = mix(sd[o + c2], sd[o + c + c2], sd[u + c2], sd[u + c + c2], ax, ay);
      } else if (l >= 0 || r >= 0) {
        // Taps outside the image weigh 0, as in the general loop's border branch.
        const wx0 = l >= 0 ? 1 - ax : 0;
        const wx1 = r >= 0 ? ax : 0;
        const wy0 = top >= 0 ? 1 - ay : 0;
        const wy1 = bottom >= 0 ? ay : 0;
        const w00 = wx0 * wy0;
        const w01 = wx1 * wy0;
        const w10 = wx0 * wy1;
        const w11 = wx1 * wy1;
        const t = top >= 0 ? top : 0;
        const b = bottom >= 0 ? bottom : 0;
        const x0 = l >= 0 ? l : 0;
        const x1 = r >= 0 ? r : 0;
        v0 = sd[t + x0 + c0] * w00 + sd[t + x1 + c0] * w01 + sd[b + x0 + c0] * w10 + sd[b + x1 + c0] * w11;
        v1 = sd[t + x0 + c1] * w00 + sd[t + x1 + c1] * w01 + sd[b + x0 + c1] * w10 + sd[b + x1 + c1] * w11;
        v2 = sd[t + x0 + c2] * w00 + sd[t + x1 + c2] * w01 + sd[b + x0 + c2] * w10 + sd[b + x1 + c2] * w11;
      }
      dst[p] = v0 * s0 + o0;
      dst[p + cs] = v1 * s1 + o1;
      dst[p + 2 * cs] = v2 * s2 + o2;
    }
  }
}
