/**
 * What the mesh engine keeps of its source person: the face's texture in the canonical layout,
 * its shape, smile and iris colour, made once from one photo (mesh-engine.ts) or combined from
 * several photos of the person (mesh-combine.ts).
 */

import type { Image } from '../core/image.js';
import type { IrisColour } from '../compose/iris.js';

export interface MeshIdentity {
  /** size×size RGBA in canonical texture space; alpha is the confidence in each texel (255 = seen squarely). */
  readonly texture: Image;
  readonly size: number;
  /** The canonical layout in texture pixels: where each mesh point sits in `texture`. */
  readonly uv: Float32Array;
  /** The source's face shape, 468 × (x, y, z), made left-right symmetric (see shape-transfer). */
  readonly shape: Float32Array;
  /** The source's iris colour, when its eyes are open enough to measure. */
  readonly iris?: IrisColour;
  /** How broadly the source smiles (0..1, see smileScore). */
  readonly smile: number;
  /**
   * When the source smiles: the texture with its smile lines softened, painted on targets that
   * smile less than half as broadly (a smiling target keeps the source's own lines).
   */
  readonly neutralTexture?: Image;
  /**
   * One photo's identity: how squarely the photo itself saw each texel (0..1, before the mirrored
   * half filled in what it did not see) and each mesh point. Combining photos weighs them by these.
   */
  readonly seen?: Float32Array;
  readonly vertexSeen?: Float32Array;
  /** How many photos the identity was made from, when more than one. */
  readonly photos?: number;
}
