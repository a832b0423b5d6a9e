/**
 * Detail matching: a source photo sharper than the target would paint crisp pores and grain onto
 * a soft face (a video frame, a distant face). The fine detail of the painted face and of the
 * target's face under it are compared, and the painted face is blurred until they about agree.
 */

import { boxBlurFast } from '../core/filters.js';
import type { Image, Rect } from '../core/image.js';
import type { ScratchBuffers } from '../core/scratch.js';

/** Below this ratio of detail the painted face is left as it is. */
const MIN_RATIO = 1.3;
/** The strongest blur, in working pixels: beyond it the face would lose its features. */
const MAX_SIGMA = 0.8;

/**
 * Mean |4·c − neighbours| of luma where `mask` is nearly 1 (the face's inside), over the spread
 * of luma there: fine detail relative to contrast, so a darker or flatter-lit face is not taken
 * for a softer one. Every other pixel of every other row is enough for a mean.
 */
export function detailLevel(image: Image, mask: Float32Array, scratch: ScratchBuffers, area?: Rect): number {
  const { width: w, channels: ch, data } = image;
  const { x0, y0, x1, y1 } = area ?? { x0: 0, y0: 0, x1: w, y1: image.height };
  const g = ch === 1 ? 0 : 1;
  const aw = x1 - x0;
  const luma = scratch.floats('detailLuma', aw * (y1 - y0));
  for (let y = y0, j = 0; y < y1; y++) {
    for (let x = x0, p = (y * w + x0) * ch; x < x1; x++, j++, p += ch) luma[j] = data[p] * 0.299 + data[p + g] * 0.587 + data[p + 2 * g] * 0.114;
  }
  let sum = 0;
  let count = 0;
  let mean = 0;
  let square = 0;
  for (let y = y0 + 1; y < y1 - 1; y += 2) {
    for (let x = x0 + 1; x < x1 - 1; x += 2) {
      if (mask[y * w + x] < 0.9) continue;
      const j = (y - y0) * aw + x - x0;
      const c = luma[j];
      sum += Math.abs(4 * c - luma[j - 1] - luma[j + 1] - luma[j - aw] - luma[j + aw]);
      mean += c;
      square += c * c;
      count++;
    }
  }
  if (count === 0) return 0;
  const spread = Math.sqrt(Math.max(0, square / count - (mean / count) ** 2));
  return sum / count / Math.max(4, spread);
}

/**
 * Blurs `patch` (RGB or RGBA, in place) when it holds clearly more fine detail than `background`
 * (the target under it, same size) inside `mask`, working only over `area` (where the mask is
 * non-zero) when given. A Gaussian of sigma σ roughly divides the detail measure by
 * sqrt(1 + (σ/0.5)²) at these scales. Returns the sigma used (0: untouched).
 */
export function matchDetail(patch: Image, background: Image, mask: Float32Array, scratch: ScratchBuffers, area?: Rect): number {
  const ratio = detailLevel(patch, mask, scratch, area) / Math.max(1e-3, detailLevel(background, mask, scratch, area));
  if (!(ratio > MIN_RATIO)) return 0;
  const sigma = Math.min(MAX_SIGMA, 0.5 * Math.sqrt(ratio * ratio - 1));
  const { width: w, channels: c, data } = patch;
  const { x0, y0, x1, y1 } = area ?? { x0: 0, y0: 0, x1: w, y1: patch.height };
  const aw = x1 - x0;
  const ah = y1 - y0;
  const rgb = scratch.floats('detailRgb', aw * ah * 3);
  for (let y = 0, j = 0; y < ah; y++)
    for (let x = 0, p = ((y0 + y) * w + x0) * c; x < aw; x++, j += 3, p += c) {
      rgb[j] = data[p];
      rgb[j + 1] = data[p + 1];
      rgb[j + 2] = data[p + 2];
    }
  boxBlurFast(rgb, aw, ah, 3, sigma, rgb, scratch.floats('detailScratch', aw * ah * 6));
  for (let y = 0, j = 0; y < ah; y++)
    for (let x = 0, p = ((y0 + y) * w + x0) * c; x < aw; x++, j += 3, p += c) {
      data[p] = rgb[j];
      data[p + 1] = rgb[j + 1];
      data[p + 2] = rgb[j + 2];
    }
  return sigma;
}
