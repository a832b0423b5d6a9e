/**
 * Partial swaps and FaceFusion's mask arithmetic (spec §9): the box mask with its padding and
 * blur (F9.1–F9.3), the refinement every model mask gets (F9.5), region masks from a label map
 * (BiSeNet's, or one drawn from FaceMesh's points), the combination rule (the minimum of every
 * enabled mask, clipped to [0, 1]) and mask strength. Masks live in their own pixel grid with a map
 * from the frame (a CropMask) and are sampled into whatever grid the paste works in.
 */

import { invertAffine, type Affine } from '../core/affine.js';
import { boxBlurFast, dilate, gaussianBlur } from '../core/filters.js';
import type { Rect } from '../core/image.js';
import { BISENET_CLASSES, meshLabelMap, type FaceRegion } from '../face/face-regions.js';

export const PARSER_IDS = ['bisenet_resnet_34', 'bisenet_resnet_18'] as const;
export type ParserId = (typeof PARSER_IDS)[number];
export const OCCLUDER_IDS = ['xseg_1', 'xseg_2', 'xseg_3'] as const;
export type OccluderId = (typeof OCCLUDER_IDS)[number];
/** `all`: the three XSeg models, combined by their minimum (FaceFusion's 'many'). */
export type OcclusionChoice = OccluderId | 'all';
/** The XSeg models a choice runs: `all` the three, else the one named. */
export function occluderIdsOf(choice: OcclusionChoice): OccluderId[] {
  return choice === 'all' ? [...OCCLUDER_IDS] : [choice];
}
/** Where regions come from: FaceMesh's points, or a BiSeNet parser. */
export type ParserChoice = 'landmarks' | ParserId;

/** How a face's masks are shaped, beyond the engine's own face mask. */
export interface FaceMaskSettings {
  /** Swap only these regions (FaceFusion's names); undefined: the whole face. */
  regions?: readonly FaceRegion[];
  /** Keep the target's own look in these regions (the inverse of `regions`). */
  keepRegions?: readonly FaceRegion[];
  /** 0..1: inside the mask, 0 leaves the target, 1 the full swap, between them a mix. Default 1. */
  strength?: number;
  /** FaceFusion's box mask, top, right, bottom, left in percent of the crop; with `boxBlur`, the box mask is on. */
  boxPadding?: readonly [number, number, number, number];
  /** 0..1: the box mask's blur as a share of half the crop's width (FaceFusion's face_mask_blur, default 0.3). */
  boxBlur?: number;
  /** XSeg occlusion: what covers the face stays the target's (occlusion-mask.ts); undefined: none. */
  occlusion?: OcclusionChoice;
  /** Where regions come from; undefined: the engine's choice (occlusion-mask.ts parserFor). */
  parser?: ParserChoice;
}

/** Whether the settings ask for anything beyond the engine's own mask. */
export function masksActive(settings: FaceMaskSettings | undefined): settings is FaceMaskSettings {
  if (!settings) return false;
  return regionsRestricted(settings) || (settings.strength ?? 1) < 1 || boxMaskOn(settings) || settings.occlusion !== undefined;
}

/** Whether only part of the face is swapped: regions chosen or kept. */
export function regionsRestricted(settings: FaceMaskSettings | undefined): boolean {
  return settings !== undefined && (settings.regions !== undefined || (settings.keepRegions?.length ?? 0) > 0);
}

/**
 * Whether an engine that moves the target's features (the mesh engine's shape transfer, its iris
 * recolouring) should leave the target's geometry as it is: a partial swap or a mask strength
 * below 1 would otherwise show the moved features where the target should stay.
 */
export function keepsTargetGeometry(settings: FaceMaskSettings | undefined): boolean {
  return regionsRestricted(settings) || (settings?.strength ?? 1) < 1;
}

/**
 * A mask in its own grid: `data` is width×height values 0..1, `matrix` maps frame pixels to mask
 * pixels (OpenCV's convention: integers are pixel centres), and `outside` is its value off the grid.
 */
export interface CropMask {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
  readonly matrix: Affine;
  readonly outside: number;
}

/** The default blur of FaceFusion's box mask (face_mask_blur). */
export const DEFAULT_BOX_BLUR = 0.3;

/**
 * F9.1–F9.3: FaceFusion's box mask for a w×h crop. b = int(w·0.5·blur), z = max(b // 2, 1); each
 * side loses max(z, int(size·pad/100)) rows or columns; then a Gaussian of σ = 0.25·b (float32
 * kernel size) when b > 0. `padding` is top, right, bottom, left in percent.
 */
export function boxMask(width: number, height: number, blur = DEFAULT_BOX_BLUR, padding: readonly [number, number, number, number] = [0, 0, 0, 0]): Float32Array {
  const b = Math.trunc(width * 0.5 * blur);
  const z = Math.max(Math.floor(b / 2), 1);
  const top = Math.max(z, Math.trunc((height * padding[0]) / 100));
  const right = Math.max(z, Math.trunc((width * padding[1]) / 100));
  const bottom = Math.max(z, Math.trunc((height * padding[2]) / 100));
  const left = Math.max(z, Math.trunc((width * padding[3]) / 100));
  const mask = new Float32Array(width * height);
  for (let y = top; y < height - bottom; y++) {
    for (let x = left; x < width - right; x++) mask[y * width + x] = 1;
  }
  return b > 0 ? gaussianBlur(mask, width, height, 1, 0, 0.25 * b, mask) : mask;
}

/**
 * F9.5, what every model mask (XSeg's occlusion, BiSeNet's regions) goes through at crop size:
 * (clip(GaussianBlur(clip(m, 0, 1), σ 5), 0.5, 1) − 0.5)·2. In place; returns `mask`.
 */
export function refineModelMask(mask: Float32Array, width: number, height: number): Float32Array {
  for (let i = 0; i < mask.length; i++) mask[i] = Math.min(1, Math.max(0, mask[i]));
  gaussianBlur(mask, width, height, 1, 0, 5, mask);
  for (let i = 0; i < mask.length; i++) mask[i] = (Math.min(1, Math.max(0.5, mask[i])) - 0.5) * 2;
  return mask;
}

/** The combination rule (spec §9.5): the elementwise minimum of the masks, clipped to [0, 1]. */
export function combineMasks(masks: readonly Float32Array[]): Float32Array {
  if (masks.length === 0) throw new RangeError('combineMasks: no masks');
  const out = Float32Array.from(masks[0]);
  for (const m of masks.slice(1)) {
    if (m.length !== out.length) throw new RangeError('combineMasks: masks of different sizes');
    for (let i = 0; i < out.length; i++) if (m[i] < out[i]) out[i] = m[i];
  }
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, out[i]));
  return out;
}

/**
 * 1 where a label map says the swap applies: the label is one of `regions` (any face label when
 * none are chosen) and none of `keepRegions`; 0 elsewhere. Background is swapped only when no
 * region is chosen (the engine's own face mask bounds it then).
 */
export function regionSelection(labels: Uint8Array, settings: FaceMaskSettings): Float32Array {
  const swapped = new Uint8Array(256);
  if (settings.regions) for (const r of settings.regions) swapped[BISENET_CLASSES[r]] = 1;
  else swapped.fill(1);
  for (const r of settings.keepRegions ?? []) swapped[BISENET_CLASSES[r]] = 0;
  const out = new Float32Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = swapped[labels[i]];
  return out;
}

/**
 * The region mask drawn from FaceMesh's 468 points (`stride` numbers each, frame pixels, x and y
 * first) in a grid of `cell` frame pixels per cell over `rect`. Chosen regions are grown by twice
 * `feather` (frame pixels) and so are kept ones before the blur of `feather`, so the soft edge lies
 * outside the region named either way: a chosen region is swapped whole, a kept one stays whole.
 */
export function meshRegionMask(landmarks: ArrayLike<number>, stride: number, rect: Rect, cell: number, feather: number, settings: FaceMaskSettings): CropMask {
  const width = Math.max(1, Math.ceil((rect.x1 - rect.x0) / cell));
  const height = Math.max(1, Math.ceil((rect.y1 - rect.y0) / cell));
  const labels = meshLabelMap(landmarks, stride, width, height, (x, y) => [(x - rect.x0) / cell, (y - rect.y0) / cell]);
  const sigma = feather / cell;
  const grow = (mask: Float32Array) => (sigma > 0.3 ? dilate(mask, width, height, 2 * Math.ceil(2 * sigma) + 1) : mask);
  const chosen = settings.regions ? grow(regionSelection(labels, { regions: settings.regions })) : new Float32Array(labels.length).fill(1);
  const kept = settings.keepRegions?.length ? grow(regionSelection(labels, { regions: settings.keepRegions })) : undefined;
  if (kept) for (let i = 0; i < chosen.length; i++) chosen[i] *= 1 - kept[i];
  const data = sigma > 0.3 ? boxBlurFast(chosen, width, height, 1, sigma) : chosen;
  // Cell (i, j) has its centre at frame x = x0 + (i + 0.5)·cell, i.e. pixel centre x0 + (i + 0.5)·cell − 0.5.
  const s = 1 / cell;
  const t = (o: number) => (0.5 - o) * s - 0.5;
  return { data, width, height, matrix: [s, 0, t(rect.x0), 0, s, t(rect.y0)], outside: settings.regions ? 0 : 1 };
}

/** Bilinear sample of `mask` at mask coordinates (u, v) (pixel centres at integers), `outside` off the grid. */
function sampleAt(mask: CropMask, u: number, v: number): number {
  const { width, height, data, outside } = mask;
  const x0 = Math.floor(u);
  const y0 = Math.floor(v);
  const fx = u - x0;
  const fy = v - y0;
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= width || y >= height ? outside : data[y * width + x]);
  const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
  const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
  return top * (1 - fy) + bottom * fy;
}

/**
 * Combines `masks` into `target` (w×h values over `rect`, one per `factor`×`factor` frame pixels,
 * `scale` meaning fully on: 1, or 255 for insightface's paste mask) by the rule of spec §9.5
 * (minimum, clipped), then scales it by `strength`. In place.
 */
export function applyCropMasks(target: Float32Array, rect: Rect, factor: number, width: number, height: number, masks: readonly CropMask[], strength = 1, scale = 1): Float32Array {
  for (let y = 0; y < height; y++) {
    // Working pixel (x, y) covers frame pixels x0 + [x·f, (x+1)·f): its centre, in OpenCV's convention.
    const fy = rect.y0 + (y + 0.5) * factor - 0.5;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      let m = target[i] / scale;
      if (m <= 0) continue;
      const fx = rect.x0 + (x + 0.5) * factor - 0.5;
      for (const mask of masks) {
        const [a, b, c, d, e, f] = mask.matrix;
        const v = sampleAt(mask, a * fx + b * fy + c, d * fx + e * fy + f);
        if (v < m) m = v;
      }
      target[i] = Math.min(1, Math.max(0, m)) * strength * scale;
    }
  }
  return target;
}

/**
 * Combines `masks` into `target` (a size×size crop mask, 0..1, of the crop `matrix` cuts from the
 * frame) by the rule of spec §9.5, in the crop's own grid as FaceFusion combines them: a mask cut by
 * the same map at the same size is read pixel for pixel, any other sampled where the crop pixel
 * lies in the frame. In place.
 */
export function combineInCrop(target: Float32Array, size: number, matrix: Affine, masks: readonly CropMask[]): Float32Array {
  const im = invertAffine(matrix);
  const same = (m: CropMask) => m.width === size && m.height === size && m.matrix.every((v, i) => v === matrix[i]);
  for (const mask of masks) {
    if (same(mask)) {
      for (let i = 0; i < target.length; i++) if (mask.data[i] < target[i]) target[i] = mask.data[i];
      continue;
    }
    const [a, b, c, d, e, f] = mask.matrix;
    for (let v = 0; v < size; v++) {
      for (let u = 0; u < size; u++) {
        const i = v * size + u;
        if (target[i] <= 0) continue;
        const fx = im[0] * u + im[1] * v + im[2];
        const fy = im[3] * u + im[4] * v + im[5];
        const m = sampleAt(mask, a * fx + b * fy + c, d * fx + e * fy + f);
        if (m < target[i]) target[i] = m;
      }
    }
  }
  for (let i = 0; i < target.length; i++) target[i] = Math.min(1, Math.max(0, target[i]));
  return target;
}

/** Whether `region` is swapped under the settings (chosen, or no choice made, and not kept). */
export function regionSwapped(settings: FaceMaskSettings | undefined, region: FaceRegion): boolean {
  if (!settings) return true;
  return (settings.regions === undefined || settings.regions.includes(region)) && !(settings.keepRegions ?? []).includes(region);
}

/** Whether the settings turn FaceFusion's box mask on (a padding or a blur given). */
export function boxMaskOn(settings: FaceMaskSettings | undefined): boolean {
  return settings !== undefined && (settings.boxPadding !== undefined || settings.boxBlur !== undefined);
}

/** FaceFusion's box mask (F9.1–F9.3) over a `size`×`size` crop that `matrix` (frame → crop, OpenCV's convention) cuts. */
export function boxCropMask(matrix: Affine, size: number, settings: FaceMaskSettings): CropMask {
  return { data: boxMask(size, size, settings.boxBlur ?? DEFAULT_BOX_BLUR, settings.boxPadding), width: size, height: size, matrix, outside: 0 };
}

/** The feather of a landmark region mask's edge: a share of the face's size. */
export const REGION_FEATHER = 0.01;

/**
 * The masks the settings ask for that need no model, for a face of `faceSize` frame pixels whose
 * FaceMesh points are `landmarks` (468 × 3): the landmark region mask over `rect`, drawn about 128
 * cells across the face (unless `regions` is false: a parser draws them), and the box mask in the
 * crop `box` gives (when the settings turn it on).
 */
export function landmarkMasks(
  landmarks: Float32Array,
  rect: Rect,
  faceSize: number,
  settings: FaceMaskSettings,
  box?: { matrix: Affine; size: number },
  regions = true,
): CropMask[] {
  const out: CropMask[] = [];
  if (regions && regionsRestricted(settings)) out.push(meshRegionMask(landmarks, 3, rect, Math.max(1, faceSize / 128), REGION_FEATHER * faceSize, settings));
  if (box && boxMaskOn(settings)) out.push(boxCropMask(box.matrix, box.size, settings));
  return out;
}
