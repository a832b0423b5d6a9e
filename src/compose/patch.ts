/**
 * What an engine hands to the compositor: a FacePatch, the swapped face and the paste strategy
 * that puts it into the frame, and the paint settings that say how it is blended. Engines render;
 * compose/ pastes (Compositor.compose is the one entry point for every strategy).
 */

import type { Affine } from '../core/affine.js';
import type { Image, Rect } from '../core/image.js';
import type { Face } from '../face/face.js';
import type { ColourGrid } from './color-match.js';
import type { CropMask, FaceMaskSettings } from './region-mask.js';

/** Painting stages a paste adds to (ms): colour matching, and the blend with everything else it does. */
export interface ComposeTimings {
  colour: number;
  blend: number;
}

/**
 * How a patch is pasted: compose/paste.ts's multiband blend, insightface 0.7.3's paste-back
 * (InSwapper), or FaceFusion's paste-back (its other swappers, facefusion-paste.ts).
 */
export const PASTE_STRATEGIES = ['feathered', 'insightface-reference', 'facefusion'] as const;
export type PasteStrategy = (typeof PASTE_STRATEGIES)[number];

export interface SwapSettings {
  mouthMask: boolean;
  /** 0..1 */
  opacity: number;
  /** 0..5 */
  sharpness: number;
  colorMatch: boolean;
  /** 0..1, mesh engine: the source's face shape; undefined: the engine's own setting. */
  faceShape?: number;
  /** 0..1, mesh engine: the source's jaw outline, surroundings warped; undefined: the engine's own. */
  faceOutline?: number;
  /** Partial swaps, box mask and mask strength (region-mask.ts); undefined: the engine's own mask only. */
  masks?: FaceMaskSettings;
}

/**
 * The swapped face over a rectangle of the frame, with where it applies. It is rendered at a
 * working resolution of one pixel per `factor`×`factor` frame pixels: working pixel (i, j) covers
 * frame pixels rect.x0 + [i·factor, (i+1)·factor) and likewise in y.
 */
export interface SwapPatch {
  /** The frame region the patch covers (frame pixels). */
  rect: Rect;
  /** Frame pixels per working pixel along each axis (1 = full resolution). */
  factor: number;
  /** RGB(A) at the working resolution; meaningful where `mask` > 0. */
  pixels: Image;
  /** Weights 0..1 at the working resolution: feathered face mask (openings excluded as configured). */
  mask: Float32Array;
  /** The face's skin on a coarse grid of the working image, unfeathered: where colour statistics come from. */
  statsMask: ColourGrid;
  /** Face size in working pixels, for scale-dependent filters. */
  faceSize: number;
  /** How much of the source's own skin tone the colour match keeps, 0 (the target's) to 1; default 0. */
  complexion?: number;
  /** The blur (in face sizes) above which the colour match takes the target's lighting; default 0.1. */
  lightingScale?: number;
  /** Soften the patch when it holds clearly more fine detail than the target under it. */
  matchDetail?: boolean;
  /** Where that detail is compared, when not `mask` (the face's own mask before partial-swap and occlusion masks cut it). */
  detailMask?: Float32Array;
  /**
   * The face's own mask before partial-swap, box and occlusion masks cut it, when they did: where it
   * is on and `mask` is off (a kept region, an occluder) the blend's low-frequency correction is
   * held back, so what the masks keep stays the target's, not tinted by the swap around it.
   */
  faceMask?: Float32Array;
}

/** A {@link SwapPatch} for the feathered multiband blend (the mesh engine's). */
export interface FeatheredPatch extends SwapPatch {
  readonly strategy: 'feathered';
}

/**
 * The swapper's aligned output for insightface's reference paste-back (spec §6.3): the crop is
 * warped back through the inverse of `matrix` under the eroded, blurred mask, then Deep-Live-Cam's
 * options (colour match, sharpening, mouth mask, opacity) reshape the crop or the mask.
 */
export interface ReferencePatch {
  readonly strategy: 'insightface-reference';
  /** The swapped face, RGB, aligned as the swapper's input was. */
  readonly crop: Image;
  /** Frame → crop, OpenCV pixel-centre convention (norm_crop2's M). */
  readonly matrix: Affine;
  /** The target face: its mesh and, when found, 2d106det's 106 landmarks shape the masks. */
  readonly face: Face;
  /** Masks combined with the paste's own by the minimum (region-mask.ts), when the settings ask for any. */
  readonly masks?: readonly CropMask[];
}

/**
 * A FaceFusion swapper's aligned output for FaceFusion's paste-back (spec §7.2, §7.4): the crop mask
 * is the box mask (padding and blur from the settings, FaceFusion's defaults otherwise) combined
 * with `masks` by the minimum, warped back with the crop and blended as F7.5 does.
 */
export interface FaceFusionPatch {
  readonly strategy: 'facefusion';
  /** The swapped face, RGB, aligned as the swapper's input was (at the pixel-boost size). */
  readonly crop: Image;
  /** Frame → crop, OpenCV pixel-centre convention. */
  readonly matrix: Affine;
  /** The target face: its mesh shapes the mouth mask and the colour match's skin. */
  readonly face: Face;
  /** Occlusion and region masks, combined with the box mask by the minimum (region-mask.ts). */
  readonly masks?: readonly CropMask[];
}

/** What an engine renders for one face; `strategy` says which paste puts it into the frame. */
export type FacePatch = FeatheredPatch | ReferencePatch | FaceFusionPatch;
