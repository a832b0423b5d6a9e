/**
 * 468-point landmarks with MediaPipe FaceMesh: the face's rotated square region is resampled to
 * 192×192 (values 0..1), and the landmarks are mapped back to the frame through the same affine.
 */

import { applyAffine } from '../core/affine.js';
import type { Image } from '../core/image.js';
import { sampleAffineToTensor } from '../core/warp.js';
import { LiveswapError } from '../core/errors.js';
import type { InferenceSession } from '../models/runtime.js';
import { MESH_POINTS, type FaceRoi } from './face.js';
import { roiToFrame } from './roi.js';

const INPUT = 192;

export interface MeshResult {
  /** 468 × (x, y, z) in frame pixels. */
  landmarks: Float32Array;
  /** Probability that the region holds a face. */
  score: number;
}

export class FaceMeshModel {
  private readonly input = new Float32Array(INPUT * INPUT * 3);
  private readonly meshOutput: string;
  private readonly scoreOutput: string;

  private constructor(private readonly session: InferenceSession, names: { mesh: string; score: string }) {
    this.meshOutput = names.mesh;
    this.scoreOutput = names.score;
  }

  /** Outputs are `Identity_2` (mesh, 1404) and `Identity_1` (face flag) in the shipped model. */
  static create(session: InferenceSession): FaceMeshModel {
    const has = (name: string) => session.outputNames.includes(name);
    if (session.inputNames.length !== 1 || !has('Identity_2') || !has('Identity_1')) {
      throw new LiveswapError('model', `FaceMesh model outputs are [${session.outputNames.join(', ')}]; expected Identity_1 and Identity_2.`);
    }
    return new FaceMeshModel(session, { mesh: 'Identity_2', score: 'Identity_1' });
  }

  async run(image: Image, roi: FaceRoi): Promise<MeshResult> {
    const toFrame = roiToFrame(roi, INPUT);
    sampleAffineToTensor(image, toFrame, INPUT, INPUT, 1 / 255, 0, this.input);
    const out = await this.session.run({ [this.session.inputNames[0]]: { data: this.input, dims: [1, INPUT, INPUT, 3] } });
    const raw = out[this.meshOutput].data;
    const landmarks = new Float32Array(MESH_POINTS * 3);
    const zScale = roi.size / INPUT;
    for (let i = 0; i < MESH_POINTS; i++) {
      const [x, y] = applyAffine(toFrame, raw[3 * i], raw[3 * i + 1]);
      landmarks[3 * i] = x;
      landmarks[3 * i + 1] = y;
      landmarks[3 * i + 2] = raw[3 * i + 2] * zScale;
    }
    return { landmarks, score: out[this.scoreOutput].data[0] };
  }
}
