/**
 * The interface every swap engine implements. An identity is what the engine takes from the
 * source photo, made once; `render` paints the source face for one target face as a FacePatch
 * that names its paste strategy. Engines only render: compose/ (Compositor.compose) pastes every
 * strategy, with its masks, colour matching and blending.
 */

import type { Image } from '../core/image.js';
import type { Face } from '../face/face.js';
import type { FacePatch, SwapSettings } from '../compose/patch.js';

export type { FaceFusionPatch, FacePatch, FeatheredPatch, ReferencePatch, SwapPatch, SwapSettings } from '../compose/patch.js';

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
  /** One identity from several photos of the same person, when the engine can combine them (a converter may run: a promise then). */
  combineIdentities?(identities: readonly Identity[]): Identity | Promise<Identity>;
  /**
   * The source's face rendered for `face` in `frame`, never blended into it: the paste is
   * compose/'s. (The mesh engine does move the frame's own eye and mouth openings to the new
   * shape first, and recolours the irises there: geometry under the patch, not a paste.) The patch
   * may use the engine's working buffers: it is valid until the next call.
   */
  render(frame: Image, face: Face, identity: Identity, settings: SwapSettings): FacePatch | Promise<FacePatch>;
}

/**
 * What the model-driven swappers read besides {@link SwapSettings}: FaceFusion's pixel boost (the
 * crop side, a multiple of the model's; undefined: the model's own) and identity weight (0..1,
 * spec §7.3; undefined: 0.5, the source unchanged).
 */
export interface ModelSwapSettings extends SwapSettings {
  pixelBoost?: number;
  identityWeight?: number;
}
