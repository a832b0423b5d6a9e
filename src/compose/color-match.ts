/**
 * Colour and lighting transfer from the target face to the swapped face, in CIE-LAB: the swapped
 * skin takes the target skin's mean and spread per channel, then the target's low-frequency
 * shading (its lighting) replaces the source's, as a ratio of heavily blurred lightness.
 * Statistics and shading are smooth, so they are computed on the masks' coarse grid.
 */

import { labToRgb, meanStd, rgbToLab } from '../core/color.js';
import { boxBlurFast } from '../core/filters.js';
import type { Image, Rect } from '../core/image.js';
import { downsampleField, downsampleImage, gridSize, upsampleRows } from '../core/resample.js';

/**
 * The blur, in face sizes, that separates the target's lighting (coarser, taken) from the
 * swapped face's own relief (finer, kept). Finer blurs carry more of the target's face shape in
 * its shading.
 */
export const DEFAULT_LIGHTING_SCALE = 0.1;

/** Fewer skin cells than this and the statistics are noise: leave the colours alone. */
const MIN_WEIGHT = 32;

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

export interface ColourGrid {
  /** Cell size in pixels. */
  grid: number;
  /** Skin weights 0..1 on the grid: where statistics come from. */
  weights: Float32Array;
}

/**
 * Recolour `patch` (rect-sized, modified in place) to match `frame` inside `rect`. Only pixels in
 * `active` (patch coordinates: where the blend mask is non-zero) are recoloured; the rest are never shown.
 */
export function matchColour(patch: Image, frame: Image, rect: Rect, skin: ColourGrid, faceSize: number, active: Rect, complexion = 0, lightingScale = DEFAULT_LIGHTING_SCALE): void {
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  const { grid, weights } = skin;
  const fgSmall = rgbToLab(downsampleImage(patch, 0, 0, w, h, grid), { x0: 0, y0: 0, x1: Math.ceil(w / grid), y1: Math.ceil(h / grid) });
  const bgSmallImage = downsampleImage(frame, rect.x0, rect.y0, w, h, grid);
  const bgSmall = rgbToLab(bgSmallImage, { x0: 0, y0: 0, x1: bgSmallImage.width, y1: bgSmallImage.height });
  const cells = fgSmall.width * fgSmall.height;
  const fs = fgSmall.data;

  // Per channel: new = old·gain + offset, taking the source skin's mean and spread to the target's,
  // or with `complexion` > 0 part of the way: the mean tone (identity) moves towards the source's
  // while the shading below (lighting) stays the target's. Lightness keeps its ratio of means.
  const gain = new Float64Array(3);
  const offset = new Float64Array(3);
  let lightness = 1;
  for (let c = 0; c < 3; c++) {
    const a = meanStd(fgSmall, c, weights);
    const b = meanStd(bgSmall, c, weights);
    if (a.weight < MIN_WEIGHT || b.weight < MIN_WEIGHT) return;
    gain[c] = clamp(b.std / Math.max(a.std, 1e-3), 0.5, 2) ** (1 - complexion);
    const mean = c === 0 ? b.mean : b.mean + complexion * (a.mean - b.mean);
    offset[c] = mean - a.mean * gain[c];
    if (c === 0 && b.mean > 1) lightness = clamp((b.mean + complexion * (a.mean - b.mean)) / b.mean, 0.7, 1.4);
  }
  for (let i = 0; i < cells; i++) for (let c = 0; c < 3; c++) fs[3 * i + c] = fs[3 * i + c] * gain[c] + offset[c];

  // Normalised convolution of lightness under the skin mask: the blur of L·w over the blur of w
  // is the local mean lightness of skin only, unaffected by hair, background or the openings.
  // Shading varies slowly, so it is computed on a grid about 32 cells across the face.
  const weighted = new Float32Array(cells * 2);
  for (let i = 0; i < cells; i++) {
    weighted[2 * i] = fs[3 * i] * weights[i];
    weighted[2 * i + 1] = bgSmall.data[3 * i] * weights[i];
  }
  const coarse = Math.max(1, Math.floor(faceSize / grid / 32));
  const sw = gridSize(fgSmall.width, coarse);
  const sh = gridSize(fgSmall.height, coarse);
  const shading = boxBlurFast(downsampleField(weighted, fgSmall.width, fgSmall.height, 2, coarse), sw, sh, 2, Math.max(1, (faceSize * lightingScale) / grid / coarse));
  const ratio = new Float32Array(sw * sh);
  for (let i = 0; i < sw * sh; i++) ratio[i] = shading[2 * i] > 1e-3 ? clamp((lightness * shading[2 * i + 1]) / shading[2 * i], 0.4, 2.5) : lightness;

  // One pass over the visible face: colour transfer, then the lightness ratio, row by row.
  const aw = active.x1 - active.x0;
  const fg = rgbToLab(patch, active);
  const f = fg.data;
  const [g0, g1, g2] = gain;
  const [o0, o1, o2] = offset;
  upsampleRows(ratio, grid * coarse, w, h, 1, (y, row) => {
    if (y < active.y0 || y >= active.y1) return;
    for (let x = 0, i = 3 * (y - active.y0) * aw; x < aw; x++, i += 3) {
      f[i] = (f[i] * g0 + o0) * row[active.x0 + x];
      f[i + 1] = f[i + 1] * g1 + o1;
      f[i + 2] = f[i + 2] * g2 + o2;
    }
  });
  labToRgb(fg, patch, active);
}
