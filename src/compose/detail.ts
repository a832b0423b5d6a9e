/**
 * Detail matching: a source photo sharper than the target would paint crisp pores and grain onto
 * a soft face (a video frame, a distant face). The fine detail of the painted face and of the
 * target's face under it are compared, and the painted face is blurred until they about agree.
 */

import { boxBlurFast } from '../core/filters.js';
import type { Image } from '../core/image.js';
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
export function detailLevel(image: Image, mask: Float32Array, scratch: ScratchBuffers): number {
  const { width: w, height: h, channels: ch, data } = image;
  const g = ch === 1 ? 0 : 1;
  const luma = scratch.floats('detailLuma', w * h);
  for (let i = 0, p = 0; i < w * h; i++, p += ch) luma[i] = data[p] * 0.299 + data[p + g] * 0.587 + data[p + 2 * g] * 0.114;
  let sum = 0;
  let count = 0;
  let mean = 0;
  let square = 0;
  for (let y = 1; y < h - 1; y += 2) {
    for (let x = 1, i = y * w + 1; x < w - 1; x += 2, i += 2) {
      if (mask[i] < 0.9) continue;
      const c = luma[i];
      sum += Math.abs(4 * c - luma[i - 1] - luma[i + 1] - luma[i - w] - luma[i + w]);
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
 * (the target under it, same size) inside `mask`. A Gaussian of sigma σ roughly divides the
 * detail measure by sqrt(1 + (σ/0.5)²) at these scales. Returns the sigma used (0: untouched).
 */
export function matchDetail(patch: Image, background: Image, mask: Float32Array, scratch: ScratchBuffers): number {
  const ratio = detailLevel(patch, mask, scratch) / Math.max(1e-3, detailLevel(background, mask, scratch));
  if (!(ratio > MIN_RATIO)) return 0;
  const sigma = Math.min(MAX_SIGMA, 0.5 * Math.sqrt(ratio * ratio - 1));
  const { width: w, height: h, channels: c, data } = patch;
  const rgb = scratch.floats('detailRgb', w * h * 3);
  for (let i = 0; i < w * h; i++) for (let k = 0; k < 3; k++) rgb[3 * i + k] = data[c * i + k];
  boxBlurFast(rgb, w, h, 3, sigma, rgb, scratch.floats('detailScratch', w * h * 6));
  for (let i = 0; i < w * h; i++) for (let k = 0; k < 3; k++) data[c * i + k] = rgb[3 * i + k];
  return sigma;
}
