/**
 * The interface every swap engine implements. An identity is what the engine takes from the
 * source photo, made once; `swap` renders the source face for one target face as a patch over
 * the face's neighbourhood, which `compose/` then colour-matches and blends into the frame.
 */

import type { Image } from '../core/image.js';
import type { Face } from '../face/face.js';
import type { SwapPatch, SwapSettings } from '../compose/patch.js';

export type { SwapPatch, SwapSettings } from '../compose/patch.js';

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
