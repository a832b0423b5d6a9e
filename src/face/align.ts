/**
 * Five-point face alignment as insightface 0.7.3 does it (spec §4): the ArcFace template scaled to
 * the crop, the Umeyama similarity, the bilinear norm_crop warp, and the models' input blobs.
 */

import { similarityFromPoints, type Affine } from '../core/affine.js';
import type { Image } from '../core/image.js';
import { warpAffine } from '../core/warp.js';
import { MODEL_SPECS, type InputSpec } from '../models/model-spec.js';

/**
 * insightface's arcface_dst for a 112×112 crop (spec §4.1): left eye, right eye, nose tip, left and
 * right mouth corner, as x,y pairs in crop pixels (OpenCV convention: pixel centres at integers).
 * float32, as insightface stores it.
 */
export const ARCFACE_TEMPLATE_112: Float32Array = Float32Array.of(38.2946, 51.6963, 73.5318, 51.5014, 56.0252, 71.7366, 41.5493, 92.3655, 70.7299, 92.2041);

/**
 * The template for a `imageSize`² crop (spec F4.1–F4.3, insightface ≥ 0.7.2): multiples of 112
 * scale it; other multiples of 128 scale by size/128 and shift x by 8·size/128. x,y pairs, float64
 * (the float32 template times the ratio, as numpy computes it).
 */
export function alignmentTemplate(imageSize: number): Float64Array {
  let ratio: number;
  let diffX = 0;
  if (Number.isInteger(imageSize) && imageSize > 0 && imageSize % 112 === 0) {
    ratio = imageSize / 112;
  } else if (Number.isInteger(imageSize) && imageSize > 0 && imageSize % 128 === 0) {
    ratio = imageSize / 128;
    diffX = 8 * ratio;
  } else {
    throw new RangeError(`alignmentTemplate: image size must be a multiple of 112 or 128, got ${imageSize}`);
  }
  const dst = new Float64Array(10);
  for (let i = 0; i < 10; i += 2) {
    // numpy: float32 array × python float stays float32, and so does the += of the x offset.
    dst[i] = Math.fround(Math.fround(ARCFACE_TEMPLATE_112[i] * ratio) + diffX);
    dst[i + 1] = Math.fround(ARCFACE_TEMPLATE_112[i + 1] * ratio);
  }
  return dst;
}

/**
 * insightface estimate_norm: the similarity (frame → crop, OpenCV convention) taking the five
 * keypoints `kps5` (x,y pairs in frame pixels, read as float32 like the detector's output) onto the
 * template for an `imageSize`² crop, by Umeyama least squares in float64 (spec §4.3).
 */
export function estimateNorm(kps5: ArrayLike<number>, imageSize: number): Affine {
  if (kps5.length !== 10) throw new RangeError(`estimateNorm: expected 5 keypoints (10 numbers), got ${kps5.length} numbers`);
  return similarityFromPoints(Float32Array.from(kps5), alignmentTemplate(imageSize));
}

export interface NormCropOptions {
  /**
   * warpAffine variant (spec §1.3). 'float32' (default): OpenCV ≥ 4.11, which both reference stacks
   * pin (Deep-Live-Cam opencv-python 4.14, FaceFusion 5.0); 'fixed-point': OpenCV ≤ 4.10, e.g. the
   * Debian 4.6 build the golden fixtures come from.
   */
  precision?: 'float32' | 'fixed-point';
}

/** An aligned face crop and the map that made it. */
export interface AlignedCrop {
  /** size × size, the source's channel order and count, black outside the frame. */
  crop: Image;
  /** Frame → crop, OpenCV pixel-centre convention (what insightface's norm_crop2 returns as M). */
  matrix: Affine;
}

/** insightface norm_crop2 (spec F4.11): estimate_norm, then a bilinear warp with a black border. */
export function normCrop(image: Image, kps5: ArrayLike<number>, size: number, options: NormCropOptions = {}): AlignedCrop {
  const matrix = estimateNorm(kps5, size);
  const crop = warpAffine(image, matrix, size, size, { border: 'constant', borderValue: 0, precision: options.precision ?? 'float32' });
  return { crop, matrix };
}

/**
 * cv2.dnn.blobFromImage(image, scale, size, (mean,)*3, swapRB) for an image that already has the
 * model's size: NCHW [1, 3, H, W] float32, value = (pixel − mean)·scale, planes in
 * `channelOrder`. Images here are RGB, so insightface's swapRB=True on a BGR crop is 'rgb'.
 * Grey images are replicated; alpha is dropped.
 */
export function blobFromImage(image: Image, scale: number, mean: number, channelOrder: 'rgb' | 'bgr' = 'rgb', out?: Float32Array): Float32Array {
  const plane = image.width * image.height;
  const dst = out ?? new Float32Array(3 * plane);
  if (dst.length < 3 * plane) throw new RangeError(`blobFromImage: out holds ${dst.length} values, needs ${3 * plane}`);
  const c = image.channels;
  const first = c === 1 ? 0 : channelOrder === 'rgb' ? 0 : 2;
  const second = c === 1 ? 0 : 1;
  const third = c === 1 ? 0 : channelOrder === 'rgb' ? 2 : 0;
  const d = image.data;
  // float32 subtraction first (exact for these means), then the scale, as OpenCV orders them.
  for (let i = 0, p = 0; i < plane; i++, p += c) {
    dst[i] = (d[p + first] - mean) * scale;
    dst[i + plane] = (d[p + second] - mean) * scale;
    dst[i + 2 * plane] = (d[p + third] - mean) * scale;
  }
  return dst;
}

/** NCHW [1, 3, H, W] of a crop (the row's size; callers check it): (p − mean)/std in the row's channel order. */
export function modelInputBlob(crop: Image, input: InputSpec, out?: Float32Array): Float32Array {
  if (input.layout !== 'NCHW') throw new RangeError(`modelInputBlob: the input is ${input.layout}; blobs are NCHW`);
  // cv2.dnn.blobFromImage's scale factor is 1/std, applied after the mean, as OpenCV orders them.
  return blobFromImage(crop, 1 / input.std, input.mean, input.channels === 'RGB' ? 'rgb' : 'bgr', out);
}

/** ArcFace input (spec F5.2), from w600k_r50's row: RGB planes, (p − 127.5)/127.5. */
export function arcfaceInputBlob(crop: Image, out?: Float32Array): Float32Array {
  return modelInputBlob(crop, MODEL_SPECS.w600k_r50.input, out);
}

/** InSwapper `target` input (spec F6.2), from inswapper_128's row: RGB planes, p / 255. */
export function inswapperInputBlob(crop: Image, out?: Float32Array): Float32Array {
  return modelInputBlob(crop, MODEL_SPECS.inswapper_128.input, out);
}
