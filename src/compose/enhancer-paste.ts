/**
 * FaceFusion's paste for the face enhancers (spec F7.1–F7.5 and F8.5–F8.6): the enhanced crop is
 * warped back into the smallest frame rectangle its corners cover (BORDER_REPLICATE), blended
 * there under its crop mask warped alike (constant 0) with float arithmetic and truncation, and the
 * result mixed with the frame as it was by cv2.addWeighted at the enhancer blend. The box mask is
 * FaceFusion's (F9.1–F9.3) with zero padding, which every enhancement uses.
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

/**
 * Pastes `crop` (RGB, aligned by `matrix`, frame → crop in OpenCV's convention) into `frame` in
 * place under `mask` (crop-sized, 0..1), then keeps `blend` (0..1) of the pasted result over the
 * frame as it was (F8.6). Only the covered rectangle changes; an RGBA frame keeps its alpha.
 */
export function pasteEnhanced(frame: Image, crop: Image, matrix: Affine, mask: Float32Array, blend: number): void {
  const { x1, y1, x2, y2 } = pasteRect(matrix, crop.width, crop.height, frame.width, frame.height);
  const w = x2 - x1;
  const h = y2 - y1;
  if (w <= 0 || h <= 0 || blend <= 0) return;
  const im = invertAffine(matrix);
  // F7.2: IM with its translation reduced by (x1, y1).
  const p: Affine = [im[0], im[1], im[2] - x1, im[3], im[4], im[5] - y1];
  const maskImage: FloatImage = { width: crop.width, height: crop.height, channels: 1, data: mask };
  const m = warpAffine(maskImage, p, w, h, { border: 'constant', borderValue: 0 });
  const f = warpAffine(crop, p, w, h, { border: 'replicate' });
  const c = frame.channels;
  const fc = crop.channels;
  const d = frame.data;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const a = Math.min(1, Math.max(0, m.data[y * w + x]!));
      if (a === 0) continue;
      const fi = ((y + y1) * frame.width + x + x1) * c;
      const ci = (y * w + x) * fc;
      for (let k = 0; k < 3; k++) {
        const t = d[fi + k]!;
        // F7.5: float blend, truncated; F8.6: addWeighted with the frame as it was, rounded.
        const pasted = Math.trunc(t * (1 - a) + f.data[ci + k]! * a);
        d[fi + k] = Math.round(t * (1 - blend) + pasted * blend);
      }
    }
  }
}
