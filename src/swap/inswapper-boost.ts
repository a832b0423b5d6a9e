/**
 * Pixel boost for InSwapper (spec §7.2 step 3): the `inswapper` engine as it is at the model's own
 * 128×128, and at a larger boost the crop cut at that size on the same template (insightface's
 * estimate_norm scales it), split by space-to-depth, swapped tile by tile with the same latent and
 * put back together, then pasted as the reference pastes (the paste reads the crop's size). The
 * masks (box, occlusion, regions, strength) are made in the boosted crop, as FaceFusion makes them
 * at the boost size (spec §7.2 steps 2 and 7), and the paste samples them from there.
 */

import { masksActive } from '../compose/region-mask.js';
import type { Image } from '../core/image.js';
import type { Face } from '../face/face.js';
import { alignForModel } from '../face/model-input.js';
import type { FaceSwapper, FacePatch, ModelSwapSettings } from './engine.js';
import type { InswapperEngine, InswapperIdentity } from './inswapper-engine.js';
import type { InswapperModel } from './inswapper.js';
import { opencvKeypoints } from './model-swap-engine.js';
import { depthToSpace, pixelBoostFactor, spaceToDepth } from './pixel-boost.js';
import { inputAtSize } from './swapper-families.js';

export class BoostedInswapper implements FaceSwapper<InswapperIdentity> {
  readonly name: string;
  readonly mouthMaskByDefault: boolean;
  readonly colorMatchByDefault: boolean;

  constructor(
    private readonly inner: InswapperEngine,
    private readonly swapper: InswapperModel,
  ) {
    this.name = inner.name;
    this.mouthMaskByDefault = inner.mouthMaskByDefault;
    this.colorMatchByDefault = inner.colorMatchByDefault;
  }

  createIdentity(image: Image, face: Face): Promise<InswapperIdentity> {
    return this.inner.createIdentity(image, face);
  }

  combineIdentities(identities: readonly InswapperIdentity[]): InswapperIdentity {
    return this.inner.combineIdentities(identities);
  }

  /** At the model's size, the engine itself; larger, the tiles of the boosted crop. */
  async render(frame: Image, face: Face, identity: InswapperIdentity, settings: ModelSwapSettings): Promise<FacePatch> {
    const input = this.swapper.spec.input;
    const boost = settings.pixelBoost ?? input.size;
    const t = pixelBoostFactor(this.swapper.spec.id, input.size, boost);
    if (t === 1) return this.inner.render(frame, face, identity, settings);
    const { crop, matrix } = alignForModel(frame, opencvKeypoints(face), inputAtSize(input, boost));
    const tiles: Image[] = [];
    for (const tile of spaceToDepth(crop, t)) tiles.push(await this.swapper.run(tile, identity.latent));
    const swapped = depthToSpace(tiles, t);
    const masks = masksActive(settings.masks) ? await this.inner.cropMasks(face, { crop, swapped, matrix }, settings.masks) : undefined;
    return { strategy: 'insightface-reference', crop: swapped, matrix, face, ...(masks ? { masks } : {}) };
  }
}
