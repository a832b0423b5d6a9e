/**
 * The 'insightface-reference' paste strategy: insightface 0.7.3's paste-back (insightface-paste.ts,
 * spec §6.3) with Deep-Live-Cam's options. With the options at their defaults (no mouth mask, no
 * colour match, opacity 1, sharpness 0) the pixels are the reference's; the options only reshape
 * the warped crop or the blend mask, and the mouth mask follows Deep-Live-Cam (mouth-mask.ts).
 */

import { toRgba, type Image } from '../core/image.js';
import { unsharpMaskRegion } from '../core/sharpen.js';
import { faceSize } from '../face/face.js';
import { matchColour } from './color-match.js';
import { buildFaceMasks } from './face-mask.js';
import { blendTruncated, InsightfacePaster } from './insightface-paste.js';
import { cutMeshMouth, cutMouth106, restoreMouth106 } from './mouth-mask.js';
import type { ComposeTimings, ReferencePatch, SwapSettings } from './patch.js';
import { applyCropMasks } from './region-mask.js';

/**
 * Pastes `patch` into `frame` in place; `timings` (ms) is added to when given. `paster` keeps its
 * planes from one call to the next (the compositor passes its own, one per stream).
 */
export function pasteReference(frame: Image, patch: ReferencePatch, settings: SwapSettings, timings?: ComposeTimings, paster = new InsightfacePaster()): void {
  let t = performance.now();
  const { face } = patch;
  // A canvas's frame is RGBA: the pasted face gets an opaque alpha to match.
  const swapped = frame.channels === 4 && patch.crop.channels !== 4 ? toRgba(patch.crop) : patch.crop;
  if (!settings.mouthMask && !settings.colorMatch && settings.sharpness <= 0 && settings.opacity >= 1 && !patch.masks) {
    // The reference's own paste-back, nothing reshaped: the paster's fast path, the same pixels.
    paster.paste(frame, swapped, patch.matrix);
    if (timings) timings.blend += performance.now() - t;
    return;
  }
  // Deep-Live-Cam cuts the mouth out of the frame as it was before this face was pasted.
  const mouth106 = settings.mouthMask && face.landmarks106 ? cutMouth106(frame, face.landmarks106) : undefined;
  const stages = paster.stages(frame, swapped, patch.matrix);
  const { rect, fakeFull } = stages;
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  const local = { x0: 0, y0: 0, x1: w, y1: h };
  const meshed = face.meshScore > 0;
  const size = faceSize(face);
  if (timings) timings.blend += performance.now() - t;
  if (settings.colorMatch && meshed) {
    t = performance.now();
    const { skin, grid } = buildFaceMasks(face.landmarks, rect, size, { mouthMask: true });
    matchColour(fakeFull, frame, rect, { grid, weights: skin }, size, local);
    if (timings) timings.colour += performance.now() - t;
  }
  t = performance.now();
  if (settings.sharpness > 0) unsharpMaskRegion(fakeFull, local, settings.sharpness * 0.5, Math.max(0.8, size / 200));
  let mask = stages.maskBlur;
  const meshMouth = settings.mouthMask && meshed && !face.landmarks106;
  if (meshMouth || settings.opacity < 1 || patch.masks) {
    mask = mask.slice();
    if (meshMouth) cutMeshMouth(mask, face, rect, size);
    // insightface's paste mask runs 0..255.
    if (patch.masks) applyCropMasks(mask, rect, 1, w, h, patch.masks, settings.masks?.strength ?? 1, 255);
    if (settings.opacity < 1) for (let i = 0; i < mask.length; i++) mask[i] *= settings.opacity;
  }
  blendTruncated(frame, fakeFull, mask, rect);
  if (mouth106) restoreMouth106(frame, mouth106);
  if (timings) timings.blend += performance.now() - t;
}
