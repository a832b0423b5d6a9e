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
import { simdKernels } from '../core/simd-kernels.js';

/**
 * The blur, in face sizes, that separates the target's lighting (coarser, taken) from the
 * swapped face's own relief (finer, kept). Finer blurs carry more of the target's face shape in
 * its shading.
 */
export const DEFAULT_LIGHTING_SCALE = 0.1;

type Plane = [number, number, number];

/** Least-squares plane a + b·x + c·y through channel 0 of `values` (cells of a w×h grid) under `weights`. */
function fitPlane(values: Float32Array, stride: number, weights: Float32Array, w: number, h: number): Plane {
  // Normal equations of [1 x y]: a symmetric 3×3 system, solved by Cramer's rule.
  let s0 = 0,
    sx = 0,
    sy = 0,
    sxx = 0,
    sxy = 0,
    syy = 0,
    t0 = 0,
    tx = 0,
    ty = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const wt = weights[i];
      if (wt <= 0) continue;
      const v = values[stride * i];
      s0 += wt;
      sx += wt * x;
      sy += wt * y;
      sxx += wt * x * x;
      sxy += wt * x * y;
      syy += wt * y * y;
      t0 += wt * v;
      tx += wt * v * x;
      ty += wt * v * y;
    }
  }
  const det = s0 * (sxx * syy - sxy * sxy) - sx * (sx * syy - sxy * sy) + sy * (sx * sxy - sxx * sy);
  if (!(Math.abs(det) > 1e-9)) return [s0 > 0 ? t0 / s0 : 0, 0, 0];
  const a = (t0 * (sxx * syy - sxy * sxy) - sx * (tx * syy - sxy * ty) + sy * (tx * sxy - sxx * ty)) / det;
  const b = (s0 * (tx * syy - sxy * ty) - t0 * (sx * syy - sxy * sy) + sy * (sx * ty - tx * sy)) / det;
  const c = (s0 * (sxx * ty - tx * sxy) - sx * (sx * ty - tx * sy) + t0 * (sx * sxy - sxx * sy)) / det;
  return [a, b, c];
}

function planeAt(p: Plane, x: number, y: number): number {
  return p[0] + p[1] * x + p[2] * y;
}

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
 * `spans` (per patch row y, columns [spans[2y], spans[2y + 1])) narrows that further where the
 * caller reads no other pixel; where WebAssembly SIMD is missing the whole of `active` is done.
 */
export function matchColour(
  patch: Image,
  frame: Image,
  rect: Rect,
  skin: ColourGrid,
  faceSize: number,
  active: Rect,
  complexion = 0,
  lightingScale = DEFAULT_LIGHTING_SCALE,
  spans?: Int32Array,
): void {
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

  // The lighting, for both faces: a plane fitted to the skin's lightness (a light from one side
  // is a gradient across the face, matched exactly at any scale) plus the normalised convolution
  // of what is left under the skin mask (the blur of r·w over the blur of w: the local mean of
  // skin only, unaffected by hair, background or the openings) at `lightingScale`. Shading varies
  // slowly, so it is computed on a grid about 32 cells across the face.
  const gw = fgSmall.width;
  const planeFg = fitPlane(fs, 3, weights, gw, fgSmall.height);
  const planeBg = fitPlane(bgSmall.data, 3, weights, gw, fgSmall.height);
  const weighted = new Float32Array(cells * 3);
  for (let i = 0; i < cells; i++) {
    const x = i % gw,
      y = (i - x) / gw;
    weighted[3 * i] = (fs[3 * i] - planeAt(planeFg, x, y)) * weights[i];
    weighted[3 * i + 1] = (bgSmall.data[3 * i] - planeAt(planeBg, x, y)) * weights[i];
    weighted[3 * i + 2] = weights[i];
  }
  const coarse = Math.max(1, Math.floor(faceSize / grid / 32));
  const sw = gridSize(gw, coarse);
  const sh = gridSize(fgSmall.height, coarse);
  const shading = boxBlurFast(downsampleField(weighted, gw, fgSmall.height, 3, coarse), sw, sh, 3, Math.max(1, (faceSize * lightingScale) / grid / coarse));
  const ratio = new Float32Array(sw * sh);
  for (let i = 0; i < sw * sh; i++) {
    const x = ((i % sw) + 0.5) * coarse - 0.5,
      y = (Math.floor(i / sw) + 0.5) * coarse - 0.5;
    const w = shading[3 * i + 2];
    const own = planeAt(planeFg, x, y) + (w > 1e-3 ? shading[3 * i] / w : 0);
    const theirs = planeAt(planeBg, x, y) + (w > 1e-3 ? shading[3 * i + 1] / w : 0);
    ratio[i] = own > 1 ? clamp((lightness * theirs) / own, 0.4, 2.5) : lightness;
  }

  // One pass over the visible face: colour transfer, then the lightness ratio, row by row.
  const kernels = patch.channels === 1 ? undefined : simdKernels();
  if (kernels) {
    kernels.colourTransfer(patch, active, gain, offset, ratio, grid * coarse, spans);
    return;
  }
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
