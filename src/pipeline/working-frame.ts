/**
 * The working resolution of a live stream: faces are found and painted on a smaller copy of the
 * frame when the quality controller asks for one, and only the painted pixels are scaled back onto
 * the full frame, so the rest of the picture keeps its sharpness and the marks (label, watermark)
 * go on at the full size afterwards. Platform-free pixel loops on RGBA images.
 */

import type { Image } from '../core/image.js';

/** Even sides at `scale` of width×height (at least 2), so the working frame keeps the frame's shape. */
export function workingSize(width: number, height: number, scale: number): { width: number; height: number } {
  if (scale >= 1) return { width, height };
  return { width: Math.max(2, 2 * Math.round((width * scale) / 2)), height: Math.max(2, 2 * Math.round((height * scale) / 2)) };
}

/**
 * An RGBA image resampled to width×height (nearest pixel), mirrored left to right when asked;
 * written into `out` when given (width × height × 4 bytes).
 */
export function resampleRgba(image: Image, width: number, height: number, mirror = false, out?: Uint8ClampedArray): Image {
  if (image.channels !== 4) throw new Error('resampleRgba needs RGBA pixels.');
  const data = out ?? new Uint8ClampedArray(width * height * 4);
  const src = new Uint32Array(image.data.buffer, image.data.byteOffset, image.width * image.height);
  const dst = new Uint32Array(data.buffer, data.byteOffset, width * height);
  const columns = new Int32Array(width);
  for (let x = 0; x < width; x++) columns[x] = Math.min(image.width - 1, Math.floor(((mirror ? width - 1 - x : x) + 0.5) * (image.width / width)));
  for (let y = 0; y < height; y++) {
    const row = Math.min(image.height - 1, Math.floor((y + 0.5) * (image.height / height))) * image.width;
    let o = y * width;
    for (let x = 0; x < width; x++) dst[o++] = src[row + columns[x]!]!;
  }
  return { width, height, channels: 4, data };
}

/** Mirrors an RGBA image left to right, in place. */
export function mirrorRgba(image: Image): void {
  const pixels = new Uint32Array(image.data.buffer, image.data.byteOffset, image.width * image.height);
  for (let y = 0; y < image.height; y++) pixels.subarray(y * image.width, (y + 1) * image.width).reverse();
}

/**
 * Puts what was painted on the working frame back onto the full frame: every full-size pixel whose
 * working-frame neighbours were changed by the painting (`work` against `before`, the working
 * frame's pixels as they were) takes the painted picture, scaled up bilinearly; every other pixel
 * stays as it was. `full` is changed in place. Returns whether anything was painted. `changed`
 * (at least one byte per working-frame pixel, any contents) is used for the changed pixels' map
 * when given, so a stream need not allocate one per frame.
 */
export function pasteBack(full: Image, work: Image, before: Uint8ClampedArray | Uint8Array, changed = new Uint8Array(work.width * work.height)): boolean {
  const w = work.width;
  const h = work.height;
  const now = new Uint32Array(work.data.buffer, work.data.byteOffset, w * h);
  const was = new Uint32Array(before.buffer, before.byteOffset, w * h);
  let left = w;
  let right = -1;
  let top = h;
  let bottom = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0, i = y * w; x < w; x++, i++) {
      if (now[i] === was[i]) {
        changed[i] = 0;
        continue;
      }
      changed[i] = 1;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < top) top = y;
      bottom = y;
    }
  }
  if (right < 0) return false;
  const W = full.width;
  const H = full.height;
  const sx = w / W;
  const sy = h / H;
  const src = work.data;
  const dst = full.data;
  // The changed block in full-size pixels, one working pixel wider each way (the bilinear reach).
  const x0 = Math.max(0, Math.floor((left - 1) / sx));
  const x1 = Math.min(W - 1, Math.ceil((right + 2) / sx));
  const y0 = Math.max(0, Math.floor((top - 1) / sy));
  const y1 = Math.min(H - 1, Math.ceil((bottom + 2) / sy));
  for (let Y = y0; Y <= y1; Y++) {
    const fy = Math.min(h - 1, Math.max(0, (Y + 0.5) * sy - 0.5));
    const ya = Math.floor(fy);
    const yb = Math.min(h - 1, ya + 1);
    const wy = fy - ya;
    for (let X = x0; X <= x1; X++) {
      const fx = Math.min(w - 1, Math.max(0, (X + 0.5) * sx - 0.5));
      const xa = Math.floor(fx);
      const xb = Math.min(w - 1, xa + 1);
      const a = ya * w + xa;
      const b = ya * w + xb;
      const c = yb * w + xa;
      const d = yb * w + xb;
      if (!(changed[a]! | changed[b]! | changed[c]! | changed[d]!)) continue;
      const wx = fx - xa;
      const wa = (1 - wx) * (1 - wy);
      const wb = wx * (1 - wy);
      const wc = (1 - wx) * wy;
      const wd = wx * wy;
      const o = (Y * W + X) * 4;
      for (let k = 0; k < 3; k++) dst[o + k] = src[a * 4 + k]! * wa + src[b * 4 + k]! * wb + src[c * 4 + k]! * wc + src[d * 4 + k]! * wd;
    }
  }
  return true;
}
