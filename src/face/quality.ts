/**
 * Face image quality: how sharp a face is, so video pipelines can skip or flag motion-blurred or
 * out-of-focus frames.
 */

import type { Image } from '../core/image.js';
import type { Face } from './face.js';

/** Side of the square grey patch the face box is resampled to before measuring. */
export const SHARPNESS_PATCH = 64;

/**
 * Faces scoring below this with {@link faceSharpness} are too blurred to use. The test portraits
 * (faces of 70–200 px) score 370–2800 sharp, 50–170 after a Gaussian-like blur of sigma 1.5 % of
 * the face size, and 5–8 after sigma 4 %; 30 rejects only the last kind, so soft but usable
 * video frames pass.
 */
export const MIN_FACE_SHARPNESS = 30;

const MAX_SUPERSAMPLE = 8;

/**
 * Variance of the 4-neighbour Laplacian of the face's grey box (BT.601 luma, 0..255), resampled to
 * {@link SHARPNESS_PATCH}² pixels: each patch pixel averages a k×k grid of bilinear samples
 * (k = box size / patch size, rounded up, at most 8), so a large face is filtered, not aliased,
 * and the score barely depends on the face's resolution. Higher is sharper; it also grows with
 * contrast, so compare faces under similar lighting. Pixels outside the image clamp to the edge.
 * `scratch`, when it holds {@link SHARPNESS_PATCH}² floats, is reused.
 */
export function faceSharpness(image: Image, face: Face, scratch?: Float32Array): number {
  const n = SHARPNESS_PATCH;
  const grey = scratch && scratch.length >= n * n ? scratch : new Float32Array(n * n);
  const [bx, by, bw, bh] = face.box;
  if (!(bw > 0 && bh > 0) || image.width === 0 || image.height === 0) return 0;
  const sx = bw / n;
  const sy = bh / n;
  const kx = Math.min(MAX_SUPERSAMPLE, Math.max(1, Math.ceil(sx)));
  const ky = Math.min(MAX_SUPERSAMPLE, Math.max(1, Math.ceil(sy)));
  const norm = 1 / (kx * ky);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let b = 0; b < ky; b++) {
        // Continuous frame coordinate of the sub-sample, minus 0.5 to index pixel centres.
        const y = by + (j + (b + 0.5) / ky) * sy - 0.5;
        for (let a = 0; a < kx; a++) sum += bilinearLuma(image, bx + (i + (a + 0.5) / kx) * sx - 0.5, y);
      }
      grey[j * n + i] = sum * norm;
    }
  }
  let mean = 0;
  let meanSq = 0;
  for (let y = 1; y < n - 1; y++) {
    for (let x = 1; x < n - 1; x++) {
      const p = y * n + x;
      const lap = grey[p - 1]! + grey[p + 1]! + grey[p - n]! + grey[p + n]! - 4 * grey[p]!;
      mean += lap;
      meanSq += lap * lap;
    }
  }
  const count = (n - 2) * (n - 2);
  mean /= count;
  return Math.max(0, meanSq / count - mean * mean);
}

/** Luma at a pixel-centre coordinate (pixel (i, j) at x = i, y = j), edges clamped. */
function bilinearLuma(image: Image, x: number, y: number): number {
  const w = image.width;
  const h = image.height;
  const cx = x < 0 ? 0 : x > w - 1 ? w - 1 : x;
  const cy = y < 0 ? 0 : y > h - 1 ? h - 1 : y;
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = x0 + 1 < w ? x0 + 1 : x0;
  const y1 = y0 + 1 < h ? y0 + 1 : y0;
  const fx = cx - x0;
  const fy = cy - y0;
  const top = luma(image, x0, y0) * (1 - fx) + luma(image, x1, y0) * fx;
  const bottom = luma(image, x0, y1) * (1 - fx) + luma(image, x1, y1) * fx;
  return top * (1 - fy) + bottom * fy;
}

function luma(image: Image, x: number, y: number): number {
  const c = image.channels;
  const i = (y * image.width + x) * c;
  const d = image.data;
  return c === 1 ? d[i]! : 0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!;
}
