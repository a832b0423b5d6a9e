/**
 * Paste a swapped face back into the frame: colour match, sharpen, then a Laplacian-pyramid blend
 * under the feathered mask, all within the patch's rectangle; nothing outside it is touched.
 */

import { laplacianPyramidBlend } from '../core/blend.js';
import { createFloatImage, toFloatImage, writeFloatImage, type Image, type Rect } from '../core/image.js';
import { unsharpMask } from '../core/sharpen.js';
import type { SwapPatch, SwapSettings } from '../swap/engine.js';
import { matchColour } from './color-match.js';

export interface ComposeTimings {
  colour: number;
  blend: number;
}

/** Pyramid depth: coarse enough to hide the seam, shallow enough not to bleed colour past it. */
function pyramidLevels(faceSize: number): number {
  return Math.max(2, Math.min(6, Math.floor(Math.log2(faceSize / 8))));
}

/** Bounding box (local coordinates) of the mask's non-zero pixels, or undefined when it is empty. */
function nonZeroBounds(mask: Float32Array, w: number, h: number): Rect | undefined {
  let x0 = w, y0 = h, x1 = 0, y1 = 0;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      if (mask[row + x] > 0) {
        if (x < x0) x0 = x;
        if (x >= x1) x1 = x + 1;
        if (y < y0) y0 = y;
        y1 = y + 1;
      }
    }
  }
  return x1 > x0 ? { x0, y0, x1, y1 } : undefined;
}

export function composeFace(frame: Image, patch: SwapPatch, settings: SwapSettings, timings?: ComposeTimings): void {
  const { rect } = patch;
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  if (w <= 0 || h <= 0) return;
  let t = performance.now();
  const active = nonZeroBounds(patch.mask, w, h);
  if (!active) return; // nothing of the face is visible (or opacity made it so)
  if (settings.colorMatch) matchColour(patch.pixels, frame, rect, patch.statsMask, patch.faceSize, active);
  if (timings) timings.colour += performance.now() - t;

  t = performance.now();
  const c = frame.channels;
  const bg = toFloatImage(frame, rect);
  const fg = createFloatImage(w, h, c);
  const mask = new Float32Array(w * h);
  const p = patch.pixels.data;
  const pc = patch.pixels.channels;
  for (let i = 0; i < w * h; i++) {
    const m = patch.mask[i] * settings.opacity;
    mask[i] = m;
    // Outside the mask the foreground is the background itself, so the pyramid's coarse levels
    // cannot pull anything foreign across the seam.
    for (let k = 0; k < c; k++) fg.data[i * c + k] = m > 0 && k < 3 && c !== 1 ? p[i * pc + k] : bg.data[i * c + k];
  }
  if (settings.sharpness > 0) unsharpMask(fg, settings.sharpness * 0.5, Math.max(0.8, patch.faceSize / 200), { out: fg });
  const out = laplacianPyramidBlend(fg, bg, mask, pyramidLevels(patch.faceSize));
  writeFloatImage(frame, out, rect.x0, rect.y0);
  if (timings) timings.blend += performance.now() - t;
}
