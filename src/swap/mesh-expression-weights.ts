/**
 * What each source photo's expression puts into the texture: for one photo (its teeth and open
 * mouth, mesh-texture.ts) and for combining several photos of one person (mesh-combine.ts). An
 * open or grinning mouth carries teeth and the dark inside of the mouth into the lip gap and,
 * where FaceMesh's inner lip line sits on the teeth, onto the lips; a grin or a squint also reshapes the skin around the mouth and the eyes. Here each photo gets, in
 * the canonical texture layout:
 *
 * - a mouth-interior mask: 1 where the photo shows teeth or the mouth's inside (inside its lip gap
 *   when the mouth is open, and texels of the lips whose colour is the teeth's or, near the gap of
 *   an open mouth, the inside's rather than the lips'), so that photo contributes nothing there;
 * - a weight factor for the regions an expression reshapes (around the mouth, around the eyes)
 *   that lowers a photo more expressive there than the least expressive photo of the set, so the
 *   closed-mouth, open-eyed photo carries them. A set of equally expressive photos is left as it is.
 *
 * Smile lines are not weighted here: with three photos or more the combination's vote takes them
 * out, and the neutral texture softens them for targets that do not smile (mesh-texture.ts);
 * weighting them down as well cost FaceRes identity in the eval (a smiling photo's lines are
 * partly the person's) without changing the targets' expression measurably.
 */

import { rgbToLab } from '../core/color.js';
import { boxBlurFast } from '../core/filters.js';
import type { Image } from '../core/image.js';
import { dilate } from '../core/morphology.js';
import { fillPolygon, gatherPoints } from '../core/polygon.js';
import { smoothstep } from '../core/smoothstep.js';
import { CANONICAL_UV } from '../face/canonical-uv.js';
import { LEFT_EYE, LIPS_INNER, LIPS_OUTER, POINT, RIGHT_EYE } from '../face/mesh-indices.js';

/** Lip gap over mouth width from which a mouth counts as open (fully from the second figure). */
const OPEN_RANGE: readonly [number, number] = [0.03, 0.12];
/** How far a photo more expressive than the set's least expressive one is weighted down, at most (1 would leave it nothing). */
const EXPRESSION_DAMPING = 0.9;
/** Relative eye aperture (lid gap over eye length, against the set's widest) below which a photo counts as squinting, fully at the second. */
const SQUINT_RANGE: readonly [number, number] = [0.9, 0.6];
/** Teeth: lighter than the lips by this many L* levels (fully at the second figure) … */
const TEETH_LIGHTER: readonly [number, number] = [10, 22];
/** … and with at most this share of the lips' redness (a*), fully at the second. */
const TEETH_REDNESS: readonly [number, number] = [0.5, 0.25];
/** The mouth's dark inside: darker than the lips by this many L* levels, fully at the second. */
const GAP_DARKER: readonly [number, number] = [18, 32];

/** One photo's expression, read from its (symmetrised) mesh and smile score. */
export interface PhotoExpression {
  /** Lip gap over mouth width (0 for closed lips). */
  mouthOpen: number;
  /** Lid gap over eye length, the mean of both eyes. */
  eyesOpen: number;
  /** How broadly the photo smiles (0..1, smileScore). */
  smile: number;
}

const distance = (m: Float32Array, i: number, j: number) => Math.hypot(m[3 * i] - m[3 * j], m[3 * i + 1] - m[3 * j + 1]);

/** A photo's expression from its mesh (468 × x, y, z) and smile score. */
export function photoExpression(shape: Float32Array, smile: number): PhotoExpression {
  const mouthWidth = distance(shape, POINT.mouthRight, POINT.mouthLeft) || 1;
  // The gap at the middle and under each half of the upper lip, so a lopsided opening counts too.
  const gap = (distance(shape, 13, 14) + distance(shape, 82, 87) + distance(shape, 312, 317)) / 3;
  const eye = (top: number, bottom: number, outer: number, inner: number) => distance(shape, top, bottom) / (distance(shape, outer, inner) || 1);
  const eyesOpen = (eye(159, 145, POINT.rightEyeOuter, POINT.rightEyeInner) + eye(386, 374, POINT.leftEyeOuter, POINT.leftEyeInner)) / 2;
  return { mouthOpen: gap / mouthWidth, eyesOpen, smile };
}

/** How expressive a photo's mouth is, 0..1: open lips or a broad smile. */
function mouthExpression(e: PhotoExpression): number {
  return Math.max(smoothstep(OPEN_RANGE[0], OPEN_RANGE[1], e.mouthOpen), e.smile);
}

/** A polygon of mesh points filled at `size` in the canonical layout. */
function canonicalPolygon(indices: readonly number[], size: number): Float32Array {
  const mask = new Float32Array(size * size);
  const points = gatherPoints(CANONICAL_UV, indices);
  for (let i = 0; i < points.length; i++) points[i] *= size;
  fillPolygon(mask, size, size, points);
  return mask;
}

/** A soft region around `mask`: 1 on it, fading out over about `reach` (texture sizes). */
function around(mask: Float32Array, size: number, reach: number): Float32Array {
  const soft = boxBlurFast(mask, size, size, 1, Math.max(1, size * reach));
  let peak = 0;
  for (let i = 0; i < soft.length; i++) peak = Math.max(peak, soft[i]);
  for (let i = 0; i < soft.length; i++) soft[i] = Math.max(mask[i], Math.min(1, (2 * soft[i]) / (peak || 1)));
  return soft;
}

/** The regions an expression changes, in the canonical layout at one size (shared by every photo of a set). */
export interface ExpressionRegions {
  readonly size: number;
  /** The lip gap, widened by a few texels: where teeth and the mouth's inside land. */
  readonly gap: Float32Array;
  /** The lips and the gap (inside the outer lip line): where the colour test for teeth runs. */
  readonly lips: Float32Array;
  /** 1 on the lips, fading out over the skin around the mouth (chin, upper lip, mouth corners). */
  readonly mouth: Float32Array;
  /** 1 on the eye openings and lids, fading out over the crow's feet and under the eyes. */
  readonly eyes: Float32Array;
}

/** The expression regions at `size`. */
export function expressionRegions(size: number): ExpressionRegions {
  const margin = Math.max(3, Math.round(size / 64)) | 1;
  const gap = dilate(canonicalPolygon(LIPS_INNER, size), size, size, margin);
  const outer = canonicalPolygon(LIPS_OUTER, size);
  const lips = outer;
  const mouth = around(outer, size, 0.07);
  const bothEyes = canonicalPolygon(RIGHT_EYE, size);
  const left = canonicalPolygon(LEFT_EYE, size);
  for (let i = 0; i < bothEyes.length; i++) bothEyes[i] = Math.max(bothEyes[i], left[i]);
  const eyes = around(dilate(bothEyes, size, size, margin), size, 0.05);
  return { size, gap, lips, mouth, eyes };
}

/**
 * Where a photo's texture shows teeth or the mouth's inside (0..1 per texel, at the texture's
 * size): inside the lip gap in proportion to how open the mouth is, and on and around the lips
 * wherever the colour is far lighter and greyer (teeth) or far darker (the gap) than the lips'
 * own. The lips' colour is the median of their outer half, which teeth caught inside a short
 * inner lip line do not reach.
 */
export function mouthInteriorMask(texture: Image, regions: ExpressionRegions, expression: PhotoExpression): Float32Array {
  const size = texture.width;
  if (regions.size !== size) throw new RangeError(`mouthInteriorMask: regions are ${regions.size}, texture ${size}`);
  const m = size * size;
  const out = new Float32Array(m);
  const open = smoothstep(OPEN_RANGE[0], OPEN_RANGE[1], expression.mouthOpen);
  const lab = rgbToLab(texture, { x0: 0, y0: 0, x1: size, y1: size }).data;
  const d = texture.data;
  // The lips' outer half: on the lips, away from the widened gap.
  const reference: number[][] = [[], [], []];
  const innerHalf = dilate(regions.gap, size, size, Math.max(3, Math.round(size / 40)) | 1);
  for (let i = 0; i < m; i++) {
    if (!regions.lips[i] || innerHalf[i] || d[4 * i + 3] < 128) continue;
    for (let k = 0; k < 3; k++) reference[k].push(lab[3 * i + k]);
  }
  const lips = reference[0].length >= 16 ? reference.map((s) => s.sort((a, b) => a - b)[s.length >> 1]) : undefined;
  for (let i = 0; i < m; i++) {
    let interior = regions.gap[i] * open;
    if (lips && regions.lips[i] > 0) {
      const lighter = lab[3 * i] - lips[0];
      const redness = lips[1] > 1 ? lab[3 * i + 1] / lips[1] : 1;
      const teeth = smoothstep(TEETH_LIGHTER[0], TEETH_LIGHTER[1], lighter) * smoothstep(TEETH_REDNESS[0], TEETH_REDNESS[1], redness);
      const dark = smoothstep(GAP_DARKER[0], GAP_DARKER[1], -lighter);
      // Dark texels count as the mouth's inside only near the gap of an open mouth: a closed
      // mouth's lip line and the shadow under a lip are dark too.
      interior = Math.max(interior, teeth, dark * innerHalf[i] * open);
    }
    out[i] = interior;
  }
  // Slightly widened, so the soft edge of a tooth or of the gap does not stay.
  const widened = dilate(out, size, size, 3);
  return boxBlurFast(widened, size, size, 1, Math.max(1, size / 256));
}

/**
 * The texels `interior` marks (0..1, teeth or the mouth's inside: mouthInteriorMask) given the
 * colour of the lips around them and their confidence (alpha) lowered by as much, in place: the
 * target's own mouth shows there, and no tooth stays along the lip line as a light seam. The
 * colour counts too, not only the confidence: the painted texture is blended and blurred at the
 * lips' edge, where a tooth's colour at low confidence still shows as a dotted light line. The
 * lips' colour is a blur of the texels left unmarked, by about a 48th of the texture's size.
 */
export function fillMouthInterior(texture: Image, interior: Float32Array): void {
  const size = texture.width;
  const m = size * size;
  if (interior.length !== m || texture.channels !== 4)
    throw new RangeError(`fillMouthInterior: a ${size}² RGBA texture and ${m} mask values, got ${texture.channels} channels, ${interior.length} values`);
  const d = texture.data;
  const keep = new Float32Array(m);
  const premultiplied = new Float32Array(m * 3);
  for (let i = 0; i < m; i++) {
    keep[i] = 1 - interior[i];
    for (let c = 0; c < 3; c++) premultiplied[3 * i + c] = d[4 * i + c] * keep[i];
  }
  const sigma = Math.max(1, size / 48);
  const colour = boxBlurFast(premultiplied, size, size, 3, sigma);
  const total = boxBlurFast(keep, size, size, 1, sigma);
  for (let i = 0; i < m; i++) {
    const t = interior[i];
    if (t <= 0) continue;
    // Where nothing unmarked is near, the texel keeps its colour (its confidence still goes).
    const around = total[i] > 1e-4 ? 1 / total[i] : 0;
    for (let c = 0; c < 3; c++) if (around) d[4 * i + c] = d[4 * i + c] + t * (colour[3 * i + c] * around - d[4 * i + c]);
    d[4 * i + 3] = d[4 * i + 3] * (1 - t);
  }
}

/**
 * Per photo, the factor its weights are multiplied by for its expression: 1 where it is no more
 * expressive than the set's least expressive photo, down to 1 − EXPRESSION_DAMPING around a mouth
 * that is open or grinning while another photo's is not, and around eyes that squint while another
 * photo's are open.
 */
export function expressionFactors(expressions: readonly PhotoExpression[], regions: ExpressionRegions): Float32Array[] {
  const m = regions.size * regions.size;
  const mouth = expressions.map(mouthExpression);
  const leastMouth = Math.min(...mouth);
  const widestEyes = Math.max(...expressions.map((e) => e.eyesOpen), 1e-6);
  return expressions.map((e, k) => {
    const mouthExcess = EXPRESSION_DAMPING * (mouth[k] - leastMouth);
    const squint = EXPRESSION_DAMPING * smoothstep(SQUINT_RANGE[0], SQUINT_RANGE[1], e.eyesOpen / widestEyes);
    const factor = new Float32Array(m);
    for (let i = 0; i < m; i++) factor[i] = (1 - mouthExcess * regions.mouth[i]) * (1 - squint * regions.eyes[i]);
    return factor;
  });
}
