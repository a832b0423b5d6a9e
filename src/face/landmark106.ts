/**
 * insightface's 106-point 2-D landmarks (2d106det of buffalo_l, spec §10.1), which Deep-Live-Cam's
 * mouth mask reads its lip outline from. The face box sets the scale of an axis-aligned 192×192
 * crop (cv2.warpAffine, black border); the raw 0..255 RGB planes go in (the graph normalises);
 * the 212 outputs, in [−1, 1] of the crop, are mapped back to the frame.
 */

import { invertAffine, type Affine } from '../core/affine.js';
import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { warpAffine } from '../core/warp.js';
import type { InferenceSession } from '../models/runtime.js';

export const LANDMARK106_INPUT = 192;
export const LANDMARK106_POINTS = 106;

/**
 * F10.1–F10.2: the crop map for a box [x1, y1, x2, y2] (OpenCV convention): scale
 * s = 192 / (1.5·max(w, h)) about the box centre, which lands on (96, 96).
 */
export function landmark106Matrix(box: ArrayLike<number>): Affine {
  const w = box[2] - box[0];
  const h = box[3] - box[1];
  const cx = (box[0] + box[2]) / 2;
  const cy = (box[1] + box[3]) / 2;
  const s = LANDMARK106_INPUT / (1.5 * Math.max(w, h));
  const half = LANDMARK106_INPUT / 2;
  return [s, 0, half - s * cx, 0, s, half - s * cy];
}

export class Landmark106 {
  private constructor(
    private readonly session: InferenceSession,
    private readonly inputName: string,
    private readonly outputName: string,
  ) {}

  /** Input and output names are the session's own (the registry does not fix them). */
  static create(session: InferenceSession): Landmark106 {
    if (session.inputNames.length !== 1 || session.outputNames.length < 1) {
      throw new LiveswapError('model', `A 2d106det model has one input and a landmark output; this one has `
        + `inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}].`);
    }
    return new Landmark106(session, session.inputNames[0], session.outputNames[0]);
  }

  /**
   * 106 (x, y) pairs in frame pixels for the face in `box` ([x1, y1, x2, y2], frame pixels in
   * OpenCV's convention, as SCRFD gives it); the points use the same convention.
   */
  async detect(image: Image, box: ArrayLike<number>): Promise<Float32Array> {
    const m = landmark106Matrix(box);
    const size = LANDMARK106_INPUT;
    const crop = warpAffine(image, m, size, size);
    const out = await this.session.run({ [this.inputName]: { data: planarRgb(crop), dims: [1, 3, size, size] } });
    const pred = out[this.outputName];
    if (!pred || pred.data.length < LANDMARK106_POINTS * 2) {
      throw new LiveswapError('model', `The 2d106det model returned ${pred ? pred.data.length : 'no'} values; 212 expected.`);
    }
    const inv = invertAffine(m);
    const points = new Float32Array(LANDMARK106_POINTS * 2);
    const half = Math.fround(size / 2);
    for (let i = 0; i < LANDMARK106_POINTS; i++) {
      // F10.4 in float32 as the reference does it, then the inverse map in double.
      const x = Math.fround(Math.fround(pred.data[2 * i] + 1) * half);
      const y = Math.fround(Math.fround(pred.data[2 * i + 1] + 1) * half);
      points[2 * i] = inv[0] * x + inv[1] * y + inv[2];
      points[2 * i + 1] = inv[3] * x + inv[4] * y + inv[5];
    }
    return points;
  }
}

/** NCHW float planes R, G, B of the crop, values 0..255 (grey is replicated, alpha dropped). */
function planarRgb(crop: Image): Float32Array {
  const plane = crop.width * crop.height;
  const c = crop.channels;
  const blob = new Float32Array(plane * 3);
  const d = crop.data;
  for (let p = 0, o = 0; p < plane; p++, o += c) {
    blob[p] = d[o];
    blob[plane + p] = d[c === 1 ? o : o + 1];
    blob[2 * plane + p] = d[c === 1 ? o : o + 2];
  }
  return blob;
}
