/**
 * Iris colour, the one part of the eyes the mesh engine takes from the source while the target
 * keeps its own eyes (gaze, blinks, catch-lights). The iris is found in each eye opening as the
 * darkest disc about a fifth of the eye's length in radius (the iris is darker than the white
 * around it); its colour is the mean L*a*b* of the ring between pupil and rim, leaving out the
 * lids, speculars and the darkest pupil pixels. The target's ring then takes the source's a*b*
 * and lightness ratio, feathered towards the rim and the lids, so pupil and texture stay.
 */

import { labToRgb, rgbToLab } from '../core/color.js';
import { clampRect, cropImage, type Image, type Rect } from '../core/image.js';
import { fillPolygon, gatherPoints, pointBounds } from '../core/polygon.js';
import { LEFT_EYE, POINT, RIGHT_EYE } from '../face/mesh-indices.js';

/** Iris radius over the eye's length (corner to corner): adult irises are about 11.7 mm across in a 28–30 mm wide eye. */
const IRIS_RADIUS = 0.2;
/** Eyes narrower than this many pixels are left alone: too few iris pixels to measure. */
const MIN_EYE_LENGTH = 12;
/** An eye opened less than this fraction of its length shows too little iris (a blink). */
const MIN_APERTURE = 0.12;
/** The ring measured and recoloured, in iris radii: pupil inside, rim outside. */
const RING_INNER = 0.35;
const RING_OUTER = 1;

export interface IrisColour {
  /** Mean L*, a*, b* of the iris ring. */
  lab: [number, number, number];
}

interface EyeRegion {
  rect: Rect;
  /** 1 inside the eye opening, over `rect`. */
  opening: Float32Array;
  /** Iris centre (frame pixels) and radius. */
  cx: number;
  cy: number;
  radius: number;
}

/** Finds the iris in one eye opening of `image` (mesh points with `stride` 2 or 3 per point). */
function findIris(image: Image, points: Float32Array, stride: number, eye: readonly number[], inner: number, outer: number): EyeRegion | undefined {
  const length = Math.hypot(points[stride * outer] - points[stride * inner], points[stride * outer + 1] - points[stride * inner + 1]);
  if (length < MIN_EYE_LENGTH) return undefined;
  const polygon = gatherPoints(points, eye, stride);
  const { x0, y0, x1, y1 } = pointBounds(polygon);
  if ((y1 - y0) / length < MIN_APERTURE) return undefined;
  const radius = IRIS_RADIUS * length;
  const rect = clampRect({ x0: Math.floor(x0 - radius), y0: Math.floor(y0 - radius), x1: Math.ceil(x1 + radius), y1: Math.ceil(y1 + radius) }, image.width, image.height);
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  if (w <= 2 || h <= 2) return undefined;
  const opening = new Float32Array(w * h);
  fillPolygon(opening, w, h, polygon, 1, rect.x0, rect.y0);
  // Luma inside the opening; the darkest disc wins. A summed-area table makes each disc's
  // (square-approximated) mean O(1).
  const c = image.channels;
  const g = c === 1 ? 0 : 1;
  const sum = new Float64Array((w + 1) * (h + 1));
  const count = new Float64Array((w + 1) * (h + 1));
  for (let y = 0; y < h; y++) {
    let rowSum = 0;
    let rowCount = 0;
    for (let x = 0; x < w; x++) {
      const inside = opening[y * w + x];
      const p = ((rect.y0 + y) * image.width + rect.x0 + x) * c;
      rowSum += inside * (0.299 * image.data[p] + 0.587 * image.data[p + g] + 0.114 * image.data[p + 2 * g]);
      rowCount += inside;
      sum[(y + 1) * (w + 1) + x + 1] = sum[y * (w + 1) + x + 1] + rowSum;
      count[(y + 1) * (w + 1) + x + 1] = count[y * (w + 1) + x + 1] + rowCount;
    }
  }
  const half = Math.max(1, Math.round(radius * 0.6));
  const box = (table: Float64Array, cx: number, cy: number) => {
    const ax = Math.max(0, cx - half),
      ay = Math.max(0, cy - half),
      bx = Math.min(w, cx + half + 1),
      by = Math.min(h, cy + half + 1);
    if (bx <= ax || by <= ay) return 0;
    return table[by * (w + 1) + bx] - table[ay * (w + 1) + bx] - table[by * (w + 1) + ax] + table[ay * (w + 1) + ax];
  };
  // Where each column of the opening starts and ends: the iris centre lies in the middle of the
  // aperture (lashes and lid shadows line its top and bottom, and are as dark as an iris).
  const top = new Int32Array(w).fill(-1);
  const bottom = new Int32Array(w).fill(-1);
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      if (opening[y * w + x] === 0) continue;
      if (top[x] < 0) top[x] = y;
      bottom[x] = y;
    }
  }
  // Darkest against the white on either side: the iris is a dark disc between two bright ones.
  const flank = Math.round(radius * 1.6);
  const minimum = 0.3 * (2 * half + 1) ** 2;
  let best: [number, number] | undefined;
  let bestScore = Infinity;
  for (let cx = 0; cx < w; cx++) {
    if (top[cx] < 0) continue;
    const span = bottom[cx] - top[cx];
    for (let cy = Math.round(top[cx] + 0.35 * span); cy <= bottom[cx] - 0.35 * span; cy++) {
      const n = box(count, cx, cy);
      if (n < minimum) continue;
      const mean = box(sum, cx, cy) / n;
      // White on both sides, and the dimmer side counts, so a lit side of the white does not
      // pull the disc towards the shadow. (An iris turned fully into a corner is not recoloured.)
      const left = box(count, cx - flank, cy);
      const right = box(count, cx + flank, cy);
      if (left < minimum || right < minimum) continue;
      const sides = Math.min(box(sum, cx - flank, cy) / left, box(sum, cx + flank, cy) / right);
      const score = mean - sides;
      if (score < bestScore) {
        bestScore = score;
        best = [cx, cy];
      }
    }
  }
  if (!best) return undefined;
  // Refine across: the centroid of the pixels darker than halfway between the disc and the white.
  const [bx, by] = best;
  const n = box(count, bx, by);
  const threshold = box(sum, bx, by) / n - bestScore / 2;
  let total = 0;
  let moment = 0;
  const reach = Math.round(radius * 1.2);
  for (let y = Math.max(0, by - reach); y <= Math.min(h - 1, by + reach); y++) {
    for (let x = Math.max(0, bx - reach); x <= Math.min(w - 1, bx + reach); x++) {
      if (opening[y * w + x] === 0) continue;
      const p = ((rect.y0 + y) * image.width + rect.x0 + x) * c;
      const dark = threshold - (0.299 * image.data[p] + 0.587 * image.data[p + g] + 0.114 * image.data[p + 2 * g]);
      if (dark <= 0) continue;
      total += dark;
      moment += dark * x;
    }
  }
  const cx = total > 0 ? moment / total : bx;
  return { rect, opening, cx: rect.x0 + cx + 0.5, cy: rect.y0 + by + 0.5, radius };
}

/** The ring's weight at (x, y): 1 between pupil and rim, feathered at both; 0 outside the opening. */
function ringWeight(region: EyeRegion, x: number, y: number, opening: number): number {
  if (opening === 0) return 0;
  const dx = x - region.cx,
    dy = y - region.cy;
  const r = Math.sqrt(dx * dx + dy * dy) / region.radius;
  if (r >= RING_OUTER || r <= RING_INNER * 0.7) return 0;
  const rim = Math.min(1, (RING_OUTER - r) / 0.15);
  const pupil = Math.min(1, (r - RING_INNER * 0.7) / (RING_INNER * 0.3));
  return opening * rim * pupil;
}

function eyes(image: Image, points: Float32Array, stride: number): EyeRegion[] {
  return [
    findIris(image, points, stride, RIGHT_EYE, POINT.rightEyeInner, POINT.rightEyeOuter),
    findIris(image, points, stride, LEFT_EYE, POINT.leftEyeInner, POINT.leftEyeOuter),
  ].filter((e): e is EyeRegion => e !== undefined);
}

/** The mean iris colour of the eyes `landmarks` (x,y,z per point) show in `image`, or undefined if none is open enough. */
export function measureIris(image: Image, landmarks: Float32Array): IrisColour | undefined {
  const total = [0, 0, 0];
  let weight = 0;
  for (const region of eyes(image, landmarks, 3)) {
    const lab = rgbToLab(image, region.rect);
    const w = region.rect.x1 - region.rect.x0;
    const h = region.rect.y1 - region.rect.y0;
    // Leave out speculars (the top tenth of lightness in the ring) and the pupil's darkest pixels.
    const lightness: number[] = [];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        if (ringWeight(region, region.rect.x0 + x + 0.5, region.rect.y0 + y + 0.5, region.opening[y * w + x]) > 0.5) lightness.push(lab.data[3 * (y * w + x)]);
      }
    if (lightness.length < 8) continue;
    lightness.sort((a, b) => a - b);
    const low = lightness[Math.floor(lightness.length * 0.1)];
    const high = lightness[Math.floor(lightness.length * 0.9)];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const ring = ringWeight(region, region.rect.x0 + x + 0.5, region.rect.y0 + y + 0.5, region.opening[i]);
        const L = lab.data[3 * i];
        if (ring <= 0.5 || L < low || L > high) continue;
        for (let k = 0; k < 3; k++) total[k] += lab.data[3 * i + k];
        weight++;
      }
  }
  if (weight < 8) return undefined;
  return { lab: [total[0] / weight, total[1] / weight, total[2] / weight] };
}

/**
 * Gives the irises in `frame`'s eye openings (`landmarks`: x,y,z per mesh point) the colour
 * `colour`, in place. Lightness is scaled by the ratio of the two irises' mean lightness, within
 * 0.7–1.4 (a pale iris lit dimly stays pale but dim); a* and b* are replaced. Speculars keep theirs.
 */
export function recolourIrises(frame: Image, landmarks: Float32Array, colour: IrisColour): void {
  for (const region of eyes(frame, landmarks, 3)) {
    // Only the disc's square is read and written.
    const r = region.radius * RING_OUTER;
    const disc = clampRect({ x0: Math.floor(region.cx - r), y0: Math.floor(region.cy - r), x1: Math.ceil(region.cx + r), y1: Math.ceil(region.cy + r) }, frame.width, frame.height);
    const box = { x0: Math.max(disc.x0, region.rect.x0), y0: Math.max(disc.y0, region.rect.y0), x1: Math.min(disc.x1, region.rect.x1), y1: Math.min(disc.y1, region.rect.y1) };
    const w = box.x1 - box.x0;
    const h = box.y1 - box.y0;
    if (w <= 0 || h <= 0) continue;
    const rw = region.rect.x1 - region.rect.x0;
    const rings = new Float32Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const opening = region.opening[(box.y0 - region.rect.y0 + y) * rw + box.x0 - region.rect.x0 + x];
        rings[y * w + x] = ringWeight(region, box.x0 + x + 0.5, box.y0 + y + 0.5, opening);
      }
    const lab = rgbToLab(frame, box);
    let sumL = 0;
    let n = 0;
    for (let i = 0; i < w * h; i++) {
      if (rings[i] > 0.5) {
        sumL += lab.data[3 * i];
        n++;
      }
    }
    if (n < 8) continue;
    const meanL = sumL / n;
    const ratio = Math.min(1.4, Math.max(0.7, colour.lab[0] / Math.max(1, meanL)));
    const specular = meanL + 35;
    const before = cropImage(frame, box);
    for (let i = 0; i < w * h; i++) {
      const ring = rings[i];
      const L = lab.data[3 * i];
      if (ring <= 0 || L > specular) {
        rings[i] = 0;
        continue;
      }
      lab.data[3 * i] = L + ring * (L * ratio - L);
      lab.data[3 * i + 1] += ring * (colour.lab[1] - lab.data[3 * i + 1]);
      lab.data[3 * i + 2] += ring * (colour.lab[2] - lab.data[3 * i + 2]);
    }
    labToRgb(lab, frame, box);
    // Only the ring changes: put back every other pixel exactly (the L*a*b* round trip may round).
    const c = frame.channels;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        if (rings[y * w + x] > 0) continue;
        const p = ((box.y0 + y) * frame.width + box.x0 + x) * c;
        for (let k = 0; k < c; k++) frame.data[p + k] = before.data[(y * w + x) * c + k];
      }
  }
}
