/**
 * The `inswapper` engine: insightface 0.7.3's pipeline with Deep-Live-Cam's options. The source
 * identity is ArcFace's embedding projected through the model's own `emap`; each target face is
 * aligned with norm_crop, swapped at 128×128 and pasted back with the reference's paste-back.
 * With the options at their defaults (no mouth mask, no colour match, opacity 1, sharpness 0)
 * the pixels are the reference's; the options only reshape the crop or the blend mask.
 */

import { boxBlurFast, dilate } from '../core/filters.js';
import type { Image } from '../core/image.js';
import { fillPolygon } from '../core/polygon.js';
import { unsharpMaskRegion } from '../core/sharpen.js';
import { blendTruncated, insightfacePasteStages } from '../compose/insightface-paste.js';
import { buildFaceMasks } from '../compose/face-mask.js';
import { matchColour } from '../compose/color-match.js';
import { normCrop } from '../face/align.js';
import type { ArcFaceEmbedder } from '../face/arcface.js';
import { faceSize, type Face } from '../face/face.js';
import { LIPS_OUTER } from '../face/mesh-indices.js';
import type { InferenceSession } from '../models/runtime.js';
import type { FaceSwapper, SwapSettings } from './engine.js';
import { averageIdentity, INSWAPPER_INPUT, latentFromEmbedding, runInswapper } from './inswapper.js';

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
    private readonly swapper: InferenceSession,
    /** The `emap` of the swapper file actually loaded (see readEmap). */
    private readonly emap: Float32Array,
    /** Names the swapper file in errors (NaN or black output from a broken file). */
    private readonly swapperLabel: string,
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

  async paste(frame: Image, face: Face, identity: InswapperIdentity, settings: SwapSettings): Promise<void> {
    const { crop, matrix } = normCrop(frame, referenceKeypoints(face), INSWAPPER_INPUT);
    const swapped = await runInswapper(this.swapper, crop, identity.latent, this.swapperLabel);
    const stages = insightfacePasteStages(frame, swapped, matrix);
    const { rect, fakeFull } = stages;
    const w = rect.x1 - rect.x0;
    const h = rect.y1 - rect.y0;
    const local = { x0: 0, y0: 0, x1: w, y1: h };
    const meshed = face.meshScore > 0;
    const size = faceSize(face);
    if (settings.colorMatch && meshed) {
      const { skin, grid } = buildFaceMasks(face.landmarks, rect, size, { mouthMask: true });
      matchColour(fakeFull, frame, rect, { grid, weights: skin }, size, local);
    }
    if (settings.sharpness > 0) unsharpMaskRegion(fakeFull, local, settings.sharpness * 0.5, Math.max(0.8, size / 200));
    let mask = stages.maskBlur;
    if ((settings.mouthMask && meshed) || settings.opacity < 1) {
      mask = mask.slice();
      if (settings.mouthMask && meshed) this.cutMouth(mask, face, rect, size);
      if (settings.opacity < 1) for (let i = 0; i < mask.length; i++) mask[i] *= settings.opacity;
    }
    blendTruncated(frame, fakeFull, mask, rect);
  }

  /**
   * Deep-Live-Cam's mouth mask: the target's own mouth (the outer lip line, grown a little and
   * feathered) shows through the swapped face.
   */
  private cutMouth(mask: Float32Array, face: Face, rect: { x0: number; y0: number; x1: number; y1: number }, size: number): void {
    const w = rect.x1 - rect.x0;
    const h = rect.y1 - rect.y0;
    const lips = new Float32Array(LIPS_OUTER.length * 2);
    LIPS_OUTER.forEach((v, i) => {
      lips[2 * i] = face.landmarks[3 * v] - rect.x0;
      lips[2 * i + 1] = face.landmarks[3 * v + 1] - rect.y0;
    });
    const mouth = new Float32Array(w * h);
    fillPolygon(mouth, w, h, lips, 1);
    const grown = boxBlurFast(dilate(mouth, w, h, Math.max(3, Math.round(size * 0.04)) | 1), w, h, 1, Math.max(1, size * 0.02));
    for (let i = 0; i < mask.length; i++) mask[i] *= 1 - grown[i];
  }
}
