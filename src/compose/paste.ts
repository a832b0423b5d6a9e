/**
 * Paste a swapped face back into the frame: colour match, sharpen, then a multiband blend under
 * the feathered mask, all within the face's neighbourhood; nothing outside it is touched.
 *
 * The blend is Burt–Adelson's with its finest band alpha-blended: out = bg + M·d + up(R − M½·d½),
 * where d = fg − bg, d½ and M½ are d and the mask at half resolution, and R is the Laplacian-
 * pyramid blend of d½ under M½. Low frequencies cross the seam under ever wider masks (no visible
 * edge), the finest band follows the feathered mask, and only one pass of full-resolution work is
 * needed besides the difference itself. A mask of ones gives fg, a mask of zeros gives bg.
 */

import { PyramidBlender } from '../core/blend.js';
import type { Image, Rect } from '../core/image.js';
import { downsampleField, upsampleField } from '../core/resample.js';
import { unsharpMaskRegion } from '../core/sharpen.js';
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

/** Owns the reusable blend buffers of one stream; not shared between streams. */
export class Compositor {
  private blender: PyramidBlender | undefined;
  private zeros = new Float32Array(0);

  compose(frame: Image, patch: SwapPatch, settings: SwapSettings, timings?: ComposeTimings): void {
    const { rect } = patch;
    const w = rect.x1 - rect.x0;
    const h = rect.y1 - rect.y0;
    let t = performance.now();
    const active = w > 0 && h > 0 && settings.opacity > 0 ? nonZeroBounds(patch.mask, w, h) : undefined;
    if (!active) return; // nothing of the face shows
    if (settings.colorMatch) matchColour(patch.pixels, frame, rect, patch.statsMask, patch.faceSize, active);
    if (timings) timings.colour += performance.now() - t;

    t = performance.now();
    if (settings.sharpness > 0) unsharpMaskRegion(patch.pixels, active, settings.sharpness * 0.5, Math.max(0.8, patch.faceSize / 200));
    const levels = pyramidLevels(patch.faceSize);
    // The coarse bands reach about 2^levels pixels past the mask; beyond that nothing changes.
    const reach = 1 << levels;
    const work = {
      x0: Math.max(0, active.x0 - reach),
      y0: Math.max(0, active.y0 - reach),
      x1: Math.min(w, active.x1 + reach),
      y1: Math.min(h, active.y1 + reach),
    };
    this.blendInto(frame, patch, work, settings.opacity, levels);
    if (timings) timings.blend += performance.now() - t;
  }

  private blendInto(frame: Image, patch: SwapPatch, work: Rect, opacity: number, levels: number): void {
    const ww = work.x1 - work.x0;
    const wh = work.y1 - work.y0;
    const pw = patch.rect.x1 - patch.rect.x0;
    const fc = frame.channels;
    const pc = patch.pixels.channels;
    const fd = frame.data;
    const pd = patch.pixels.data;
    const pm = patch.mask;
    // Grey frames take the mean of the colour difference.
    const g = fc === 1 ? 0 : 1;
    const b = fc === 1 ? 0 : 2;
    const diff = new Float32Array(ww * wh * 3);
    const mask = new Float32Array(ww * wh);
    for (let y = 0; y < wh; y++) {
      let pi = (work.y0 + y) * pw + work.x0;
      let fi = ((patch.rect.y0 + work.y0 + y) * frame.width + patch.rect.x0 + work.x0) * fc;
      for (let o = y * ww, end = o + ww; o < end; o++, pi++, fi += fc) {
        const m = pm[pi] * opacity;
        mask[o] = m;
        if (m <= 0) continue;
        const p = pi * pc;
        diff[3 * o] = pd[p] - fd[fi];
        diff[3 * o + 1] = pd[p + 1] - fd[fi + g];
        diff[3 * o + 2] = pd[p + 2] - fd[fi + b];
      }
    }
    const hw = Math.ceil(ww / 2);
    const hh = Math.ceil(wh / 2);
    const diffHalf = downsampleField(diff, ww, wh, 3, 2);
    const maskHalf = downsampleField(mask, ww, wh, 1, 2);
    const blended = this.halfBlender(hw, hh, levels - 1).blend(
      { width: hw, height: hh, channels: 3, data: diffHalf },
      { width: hw, height: hh, channels: 3, data: this.zerosOf(hw * hh * 3) },
      maskHalf,
    ).data;
    for (let i = 0; i < hw * hh; i++) {
      const m = maskHalf[i];
      blended[3 * i] -= m * diffHalf[3 * i];
      blended[3 * i + 1] -= m * diffHalf[3 * i + 1];
      blended[3 * i + 2] -= m * diffHalf[3 * i + 2];
    }
    const corr = upsampleField(blended, 2, ww, wh, undefined, 3);
    for (let y = 0; y < wh; y++) {
      let fi = ((patch.rect.y0 + work.y0 + y) * frame.width + patch.rect.x0 + work.x0) * fc;
      for (let o = y * ww, end = o + ww; o < end; o++, fi += fc) {
        const m = mask[o];
        const r = m * diff[3 * o] + corr[3 * o];
        const gr = m * diff[3 * o + 1] + corr[3 * o + 1];
        const bl = m * diff[3 * o + 2] + corr[3 * o + 2];
        if (fc === 1) {
          fd[fi] += (r + gr + bl) / 3;
        } else {
          fd[fi] += r;
          fd[fi + 1] += gr;
          fd[fi + 2] += bl;
        }
      }
    }
  }

  private halfBlender(width: number, height: number, levels: number): PyramidBlender {
    const b = this.blender;
    if (b && b.width === width && b.height === height && b.levels === Math.max(1, levels)) return b;
    this.blender = new PyramidBlender(width, height, 3, Math.max(1, levels));
    return this.blender;
  }

  private zerosOf(length: number): Float32Array {
    if (this.zeros.length < length) this.zeros = new Float32Array(length);
    return this.zeros.subarray(0, length);
  }
}
