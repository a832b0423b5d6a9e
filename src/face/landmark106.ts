/**
 * insightface's 106-point 2-D landmarks (2d106det of buffalo_l, spec §10.1), which Deep-Live-Cam's
 * mouth mask reads its lip outline from. The face box sets the scale of an axis-aligned square
 * crop (cv2.warpAffine, black border); its planes go in as the row says (raw 0..255 RGB: the graph
 * normalises); the outputs, x,y pairs in [−1, 1] of the crop, are mapped back to the frame. Crop
 * side, box scale, mean/std and point count come from the model's row (2d106det by default).
 */

import { invertAffine, type Affine } from '../core/affine.js';
import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { warpAffine } from '../core/warp.js';
import { bindSession, expectInput, type BoundIo } from '../models/model-io.js';
import { MODEL_SPECS, outputWidth, type InputSpec, type ModelSpec } from '../models/model-spec.js';
import type { InferenceSession } from '../models/runtime.js';
import { modelInputBlob } from './align.js';
import { inputDims } from './model-input.js';

/** 2d106det's crop side and point count, as its row gives them. */
export const LANDMARK106_INPUT = MODEL_SPECS['2d106det'].input.size;
export const LANDMARK106_POINTS = outputWidth(MODEL_SPECS['2d106det']) / 2;

/**
 * F10.1–F10.2: the crop map for a box [x1, y1, x2, y2] (OpenCV convention): scale
 * s = size / (k·max(w, h)) about the box centre, which lands on the crop's centre; 2d106det's row
 * has size 192 and k = 1.5.
 */
export function landmark106Matrix(box: ArrayLike<number>, input: InputSpec = MODEL_SPECS['2d106det'].input): Affine {
  if (input.crop.kind !== 'box') throw new RangeError(`landmark106Matrix: the input is cut by '${input.crop.kind}', not by the box`);
  const w = box[2] - box[0];
  const h = box[3] - box[1];
  const cx = (box[0] + box[2]) / 2;
  const cy = (box[1] + box[3]) / 2;
  const s = input.size / (input.crop.scale * Math.max(w, h));
  const half = input.size / 2;
  return [s, 0, half - s * cx, 0, s, half - s * cy];
}

export class Landmark106 {
  /** Landmarks per face: half the row's output width. */
  readonly points: number;

  private constructor(
    private readonly session: InferenceSession,
    /** The model's row: crop, input numbers and (where pinned) tensor names. */
    readonly spec: ModelSpec,
    private readonly io: BoundIo,
  ) {
    this.points = outputWidth(spec) / 2;
  }

  /**
   * `spec`: the model's row (default 2d106det's). Its row does not pin the tensor names, so the
   * session's own are used; it must have one input and an output.
   */
  static create(session: InferenceSession, spec: ModelSpec = MODEL_SPECS['2d106det']): Landmark106 {
    expectInput(spec, 'The 106-point landmark model', 'box', 'NCHW');
    return new Landmark106(session, spec, bindSession(session, spec));
  }

  /**
   * 106 (x, y) pairs in frame pixels for the face in `box` ([x1, y1, x2, y2], frame pixels in
   * OpenCV's convention, as SCRFD gives it); the points use the same convention.
   */
  async detect(image: Image, box: ArrayLike<number>): Promise<Float32Array> {
    const input = this.spec.input;
    const m = landmark106Matrix(box, input);
    const size = input.size;
    const crop = warpAffine(image, m, size, size);
    const out = await this.session.run({ [this.io.inputs[0]!]: { data: modelInputBlob(crop, input), dims: inputDims(input) } });
    const count = this.points;
    const pred = out[this.io.outputs[0]!];
    if (!pred || pred.data.length < count * 2) {
      throw new LiveswapError('model', `The ${this.spec.id} model returned ${pred ? pred.data.length : 'no'} values; ${count * 2} expected.`);
    }
    const inv = invertAffine(m);
    const points = new Float32Array(count * 2);
    const half = Math.fround(size / 2);
    for (let i = 0; i < count; i++) {
      // F10.4 in float32 as the reference does it, then the inverse map in double.
      const x = Math.fround(Math.fround(pred.data[2 * i] + 1) * half);
      const y = Math.fround(Math.fround(pred.data[2 * i + 1] + 1) * half);
      points[2 * i] = inv[0] * x + inv[1] * y + inv[2];
      points[2 * i + 1] = inv[3] * x + inv[4] * y + inv[5];
    }
    return points;
  }
}
