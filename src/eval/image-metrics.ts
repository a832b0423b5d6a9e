/**
 * Blending and stability measurements on plain images: how visible the seam is, how much changed
 * outside the face, and how much a face region flickers from frame to frame.
 */

import type { Image } from '../core/image.js';

/** A pixel predicate, e.g. "on the mask's edge band" or "outside every face box". */
export type Region = (x: number, y: number) => boolean;

function luma(image: Image, x: number, y: number): number {
  const c = image.channels;
  const i = (y * image.width + x) * c;
  return c === 1 ? image.data[i] : 0.299 * image.data[i] + 0.587 * image.data[i + 1] + 0.114 * image.data[i + 2];
}

/** Mean gradient magnitude of the luma (central differences) over the pixels of `region`. */
export function meanGradient(image: Image, region: Region): number {
  let sum = 0;
  let n = 0;
  for (let y = 1; y < image.height - 1; y++) {
    for (let x = 1; x < image.width - 1; x++) {
      if (!region(x, y)) continue;
      sum += Math.hypot(luma(image, x + 1, y) - luma(image, x - 1, y), luma(image, x, y + 1) - luma(image, x, y - 1)) / 2;
      n++;
    }
  }
  return n ? sum / n : 0;
}

/**
 * Seam visibility: the output's gradient on the mask's edge band over the target's own there.
 * 1 means the band looks as busy as it did before; a visible seam adds edges and raises it.
 */
export function seamRatio(output: Image, target: Image, band: Region): number {
  const base = meanGradient(target, band);
  return base > 1e-6 ? meanGradient(output, band) / base : 1;
}

/**
 * Mean over `region` and all channels of |a − b|^power (power 1: absolute, 2: squared), with the
 * number of values averaged; NaN when the region is empty.
 */
function meanDifference(a: Image, b: Image, region: Region, power: 1 | 2): { mean: number; count: number } {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) throw new RangeError('images differ in size');
  const c = a.channels;
  let sum = 0;
  let n = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (!region(x, y)) continue;
      const i = (y * a.width + x) * c;
      for (let k = 0; k < c; k++) {
        const d = Math.abs(a.data[i + k] - b.data[i + k]);
        sum += power === 2 ? d * d : d;
      }
      n += c;
    }
  }
  return { mean: n ? sum / n : Number.NaN, count: n };
}

/** PSNR in dB between two images over `region` (Infinity when identical there). */
export function psnr(a: Image, b: Image, region: Region = () => true): number {
  const { mean, count } = meanDifference(a, b, region, 2);
  if (count === 0 || mean === 0) return Infinity;
  return 10 * Math.log10((255 * 255) / mean);
}

/** Mean absolute difference between consecutive frames over `region`, averaged over the sequence. */
export function flicker(frames: readonly Image[], region: Region): number {
  if (frames.length < 2) return 0;
  let total = 0;
  for (let f = 1; f < frames.length; f++) {
    const { mean, count } = meanDifference(frames[f - 1], frames[f], region, 1);
    total += count ? mean : 0;
  }
  return total / (frames.length - 1);
}

/** Pixels inside none of the boxes ([x, y, w, h]) grown by `grow` × their larger side. */
export function outsideBoxes(boxes: readonly (readonly [number, number, number, number])[], grow: number): Region {
  const grown = boxes.map(([x, y, w, h]) => {
    const g = Math.max(w, h) * grow;
    return [x - g, y - g, x + w + g, y + h + g] as const;
  });
  return (x, y) => grown.every(([x0, y0, x1, y1]) => x < x0 || x >= x1 || y < y0 || y >= y1);
}

/** Pixels inside a box ([x, y, w, h]) shrunk by `inset` × its size on each side. */
export function insideBox(box: readonly [number, number, number, number], inset = 0): Region {
  const [x, y, w, h] = box;
  const x0 = x + w * inset,
    y0 = y + h * inset,
    x1 = x + w * (1 - inset),
    y1 = y + h * (1 - inset);
  return (px, py) => px >= x0 && px < x1 && py >= y0 && py < y1;
}
