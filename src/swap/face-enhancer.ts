/**
 * FaceFusion's face enhancers (spec §8.1: GFPGAN, GPEN-BFR, CodeFormer, RestoreFormer++), run on
 * each face after it was swapped: the face cut on the row's template at its size (BORDER_REPLICATE),
 * fed as (p/255 − 0.5)/0.5 RGB planes with CodeFormer's fidelity weight where the row has that
 * input, the output clipped to −1..1 and rounded back to pixels (F8.4), and pasted under the box
 * mask with FaceFusion's paste and blend (compose/enhancer-paste.ts). With occlusion on, XSeg's
 * mask of the crop before enhancement joins the box mask by the minimum (F8.2, §9.5), so what covers
 * the face is not restored over.
 */

import { LiveswapError } from '../core/errors.js';
import { createImage, type Image } from '../core/image.js';
import type { Face } from '../face/face.js';
import { enhancerBoxMask, pasteEnhanced } from '../compose/enhancer-paste.js';
import { occlusionCropMask, occludersFor, type MaskModels } from '../compose/occlusion-mask.js';
import { combineMasks, type OcclusionChoice } from '../compose/region-mask.js';
import type { Affine } from '../core/affine.js';
import { bindSession, expectInput, type BoundIo } from '../models/model-io.js';
import type { ModelSpec } from '../models/model-spec.js';
import type { InferenceSession, TensorData } from '../models/runtime.js';
import { opencvKeypoints } from './model-swap-engine.js';
import { cropForRow, swapperInputBlob } from './swapper-families.js';

/**
 * How an enhancement is mixed in: `blend` 0..100 (FaceFusion's face_enhancer_blend), CodeFormer's
 * `weight` 0..1, and the occlusion mask the swap used (undefined: none).
 */
export interface EnhanceSettings {
  blend: number;
  weight: number;
  occlusion?: OcclusionChoice;
}

/** F8.4: planes in −1..1 to RGB pixels: clip, (x + 1)/2, ×255, rounded. */
export function enhancerOutputImage(pred: Float32Array, size: number, label: string): Image {
  const plane = size * size;
  if (pred.length !== 3 * plane) throw new LiveswapError('model', `${label} returned ${pred.length} values; expected 3×${size}×${size}.`, { file: label });
  const out = createImage(size, size, 3);
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < plane; i++) {
      const x = pred[k * plane + i]!;
      if (Number.isNaN(x)) throw new LiveswapError('model', `${label} produced NaN values; the model file is damaged or not a face enhancer.`, { file: label });
      out.data[i * 3 + k] = Math.round(((Math.min(1, Math.max(-1, x)) + 1) / 2) * 255);
    }
  }
  return out;
}

export class FaceEnhancer {
  private mask: Float32Array | undefined;

  private constructor(
    private readonly session: InferenceSession,
    /** The enhancer's row: template, size, tensor names (and `weight` for CodeFormer). */
    readonly spec: ModelSpec,
    private readonly io: BoundIo,
    private readonly label: string,
    private readonly maskModels?: MaskModels,
  ) {}

  /** `maskModels`: XSeg, when installed, for the occlusion mask (an enhancement asking for it without them is an error naming the pull). */
  static create(session: InferenceSession, spec: ModelSpec, label: string = spec.id, maskModels?: MaskModels): FaceEnhancer {
    if (spec.role !== 'enhancer') throw new LiveswapError('model', `${spec.id} is not a face enhancer.`);
    expectInput(spec, 'The face enhancer', 'five-point', 'NCHW');
    return new FaceEnhancer(session, spec, bindSession(session, spec, label), label, maskModels);
  }

  /** Whether the row feeds a fidelity weight (CodeFormer). */
  get takesWeight(): boolean {
    return this.spec.inputs.some((t) => t.name === 'weight');
  }

  /** The enhanced crop of `face`, the crop it was made from and the map it was cut with (F8.1–F8.4); the frame is only read. */
  async enhanceCrop(frame: Image, face: Face, weight: number): Promise<{ crop: Image; original: Image; matrix: Affine }> {
    const input = this.spec.input;
    const { crop, matrix } = cropForRow(frame, opencvKeypoints(face), input);
    const feeds: Record<string, TensorData> = { [this.io.inputs[0]!]: { data: swapperInputBlob(crop, input), dims: [1, 3, input.size, input.size] } };
    const weightAt = this.spec.inputs.findIndex((t) => t.name === 'weight');
    if (weightAt >= 0) feeds[this.io.inputs[weightAt]!] = { data: Float32Array.of(weight), dims: [1], dtype: 'float64' };
    const out = await this.session.run(feeds);
    const pred = out[this.io.outputs[0]!];
    if (!pred) throw new LiveswapError('model', `${this.label} returned no output.`, { file: this.label });
    return { crop: enhancerOutputImage(pred.data, input.size, this.label), original: crop, matrix };
  }

  /** Enhances `face` in `frame`, in place (F8.1–F8.6). */
  async enhance(frame: Image, face: Face, settings: EnhanceSettings): Promise<void> {
    // Checked before the model runs: an occluder that is not installed names its pull command.
    const occluders = settings.occlusion ? occludersFor(settings.occlusion, this.maskModels) : [];
    const { crop, original, matrix } = await this.enhanceCrop(frame, face, settings.weight);
    const size = this.spec.input.size;
    this.mask ??= enhancerBoxMask(size, size);
    let mask = this.mask;
    if (occluders.length && this.maskModels) {
      // F8.2: the box mask and XSeg's mask of the crop as it was before enhancement, by the minimum.
      const occlusion = await occlusionCropMask(this.maskModels, occluders, original, matrix);
      mask = combineMasks([mask, occlusion.data]);
    }
    pasteEnhanced(frame, crop, matrix, mask, settings.blend / 100);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
