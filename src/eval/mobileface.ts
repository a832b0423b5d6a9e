/**
 * Identity embeddings from MobileFace (the built-in `mobileface` model): the evaluation's second
 * recogniser, independent of FaceRes in architecture, training data and crop, so a swap that
 * fools one recogniser by accident is caught by the other.
 */

import { affineCentredToCorner, invertAffine, type Affine } from '../core/affine.js';
import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { sampleAffineToTensor } from '../core/warp.js';
import { estimateNorm } from '../face/align.js';
import { normalised } from '../face/embedder.js';
import type { Face } from '../face/face.js';
import type { InferenceSession } from '../models/runtime.js';

const INPUT = 112;
export const MOBILEFACE_EMBEDDING_SIZE = 256;

/**
 * The map from the 112² crop to the frame, both in the project's continuous pixel convention:
 * insightface's five-point alignment onto the ArcFace template, the crop MobileFace was trained on
 * (112×112 faces aligned by five points, as the MS1M/LFW sets it was benchmarked on are).
 */
export function mobileFaceCropToFrame(kps5: ArrayLike<number>): Affine {
  // estimateNorm works in OpenCV's convention (pixel centres at integers); Face points do not.
  const points = Float32Array.from(kps5, (v) => v - 0.5);
  return affineCentredToCorner(invertAffine(estimateNorm(points, INPUT)));
}

export class MobileFaceEmbedder {
  private constructor(
    private readonly session: InferenceSession,
    private readonly output: string,
  ) {}

  /** `session` holds the converted mobileface model: one NHWC input, one [N, 256] output. */
  static create(session: InferenceSession): MobileFaceEmbedder {
    if (session.inputNames.length !== 1 || session.outputNames.length !== 1) {
      throw new LiveswapError('model', `MobileFace model has inputs [${session.inputNames.join(', ')}] and outputs `
        + `[${session.outputNames.join(', ')}]; expected one of each.`);
    }
    return new MobileFaceEmbedder(session, session.outputNames[0]);
  }

  /**
   * The face's L2-normalised 256-d embedding. The crop is aligned on the face's five points
   * (unlike @vladmandic/human, which fed this model its unaligned detector crop scaled to 0..1:
   * on the evaluation photos that crop leaves same-person and different-person similarities
   * overlapping, and 0..1 input gives near-constant embeddings). RGB 0..255, bilinear, black
   * outside the frame; the graph itself subtracts 127.5 and scales by 1/128.
   */
  async embed(image: Image, face: Face): Promise<Float32Array> {
    const input = sampleAffineToTensor(image, mobileFaceCropToFrame(face.kps5), INPUT, INPUT, 1, 0);
    const out = await this.session.run({ [this.session.inputNames[0]]: { data: input, dims: [1, INPUT, INPUT, 3] } });
    const raw = out[this.output]?.data;
    if (!raw || raw.length !== MOBILEFACE_EMBEDDING_SIZE) {
      throw new LiveswapError('model', `MobileFace returned ${raw?.length ?? 0} values; expected ${MOBILEFACE_EMBEDDING_SIZE}.`);
    }
    return normalised(raw);
  }
}
