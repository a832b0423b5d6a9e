/**
 * Unsharp masking (Deep-Live-Cam's post-swap sharpening): out = (1 + amount)·image − amount·blurred,
 * optionally faded by a mask so only the pasted face is sharpened.
 */

import { gaussianBlur, type BlurDepth } from './filters.js';
import { createFloatImage, type FloatImage, type Image, type Rect } from './image.js';

export interface UnsharpOptions {
  /** width·height weights 0..1; 0 keeps the input pixel. */
  mask?: Float32Array;
  /** Destination; may be the input. */
  out?: FloatImage;
  /** Kernel size rule for sigma (cv2: 'uint8' → round(6σ + 1) | 1, 'float32' → round(8σ + 1) | 1). */
  depth?: BlurDepth;
}

/**
 * Unsharp mask of a float image with a Gaussian of `sigma` (ksize from sigma, REFLECT_101 at the
 * image's edges). Values are not clamped, so a later 8-bit write decides the rounding.
 */
export function unsharpMask(image: FloatImage, amount: number, sigma: number, options: UnsharpOptions = {}): FloatImage {
  const { width, height, channels } = image;
  const blurred = gaussianBlur(image.data, width, height, channels, 0, sigma, undefined, { depth: options.depth ?? 'float32' });
  const out = options.out ?? createFloatImage(width, height, channels);
  const src = image.data;
  const dst = out.data;
  const mask = options.mask;
  const n = width * height;
  for (let p = 0; p < n; p++) {
    const s = mask ? amount * mask[p] : amount;
    for (let k = p * channels, end = k + channels; k < end; k++) dst[k] = src[k] + s * (src[k] - blurred[k]);
  }
  return out;
}

/**
 * Sharpen the colour channels of `rect` of an 8-bit image in place, as Deep-Live-Cam does on the
 * swapped face's box: blur of the region alone (its edges reflect, as cv2 on a cut-out region),
 * kernel size from sigma by the 8-bit rule, result rounded and saturated (sat_u8). OpenCV blurs
 * 8-bit images in fixed point, so expect ±1 LSB against it. Alpha is kept.
 */
export function unsharpMaskRegion(image: Image, rect: Rect, amount: number, sigma: number, mask?: Float32Array): void {
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  if (w <= 0 || h <= 0) return;
  const c = image.channels;
  const cc = Math.min(c, 3);
  const region = createFloatImage(w, h, cc);
  const r = region.data;
  const d = image.data;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const si = ((rect.y0 + y) * image.width + rect.x0 + x) * c;
      const ri = (y * w + x) * cc;
      for (let k = 0; k < cc; k++) r[ri + k] = d[si + k];
    }
  }
  unsharpMask(region, amount, sigma, { mask, out: region, depth: 'uint8' });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const si = ((rect.y0 + y) * image.width + rect.x0 + x) * c;
      const ri = (y * w + x) * cc;
      for (let k = 0; k < cc; k++) d[si + k] = r[ri + k];
    }
  }
}
