/**
 * The two models FaceFusion's masks run (spec §9.2, §9.3), each on a face crop resized to its
 * row's input: BiSeNet's face parser (19 CelebAMask-HQ labels per pixel, F9.6–F9.7) and XSeg's
 * occlusion mask (the probability that a pixel is face and not a hand or an object in front of
 * it, F9.4). Sizes, channel order, layout and mean/std come from the rows; the blur and rescale
 * that follow are compose/'s (region-mask.ts).
 */

import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { resizeBilinear } from '../core/resize.js';
import { bindSession, type BoundIo } from '../models/model-io.js';
import type { InputSpec, ModelSpec } from '../models/model-spec.js';
import type { InferenceSession, TensorData } from '../models/runtime.js';
import { BISENET_CLASS_COUNT } from './face-regions.js';

/** The crop resized to the row's input (cv2.resize INTER_LINEAR) as its tensor: per-channel (p − mean)/std, its channel order and layout. */
export function maskModelInput(crop: Image, input: InputSpec): TensorData {
  const size = input.size;
  const resized = crop.width === size && crop.height === size ? crop : resizeBilinear(crop, size, size);
  const c = resized.channels;
  const mean = input.channelMean ?? [input.mean, input.mean, input.mean];
  const std = input.channelStd ?? [input.std, input.std, input.std];
  const data = new Float32Array(3 * size * size);
  const plane = size * size;
  for (let i = 0; i < plane; i++) {
    for (let k = 0; k < 3; k++) {
      // Channel k of the tensor: R, G, B in order, or B, G, R; a grey crop repeats its one channel.
      const rgb = input.channels === 'RGB' ? k : 2 - k;
      const v = (resized.data[i * c + (c === 1 ? 0 : rgb)] - mean[rgb]) / std[rgb];
      data[input.layout === 'NCHW' ? k * plane + i : 3 * i + k] = v;
    }
  }
  return { data, dims: input.layout === 'NCHW' ? [1, 3, size, size] : [1, size, size, 3] };
}

function single(out: Record<string, TensorData>, name: string, spec: ModelSpec, length: number): Float32Array {
  const tensor = out[name];
  if (!tensor || tensor.data.length < length) {
    throw new LiveswapError('model', `The ${spec.id} model returned ${tensor ? tensor.data.length : 'no'} values; ${length} expected.`);
  }
  return tensor.data;
}

/** BiSeNet face parsing (bisenet_resnet_18 / _34). */
export class FaceParser {
  private constructor(
    private readonly session: InferenceSession,
    readonly spec: ModelSpec,
    private readonly io: BoundIo,
  ) {}

  /** `spec`: the parser's row; the session must match its tensors. */
  static create(session: InferenceSession, spec: ModelSpec, label?: string): FaceParser {
    if (spec.role !== 'parser') throw new RangeError(`FaceParser: ${spec.id} is a ${spec.role} model, not a face parser`);
    return new FaceParser(session, spec, bindSession(session, spec, label));
  }

  /** F9.6–F9.7: the label map (argmax over the 19 logits, first maximum wins) at the row's input size. */
  async parse(crop: Image): Promise<{ labels: Uint8Array; size: number }> {
    const size = this.spec.input.size;
    const out = await this.session.run({ [this.io.inputs[0]!]: maskModelInput(crop, this.spec.input) });
    const plane = size * size;
    const logits = single(out, this.io.outputs[0]!, this.spec, BISENET_CLASS_COUNT * plane);
    const labels = new Uint8Array(plane);
    for (let i = 0; i < plane; i++) {
      let best = logits[i];
      let label = 0;
      for (let k = 1; k < BISENET_CLASS_COUNT; k++) {
        const v = logits[k * plane + i];
        if (v > best) {
          best = v;
          label = k;
        }
      }
      labels[i] = label;
    }
    return { labels, size };
  }
}

/** XSeg occlusion (xseg_1 / _2 / _3). */
export class Occluder {
  private constructor(
    private readonly session: InferenceSession,
    readonly spec: ModelSpec,
    private readonly io: BoundIo,
  ) {}

  /** `spec`: the occluder's row; the session must match its tensors. */
  static create(session: InferenceSession, spec: ModelSpec, label?: string): Occluder {
    if (spec.role !== 'occluder') throw new RangeError(`Occluder: ${spec.id} is a ${spec.role} model, not an occluder`);
    return new Occluder(session, spec, bindSession(session, spec, label));
  }

  /** F9.4: the face probability per pixel at the row's input size, clipped to [0, 1] (white keeps the face). */
  async occlusion(crop: Image): Promise<{ probability: Float32Array; size: number }> {
    const size = this.spec.input.size;
    const out = await this.session.run({ [this.io.inputs[0]!]: maskModelInput(crop, this.spec.input) });
    const data = single(out, this.io.outputs[0]!, this.spec, size * size);
    const probability = new Float32Array(size * size);
    for (let i = 0; i < probability.length; i++) probability[i] = Math.min(1, Math.max(0, data[i]));
    return { probability, size };
  }
}
