/**
 * The `inswapper` engine: insightface 0.7.3's pipeline with Deep-Live-Cam's options. The source
 * identity is ArcFace's embedding projected through the model's own `emap`; each target face is
 * aligned with norm_crop on the swapper row's template and swapped at its size (128×128). The
 * result is an 'insightface-reference' patch: compose/reference-paste.ts pastes it back as the
 * reference does, with the options (mouth mask, colour match, opacity, sharpness).
 */

import type { Image } from '../core/image.js';
import { occlusionCropMask, occludersFor, parsedRegionCropMask, parserFor, type MaskModels } from '../compose/occlusion-mask.js';
import { landmarkMasks, masksActive, regionsRestricted, type CropMask, type FaceMaskSettings } from '../compose/region-mask.js';
import type { ArcFaceEmbedder } from '../face/arcface.js';
import { faceSize, type Face } from '../face/face.js';
import { alignForModel } from '../face/model-input.js';
import type { FaceSwapper, ReferencePatch, SwapSettings } from './engine.js';
import { averageIdentity, latentFromEmbedding, type InswapperModel } from './inswapper.js';

export interface InswapperIdentity {
  /** ArcFace's L2-normalised embedding of the source face. */
  readonly normedEmbedding: Float32Array;
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
    const { normedEmbedding } = await this.embedder.embed(image, referenceKeypoints(face));
    return { normedEmbedding, latent: latentFromEmbedding(normedEmbedding, this.emap) };
  }

  /** Several photos of one person: the mean of their normed embeddings, as FaceFusion does. */
  combineIdentities(identities: readonly InswapperIdentity[]): InswapperIdentity {
    const { normedEmbedding } = averageIdentity(identities.map((i) => i.normedEmbedding));
    return { normedEmbedding, latent: latentFromEmbedding(normedEmbedding, this.emap) };
  }

  /** The swapped crop and the map it was aligned with; the frame is only read. */
  async render(frame: Image, face: Face, identity: InswapperIdentity, settings?: SwapSettings): Promise<ReferencePatch> {
    const { crop, matrix } = alignForModel(frame, referenceKeypoints(face), this.swapper.spec.input);
    const swapped = await this.swapper.run(crop, identity.latent);
    const masks = masksActive(settings?.masks) ? await this.masksFor(face, crop, swapped, matrix, settings.masks) : undefined;
    return { strategy: 'insightface-reference', crop: swapped, matrix, face, masks };
  }

  /**
   * The masks the settings ask for, beyond the paste's own (spec §7.2): the box mask and XSeg's
   * occlusion on the crop before the swap, the regions on the swapped crop from BiSeNet when
   * installed, else from the face's FaceMesh points (a face FaceMesh did not follow has no
   * regions: nothing of it counts as a chosen region).
   */
  private async masksFor(face: Face, crop: Image, swapped: Image, matrix: ReferencePatch['matrix'], masks: FaceMaskSettings): Promise<CropMask[]> {
    const parser = regionsRestricted(masks) ? parserFor(masks.parser, this.maskModels, true) : 'landmarks';
    const occluders = masks.occlusion ? occludersFor(masks.occlusion, this.maskModels) : [];
    const size = faceSize(face);
    const [x, y, w, h] = face.box;
    const margin = size * 0.25;
    const rect = { x0: Math.floor(x - margin), y0: Math.floor(y - margin), x1: Math.ceil(x + w + margin), y1: Math.ceil(y + h + margin) };
    const landmarks = face.meshScore > 0 ? face.landmarks : new Float32Array(face.landmarks.length).fill(-1e6);
    const out = landmarkMasks(landmarks, rect, size, masks, { matrix, size: this.swapper.spec.input.size }, parser === 'landmarks');
    const models = this.maskModels;
    if (models && occluders.length) out.push(await occlusionCropMask(models, occluders, crop, matrix));
    if (models && parser !== 'landmarks') out.push(await parsedRegionCropMask(await models.parser(parser), swapped, matrix, masks));
    return out;
  }
}
