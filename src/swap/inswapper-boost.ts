/**
 * Pixel boost for InSwapper (spec §7.2 step 3): the `inswapper` engine as it is at the model's own
 * 128×128, and at a larger boost the crop cut at that size on the same template (insightface's
 * estimate_norm scales it), split by space-to-depth, swapped tile by tile with the same latent and
 * put back together, then pasted as the reference pastes (the paste reads the crop's size).
 */

import { masksActive } from '../compose/region-mask.js';
import { LiveswapError } from '../core/errors.js';
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
    if (masksActive(settings.masks)) {
      throw new LiveswapError('usage', `--pixel-boost ${boost} with inswapper cannot be combined with masks (regions, box, occlusion, strength) yet; leave one out.`);
    }
    const { crop, matrix } = alignForModel(frame, opencvKeypoints(face), inputAtSize(input, boost));
    const swapped: Image[] = [];
    for (const tile of spaceToDepth(crop, t)) swapped.push(await this.swapper.run(tile, identity.latent));
    return { strategy: 'insightface-reference', crop: depthToSpace(swapped, t), matrix, face };
  }
}
