/**
 * SCRFD face detection as insightface 0.7.3 runs it (spec §2): letterbox to the top-left of the
 * input canvas, anchor-free decoding per stride, score threshold, insightface's greedy NMS.
 * Arithmetic that numpy does in float32 is rounded to float32 here too (Math.fround). Input size,
 * mean/std, channel order and tensor names come from the model's row (det_10g by default).
 */

import { invalidOption, LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { resizeBilinear } from '../core/resize.js';
import { bindSession, expectInput, type BoundIo } from '../models/model-io.js';
import { MODEL_SPECS, type InputSpec, type ModelSpec } from '../models/model-spec.js';
import type { InferenceSession } from '../models/runtime.js';

const f32 = Math.fround;

/**
 * One face as insightface returns it: coordinates in frame pixels, with the values insightface
 * computes (decoded canvas positions divided by the letterbox scale). Like insightface, treat
 * them as OpenCV's pixel-centre convention when aligning (norm_crop warps with them directly).
 */
export interface ScrfdDetection {
  /** [x1, y1, x2, y2], frame pixels. */
  box: [number, number, number, number];
  /** Detector score 0..1 (the graph already applies the sigmoid). */
  score: number;
  /** 5 (x, y) pairs in frame pixels (left eye, right eye, nose, left mouth, right mouth; image-left first); null for models without keypoints. */
  kps5: Float32Array | null;
}

/** The head layout, known from the number of outputs (spec §2.2). */
export interface ScrfdLayout {
  strides: readonly number[];
  anchorsPerCell: number;
  hasKeypoints: boolean;
}

/** `label` names the model file (or row) in the error for any other count. */
export function scrfdLayout(outputCount: number, label = 'the SCRFD model'): ScrfdLayout {
  switch (outputCount) {
    case 6:
      return { strides: [8, 16, 32], anchorsPerCell: 2, hasKeypoints: false };
    case 9:
      return { strides: [8, 16, 32], anchorsPerCell: 2, hasKeypoints: true };
    case 10:
      return { strides: [8, 16, 32, 64, 128], anchorsPerCell: 1, hasKeypoints: false };
    case 15:
      return { strides: [8, 16, 32, 64, 128], anchorsPerCell: 1, hasKeypoints: true };
    default:
      throw new LiveswapError(
        'model',
        `${label} has ${outputCount} output(s); an SCRFD detector has 6, 9, 10 or 15. Is it insightface's det_10g? \`liveswap models verify\` checks the installed files and \`liveswap models pull\` replaces a damaged one.`,
        { file: label },
      );
  }
}

export interface ScrfdOptions {
  /** Input canvas [width, height] for models with dynamic input (det_10g); multiples of 32. Default: the row's size, square. */
  inputSize?: readonly [number, number];
  /** Names the model file in errors (its path or URL); default the row's id. */
  label?: string;
}

export interface ScrfdDetectOptions {
  /** Keep anchors with score ≥ threshold; default 0.5 (insightface det_thresh). */
  threshold?: number;
  /** NMS keeps a box whose IoU with every kept one is ≤ nms; default 0.4. */
  nms?: number;
  /** Keep at most this many faces, ranked by `metric` (spec §2.7); 0 (default) keeps all. */
  maxNum?: number;
  /** 'default': area minus twice the squared distance to the frame centre; 'max': area. */
  metric?: 'default' | 'max';
}

/** Where the frame landed in the canvas: frame pixel · scale = canvas pixel. */
export interface Letterbox {
  scale: number;
  width: number;
  height: number;
}

export class ScrfdDetector {
  readonly layout: ScrfdLayout;
  readonly inputWidth: number;
  readonly inputHeight: number;

  private constructor(
    private readonly session: InferenceSession,
    /** The model's row: input numbers and tensor names. */
    readonly spec: ModelSpec,
    private readonly io: BoundIo,
    layout: ScrfdLayout,
    inputSize: readonly [number, number],
  ) {
    this.layout = layout;
    [this.inputWidth, this.inputHeight] = inputSize;
  }

  /** `spec`: the model's row (default det_10g's); the session must have its inputs and outputs. */
  static create(session: InferenceSession, spec: ModelSpec = MODEL_SPECS.det_10g, options: ScrfdOptions = {}): ScrfdDetector {
    expectInput(spec, 'The SCRFD detector', 'letterbox', 'NCHW');
    if (spec.input.crop.kind !== 'letterbox' || spec.input.crop.anchor !== 'top-left') {
      throw new LiveswapError('model', `The SCRFD detector letterboxes to the top-left corner; the row of ${spec.id} does not.`);
    }
    const label = options.label ?? spec.id;
    const io = bindSession(session, spec, label);
    const size = options.inputSize ?? [spec.input.size, spec.input.size];
    if (!size.every((v) => Number.isInteger(v) && v > 0 && v % 32 === 0)) {
      throw invalidOption('inputSize', 'two positive multiples of 32', size);
    }
    return new ScrfdDetector(session, spec, io, scrfdLayout(spec.outputs.length, label), size);
  }

  async detect(image: Image, options: ScrfdDetectOptions = {}): Promise<ScrfdDetection[]> {
    const threshold = options.threshold ?? 0.5;
    const nms = options.nms ?? 0.4;
    const maxNum = options.maxNum ?? 0;
    if (!(threshold >= 0 && threshold <= 1)) throw invalidOption('threshold', 'a number from 0 to 1', threshold);
    if (!(nms >= 0 && nms <= 1)) throw invalidOption('nms', 'a number from 0 to 1', nms);
    if (!Number.isInteger(maxNum) || maxNum < 0) throw invalidOption('maxNum', 'an integer ≥ 0', maxNum);
    // A buffer per call: detect calls may overlap while the session runs.
    const blob = new Float32Array(3 * this.inputWidth * this.inputHeight);
    const box = letterboxBlob(image, this.inputWidth, this.inputHeight, blob, this.spec.input);
    const out = await this.session.run({
      [this.io.inputs[0]!]: { data: blob, dims: [1, 3, this.inputHeight, this.inputWidth] },
    });
    // In the row's order: scores, boxes, then keypoints, each by stride.
    const tensors = this.io.outputs.map((name) => {
      const t = out[name];
      if (!t) throw new LiveswapError('model', `The SCRFD model did not return its output ${name}.`);
      return t.data;
    });
    const candidates = decodeScrfd(tensors, this.layout, this.inputWidth, this.inputHeight, box.scale, threshold);
    const kept = insightfaceNms(candidates, nms);
    return maxNum > 0 ? limitFaces(kept, maxNum, image.width, image.height, options.metric ?? 'default') : kept;
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

/**
 * Spec F2.1–F2.5: resize the frame with cv2.resize INTER_LINEAR semantics (src/core/resize.ts)
 * into the top-left of a width × height canvas, the rest black, then (p − mean)/std as planes in
 * the row's channel order into `out` (NCHW); det_10g's row: (p − 127.5)/128, RGB. Grey frames are
 * replicated, alpha is dropped.
 */
export function letterboxBlob(image: Image, width: number, height: number, out: Float32Array, input: InputSpec = MODEL_SPECS.det_10g.input): Letterbox {
  const { width: w, height: h } = image;
  const imRatio = h / w;
  let newW: number;
  let newH: number;
  if (imRatio > height / width) {
    newH = height;
    newW = Math.trunc(newH / imRatio);
  } else {
    newW = width;
    newH = Math.trunc(newW * imRatio);
  }
  if (newW < 1 || newH < 1) throw invalidOption('image', `an image that fits a ${width}×${height} canvas`, `${w}×${h}`);
  const plane = width * height;
  if (out.length < 3 * plane) throw new RangeError(`letterboxBlob: out holds ${out.length} values, needs ${3 * plane}`);
  const { mean } = input;
  // 1/std: exact for det_10g's 128, where (p − 127.5)·(1/128) is the spec's (p − 127.5)/128.
  const scale = 1 / input.std;
  const pad = -mean * scale;
  // Padding: the tail of each resized row (when the frame is taller than the canvas's ratio), then
  // all rows below the resized image, one range per plane.
  for (let k = 0; k < 3; k++) {
    const o = k * plane;
    if (newW < width) for (let y = 0; y < newH; y++) out.fill(pad, o + y * width + newW, o + (y + 1) * width);
    out.fill(pad, o + newH * width, o + plane);
  }
  // At an odd integer factor k (1080p → 640×360 is 3×) every destination pixel maps onto a source
  // pixel centre, d·k + (k − 1)/2, with weights (2048, 0): cv2.resize is then exactly a gather.
  const k = w / newW;
  const gather = Number.isInteger(k) && k % 2 === 1 && h === k * newH;
  const src = gather ? image : resizeBilinear(image, newW, newH);
  const step = gather ? k : 1;
  const first = gather ? (k - 1) / 2 : 0;
  const c = src.channels;
  const d = src.data;
  const rowStride = src.width * c;
  const pixelStep = step * c;
  // Each row is gathered into three short scratch lines, then copied to its planes: writing the
  // three planes pixel by pixel interleaves streams 4 KiB multiples apart, which the cache handles
  // badly. (p − mean)/std in double, stored as float32: the value of spec F2.5.
  if (lineScratch.length < 3 * newW) lineScratch = new Float32Array(3 * newW);
  const line = lineScratch;
  const lineR = line.subarray(0, newW);
  const lineG = line.subarray(newW, 2 * newW);
  const lineB = line.subarray(2 * newW, 3 * newW);
  const bgr = input.channels === 'BGR';
  const o0 = c === 1 ? 0 : bgr ? 2 : 0;
  const o1 = c === 1 ? 0 : 1;
  const o2 = c === 1 ? 0 : bgr ? 0 : 2;
  for (let y = 0; y < newH; y++) {
    let p = (y * step + first) * rowStride + first * c;
    for (let x = 0; x < newW; x++, p += pixelStep) {
      line[x] = (d[p + o0] - mean) * scale;
      line[newW + x] = (d[p + o1] - mean) * scale;
      line[2 * newW + x] = (d[p + o2] - mean) * scale;
    }
    const o = y * width;
    out.set(lineR, o);
    out.set(lineG, plane + o);
    out.set(lineB, 2 * plane + o);
  }
  return { scale: newH / h, width: newW, height: newH };
}

let lineScratch = new Float32Array(0);

/**
 * Spec F2.6–F2.10: decode every anchor with score ≥ threshold from the raw outputs (in session
 * order: scores per stride, then boxes, then keypoints), divide by the letterbox scale, sort by
 * score descending. Only the first batch item is read.
 */
export function decodeScrfd(outputs: readonly Float32Array[], layout: ScrfdLayout, inputWidth: number, inputHeight: number, scale: number, threshold: number): ScrfdDetection[] {
  const levels = layout.strides.length;
  const a = layout.anchorsPerCell;
  const s32 = f32(scale);
  const found: { det: ScrfdDetection; order: number }[] = [];
  for (let level = 0; level < levels; level++) {
    const stride = layout.strides[level];
    const cellsX = Math.floor(inputWidth / stride);
    const count = Math.floor(inputHeight / stride) * cellsX * a;
    const scores = outputs[level];
    const boxes = outputs[level + levels];
    const kps = layout.hasKeypoints ? outputs[level + 2 * levels] : undefined;
    if (!scores || !boxes || scores.length < count || boxes.length < count * 4 || (kps && kps.length < count * 10)) {
      throw new LiveswapError('model', `SCRFD outputs for stride ${stride} are shorter than the ${count} anchors of a ${inputWidth}×${inputHeight} input.`);
    }
    for (let k = 0; k < count; k++) {
      const score = scores[k];
      if (!(score >= threshold)) continue;
      const cell = Math.floor(k / a);
      const cx = (cell % cellsX) * stride;
      const cy = Math.floor(cell / cellsX) * stride;
      const b = k * 4;
      const box: [number, number, number, number] = [
        f32(f32(cx - f32(boxes[b] * stride)) / s32),
        f32(f32(cy - f32(boxes[b + 1] * stride)) / s32),
        f32(f32(cx + f32(boxes[b + 2] * stride)) / s32),
        f32(f32(cy + f32(boxes[b + 3] * stride)) / s32),
      ];
      let kps5: Float32Array | null = null;
      if (kps) {
        kps5 = new Float32Array(10);
        for (let j = 0; j < 5; j++) {
          kps5[2 * j] = f32(cx + f32(kps[k * 10 + 2 * j] * stride)) / s32;
          kps5[2 * j + 1] = f32(cy + f32(kps[k * 10 + 2 * j + 1] * stride)) / s32;
        }
      }
      // A damaged model can give NaN or infinite distances: such a face cannot be placed, so it is not one.
      if (!Number.isFinite(score) || !box.every(Number.isFinite) || (kps5 && !kps5.every(Number.isFinite))) continue;
      found.push({ det: { box, score, kps5 }, order: found.length });
    }
  }
  // numpy's argsort()[::-1]: descending score, equal scores latest first.
  found.sort((p, q) => q.det.score - p.det.score || q.order - p.order);
  return found.map((f) => f.det);
}

/**
 * Spec F2.11–F2.13: greedy NMS with insightface's +1 pixel areas; a box survives a kept one when
 * their IoU is ≤ threshold. Input sorted by score descending; output in keep order.
 */
export function insightfaceNms(sorted: readonly ScrfdDetection[], threshold: number): ScrfdDetection[] {
  const n = sorted.length;
  const areas = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const [x1, y1, x2, y2] = sorted[i].box;
    areas[i] = f32(f32(x2 - x1 + 1) * f32(y2 - y1 + 1));
  }
  const suppressed = new Uint8Array(n);
  const kept: ScrfdDetection[] = [];
  for (let i = 0; i < n; i++) {
    if (suppressed[i]) continue;
    const [ax1, ay1, ax2, ay2] = sorted[i].box;
    kept.push(sorted[i]);
    for (let j = i + 1; j < n; j++) {
      if (suppressed[j]) continue;
      const [bx1, by1, bx2, by2] = sorted[j].box;
      const w = Math.max(0, f32(f32(Math.min(ax2, bx2) - Math.max(ax1, bx1)) + 1));
      const h = Math.max(0, f32(f32(Math.min(ay2, by2) - Math.max(ay1, by1)) + 1));
      const inter = f32(w * h);
      const iou = f32(inter / f32(f32(areas[i] + areas[j]) - inter));
      if (!(iou <= threshold)) suppressed[j] = 1;
    }
  }
  return kept;
}

/** Spec F2.14: the `maxNum` faces with the largest area (less twice their squared offset from the frame centre for 'default'). */
export function limitFaces(faces: readonly ScrfdDetection[], maxNum: number, frameWidth: number, frameHeight: number, metric: 'default' | 'max' = 'default'): ScrfdDetection[] {
  if (faces.length <= maxNum) return [...faces];
  const cx = Math.floor(frameWidth / 2);
  const cy = Math.floor(frameHeight / 2);
  const ranked = faces.map((face, index) => {
    const [x1, y1, x2, y2] = face.box;
    const area = (x2 - x1) * (y2 - y1);
    const ox = (x1 + x2) / 2 - cx;
    const oy = (y1 + y2) / 2 - cy;
    return { face, index, value: metric === 'max' ? area : area - 2 * (ox * ox + oy * oy) };
  });
  ranked.sort((p, q) => q.value - p.value || q.index - p.index);
  return ranked.slice(0, maxNum).map((r) => r.face);
}
