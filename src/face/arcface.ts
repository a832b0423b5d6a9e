/**
 * ArcFace identity embeddings (insightface w600k_r50, spec §5): the face aligned to the model row's
 * five-point template at its input size by norm_crop (src/face/align.ts), (p − mean)/std planes as
 * the row says ((p − 127.5)/127.5 RGB for w600k_r50), a raw embedding and its unit-length copy.
 */

import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { bindSession, expectInput, type BoundIo } from '../models/model-io.js';
import { MODEL_SPECS, outputWidth, type ModelSpec } from '../models/model-spec.js';
import type { InferenceSession } from '../models/runtime.js';
import { modelInputBlob } from './align.js';
import { alignForModel, inputDims } from './model-input.js';

/** w600k_r50's crop side and embedding length, as its row gives them. */
export const ARCFACE_INPUT = MODEL_SPECS.w600k_r50.input.size;
export const EMBEDDING_SIZE = outputWidth(MODEL_SPECS.w600k_r50);

export interface ArcFaceEmbedding {
  /** The model's output as is (spec F5.3): 512 values, not normalised. */
  embedding: Float32Array;
  /** embedding / ‖embedding‖₂ (F5.4); all zeros if the embedding is. */
  normedEmbedding: Float32Array;
}

export class ArcFaceEmbedder {
  /** The embedding length the row declares. */
  readonly embeddingSize: number;

  private constructor(
    private readonly session: InferenceSession,
    /** The model's row: template, input numbers and tensor names. */
    readonly spec: ModelSpec,
    private readonly io: BoundIo,
  ) {
    this.embeddingSize = outputWidth(spec);
  }

  /** `spec`: the model's row (default w600k_r50's); the session must have its inputs and outputs. */
  static create(session: InferenceSession, spec: ModelSpec = MODEL_SPECS.w600k_r50): ArcFaceEmbedder {
    expectInput(spec, 'The ArcFace embedder', 'five-point', 'NCHW');
    return new ArcFaceEmbedder(session, spec, bindSession(session, spec));
  }

  /** `kps5`: the face's 5 keypoints in frame pixels, as the detector gives them (OpenCV pixel-centre convention). */
  async embed(image: Image, kps5: ArrayLike<number>): Promise<ArcFaceEmbedding> {
    const { crop } = alignForModel(image, kps5, this.spec.input);
    return this.embedAligned(crop);
  }

  /** The embedding of a face already aligned to the row's template at its input size. */
  async embedAligned(crop: Image): Promise<ArcFaceEmbedding> {
    const size = this.spec.input.size;
    if (crop.width !== size || crop.height !== size) {
      throw new RangeError(`ArcFace needs a ${size}×${size} crop, got ${crop.width}×${crop.height}`);
    }
    const blob = modelInputBlob(crop, this.spec.input);
    const out = await this.session.run({ [this.io.inputs[0]!]: { data: blob, dims: inputDims(this.spec.input) } });
    const raw = out[this.io.outputs[0]!]?.data;
    if (!raw || raw.length !== this.embeddingSize) {
      throw new LiveswapError('model', `ArcFace returned ${raw?.length ?? 0} values; expected ${this.embeddingSize}.`);
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
