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
