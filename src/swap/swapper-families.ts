/**
 * The small pre/post functions of FaceFusion's swapper families (spec §7.1–§7.3), read from the
 * swapper's row: the target crop as (x/255 − mean)/std planes (per channel for simswap_256), the
 * output back to pixels (x·std + mean for ghost, hififace, hyperswap and uniface; clip only for
 * the others), the source's identity (InSwapper's emap latent, ArcFace's normed embedding, a
 * crossface converter's output, or the source face's own crop) and the identity weight.
 */

import { similarityFromPoints, type Affine } from '../core/affine.js';
import { LiveswapError } from '../core/errors.js';
import { createImage, type Image } from '../core/image.js';
import { warpAffine } from '../core/warp.js';
import type { CropBorder, InputSpec, ModelSpec, SwapperTraits } from '../models/model-spec.js';
import { cropTemplate } from '../face/model-input.js';

/** The row's input cut at another side (pixel boost): the template scaled by side / size. */
export function inputAtSize(input: InputSpec, side: number): InputSpec {
  if (side === input.size) return input;
  const crop = input.crop;
  if (crop.kind !== 'five-point') throw new RangeError(`inputAtSize: the input is cut by '${crop.kind}', not by five points`);
  // insightface's template is scaled by estimate_norm itself (cropTemplate); explicit ones here.
  const template = crop.template === 'arcface' ? 'arcface' : crop.template.map((v) => (v * side) / input.size);
  return { ...input, size: side, crop: { ...crop, template } };
}

/** What lies outside the frame in the row's crop: black unless the row says replicate (FaceFusion's rows). */
export function cropBorder(input: InputSpec): CropBorder {
  return input.crop.kind === 'five-point' ? (input.crop.border ?? 'constant') : 'constant';
}

/** The row's five-point crop of `image` for keypoints `kps5` (OpenCV convention): the crop and frame → crop. */
export function cropForRow(image: Image, kps5: ArrayLike<number>, input: InputSpec): { crop: Image; matrix: Affine } {
  const matrix = similarityFromPoints(Float32Array.from(kps5), cropTemplate(input));
  const crop = warpAffine(image, matrix, input.size, input.size, { border: cropBorder(input), borderValue: 0, precision: 'float32' });
  return { crop, matrix };
}

/** (p − mean_c)/std_c planes, NCHW, in the row's channel order; `crop` is RGB(A) or grey. */
export function swapperInputBlob(crop: Image, input: InputSpec): Float32Array {
  const plane = crop.width * crop.height;
  const out = new Float32Array(3 * plane);
  const c = crop.channels;
  const mean = input.channelMean ?? [input.mean, input.mean, input.mean];
  const std = input.channelStd ?? [input.std, input.std, input.std];
  // Planes in the model's order, each taking an RGB channel of the crop.
  const rgb = input.channels === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const d = crop.data;
  for (let k = 0; k < 3; k++) {
    const ch = c === 1 ? 0 : rgb[k]!;
    const m = mean[rgb[k]!]!;
    const s = std[rgb[k]!]!;
    const base = k * plane;
    for (let i = 0, p = ch; i < plane; i++, p += c) out[base + i] = (d[p]! - m) / s;
  }
  return out;
}

/**
 * Spec §7.2 step 6: output planes (RGB) to pixels. `denormaliseOutput`: x·std + mean on the 0..1
 * scale (the row's numbers / 255); then clip to 0..1, ×255, truncated (FaceFusion truncates at the
 * paste). NaN or an all-black face names the model file: a broken or mismatched file.
 */
export function swapperOutputImage(pred: Float32Array, size: number, row: ModelSpec, traits: SwapperTraits, label: string): Image {
  const plane = size * size;
  if (pred.length !== 3 * plane) throw new LiveswapError('model', `${label} returned ${pred.length} values; expected 3×${size}×${size}.`, { file: label });
  const input = row.input;
  const mean = input.channelMean ?? [input.mean, input.mean, input.mean];
  const std = input.channelStd ?? [input.std, input.std, input.std];
  const out = createImage(size, size, 3);
  let lit = false;
  for (let k = 0; k < 3; k++) {
    // The planes are RGB for every FaceFusion swapper (spec §7.1).
    const scale = traits.denormaliseOutput ? std[k]! / 255 : 1;
    const offset = traits.denormaliseOutput ? mean[k]! / 255 : 0;
    for (let i = 0; i < plane; i++) {
      const x = pred[k * plane + i]!;
      if (Number.isNaN(x)) throw new LiveswapError('model', `${label} produced NaN values; the model file is damaged or not the ${row.id} model.`, { file: label });
      const v = Math.min(1, Math.max(0, x * scale + offset)) * 255;
      const byte = Math.floor(v);
      out.data[i * 3 + k] = byte;
      if (byte !== 0) lit = true;
    }
  }
  if (!lit) throw new LiveswapError('model', `${label} produced an all-black face; the model file is damaged or not the ${row.id} model.`, { file: label });
  return out;
}

/** v / ‖v‖₂ (a zero vector stays zero). */
export function l2Normalise(v: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const out = Float32Array.from(v);
  if (!(sum > 0)) return out;
  const norm = Math.sqrt(sum);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / norm;
  return out;
}

/** FaceFusion's identity weight default (face_swapper_weight): 0.5 leaves the source unchanged. */
export const DEFAULT_IDENTITY_WEIGHT = 0.5;

/**
 * Spec §7.3: w = 0.35 − 0.7·weight; the target's raw ArcFace embedding, L2-normalised first for the
 * 'normalised' families; source·(1 − w) + target·w. weight 0.5 ⇒ w = 0 ⇒ the source as it is.
 */
export function applyIdentityWeight(source: Float32Array, targetEmbedding: ArrayLike<number>, weight: number, kind: SwapperTraits['identityWeight']): Float32Array {
  if (kind === 'none') return source;
  const w = 0.35 - 0.7 * weight;
  if (w === 0) return source;
  if (targetEmbedding.length !== source.length) throw new RangeError(`applyIdentityWeight: ${source.length} and ${targetEmbedding.length} values`);
  const target = kind === 'normalised' ? l2Normalise(targetEmbedding) : Float32Array.from(targetEmbedding);
  const out = new Float32Array(source.length);
  for (let i = 0; i < out.length; i++) out[i] = source[i]! * (1 - w) + target[i]! * w;
  return out;
}

/**
 * The source input of an `embedding` family from the raw ArcFace embedding (spec §7.3): through the
 * converter when the row names one (it takes the raw e), else e itself; L2-normalised when the row
 * says so (hyperswap: n; simswap, hififace: the converted vector; ghost: as converted).
 */
export async function embeddingSource(traits: SwapperTraits, embedding: Float32Array, convert?: (raw: Float32Array) => Promise<Float32Array>): Promise<Float32Array> {
  const source = traits.source;
  if (source.kind !== 'embedding') throw new RangeError(`embeddingSource: the ${traits.family} family takes ${source.kind}, not an embedding`);
  let vector = embedding;
  if (source.converter !== null) {
    if (!convert) throw new LiveswapError('model', `The ${traits.family} swapper needs its embedding converter ${source.converter}; it was not loaded.`);
    vector = await convert(embedding);
  }
  return source.normalise ? l2Normalise(vector) : Float32Array.from(vector);
}

/** The source input of an `image` family: the source face on the row's source template, RGB/255 NCHW (spec §7.1). */
export function imageSource(traits: SwapperTraits, image: Image, kps5: ArrayLike<number>): Float32Array {
  const source = traits.source;
  if (source.kind !== 'image') throw new RangeError(`imageSource: the ${traits.family} family takes ${source.kind}, not an image`);
  const input: InputSpec = {
    size: source.size,
    mean: 0,
    std: 255,
    channels: 'RGB',
    layout: 'NCHW',
    crop: { kind: 'five-point', template: source.template.map((v) => v * source.size), border: 'replicate' },
  };
  return swapperInputBlob(cropForRow(image, kps5, input).crop, input);
}
