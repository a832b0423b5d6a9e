/**
 * InSwapper-128's forward pass (spec §6.2, insightface 0.7.3): identity latent from an ArcFace
 * embedding and the model's emap, the aligned 128×128 crop as RGB/255 planes, and the output
 * scaled back to 8 bits by truncation. Pasting the result into the frame is the caller's job.
 */

import { LiveswapError } from '../core/errors.js';
import { createImage, type Image } from '../core/image.js';
import { inswapperInputBlob } from '../face/align.js';
import { EMAP_SIZE } from '../models/emap.js';
import type { InferenceSession } from '../models/runtime.js';

export const INSWAPPER_INPUT = 128;
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
export function averageIdentity(
  embeddings: readonly ArrayLike<number>[],
): { embedding: Float32Array; normedEmbedding: Float32Array } {
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
 * Spec F6.7: RGB planes ≈ 0..1 to an 8-bit RGB image, trunc(clip(255·v, 0, 255)) in float32.
 * Throws LiveswapError('model') naming `modelLabel` when a value is NaN or every pixel is black:
 * a broken or mismatched model file, not a face.
 */
export function inswapperOutputToImage(pred: Float32Array, width: number, height: number, modelLabel: string): Image {
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
      const scaled = Math.fround(v * 255);
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

/**
 * Spec F6.2 and F6.6–F6.7: runs the swapper on an aligned 128×128 crop (the norm_crop of the
 * target face, template shifted by 8 px in x) with a latent from {@link latentFromEmbedding}.
 * Returns the swapped 128×128 RGB face. `modelLabel` names the model file in errors.
 */
export async function runInswapper(
  session: InferenceSession,
  alignedCrop: Image,
  latent: Float32Array,
  modelLabel = 'the InSwapper model',
): Promise<Image> {
  if (alignedCrop.width !== INSWAPPER_INPUT || alignedCrop.height !== INSWAPPER_INPUT) {
    throw new RangeError(`runInswapper: the crop is ${alignedCrop.width}×${alignedCrop.height}, expected ${INSWAPPER_INPUT}×${INSWAPPER_INPUT}`);
  }
  if (latent.length !== LATENT_SIZE) throw new RangeError(`runInswapper: latent has ${latent.length} values, expected ${LATENT_SIZE}`);
  const names = session.inputNames;
  if (names.length !== 2) {
    throw new LiveswapError('model', `${modelLabel} has inputs [${names.join(', ')}]; an InSwapper model has two (target, source).`, { file: modelLabel });
  }
  // Feed by name when the file uses insightface's names, else by order (target first).
  const targetName = names.includes('target') ? 'target' : names[0];
  const sourceName = names.includes('source') ? 'source' : names[1];
  const out = await session.run({
    [targetName]: { data: inswapperInputBlob(alignedCrop), dims: [1, 3, INSWAPPER_INPUT, INSWAPPER_INPUT] },
    [sourceName]: { data: latent, dims: [1, LATENT_SIZE] },
  });
  const pred = out[session.outputNames[0]];
  if (!pred) throw new LiveswapError('model', `${modelLabel} returned no output.`, { file: modelLabel });
  return inswapperOutputToImage(pred.data, INSWAPPER_INPUT, INSWAPPER_INPUT, modelLabel);
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
