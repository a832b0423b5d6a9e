/**
 * The `inswapper` engine: insightface 0.7.3's pipeline with Deep-Live-Cam's options. The source
 * identity is ArcFace's embedding projected through the model's own `emap`; each target face is
 * aligned with norm_crop on the swapper row's template and swapped at its size (128×128). The
 * result is an 'insightface-reference' patch: compose/reference-paste.ts pastes it back as the
 * reference does, with the options (mouth mask, colour match, opacity, sharpness).
 */

import type { Image } from '../core/image.js';
import type { MaskModels } from '../compose/occlusion-mask.js';
import { masksActive, type CropMask, type FaceMaskSettings } from '../compose/region-mask.js';
import type { ArcFaceEmbedder } from '../face/arcface.js';
import type { Face } from '../face/face.js';
import { alignForModel } from '../face/model-input.js';
import type { FaceSwapper, ReferencePatch, SwapSettings } from './engine.js';
import { averageIdentity, latentFromEmbedding, type InswapperModel } from './inswapper.js';
import { swapperCropMasks, type SwappedCrop } from './swap-masks.js';

export interface InswapperIdentity {
  /** ArcFace's L2-normalised embedding of the source face. */
  readonly normedEmbedding: Float32Array;
  /** ArcFace's raw embedding (the mean of them for several photos): FaceFusion projects this one. */
  readonly embedding?: Float32Array;
  /** normalise(normed embedding · emap): what the swapper's `source` input takes. */
  readonly latent: Float32Array;
}

/** The five keypoints as the reference detector gave them (pixel centres at integers). */
function referenceKeypoints(face: Face): ArrayLike<number> {
  return face.kps5Reference ?? face.kps5.map((v) => v - 0.5);
}

export class InswapperEngine implements FaceSwapper<InswapperIdentity> {
  readonly name = 'inswapper';
  /** Deep-Live-Cam's defaults: no mouth mask, no colour match. */
  readonly mouthMaskByDefault = false;
  readonly colorMatchByDefault = false;

  constructor(
    private readonly embedder: ArcFaceEmbedder,
    /** The swapper bound to its row: the crop's template and size come from there. */
    private readonly swapper: InswapperModel,
    /** The `emap` of the swapper file actually loaded (see readEmap). */
    private readonly emap: Float32Array,
    /** XSeg and BiSeNet, when installed: occlusion and region masks run them. */
    private readonly maskModels?: MaskModels,
  ) {}

  async createIdentity(image: Image, face: Face): Promise<InswapperIdentity> {
    const { embedding, normedEmbedding } = await this.embedder.embed(image, referenceKeypoints(face));
    return { normedEmbedding, embedding, latent: latentFromEmbedding(normedEmbedding, this.emap) };
  }

  /**
   * Several photos of one person, as FaceFusion combines them (spec §5, §7.3): the raw embeddings
   * and the normed ones are averaged, and the latent is the mean raw embedding's projection,
   * e·emap/‖e‖, normalised again as insightface does (F6.5). (Photos whose raw embeddings differ in
   * length weigh by that length, as in FaceFusion; the mean of the normed ones is kept as well.)
   */
  combineIdentities(identities: readonly InswapperIdentity[]): InswapperIdentity {
    const { normedEmbedding } = averageIdentity(identities.map((i) => i.normedEmbedding));
    const raw = identities.every((i) => i.embedding) ? averageIdentity(identities.map((i) => i.embedding!)).embedding : undefined;
    return { normedEmbedding, ...(raw ? { embedding: raw } : {}), latent: latentFromEmbedding(raw ?? normedEmbedding, this.emap) };
  }

  /** The swapped crop and the map it was aligned with; the frame is only read. */
  async render(frame: Image, face: Face, identity: InswapperIdentity, settings?: SwapSettings): Promise<ReferencePatch> {
    const { crop, matrix } = alignForModel(frame, referenceKeypoints(face), this.swapper.spec.input);
    const swapped = await this.swapper.run(crop, identity.latent);
    const masks = masksActive(settings?.masks) ? await this.cropMasks(face, { crop, swapped, matrix }, settings.masks) : undefined;
    return { strategy: 'insightface-reference', crop: swapped, matrix, face, masks };
  }

  /**
   * The masks the settings ask for, beyond the paste's own (spec §7.2), in the grid of `at`: the
   * model's own crop, or a pixel boost's larger one (swap/inswapper-boost.ts).
   */
  cropMasks(face: Face, at: SwappedCrop, masks: FaceMaskSettings): Promise<CropMask[]> {
    return swapperCropMasks(face, at, masks, this.maskModels);
  }
}
