/**
 * Face detection with MediaPipe BlazeFace (256×256 "back" model): letterboxed input, SSD anchors
 * at strides 16 and 32, box and 6 keypoints decoded relative to each anchor, then greedy NMS.
 */

import type { Affine } from '../core/affine.js';
import type { Image } from '../core/image.js';
import { sampleAffineToTensor } from '../core/warp.js';
import { LiveswapError } from '../core/errors.js';
import type { InferenceSession, TensorData } from '../models/runtime.js';

const INPUT = 256;
const KEYPOINTS = 6;

export interface Detection {
  /** Box in frame pixels. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  score: number;
  /** 6 keypoints (x, y): image-left eye, image-right eye, nose, mouth, image-left ear, image-right ear. */
  keypoints: Float32Array;
}

export interface DetectorOptions {
  minScore: number;
  iouThreshold: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = { minScore: 0.5, iouThreshold: 0.3 };

function buildAnchors(): Float32Array {
  const layers = [
    { stride: 16, perCell: 2 },
    { stride: 32, perCell: 6 },
  ];
  const out: number[] = [];
  for (const { stride, perCell } of layers) {
    const cells = Math.ceil(INPUT / stride);
    for (let gy = 0; gy < cells; gy++) {
      for (let gx = 0; gx < cells; gx++) {
        for (let n = 0; n < perCell; n++) out.push((gx + 0.5) * stride, (gy + 0.5) * stride);
      }
    }
  }
  return Float32Array.from(out);
}

function iou(a: Detection, b: Detection): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter);
}

export class BlazeFaceDetector {
  private readonly anchors = buildAnchors();
  private readonly input = new Float32Array(INPUT * INPUT * 3);
  private readonly scores = new Float32Array(896);
  private readonly boxes = new Float32Array(896 * 16);

  private constructor(private readonly session: InferenceSession) {}

  static create(session: InferenceSession): BlazeFaceDetector {
    if (session.inputNames.length !== 1 || session.outputNames.length !== 4) {
      throw new LiveswapError('model', `BlazeFace model has ${session.inputNames.length} inputs and ${session.outputNames.length} outputs; expected 1 and 4.`);
    }
    return new BlazeFaceDetector(session);
  }

  async detect(image: Image, options: DetectorOptions = DEFAULT_DETECTOR_OPTIONS): Promise<Detection[]> {
    // Letterbox: the whole frame, centred in a square, scaled to 256; the rest is black (-1).
    const side = Math.max(image.width, image.height);
    const s = side / INPUT;
    const ox = (image.width - side) / 2;
    const oy = (image.height - side) / 2;
    const toFrame: Affine = [s, 0, ox, 0, s, oy];
    sampleAffineToTensor(image, toFrame, INPUT, INPUT, 1 / 127.5, -1, this.input);
    const outputs = await this.session.run({ [this.session.inputNames[0]]: { data: this.input, dims: [1, INPUT, INPUT, 3] } });
    const { scores, boxes } = this.arrangeOutputs(Object.values(outputs));
    const candidates: Detection[] = [];
    const anchorCount = this.anchors.length / 2;
    const minLogit = Math.log(options.minScore / (1 - options.minScore));
    for (let i = 0; i < anchorCount; i++) {
      const logit = scores[i];
      if (!(logit >= minLogit)) continue;
      const r = i * 16;
      const ax = this.anchors[2 * i];
      const ay = this.anchors[2 * i + 1];
      const cx = ax + boxes[r];
      const cy = ay + boxes[r + 1];
      const w = boxes[r + 2];
      const h = boxes[r + 3];
      const keypoints = new Float32Array(2 * KEYPOINTS);
      for (let k = 0; k < KEYPOINTS; k++) {
        keypoints[2 * k] = (ax + boxes[r + 4 + 2 * k]) * s + ox;
        keypoints[2 * k + 1] = (ay + boxes[r + 5 + 2 * k]) * s + oy;
      }
      candidates.push({
        x0: (cx - w / 2) * s + ox,
        y0: (cy - h / 2) * s + oy,
        x1: (cx + w / 2) * s + ox,
        y1: (cy + h / 2) * s + oy,
        score: 1 / (1 + Math.exp(-logit)),
        keypoints,
      });
    }
    candidates.sort((a, b) => b.score - a.score);
    const kept: Detection[] = [];
    for (const c of candidates) if (kept.every((k) => iou(k, c) <= options.iouThreshold)) kept.push(c);
    return kept;
  }

  /** Outputs are told apart by shape, not name: [1,512,1], [1,384,1], [1,512,16], [1,384,16]. */
  private arrangeOutputs(outputs: TensorData[]): { scores: Float32Array; boxes: Float32Array } {
    const find = (anchors: number, width: number): Float32Array => {
      const t = outputs.find((o) => o.dims[1] === anchors && o.dims[2] === width);
      if (!t) throw new LiveswapError('model', `BlazeFace model lacks an output of shape [1,${anchors},${width}].`);
      return t.data;
    };
    this.scores.set(find(512, 1), 0);
    this.scores.set(find(384, 1), 512);
    this.boxes.set(find(512, 16), 0);
    this.boxes.set(find(384, 16), 512 * 16);
    return { scores: this.scores, boxes: this.boxes };
  }
}
