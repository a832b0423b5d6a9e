/**
 * The masks that need a model: XSeg's occlusion mask (spec §9.2: what covers the face stays the
 * target's) and BiSeNet's region mask (§9.3), each computed on a face crop and turned into a
 * CropMask that region-mask.ts combines with the rest by the minimum. The models come through
 * MaskModels, which loads each installed file on first use; asking for one that is not installed
 * is an error that names the `liveswap models pull` command to run.
 */

import type { Affine } from '../core/affine.js';
import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { warpAffine } from '../core/warp.js';
import type { FaceParser, Occluder } from '../face/mask-models.js';
import {
  OCCLUDER_IDS,
  occluderIdsOf,
  PARSER_IDS,
  refineModelMask,
  regionSelection,
  type CropMask,
  type FaceMaskSettings,
  type OccluderId,
  type OcclusionChoice,
  type ParserChoice,
  type ParserId,
} from './region-mask.js';

export { OCCLUDER_IDS, PARSER_IDS, type OccluderId, type OcclusionChoice, type ParserChoice, type ParserId };

/** The mask models an engine may run: which are installed, and each loaded on first use. */
export interface MaskModels {
  readonly installed: ReadonlySet<ParserId | OccluderId>;
  parser(id: ParserId): Promise<FaceParser>;
  occluder(id: OccluderId): Promise<Occluder>;
}

function notInstalled(id: string, feature: string, option: string): LiveswapError {
  return new LiveswapError(
    'model',
    `${option} needs the ${id} model, which is not installed: run \`liveswap models pull ${id}\` (or \`liveswap models pull --for ${feature}\`), or \`liveswap models import FILE\` for a file you have.`,
  );
}

/** The occluders a choice runs, each checked to be installed. */
export function occludersFor(choice: OcclusionChoice, models: MaskModels | undefined): OccluderId[] {
  const ids = occluderIdsOf(choice);
  for (const id of ids) if (!models?.installed.has(id)) throw notInstalled(id, 'occlusion', `--occlusion-mask ${choice}`);
  return ids;
}

/**
 * The parser a partial swap uses, or 'landmarks': the one asked for (an error when it is not
 * installed), else with `preferModel` bisenet_resnet_34, then _18, when installed.
 */
export function parserFor(choice: ParserChoice | undefined, models: MaskModels | undefined, preferModel: boolean): ParserChoice {
  if (choice === 'landmarks') return choice;
  if (choice !== undefined) {
    if (!models?.installed.has(choice)) throw notInstalled(choice, 'regions', `--face-parser ${choice}`);
    return choice;
  }
  if (!preferModel) return 'landmarks';
  return PARSER_IDS.find((id) => models?.installed.has(id)) ?? 'landmarks';
}

/**
 * cv2.resize INTER_LINEAR of a float field: half-pixel centres, neighbours and fractions clamped
 * at the edges.
 */
export function resizeField(src: Float32Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  if (sw === dw && sh === dh) return Float32Array.from(src);
  const axis = (s: number, d: number) => {
    const index = new Int32Array(d);
    const frac = new Float32Array(d);
    for (let i = 0; i < d; i++) {
      let f = (i + 0.5) * (s / d) - 0.5;
      let k = Math.floor(f);
      f -= k;
      if (k < 0) [k, f] = [0, 0];
      if (k >= s - 1) [k, f] = [s - 1, 0];
      index[i] = k;
      frac[i] = f;
    }
    return { index, frac };
  };
  const xs = axis(sw, dw);
  const ys = axis(sh, dh);
  const out = new Float32Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    const y0 = ys.index[y];
    const y1 = Math.min(sh - 1, y0 + 1);
    const fy = ys.frac[y];
    for (let x = 0; x < dw; x++) {
      const x0 = xs.index[x];
      const x1 = Math.min(sw - 1, x0 + 1);
      const fx = xs.frac[x];
      const top = src[y0 * sw + x0] * (1 - fx) + src[y0 * sw + x1] * fx;
      const bottom = src[y1 * sw + x0] * (1 - fx) + src[y1 * sw + x1] * fx;
      out[y * dw + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** A size×size crop of `frame` through `matrix` (frame → crop, OpenCV's convention), edges replicated as FaceFusion crops. */
export function faceCrop(frame: Image, matrix: Affine, size: number): Image {
  return warpAffine(frame, matrix, size, size, { border: 'replicate' });
}

/**
 * F9.4–F9.5: the occlusion mask of `crop` (size×size, cut by `matrix`): each occluder's
 * probability resized to the crop, their minimum, blurred and rescaled. Off the crop nothing is
 * known to cover the face (1).
 */
export async function occlusionCropMask(models: MaskModels, ids: readonly OccluderId[], crop: Image, matrix: Affine): Promise<CropMask> {
  const { width, height } = crop;
  let combined: Float32Array | undefined;
  for (const id of ids) {
    const { probability, size } = await (await models.occluder(id)).occlusion(crop);
    const m = resizeField(probability, size, size, width, height);
    if (!combined) combined = m;
    else for (let i = 0; i < m.length; i++) combined[i] = Math.min(combined[i], m[i]);
  }
  if (!combined) throw new RangeError('occlusionCropMask: no occluder');
  return { data: refineModelMask(combined, width, height), width, height, matrix, outside: 1 };
}

/**
 * F9.6–F9.7: BiSeNet's labels of `crop` (cut by `matrix`), the settings' selection (chosen regions
 * swapped, kept ones not) resized to the crop, blurred and rescaled as F9.5.
 */
export async function parsedRegionCropMask(parser: FaceParser, crop: Image, matrix: Affine, settings: FaceMaskSettings): Promise<CropMask> {
  const { labels, size } = await parser.parse(crop);
  const { width, height } = crop;
  const selection = resizeField(regionSelection(labels, settings), size, size, width, height);
  return { data: refineModelMask(selection, width, height), width, height, matrix, outside: settings.regions ? 0 : 1 };
}
