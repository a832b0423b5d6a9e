/**
 * Identity descriptors from HSE-FaceRes (the built-in `faceres` model): a recogniser independent of
 * every swap engine, so the evaluation can ask whether a swapped face reads as the source person.
 * Input size, mean/std and tensor names come from the model's row (faceres by default).
 */

import type { Image } from '../core/image.js';
import { LiveswapError } from '../core/errors.js';
import { bindSession, expectInput, type BoundIo } from '../models/model-io.js';
import { MODEL_SPECS, outputWidth, type ModelSpec } from '../models/model-spec.js';
import type { InferenceSession } from '../models/runtime.js';
import type { Face } from './face.js';
import { inputDims, sampleModelInput } from './model-input.js';
import { roiToFrame } from './roi.js';

/** The length of faceres's descriptor, its row's first output: the pooled backbone feature @vladmandic/human returns. */
export const DESCRIPTOR_SIZE = outputWidth(MODEL_SPECS.faceres);

export class FaceEmbedder {
  private constructor(
    private readonly session: InferenceSession,
    /** The model's row: input numbers and tensor names (the descriptor first). */
    readonly spec: ModelSpec,
    private readonly io: BoundIo,
  ) {}

  /** `spec`: the model's row (default faceres's, whose outputs include `global_pooling/Mean`). */
  static create(session: InferenceSession, spec: ModelSpec = MODEL_SPECS.faceres): FaceEmbedder {
    expectInput(spec, 'The FaceRes embedder', 'region', 'NHWC');
    return new FaceEmbedder(session, spec, bindSession(session, spec));
  }

  /**
   * The face's L2-normalised 1024-d descriptor (all zeros only if the model returns zeros).
   *
   * The crop is the face's `roi`: the square FaceMesh was run on, 1.5× the landmarks' extent and
   * turned so the eye line is horizontal. It is upright whatever the head's roll, depends on the
   * landmarks rather than on the detector's box, and frames the face about as @vladmandic/human
   * does for this model (its detector box enlarged 1.4×). It is resampled straight from the frame
   * to the input size (224×224, bilinear, black outside the image) with RGB values 0..255 (the
   * row's mean 0, std 1): human's face crop is 0..1 and it multiplies by 255 before FaceRes, which
   * gives near-constant outputs on 0..1 input.
   */
  async embed(image: Image, face: Face): Promise<Float32Array> {
    // A buffer per call rather than one per instance: calls may overlap, and 600 kB is nothing
    // beside the network's cost.
    const spec = this.spec;
    const input = sampleModelInput(image, roiToFrame(face.roi, spec.input.size), spec.input);
    const out = await this.session.run({ [this.io.inputs[0]!]: { data: input, dims: inputDims(spec.input) } });
    const raw = out[this.io.outputs[0]!]?.data;
    const size = outputWidth(spec);
    if (!raw || raw.length !== size) {
      throw new LiveswapError('model', `FaceRes returned ${raw?.length ?? 0} descriptor values; expected ${size}.`);
    }
    return normalised(raw);
  }
}

/** `v` scaled to unit length (all zeros stays all zeros). */
export function normalised(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const out = new Float32Array(v.length);
  if (sum === 0) return out;
  const inv = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * inv;
  return out;
}

/**
 * Cosine of the angle between two descriptors: 1 for the same direction; 0 when either is all
 * zeros. FaceRes features are non-negative (ReLU6 then a mean), so unrelated faces still score well
 * above 0: compare values with each other, not with 0.
 */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`cosineSimilarity: lengths ${a.length} and ${b.length} differ`);
  let dot = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? 0 : dot / Math.sqrt(aa * bb);
}
