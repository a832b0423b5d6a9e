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

export interface FaceSwapper<Identity> {
  readonly name: string;
  /** Whether this engine keeps the target's mouth interior unless told otherwise. */
  readonly mouthMaskByDefault: boolean;
  /** Whether this engine matches colour and lighting unless told otherwise. */
  readonly colorMatchByDefault: boolean;
  /** Neural engines run a model here, so these calls may return promises. */
  createIdentity(image: Image, face: Face): Identity | Promise<Identity>;
  /**
   * Why this engine leaves a target face alone (e.g. turned too far for it to paint without
   * smears), or undefined to swap it. Skipped faces stay untouched, never half painted.
   */
  skipReason?(face: Face): string | undefined;
  /** One identity from several photos of the same person, when the engine can combine them. */
  combineIdentities?(identities: readonly Identity[]): Identity;
  /**
   * Either render a patch for the compositor (the patch may use the engine's working buffers: it
   * is valid until the next call)...
   */
  swap?(frame: Image, face: Face, identity: Identity, settings: SwapSettings): SwapPatch | Promise<SwapPatch>;
  /** ...or paste the face into the frame itself, for engines that follow a reference paste-back. */
  paste?(frame: Image, face: Face, identity: Identity, settings: SwapSettings): Promise<void>;
}
