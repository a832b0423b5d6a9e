/**
 * I420 frames (what libwebrtc decodes to and encodes from: a Y plane, then U and V at half the
 * width and height, rounded up) to and from the engine's RGB images, BT.601 limited range as
 * {@link rgbToI420} writes them. Used by server-side sessions that take WebRTC video (WHIP) in and
 * send it back on the same connection.
 */

import { LiveswapError } from '../../core/errors.js';
import { cropImage, type Image } from '../../core/image.js';
import { readStamp, STAMP_MIN_WIDTH, stampRows, writeStamp } from '../../pipeline/frame-stamp.js';
import { rgbToI420 } from './webrtc-viewers.js';

/** One I420 frame: `data` holds width×height luma bytes, then the U and V planes of ⌈width/2⌉×⌈height/2⌉ each. */
export interface I420Frame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Bytes of an I420 frame of this size. */
export function i420Size(width: number, height: number): number {
  return width * height + 2 * ((width + 1) >> 1) * ((height + 1) >> 1);
}

/**
 * The RGB image of an I420 frame (each chroma sample spread over its 2×2 block). A frame whose
 * bytes do not match its size, or that holds more than `maxPixels`, is a `usage` error.
 */
export function i420ToImage(frame: I420Frame, maxPixels = Number.POSITIVE_INFINITY): Image {
  const { width, height, data } = frame;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new LiveswapError('usage', `A video frame of ${width}×${height} pixels cannot be read.`);
  }
  if (width * height > maxPixels) throw new LiveswapError('usage', `A video frame of ${width}×${height} is larger than the ${maxPixels} pixels a live session takes.`);
  if (data.length < i420Size(width, height)) throw new LiveswapError('usage', `A ${width}×${height} I420 frame needs ${i420Size(width, height)} bytes; it had ${data.length}.`);
  const cw = (width + 1) >> 1;
  const uBase = width * height;
  const vBase = uBase + cw * ((height + 1) >> 1);
  const out = new Uint8ClampedArray(width * height * 3);
  for (let y = 0; y < height; y++) {
    const chromaRow = (y >> 1) * cw;
    let o = y * width * 3;
    let l = y * width;
    for (let x = 0; x < width; x++) {
      const c = 298 * (data[l++]! - 16) + 128;
      const d = data[uBase + chromaRow + (x >> 1)]! - 128;
      const e = data[vBase + chromaRow + (x >> 1)]! - 128;
      // The clamped array rounds and clips each channel to 0..255.
      out[o++] = (c + 409 * e) >> 8;
      out[o++] = (c - 100 * d - 208 * e) >> 8;
      out[o++] = (c + 516 * d) >> 8;
    }
  }
  return { width, height, channels: 3, data: out };
}

/**
 * The I420 frame of an RGB or RGBA image, into `reuse` when it has the right size. Odd sides lose
 * their last row or column (libwebrtc's encoders take even sides).
 */
export function imageToI420(image: Image, reuse?: Uint8Array): I420Frame {
  const width = image.width & ~1;
  const height = image.height & ~1;
  if (width === 0 || height === 0) throw new LiveswapError('usage', `A ${image.width}×${image.height} picture is too small to send as video.`);
  const even = width === image.width && height === image.height ? image : cropImage(image, { x0: 0, y0: 0, x1: width, y1: height });
  const size = i420Size(width, height);
  const data = reuse?.length === size ? reuse : new Uint8Array(size);
  return { width, height, data: rgbToI420(even, data) };
}

/**
 * `frame` with the frame stamp `value` in {@link stampRows} rows under it (see
 * pipeline/frame-stamp.ts; the stripe's chroma is neutral; undefined: a grey stripe, no stamp),
 * into `reuse` when it has the right size. The frame's height must be even.
 */
export function stampedI420(frame: I420Frame, value: number | undefined, reuse?: Uint8Array): I420Frame {
  const { width, height, data } = frame;
  if (height % 2 !== 0 || width < STAMP_MIN_WIDTH)
    throw new LiveswapError('usage', `A ${width}×${height} picture cannot carry a frame stamp (even height, at least ${STAMP_MIN_WIDTH} wide).`);
  const tall = height + stampRows(width);
  const size = i420Size(width, tall);
  const out = reuse?.length === size ? reuse : new Uint8Array(size);
  const luma = width * height;
  out.set(data.subarray(0, luma));
  writeStamp(out.subarray(luma, width * tall), width, value);
  const cw = (width + 1) >> 1;
  const plane = cw * (height >> 1);
  const tallPlane = cw * (tall >> 1);
  for (const [from, to] of [
    [luma, width * tall],
    [luma + plane, width * tall + tallPlane],
  ] as const) {
    out.set(data.subarray(from, from + plane), to);
    out.fill(128, to + plane, to + tallPlane);
  }
  return { width, height: tall, data: out };
}

/**
 * A frame with a stamp in its last {@link stampRows} rows: the stamp (undefined when unreadable)
 * and the picture above it (a copy). A frame too small to hold one is a `usage` error.
 */
export function unstampedI420(frame: I420Frame): { picture: I420Frame; stamp: number | undefined } {
  const { width, height: tall, data } = frame;
  const height = tall - stampRows(width);
  if (height <= 0 || data.length < i420Size(width, tall)) throw new LiveswapError('usage', `A ${width}×${tall} video frame is too small to hold a frame stamp under its picture.`);
  const stamp = readStamp(data.subarray(width * height, width * tall), width, width);
  const cw = (width + 1) >> 1;
  const plane = cw * ((height + 1) >> 1);
  const tallPlane = cw * ((tall + 1) >> 1);
  const out = new Uint8Array(i420Size(width, height));
  out.set(data.subarray(0, width * height));
  out.set(data.subarray(width * tall, width * tall + plane), width * height);
  out.set(data.subarray(width * tall + tallPlane, width * tall + tallPlane + plane), width * height + plane);
  return { picture: { width, height, data: out }, stamp };
}
