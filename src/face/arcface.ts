/**
 * ArcFace identity embeddings (insightface w600k_r50, spec §5): the face aligned to the 112×112
 * ArcFace template by norm_crop (src/face/align.ts), (p − 127.5)/127.5 RGB planes, a 512-d raw
 * embedding and its unit-length copy.
 */

import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import type { InferenceSession } from '../models/runtime.js';
import { arcfaceInputBlob, normCrop } from './align.js';

export const ARCFACE_INPUT = 112;
export const EMBEDDING_SIZE = 512;

export interface ArcFaceEmbedding {
  /** The model's output as is (spec F5.3): 512 values, not normalised. */
  embedding: Float32Array;
  /** embedding / ‖embedding‖₂ (F5.4); all zeros if the embedding is. */
  normedEmbedding: Float32Array;
}

export class ArcFaceEmbedder {
  private constructor(private readonly session: InferenceSession) {}

  static create(session: InferenceSession): ArcFaceEmbedder {
    if (session.inputNames.length !== 1 || session.outputNames.length < 1) {
      throw new LiveswapError('model', `An ArcFace model has one input and an embedding output; this one has `
        + `inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}].`);
    }
    return new ArcFaceEmbedder(session);
  }

  /** `kps5`: the face's 5 keypoints in frame pixels, as the detector gives them (OpenCV pixel-centre convention). */
  async embed(image: Image, kps5: ArrayLike<number>): Promise<ArcFaceEmbedding> {
    const { crop } = normCrop(image, kps5, ARCFACE_INPUT);
    return this.embedAligned(crop);
  }

  /** The embedding of a face already aligned to the 112×112 template. */
  async embedAligned(crop: Image): Promise<ArcFaceEmbedding> {
    if (crop.width !== ARCFACE_INPUT || crop.height !== ARCFACE_INPUT) {
      throw new RangeError(`ArcFace needs a ${ARCFACE_INPUT}×${ARCFACE_INPUT} crop, got ${crop.width}×${crop.height}`);
    }
    const blob = arcfaceInputBlob(crop);
    const out = await this.session.run({ [this.session.inputNames[0]]: { data: blob, dims: [1, 3, ARCFACE_INPUT, ARCFACE_INPUT] } });
    const raw = out[this.session.outputNames[0]]?.data;
    if (!raw || raw.length !== EMBEDDING_SIZE) {
      throw new LiveswapError('model', `ArcFace returned ${raw?.length ?? 0} values; expected ${EMBEDDING_SIZE}.`);
    }
    const embedding = Float32Array.from(raw);
    return { embedding, normedEmbedding: l2Normalised(embedding) };
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

/** v / ‖v‖₂ (float32 result); all zeros stay zeros. */
export function l2Normalised(v: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const out = new Float32Array(v.length);
  if (!(sum > 0)) return out;
  const norm = Math.fround(Math.sqrt(sum));
  for (let i = 0; i < v.length; i++) out[i] = v[i] / norm;
  return out;
}
