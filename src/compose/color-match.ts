/**
 * Colour and lighting transfer from the target face to the swapped face, in CIE-LAB: the swapped
 * skin takes the target skin's mean and spread per channel, then the target's low-frequency
 * shading (its lighting) replaces the source's, as a ratio of heavily blurred lightness.
 */

import { labToRgb, meanStd, rgbToLab } from '../core/color.js';
import { boxBlurFast } from '../core/filters.js';
import type { Image, Rect } from '../core/image.js';

/** Fewer skin pixels than this and the statistics are noise: leave the colours alone. */
const MIN_WEIGHT = 64;

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Recolour `patch` (rect-sized, modified in place) to match `frame` inside `rect`.
 * `weights` (rect-sized, 0..1) selects the skin both statistics are taken from.
 */
export function matchColour(patch: Image, frame: Image, rect: Rect, weights: Float32Array, faceSize: number): void {
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  const local = { x0: 0, y0: 0, x1: w, y1: h };
  const fg = rgbToLab(patch, local);
  const bg = rgbToLab(frame, rect);
  const n = w * h;
  const f = fg.data;
  const b = bg.data;

  for (let c = 0; c < 3; c++) {
    const fs = meanStd(fg, c, weights);
    const bs = meanStd(bg, c, weights);
    if (fs.weight < MIN_WEIGHT || bs.weight < MIN_WEIGHT) return;
    const gain = clamp(bs.std / Math.max(fs.std, 1e-3), 0.5, 2);
    for (let i = 0; i < n; i++) f[3 * i + c] = (f[3 * i + c] - fs.mean) * gain + bs.mean;
  }

  // Normalised convolution of lightness under the skin mask: the blur of L·w over the blur of w
  // is the local mean lightness of skin only, unaffected by hair, background or the openings.
  const sigma = Math.max(2, faceSize / 10);
  const weighted = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    weighted[3 * i] = f[3 * i] * weights[i];
    weighted[3 * i + 1] = b[3 * i] * weights[i];
    weighted[3 * i + 2] = weights[i];
  }
  const blurred = boxBlurFast(weighted, w, h, 3, sigma);
  for (let i = 0; i < n; i++) {
    const fgShade = blurred[3 * i];
    const bgShade = blurred[3 * i + 1];
    if (blurred[3 * i + 2] < 1e-3 || fgShade < 1e-3) continue;
    f[3 * i] *= clamp(bgShade / fgShade, 0.6, 1.6);
  }
  labToRgb(fg, patch, local);
}
