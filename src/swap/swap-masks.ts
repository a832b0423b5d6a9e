/**
 * The masks a model swapper's settings ask for, in the crop it swapped (spec §7.2): the box mask
 * and XSeg's occlusion on the crop before the swap, the regions on the swapped crop from BiSeNet
 * when installed, else from the face's FaceMesh points (a face FaceMesh did not follow has no
 * regions: nothing of it counts as a chosen region). One function for InSwapper (at its own size or
 * a pixel boost) and FaceFusion's swappers, so each crop size gets its masks alike.
 */

import { occlusionCropMask, occludersFor, parsedRegionCropMask, parserFor, type MaskModels } from '../compose/occlusion-mask.js';
import { landmarkMasks, regionsRestricted, type CropMask, type FaceMaskSettings } from '../compose/region-mask.js';
import type { Affine } from '../core/affine.js';
import type { Image } from '../core/image.js';
import { faceSize, type Face } from '../face/face.js';

/** Where a swapped crop came from: the crop before the swap, after it, and frame → crop. */
export interface SwappedCrop {
  /** The frame's crop before the swap (size×size): occlusion is read here. */
  readonly crop: Image;
  /** The swapper's output at the same size: a parser reads the regions here. */
  readonly swapped: Image;
  /** Frame → crop, OpenCV's convention. */
  readonly matrix: Affine;
}

/**
 * The masks `masks` asks for on `face`, in the grid of `at` (its crop size, boosted or not). The box
 * mask is left out with `withBox` false: FaceFusion's paste makes its own (facefusion-paste.ts).
 */
export async function swapperCropMasks(face: Face, at: SwappedCrop, masks: FaceMaskSettings, models: MaskModels | undefined, withBox = true): Promise<CropMask[]> {
  const parser = regionsRestricted(masks) ? parserFor(masks.parser, models, true) : 'landmarks';
  const occluders = masks.occlusion ? occludersFor(masks.occlusion, models) : [];
  const extent = faceSize(face);
  const [x, y, w, h] = face.box;
  const margin = extent * 0.25;
  const rect = { x0: Math.floor(x - margin), y0: Math.floor(y - margin), x1: Math.ceil(x + w + margin), y1: Math.ceil(y + h + margin) };
  const landmarks = face.meshScore > 0 ? face.landmarks : new Float32Array(face.landmarks.length).fill(-1e6);
  const out = landmarkMasks(landmarks, rect, extent, masks, withBox ? { matrix: at.matrix, size: at.crop.width } : undefined, parser === 'landmarks');
  if (models && occluders.length) out.push(await occlusionCropMask(models, occluders, at.crop, at.matrix));
  if (models && parser !== 'landmarks') out.push(await parsedRegionCropMask(await models.parser(parser), at.swapped, at.matrix, masks));
  return out;
}
