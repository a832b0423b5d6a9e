/**
 * Face detection with MediaPipe BlazeFace (256×256 "back" model): letterboxed input, SSD anchors
 * at strides 16 and 32, box and 6 keypoints decoded relative to each anchor, then greedy NMS.
 * Input size, mean/std, layout and tensor names come from the model's row (blazeface by default);
 * the anchor layout is this model family's own decoding.
 */

import type { Affine } from '../core/affine.js';
import type { Image } from '../core/image.js';
import { LiveswapError } from '../core/errors.js';
import { bindSession, expectInput, type BoundIo } from '../models/model-io.js';
import { MODEL_SPECS, type ModelSpec } from '../models/model-spec.js';
import type { InferenceSession } from '../models/runtime.js';
import { inputDims, sampleModelInput } from './model-input.js';

const KEYPOINTS = 6;
/** Per anchor: box centre offset and size (4), then the keypoints' offsets. */
const ANCHOR_VALUES = 4 + 2 * KEYPOINTS;
/** MediaPipe's SSD anchors for the back model: 2 per cell at stride 16, 6 at stride 32. */
const ANCHOR_LAYERS = [
  { stride: 16, perCell: 2 },
  { stride: 32, perCell: 6 },
] as const;

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

/** Anchors per layer for an input of `size` pixels. */
function anchorCounts(size: number): number[] {
  return ANCHOR_LAYERS.map(({ stride, perCell }) => Math.ceil(size / stride) ** 2 * perCell);
}

function buildAnchors(size: number): Float32Array {
  const out: number[] = [];
  for (const { stride, perCell } of ANCHOR_LAYERS) {
    const cells = Math.ceil(size / stride);
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
  private readonly anchors: Float32Array;
  private readonly counts: number[];
  private readonly input: Float32Array;
  private readonly scores: Float32Array;
  private readonly boxes: Float32Array;

  private constructor(
    private readonly session: InferenceSession,
    /** The model's row: input numbers and tensor names. */
    readonly spec: ModelSpec,
    private readonly io: BoundIo,
  ) {
    const size = spec.input.size;
    this.anchors = buildAnchors(size);
    this.counts = anchorCounts(size);
    const total = this.anchors.length / 2;
    this.input = new Float32Array(size * size * 3);
    this.scores = new Float32Array(total);
    this.boxes = new Float32Array(total * ANCHOR_VALUES);
  }

  /**
   * `spec`: the model's row (default blazeface's). Its outputs are the scores and then the boxes of
   * each anchor layer, with the shapes the anchors at its input size give.
   */
  static create(session: InferenceSession, spec: ModelSpec = MODEL_SPECS.blazeface): BlazeFaceDetector {
    expectInput(spec, 'The BlazeFace detector', 'letterbox', 'NHWC');
    const counts = anchorCounts(spec.input.size);
    const expected = [...counts.map((n) => [1, n, 1]), ...counts.map((n) => [1, n, ANCHOR_VALUES])];
    if (spec.outputs.length !== expected.length || spec.outputs.some((o, i) => o.shape.join() !== expected[i]!.join())) {
      throw new LiveswapError(
        'model',
        `The row of ${spec.id} lists outputs of shapes ${spec.outputs.map((o) => `[${o.shape.join(',')}]`).join(' ')}; ` +
          `BlazeFace's anchors at ${spec.input.size}×${spec.input.size} give ${expected.map((e) => `[${e.join(',')}]`).join(' ')}.`,
      );
    }
    return new BlazeFaceDetector(session, spec, bindSession(session, spec));
  }

  async detect(image: Image, options: DetectorOptions = DEFAULT_DETECTOR_OPTIONS): Promise<Detection[]> {
    // Letterbox: the whole frame, centred in a square, scaled to the input; the rest is black.
    const size = this.spec.input.size;
    const side = Math.max(image.width, image.height);
    const s = side / size;
    const ox = (image.width - side) / 2;
    const oy = (image.height - side) / 2;
    const toFrame: Affine = [s, 0, ox, 0, s, oy];
    sampleModelInput(image, toFrame, this.spec.input, this.input);
    const outputs = await this.session.run({ [this.io.inputs[0]!]: { data: this.input, dims: inputDims(this.spec.input) } });
    const { scores, boxes } = this.arrangeOutputs(outputs);
    const candidates: Detection[] = [];
    const anchorCount = this.anchors.length / 2;
    const minLogit = Math.log(options.minScore / (1 - options.minScore));
    for (let i = 0; i < anchorCount; i++) {
      const logit = scores[i];
      if (!(logit >= minLogit)) continue;
      const r = i * ANCHOR_VALUES;
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
      const candidate: Detection = {
        x0: (cx - w / 2) * s + ox,
        y0: (cy - h / 2) * s + oy,
        x1: (cx + w / 2) * s + ox,
        y1: (cy + h / 2) * s + oy,
        score: 1 / (1 + Math.exp(-logit)),
        keypoints,
      };
      // A damaged model can give NaN or infinite offsets: a region that cannot be placed is no face.
      if ([candidate.x0, candidate.y0, candidate.x1, candidate.y1].every(Number.isFinite) && keypoints.every(Number.isFinite)) candidates.push(candidate);
    }
    candidates.sort((a, b) => b.score - a.score);
    const kept: Detection[] = [];
    for (const c of candidates) if (kept.every((k) => iou(k, c) <= options.iouThreshold)) kept.push(c);
    return kept;
  }

  /** The row's outputs, in its order (scores per layer, then boxes per layer), joined across layers. */
  private arrangeOutputs(outputs: Readonly<Record<string, { data: Float32Array }>>): { scores: Float32Array; boxes: Float32Array } {
    const layers = this.counts.length;
    let offset = 0;
    for (const [layer, count] of this.counts.entries()) {
      const scores = outputs[this.io.outputs[layer]!]?.data;
      const boxes = outputs[this.io.outputs[layers + layer]!]?.data;
      if (!scores || !boxes || scores.length !== count || boxes.length !== count * ANCHOR_VALUES) {
        throw new LiveswapError('model', `The ${this.spec.id} model's outputs for anchor layer ${layer} do not hold ${count} anchors.`);
      }
      this.scores.set(scores, offset);
      this.boxes.set(boxes, offset * ANCHOR_VALUES);
      offset += count;
    }
    return { scores: this.scores, boxes: this.boxes };
  }
}
