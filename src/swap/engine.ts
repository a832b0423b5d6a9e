/**
 * The interface every swap engine implements. An identity is what the engine takes from the
 * source photo, made once; `swap` renders the source face for one target face as a patch over
 * the face's neighbourhood, which `compose/` then colour-matches and blends into the frame.
 */

import type { Image, Rect } from '../core/image.js';
import type { Face } from '../face/face.js';
import type { ColourGrid } from '../compose/color-match.js';

export interface SwapSettings {
  mouthMask: boolean;
  /** 0..1 */
  opacity: number;
  /** 0..5 */
  sharpness: number;
  colorMatch: boolean;
}

/** The swapped face over a rectangle of the frame, with where it applies. */
export interface SwapPatch {
  /** The frame region the patch covers (frame pixels). */
  rect: Rect;
  /** rect-sized RGB; meaningful where `mask` > 0. */
  pixels: Image;
  /** rect-sized weights 0..1: feathered face mask (mouth/eye openings excluded as configured). */
  mask: Float32Array;
  /** The face's skin on a coarse grid, without feathering: where colour statistics come from. */
  statsMask: ColourGrid;
  /** Face size in pixels, for scale-dependent filters. */
  faceSize: number;
}

export interface FaceSwapper<Identity> {
  readonly name: string;
  /** Whether this engine keeps the target's mouth interior unless told otherwise. */
  readonly mouthMaskByDefault: boolean;
  createIdentity(image: Image, face: Face): Identity;
  swap(frame: Image, face: Face, identity: Identity, settings: SwapSettings): SwapPatch;
}
