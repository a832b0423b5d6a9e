/**
 * What an engine hands to the compositor: the swapped face over a region of the frame with its
 * masks, and the paint settings that say how it is blended. Engines render; compose/ pastes.
 */

import type { Image, Rect } from '../core/image.js';
import type { ColourGrid } from './color-match.js';

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
}
