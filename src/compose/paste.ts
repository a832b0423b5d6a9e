/**
 * Paste a swapped face back into the frame. {@link Compositor.compose} is the one entry point: it
 * pastes any FacePatch by the strategy the patch names ('insightface-reference' goes to
 * reference-paste.ts, 'facefusion' to facefusion-paste.ts). The 'feathered' strategy lives here: colour match, sharpen, then a
 * multiband blend under the feathered mask, all within the face's neighbourhood; nothing outside
 * it is touched.
 *
 * The blend is Burt–Adelson's with its finest band alpha-blended: out = bg + M·d + up(R − M½·d½),
 * where d = fg − bg, d½ and M½ are d and the mask at half resolution, and R is the Laplacian-
 * pyramid blend of d½ under M½. Low frequencies cross the seam under ever wider masks (no visible
 * edge), the finest band follows the feathered mask. A mask of ones gives fg, of zeros gives bg.
 *
 * The patch may be at a lower working resolution than the frame (SwapPatch.factor). Everything is
 * computed there; only the final mix runs per frame pixel, with the mask, face and correction
 * interpolated bilinearly, so the target keeps its full resolution wherever the mask is zero.
 */

import { PyramidBlender } from '../core/blend.js';
import { cropImage, type Image, type Rect } from '../core/image.js';
import { downsampleField, downsampleImage, upsampleField, upsampleRows } from '../core/resample.js';
import { ScratchBuffers } from '../core/scratch.js';
import { simdKernels } from '../core/simd-kernels.js';
import { unsharpMaskRegion } from '../core/sharpen.js';
import type { ComposeTimings, FacePatch, SwapPatch, SwapSettings } from './patch.js';
import { matchColour } from './color-match.js';
import { matchDetail } from './detail.js';
import { pasteFaceFusion } from './facefusion-paste.js';
import { InsightfacePaster } from './insightface-paste.js';
import { pasteReference } from './reference-paste.js';

export type { ComposeTimings } from './patch.js';

/** Pyramid depth: coarse enough to hide the seam, shallow enough not to bleed colour past it. */
function pyramidLevels(faceSize: number): number {
  return Math.max(2, Math.min(6, Math.floor(Math.log2(faceSize / 8))));
}

/**
 * Bounding box (local coordinates) of the mask's non-zero pixels, or undefined when it is empty;
 * with `spans` (2·h entries), each row's first and end column of them too (0, 0 for none).
 */
function nonZeroBounds(mask: Float32Array, w: number, h: number, spans?: Int32Array): Rect | undefined {
  let x0 = w,
    y0 = h,
    x1 = 0,
    y1 = 0;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let first = 0;
    while (first < w && !(mask[row + first] > 0)) first++;
    if (first === w) {
      if (spans) spans[2 * y] = spans[2 * y + 1] = 0;
      continue;
    }
    let end = w;
    while (!(mask[row + end - 1] > 0)) end--;
    if (spans) {
      spans[2 * y] = first;
      spans[2 * y + 1] = end;
    }
    if (first < x0) x0 = first;
    if (end > x1) x1 = end;
    if (y < y0) y0 = y;
    y1 = y + 1;
  }
  return x1 > x0 ? { x0, y0, x1, y1 } : undefined;
}

/** Owns the reusable blend buffers of one stream; not shared between streams. */
export class Compositor {
  private blender: PyramidBlender | undefined;
  private readonly scratch = new ScratchBuffers();
  private readonly paster = new InsightfacePaster();
  /** Per patch row, the first and end column of the mask's non-zero run. */
  private spans = new Int32Array(0);

  /** Pastes `patch` into `frame` in place, by its strategy; `timings` (ms) is added to when given. */
  compose(frame: Image, patch: FacePatch, settings: SwapSettings, timings?: ComposeTimings): void {
    switch (patch.strategy) {
      case 'feathered':
        return this.feathered(frame, patch, settings, timings);
      case 'insightface-reference':
        return pasteReference(frame, patch, settings, timings, this.paster);
      case 'facefusion':
        return pasteFaceFusion(frame, patch, settings, timings);
    }
  }

  /** The feathered multiband blend of a {@link SwapPatch}. */
  feathered(frame: Image, patch: SwapPatch, settings: SwapSettings, timings?: ComposeTimings): void {
    const { rect, factor } = patch;
    const w = patch.pixels.width;
    const h = patch.pixels.height;
    let t = performance.now();
    if (this.spans.length < 2 * h) this.spans = new Int32Array(2 * h);
    const active = w > 0 && h > 0 && settings.opacity * (settings.masks?.strength ?? 1) > 0 ? nonZeroBounds(patch.mask, w, h, this.spans) : undefined;
    if (!active) return; // nothing of the face shows
    // The target at the working resolution: what colours are matched to and blended against.
    const background =
      factor === 1
        ? cropImage(frame, rect, this.scratch.bytes('background', w * h * frame.channels))
        : downsampleImage(frame, rect.x0, rect.y0, rect.x1 - rect.x0, rect.y1 - rect.y0, factor, this.scratch.bytes('background', w * h * frame.channels));
    const local = { x0: 0, y0: 0, x1: w, y1: h };
    if (patch.matchDetail) matchDetail(patch.pixels, background, patch.detailMask ?? patch.mask, this.scratch, active);
    // The blend reads the face only where its mask is non-zero, so only those runs need colour;
    // sharpening reads their neighbours too, and then the whole box is done.
    const spans = settings.sharpness > 0 ? undefined : this.spans;
    if (settings.colorMatch) matchColour(patch.pixels, background, local, patch.statsMask, patch.faceSize, active, patch.complexion, patch.lightingScale, spans);
    if (timings) timings.colour += performance.now() - t;

    t = performance.now();
    if (settings.sharpness > 0) unsharpMaskRegion(patch.pixels, active, settings.sharpness * 0.5, Math.max(0.8, patch.faceSize / 200));
    const levels = pyramidLevels(patch.faceSize);
    // The coarse bands reach about 2^levels working pixels past the mask; beyond that nothing changes.
    const reach = 1 << levels;
    const work = { x0: Math.max(0, active.x0 - reach), y0: Math.max(0, active.y0 - reach), x1: Math.min(w, active.x1 + reach), y1: Math.min(h, active.y1 + reach) };
    // Mask strength (region-mask.ts) scales the mask as opacity does.
    this.blendInto(frame, patch, background, work, settings.opacity * (settings.masks?.strength ?? 1), levels);
    if (timings) timings.blend += performance.now() - t;
  }

  /**
   * Over `work` (working coordinates): the mask, the face minus the background, and the
   * low-frequency correction of the multiband blend; then mixed into the frame at its resolution.
   */
  private blendInto(frame: Image, patch: SwapPatch, background: Image, work: Rect, opacity: number, levels: number): void {
    const ww = work.x1 - work.x0;
    const wh = work.y1 - work.y0;
    const w = patch.pixels.width;
    const pc = patch.pixels.channels;
    const bc = background.channels;
    const pd = patch.pixels.data;
    const bd = background.data;
    const pm = patch.mask;
    // Grey frames take the mean of the colour difference.
    const g = bc === 1 ? 0 : 1;
    const b = bc === 1 ? 0 : 2;
    const diff = this.scratch.floats('diff', ww * wh * 3);
    const mask = this.scratch.floats('mask', ww * wh);
    for (let y = 0; y < wh; y++) {
      let pi = (work.y0 + y) * w + work.x0;
      for (let o = y * ww, end = o + ww; o < end; o++, pi++) {
        const m = pm[pi] * opacity;
        mask[o] = m;
        if (m <= 0) continue;
        const p = pi * pc;
        const q = pi * bc;
        diff[3 * o] = pd[p] - bd[q];
        diff[3 * o + 1] = pd[p + 1] - bd[q + g];
        diff[3 * o + 2] = pd[p + 2] - bd[q + b];
      }
    }
    const hw = Math.ceil(ww / 2);
    const hh = Math.ceil(wh / 2);
    const diffHalf = downsampleField(diff, ww, wh, 3, 2, this.scratch.floats('diffHalf', hw * hh * 3));
    const maskHalf = downsampleField(mask, ww, wh, 1, 2, this.scratch.floats('maskHalf', hw * hh));
    const half = { width: hw, height: hh, channels: 3 };
    const blended = this.halfBlender(hw, hh, levels - 1).blend({ ...half, data: diffHalf }, { ...half, data: this.scratch.floats('zeros', hw * hh * 3) }, maskHalf, {
      ...half,
      data: this.scratch.floats('blended', hw * hh * 3),
    }).data;
    for (let i = 0; i < hw * hh; i++) {
      const m = maskHalf[i];
      blended[3 * i] -= m * diffHalf[3 * i];
      blended[3 * i + 1] -= m * diffHalf[3 * i + 1];
      blended[3 * i + 2] -= m * diffHalf[3 * i + 2];
    }
    const correction = upsampleField(blended, 2, ww, wh, this.scratch.floats('correction', ww * wh * 3), 3);
    if (patch.faceMask) holdCorrection(correction, patch.faceMask, pm, w, work);

    const f = patch.factor;
    const x0 = patch.rect.x0 + work.x0 * f;
    const y0 = patch.rect.y0 + work.y0 * f;
    const fw = Math.min(patch.rect.x1, patch.rect.x0 + work.x1 * f) - x0;
    const fh = Math.min(patch.rect.y1, patch.rect.y0 + work.y1 * f) - y0;
    if (f === 1) {
      mix(frame, x0, y0, fw, fh, mask, diff, correction);
      return;
    }
    // At frame resolution the face colour is interpolated, not the difference: the difference
    // holds the low-resolution background, whose blur would show inside the face. With
    // A = m·face + c the mix is frame·(1 − m) + A, so four channels (m, A) are enough.
    const fields = this.scratch.floats('fields', ww * wh * 4);
    for (let y = 0; y < wh; y++) {
      let q = ((work.y0 + y) * w + work.x0) * bc;
      for (let i = y * ww, end = i + ww; i < end; i++, q += bc) {
        const m = mask[i];
        fields[4 * i] = m;
        fields[4 * i + 1] = m * (bd[q] + diff[3 * i]) + correction[3 * i];
        fields[4 * i + 2] = m * (bd[q + g] + diff[3 * i + 1]) + correction[3 * i + 1];
        fields[4 * i + 3] = m * (bd[q + b] + diff[3 * i + 2]) + correction[3 * i + 2];
      }
    }
    const kernels = frame.channels === 1 ? undefined : simdKernels();
    if (kernels) kernels.upsampleMix(fields, f, frame, x0, y0, fw, fh);
    else upsampleRows(fields, f, fw, fh, 4, (y, row) => mixRow(frame, x0, y0 + y, fw, row));
  }

  private halfBlender(width: number, height: number, levels: number): PyramidBlender {
    const b = this.blender;
    if (b && b.width === width && b.height === height && b.levels === Math.max(1, levels)) return b;
    this.blender = new PyramidBlender(width, height, 3, Math.max(1, levels));
    return this.blender;
  }
}

/**
 * Where the partial-swap, box and occlusion masks cut the face's own mask and leave the target (the
 * patch mask m under a quarter), the low-frequency correction fades out: c·(1 − h) with
 * h = min(1, 4·(face − m))·(1 − min(1, 4m)). Where nothing was cut (the face's outline) h is 0, so
 * the outer seam stays hidden as before.
 */
function holdCorrection(correction: Float32Array, face: Float32Array, mask: Float32Array, w: number, work: Rect): void {
  const ww = work.x1 - work.x0;
  for (let y = work.y0; y < work.y1; y++) {
    for (let x = work.x0; x < work.x1; x++) {
      const i = y * w + x;
      const hold = Math.min(1, 4 * (face[i] - mask[i])) * (1 - Math.min(1, 4 * mask[i]));
      if (hold <= 0) continue;
      const o = 3 * ((y - work.y0) * ww + x - work.x0);
      correction[o] *= 1 - hold;
      correction[o + 1] *= 1 - hold;
      correction[o + 2] *= 1 - hold;
    }
  }
}

/** frame += m·d + c over a fw×fh region at (x0, y0), at full resolution: d = face − frame, given. */
function mix(frame: Image, x0: number, y0: number, fw: number, fh: number, mask: Float32Array, diff: Float32Array, correction: Float32Array): void {
  const fc = frame.channels;
  const fd = frame.data;
  for (let y = 0; y < fh; y++) {
    let fi = ((y0 + y) * frame.width + x0) * fc;
    for (let o = y * fw, end = o + fw; o < end; o++, fi += fc) {
      const m = mask[o];
      const r = m * diff[3 * o] + correction[3 * o];
      const g = m * diff[3 * o + 1] + correction[3 * o + 1];
      const b = m * diff[3 * o + 2] + correction[3 * o + 2];
      if (fc === 1) {
        fd[fi] += (r + g + b) / 3;
      } else {
        fd[fi] += r;
        fd[fi + 1] += g;
        fd[fi + 2] += b;
      }
    }
  }
}

/** One frame row from the interpolated 4-channel field (m, A): frame = frame·(1 − m) + A. */
function mixRow(frame: Image, x0: number, y: number, fw: number, row: Float32Array): void {
  const fc = frame.channels;
  const fd = frame.data;
  let fi = (y * frame.width + x0) * fc;
  for (let p = 0, end = 4 * fw; p < end; p += 4, fi += fc) {
    const keep = 1 - row[p];
    if (fc === 1) {
      fd[fi] = fd[fi] * keep + (row[p + 1] + row[p + 2] + row[p + 3]) / 3;
    } else {
      fd[fi] = fd[fi] * keep + row[p + 1];
      fd[fi + 1] = fd[fi + 1] * keep + row[p + 2];
      fd[fi + 2] = fd[fi + 2] * keep + row[p + 3];
    }
  }
}
