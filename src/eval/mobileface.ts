/**
 * Identity embeddings from MobileFace (the built-in `mobileface` model): the evaluation's second
 * recogniser, independent of FaceRes in architecture, training data and crop, so a swap that
 * fools one recogniser by accident is caught by the other. Template, input size, mean/std and
 * tensor names come from the model's row (mobileface by default).
 */

import { affineCentredToCorner, invertAffine, type Affine } from '../core/affine.js';
import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { normalised } from '../face/embedder.js';
import type { Face } from '../face/face.js';
import { estimateNormFor, inputDims, sampleModelInput } from '../face/model-input.js';
import { bindSession, expectInput, type BoundIo } from '../models/model-io.js';
import { MODEL_SPECS, outputWidth, type InputSpec, type ModelSpec } from '../models/model-spec.js';
import type { InferenceSession } from '../models/runtime.js';

export const MOBILEFACE_EMBEDDING_SIZE = outputWidth(MODEL_SPECS.mobileface);

/**
 * The map from the model's crop (112² for mobileface's row) to the frame, both in the project's
 * continuous pixel convention: insightface's five-point alignment onto the row's template (the
 * ArcFace one), the crop MobileFace was trained on (112×112 faces aligned by five points, as the
 * MS1M/LFW sets it was benchmarked on are).
 */
export function mobileFaceCropToFrame(kps5: ArrayLike<number>, input: InputSpec = MODEL_SPECS.mobileface.input): Affine {
  // estimate_norm works in OpenCV's convention (pixel centres at integers); Face points do not.
  const points = Float32Array.from(kps5, (v) => v - 0.5);
  return affineCentredToCorner(invertAffine(estimateNormFor(points, input)));
}

export class MobileFaceEmbedder {
  private constructor(
    private readonly session: InferenceSession,
    /** The model's row: template, input numbers and tensor names. */
    readonly spec: ModelSpec,
    private readonly io: BoundIo,
  ) {}

  /** `spec`: the model's row (default mobileface's: one NHWC input, one [N, 256] output). */
  static create(session: InferenceSession, spec: ModelSpec = MODEL_SPECS.mobileface): MobileFaceEmbedder {
    expectInput(spec, 'The MobileFace embedder', 'five-point', 'NHWC');
    return new MobileFaceEmbedder(session, spec, bindSession(session, spec));
  }

  /**
   * The face's L2-normalised 256-d embedding. The crop is aligned on the face's five points
   * (unlike @vladmandic/human, which fed this model its unaligned detector crop scaled to 0..1:
   * on the evaluation photos that crop leaves same-person and different-person similarities
   * overlapping, and 0..1 input gives near-constant embeddings). RGB 0..255 as the row says,
   * bilinear, black outside the frame; the graph itself subtracts 127.5 and scales by 1/128.
   */
  async embed(image: Image, face: Face): Promise<Float32Array> {
    const spec = this.spec;
    const input = sampleModelInput(image, mobileFaceCropToFrame(face.kps5, spec.input), spec.input);
    const out = await this.session.run({ [this.io.inputs[0]!]: { data: input, dims: inputDims(spec.input) } });
    const raw = out[this.io.outputs[0]!]?.data;
    const size = outputWidth(spec);
    if (!raw || raw.length !== size) {
      throw new LiveswapError('model', `MobileFace returned ${raw?.length ?? 0} values; expected ${size}.`);
    }
    return normalised(raw);
  }
}
