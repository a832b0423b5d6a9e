/**
 * InSwapper-128's forward pass (spec §6.2, insightface 0.7.3): identity latent from an ArcFace
 * embedding and the model's emap, the aligned crop as (p − mean)/std planes (RGB/255 for the
 * 128×128 row), and the output scaled back to 8 bits by truncation through the same mean/std.
 * Sizes, numbers and tensor names come from the model's row; pasting is compose/'s job.
 */

import { LiveswapError } from '../core/errors.js';
import { createImage, type Image } from '../core/image.js';
import { modelInputBlob } from '../face/align.js';
import { inputDims } from '../face/model-input.js';
import { EMAP_SIZE } from '../models/emap.js';
import { bindSession, expectInput, type BoundIo } from '../models/model-io.js';
import { MODEL_SPECS, type InputSpec, type ModelSpec } from '../models/model-spec.js';
import type { InferenceSession } from '../models/runtime.js';

/** inswapper_128's crop side, as its row gives it. */
export const INSWAPPER_INPUT = MODEL_SPECS.inswapper_128.input.size;
/** The latent is the emap's side: the projection is square (spec F6.4). */
const LATENT_SIZE = EMAP_SIZE;

/**
 * Spec F6.3–F6.5: n = embedding/‖embedding‖, latent = n·emap (row vector times the row-major
 * 512×512 emap, no transpose), then latent/‖latent‖. The result does not depend on the
 * embedding's length, so a raw or a normed embedding gives the same latent.
 */
export function latentFromEmbedding(embedding: ArrayLike<number>, emap: Float32Array): Float32Array {
  if (embedding.length !== LATENT_SIZE) throw new RangeError(`latentFromEmbedding: embedding has ${embedding.length} values, expected ${LATENT_SIZE}`);
  if (emap.length !== LATENT_SIZE * LATENT_SIZE) throw new RangeError(`latentFromEmbedding: emap has ${emap.length} values, expected ${LATENT_SIZE}²`);
  const normed = unit(embedding);
  // Accumulate rows of the emap in float64 (numpy's float32 dot differs by a few ulp at most).
  const acc = new Float64Array(LATENT_SIZE);
  for (let i = 0; i < LATENT_SIZE; i++) {
    const n = normed[i];
    if (n === 0) continue;
    const row = i * LATENT_SIZE;
    for (let j = 0; j < LATENT_SIZE; j++) acc[j] += n * emap[row + j];
  }
  return unit(Float32Array.from(acc));
}

/**
 * One identity from several photos of the same person. insightface 0.7.3 takes one source face;
 * this follows FaceFusion (spec §5): the mean of the raw embeddings and the mean of the normed
 * ones, the latter not re-normalised (latentFromEmbedding normalises anyway).
 */
export function averageIdentity(embeddings: readonly ArrayLike<number>[]): { embedding: Float32Array; normedEmbedding: Float32Array } {
  if (embeddings.length === 0) throw new RangeError('averageIdentity: no embeddings');
  const size = embeddings[0].length;
  const raw = new Float64Array(size);
  const normed = new Float64Array(size);
  for (const e of embeddings) {
    if (e.length !== size) throw new RangeError(`averageIdentity: embeddings of ${size} and ${e.length} values`);
    const n = unit(e);
    for (let i = 0; i < size; i++) {
      raw[i] += e[i];
      normed[i] += n[i];
    }
  }
  const k = embeddings.length;
  return { embedding: Float32Array.from(raw, (v) => v / k), normedEmbedding: Float32Array.from(normed, (v) => v / k) };
}

/**
 * Spec F6.7: RGB planes ≈ 0..1 to an 8-bit RGB image, trunc(clip(std·v + mean, 0, 255)) in float32
 * (the row's numbers: 255·v for InSwapper). Throws LiveswapError('model') naming `modelLabel` when
 * a value is NaN or every pixel is black: a broken or mismatched model file, not a face.
 */
export function inswapperOutputToImage(pred: Float32Array, width: number, height: number, modelLabel: string, input: InputSpec = MODEL_SPECS.inswapper_128.input): Image {
  const { mean, std } = input;
  const plane = width * height;
  if (pred.length !== 3 * plane) {
    throw new LiveswapError('model', `${modelLabel} returned ${pred.length} values; expected 3×${width}×${height}.`, { file: modelLabel });
  }
  const image = createImage(width, height, 3);
  const d = image.data;
  let lit = false;
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    for (let k = 0; k < 3; k++) {
      const v = pred[i + k * plane];
      if (Number.isNaN(v)) {
        throw new LiveswapError('model', `${modelLabel} produced NaN values; the model file is damaged or not an InSwapper model.`, { file: modelLabel });
      }
      const scaled = Math.fround(v * std + mean);
      // Truncation toward zero after clipping, as numpy's astype(uint8) does.
      const byte = scaled >= 255 ? 255 : scaled > 0 ? Math.floor(scaled) : 0;
      d[p + k] = byte;
      if (byte !== 0) lit = true;
    }
  }
  if (!lit) {
    throw new LiveswapError('model', `${modelLabel} produced an all-black face; the model file is damaged or not an InSwapper model.`, { file: modelLabel });
  }
  return image;
}

/** An InSwapper model bound to its row: feeds the crop and the latent by the row's names. */
export class InswapperModel {
  private constructor(
    private readonly session: InferenceSession,
    /** The model's row: template, input size, mean/std and tensor names (target, then source). */
    readonly spec: ModelSpec,
    private readonly io: BoundIo,
    /** Names the model file in errors (NaN or black output from a broken file). */
    readonly label: string,
  ) {}

  /** `spec`: the model's row (default inswapper_128's; the fp16 file's row has the same numbers). */
  static create(session: InferenceSession, spec: ModelSpec = MODEL_SPECS.inswapper_128, label = 'the InSwapper model'): InswapperModel {
    expectInput(spec, 'The InSwapper model', 'five-point', 'NCHW');
    const latent = spec.inputs[1]?.shape[1];
    if (spec.inputs.length !== 2 || latent !== LATENT_SIZE) {
      throw new LiveswapError('model', `The row of ${spec.id} must list the crop and a ${LATENT_SIZE}-value latent as its inputs.`);
    }
    return new InswapperModel(session, spec, bindSession(session, spec, label), label);
  }

  /**
   * Spec F6.2 and F6.6–F6.7: runs the swapper on an aligned crop (the norm_crop of the target face
   * on the row's template, shifted by 8 px in x at 128) with a latent from {@link latentFromEmbedding}.
   * Returns the swapped face, RGB, at the row's size.
   */
  async run(alignedCrop: Image, latent: Float32Array): Promise<Image> {
    const input = this.spec.input;
    if (alignedCrop.width !== input.size || alignedCrop.height !== input.size) {
      throw new RangeError(`InswapperModel.run: the crop is ${alignedCrop.width}×${alignedCrop.height}, expected ${input.size}×${input.size}`);
    }
    if (latent.length !== LATENT_SIZE) throw new RangeError(`InswapperModel.run: latent has ${latent.length} values, expected ${LATENT_SIZE}`);
    const [target, source] = this.io.inputs;
    const out = await this.session.run({
      [target!]: { data: modelInputBlob(alignedCrop, input), dims: inputDims(input) },
      [source!]: { data: latent, dims: [1, LATENT_SIZE] },
    });
    const pred = out[this.io.outputs[0]!];
    if (!pred) throw new LiveswapError('model', `${this.label} returned no output.`, { file: this.label });
    return inswapperOutputToImage(pred.data, input.size, input.size, this.label, input);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

/** {@link InswapperModel.run} on a session, for one call. `modelLabel` names the model file in errors. */
export async function runInswapper(
  session: InferenceSession,
  alignedCrop: Image,
  latent: Float32Array,
  modelLabel = 'the InSwapper model',
  spec: ModelSpec = MODEL_SPECS.inswapper_128,
): Promise<Image> {
  return InswapperModel.create(session, spec, modelLabel).run(alignedCrop, latent);
}

function unit(v: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const out = Float32Array.from(v);
  if (!(sum > 0)) return out;
  const norm = Math.fround(Math.sqrt(sum));
  for (let i = 0; i < out.length; i++) out[i] = out[i] / norm;
  return out;
}
