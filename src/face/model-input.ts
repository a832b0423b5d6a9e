/**
 * A model row's input numbers turned into tensors: the five-point template it aligns to, the NCHW
 * blob of an aligned crop (cv2.dnn.blobFromImage) and the tensor sampled straight from the frame
 * for the converted NHWC models (the NCHW blob itself is align.ts's modelInputBlob). The model
 * classes call these with their row, never with numbers.
 */

import { similarityFromPoints, type Affine } from '../core/affine.js';
import type { Image } from '../core/image.js';
import { sampleAffineToTensor, warpAffine } from '../core/warp.js';
import type { InputSpec } from '../models/model-spec.js';
import { alignmentTemplate, type AlignedCrop, type NormCropOptions } from './align.js';

/** The row's five-point template for its input size, x,y pairs (OpenCV convention), float64. */
export function cropTemplate(input: InputSpec): Float64Array {
  const crop = input.crop;
  if (crop.kind !== 'five-point') throw new RangeError(`cropTemplate: the input is cut by '${crop.kind}', not by five points`);
  if (crop.template === 'arcface') return alignmentTemplate(input.size);
  if (crop.template.length !== 10) throw new RangeError(`cropTemplate: a template has 10 numbers, got ${crop.template.length}`);
  return Float64Array.from(crop.template);
}

/**
 * insightface estimate_norm onto the row's template: the similarity (frame → crop, OpenCV
 * convention) taking `kps5` (read as float32, like the detector's output) onto it (spec §4.3).
 */
export function estimateNormFor(kps5: ArrayLike<number>, input: InputSpec): Affine {
  if (kps5.length !== 10) throw new RangeError(`estimateNormFor: expected 5 keypoints (10 numbers), got ${kps5.length} numbers`);
  return similarityFromPoints(Float32Array.from(kps5), cropTemplate(input));
}

/** insightface norm_crop2 for the row (spec F4.11): its template and size, bilinear, black border. */
export function alignForModel(image: Image, kps5: ArrayLike<number>, input: InputSpec, options: NormCropOptions = {}): AlignedCrop {
  const matrix = estimateNormFor(kps5, input);
  const crop = warpAffine(image, matrix, input.size, input.size, { border: 'constant', borderValue: 0, precision: options.precision ?? 'float32' });
  return { crop, matrix };
}

/**
 * The row's input sampled straight from the frame through `toFrame` (input pixel → frame pixel,
 * the project's continuous convention): bilinear, black outside, p/std − mean/std, in its layout.
 */
export function sampleModelInput(image: Image, toFrame: Affine, input: InputSpec, out?: Float32Array): Float32Array {
  return sampleAffineToTensor(image, toFrame, input.size, input.size, 1 / input.std, -input.mean / input.std, out, {
    layout: input.layout === 'NCHW' ? 'nchw' : 'nhwc',
    channelOrder: input.channels === 'RGB' ? 'rgb' : 'bgr',
  });
}

/** The tensor dims of one input image in the row's layout. */
export function inputDims(input: InputSpec): [number, number, number, number] {
  return input.layout === 'NCHW' ? [1, 3, input.size, input.size] : [1, input.size, input.size, 3];
}
