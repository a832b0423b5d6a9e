/**
 * 468-point landmarks with MediaPipe FaceMesh: the face's rotated square region is resampled to
 * the model's input (192×192, values 0..1 for facemesh's row), and the landmarks are mapped back
 * to the frame through the same affine. Numbers and tensor names come from the model's row.
 */

import { applyAffine } from '../core/affine.js';
import type { Image } from '../core/image.js';
import { LiveswapError } from '../core/errors.js';
import { bindSession, expectInput, type BoundIo } from '../models/model-io.js';
import { MODEL_SPECS, outputWidth, type ModelSpec } from '../models/model-spec.js';
import type { InferenceSession } from '../models/runtime.js';
import { MESH_POINTS, type FaceRoi } from './face.js';
import { inputDims, sampleModelInput } from './model-input.js';
import { roiToFrame } from './roi.js';

export interface MeshResult {
  /** 468 × (x, y, z) in frame pixels. */
  landmarks: Float32Array;
  /** Probability that the region holds a face. */
  score: number;
}

export class FaceMeshModel {
  private readonly input: Float32Array;

  private constructor(
    private readonly session: InferenceSession,
    /** The model's row: input numbers and tensor names (the mesh, then the face flag). */
    readonly spec: ModelSpec,
    private readonly io: BoundIo,
  ) {
    this.input = new Float32Array(spec.input.size * spec.input.size * 3);
  }

  /** `spec`: the model's row (default facemesh's, whose outputs are `Identity_2`, the mesh, and `Identity_1`, the face flag). */
  static create(session: InferenceSession, spec: ModelSpec = MODEL_SPECS.facemesh): FaceMeshModel {
    expectInput(spec, 'The FaceMesh model', 'region', 'NHWC');
    if (outputWidth(spec) !== MESH_POINTS * 3) {
      throw new LiveswapError('model', `The row of ${spec.id} gives a mesh of ${outputWidth(spec)} values; the face mesh has ${MESH_POINTS} points × 3.`);
    }
    return new FaceMeshModel(session, spec, bindSession(session, spec));
  }

  async run(image: Image, roi: FaceRoi): Promise<MeshResult> {
    const size = this.spec.input.size;
    const toFrame = roiToFrame(roi, size);
    sampleModelInput(image, toFrame, this.spec.input, this.input);
    const out = await this.session.run({ [this.io.inputs[0]!]: { data: this.input, dims: inputDims(this.spec.input) } });
    const raw = out[this.io.outputs[0]!]?.data;
    const flag = out[this.io.outputs[1]!]?.data;
    if (!raw || raw.length < MESH_POINTS * 3 || !flag) throw new LiveswapError('model', `The ${this.spec.id} model did not return its mesh and face flag.`);
    const landmarks = new Float32Array(MESH_POINTS * 3);
    const zScale = roi.size / size;
    for (let i = 0; i < MESH_POINTS; i++) {
      const [x, y] = applyAffine(toFrame, raw[3 * i], raw[3 * i + 1]);
      landmarks[3 * i] = x;
      landmarks[3 * i + 1] = y;
      landmarks[3 * i + 2] = raw[3 * i + 2] * zScale;
    }
    return { landmarks, score: flag[0] };
  }
}
