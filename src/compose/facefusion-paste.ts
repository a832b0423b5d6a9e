/**
 * The 'facefusion' paste strategy: FaceFusion 3.8.1's paste-back for its swappers (spec §7.2 steps
 * 8–9, §7.4). The crop mask is the box mask (F9.1–F9.3: the settings' padding and blur, FaceFusion's
 * defaults of no padding and blur 0.3 otherwise) combined with the patch's occlusion and region
 * masks by the minimum (§9.5) in the crop's grid; crop and mask are warped back into the rectangle
 * the crop covers and blended with truncation (F7.1–F7.5). The options FaceFusion lacks reshape the
 * warped crop or the mask as on the reference paste: mask strength and opacity scale the mask, the
 * mouth mask cuts it, colour match and sharpness work on the warped crop.
 */

import { toRgba, type Image } from '../core/image.js';
import { unsharpMaskRegion } from '../core/sharpen.js';
import { faceSize } from '../face/face.js';
import { matchColour } from './color-match.js';
import { blendBack, warpBack } from './enhancer-paste.js';
import { buildFaceMasks } from './face-mask.js';
import { cutMeshMouth, cutMouth106, restoreMouth106 } from './mouth-mask.js';
import type { ComposeTimings, FaceFusionPatch, SwapSettings } from './patch.js';
import { boxMask, combineInCrop, DEFAULT_BOX_BLUR, type FaceMaskSettings } from './region-mask.js';

/** The crop mask of spec §7.2 step 8: box ∧ the patch's masks, clipped; `size` is the crop's side. */
export function faceFusionCropMask(patch: Pick<FaceFusionPatch, 'matrix' | 'masks'>, size: number, masks?: FaceMaskSettings): Float32Array {
  const box = boxMask(size, size, masks?.boxBlur ?? DEFAULT_BOX_BLUR, masks?.boxPadding);
  return patch.masks?.length ? combineInCrop(box, size, patch.matrix, patch.masks) : box;
}

/** Pastes `patch` into `frame` in place; `timings` (ms) is added to when given. */
export function pasteFaceFusion(frame: Image, patch: FaceFusionPatch, settings: SwapSettings, timings?: ComposeTimings): void {
  let t = performance.now();
  const { face } = patch;
  const crop = frame.channels === 4 && patch.crop.channels !== 4 ? toRgba(patch.crop) : patch.crop;
  const back = warpBack(frame, crop, patch.matrix, faceFusionCropMask(patch, crop.width, settings.masks));
  const scale = settings.opacity * (settings.masks?.strength ?? 1);
  if (!back || scale <= 0) {
    if (timings) timings.blend += performance.now() - t;
    return;
  }
  const { rect, mask, pixels } = back;
  const local = { x0: 0, y0: 0, x1: rect.x1 - rect.x0, y1: rect.y1 - rect.y0 };
  const meshed = face.meshScore > 0;
  const size = faceSize(face);
  // Deep-Live-Cam cuts the mouth out of the frame as it was before this face was pasted.
  const mouth106 = settings.mouthMask && face.landmarks106 ? cutMouth106(frame, face.landmarks106) : undefined;
  if (timings) timings.blend += performance.now() - t;
  if (settings.colorMatch && meshed) {
    t = performance.now();
    const { skin, grid } = buildFaceMasks(face.landmarks, rect, size, { mouthMask: true });
    matchColour(pixels, frame, rect, { grid, weights: skin }, size, local);
    if (timings) timings.colour += performance.now() - t;
  }
  t = performance.now();
  if (settings.sharpness > 0) unsharpMaskRegion(pixels, local, settings.sharpness * 0.5, Math.max(0.8, size / 200));
  if (settings.mouthMask && meshed && !face.landmarks106) cutMeshMouth(mask, face, rect, size);
  if (scale < 1) for (let i = 0; i < mask.length; i++) mask[i] *= scale;
  blendBack(frame, back);
  if (mouth106) restoreMouth106(frame, mouth106);
  if (timings) timings.blend += performance.now() - t;
}
