/**
 * FaceFusion's paste for the face enhancers (spec F7.1–F7.5 and F8.5–F8.6): the enhanced crop is
 * warped back into the smallest frame rectangle its corners cover (BORDER_REPLICATE), blended
 * there under its crop mask warped alike (constant 0) with float arithmetic and truncation, and the
 * result mixed with the frame as it was by cv2.addWeighted at the enhancer blend. The box mask is
 * FaceFusion's (F9.1–F9.3) with zero padding, which every enhancement uses. The swappers' FaceFusion
 * paste (facefusion-paste.ts) is the same warp and blend without the final mix.
 */

import { applyAffine, invertAffine, type Affine } from '../core/affine.js';
import { gaussianBlur, gaussianKsize } from '../core/filters.js';
import type { FloatImage, Image } from '../core/image.js';
import { warpAffine } from '../core/warp.js';

/** FaceFusion's face_mask_blur default. */
export const ENHANCER_BOX_BLUR = 0.3;

/**
 * F9.1–F9.3 on a w×h crop with zero padding: ones, a border of z = max(b // 2, 1) zeroed on each
 * side (b = int(w·0.5·blur)), then a Gaussian of σ = 0.25·b when b > 0 (float32 kernel size).
 */
export function enhancerBoxMask(width: number, height: number, blur = ENHANCER_BOX_BLUR): Float32Array {
  const b = Math.trunc(width * 0.5 * blur);
  const z = Math.max(Math.trunc(b / 2), 1);
  const mask = new Float32Array(width * height);
  for (let y = z; y < height - z; y++) mask.fill(1, y * width + z, y * width + width - z);
  if (b <= 0) return mask;
  const sigma = 0.25 * b;
  return gaussianBlur(mask, width, height, 1, gaussianKsize(sigma), sigma);
}

/** F7.1: the frame rectangle the crop's corners cover under IM, floor/ceil, clipped to the frame. */
export function pasteRect(matrix: Affine, width: number, height: number, frameWidth: number, frameHeight: number): { x1: number; y1: number; x2: number; y2: number } {
  const im = invertAffine(matrix);
  const corners = [applyAffine(im, 0, 0), applyAffine(im, width, 0), applyAffine(im, width, height), applyAffine(im, 0, height)];
  const xs = corners.map((p) => p[0]);
  const ys = corners.map((p) => p[1]);
  const clip = (v: number, max: number): number => Math.min(max, Math.max(0, v));
  return {
    x1: clip(Math.floor(Math.min(...xs)), frameWidth),
    y1: clip(Math.floor(Math.min(...ys)), frameHeight),
    x2: clip(Math.ceil(Math.max(...xs)), frameWidth),
    y2: clip(Math.ceil(Math.max(...ys)), frameHeight),
  };
}

/** F7.1–F7.4: the frame rectangle a crop covers, its mask (0..1) and the crop warped into it. */
export interface WarpedBack {
  readonly rect: { x0: number; y0: number; x1: number; y1: number };
  /** (x1 − x0)×(y1 − y0) weights, clipped to 0..1 (F7.3). */
  readonly mask: Float32Array;
  /** The crop warped into the rectangle, edges replicated (F7.4). */
  readonly pixels: Image;
}

/**
 * F7.1–F7.4: `crop` (aligned by `matrix`, frame → crop in OpenCV's convention) and its `mask`
 * (crop-sized, 0..1) warped back into the smallest frame rectangle the crop's corners cover;
 * undefined when that rectangle is empty (the crop lies off the frame).
 */
export function warpBack(frame: Image, crop: Image, matrix: Affine, mask: Float32Array): WarpedBack | undefined {
  const { x1, y1, x2, y2 } = pasteRect(matrix, crop.width, crop.height, frame.width, frame.height);
  const w = x2 - x1;
  const h = y2 - y1;
  if (w <= 0 || h <= 0) return undefined;
  const im = invertAffine(matrix);
  // F7.2: IM with its translation reduced by (x1, y1).
  const p: Affine = [im[0], im[1], im[2] - x1, im[3], im[4], im[5] - y1];
  const maskImage: FloatImage = { width: crop.width, height: crop.height, channels: 1, data: mask };
  const m = warpAffine(maskImage, p, w, h, { border: 'constant', borderValue: 0 }).data;
  for (let i = 0; i < m.length; i++) m[i] = Math.min(1, Math.max(0, m[i]!));
  return { rect: { x0: x1, y0: y1, x1: x2, y1: y2 }, mask: m, pixels: warpAffine(crop, p, w, h, { border: 'replicate' }) };
}

/**
 * F7.5 and F8.6: the warped crop blended into `frame` in place under its mask (float, truncated),
 * then `blend` (0..1) of that kept over the frame as it was (cv2.addWeighted, rounded). Only the
 * rectangle changes; an RGBA frame keeps its alpha.
 */
export function blendBack(frame: Image, back: WarpedBack, blend = 1): void {
  if (blend <= 0) return;
  const { rect, mask, pixels } = back;
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  const c = frame.channels;
  const fc = pixels.channels;
  const d = frame.data;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const a = mask[y * w + x]!;
      if (a === 0) continue;
      const fi = ((y + rect.y0) * frame.width + x + rect.x0) * c;
      const ci = (y * w + x) * fc;
      for (let k = 0; k < 3; k++) {
        const t = d[fi + k]!;
        const pasted = Math.trunc(t * (1 - a) + pixels.data[ci + k]! * a);
        d[fi + k] = blend >= 1 ? pasted : Math.round(t * (1 - blend) + pasted * blend);
      }
    }
  }
}

/**
 * Pastes `crop` (RGB, aligned by `matrix`, frame → crop in OpenCV's convention) into `frame` in
 * place under `mask` (crop-sized, 0..1), then keeps `blend` (0..1) of the pasted result over the
 * frame as it was (F8.6). Only the covered rectangle changes; an RGBA frame keeps its alpha.
 */
export function pasteEnhanced(frame: Image, crop: Image, matrix: Affine, mask: Float32Array, blend: number): void {
  if (blend <= 0) return;
  const back = warpBack(frame, crop, matrix, mask);
  if (back) blendBack(frame, back, blend);
}
