/**
 * The mesh engine's identity from several photos of one person. Each photo's texture is already
 * unwrapped into the canonical layout; here they are brought to one resolution, each photo's own
 * lighting is replaced by the set's mean (a low-frequency gain per photo, so the person's skin tone
 * stays and no photo's shadows survive), and the texels are combined with weights for how well
 * each photo sees them (facing angle, direct view rather than mirrored, sharpness) and for its
 * expression: a photo's teeth and the inside of its open mouth count for nothing, and a photo whose
 * mouth or eyes are more open, grinning or squinting than another's counts for less around them
 * (mesh-expression-weights.ts). With three or more photos the combination is robust: a texel far
 * from the photos' weighted median (one photo's smile lines, shadow, squint or occluder) loses its
 * weight. Shapes are aligned and averaged.
 */

import { affineCornerToCentred } from '../core/affine.js';
import { boxBlurFast } from '../core/filters.js';
import type { Image } from '../core/image.js';
import { warpAffine } from '../core/warp.js';
import { CANONICAL_UV } from '../face/canonical-uv.js';
import { MESH_POINTS } from '../face/face.js';
import { applySimilarity3, procrustes3 } from '../face/procrustes.js';
import type { IrisColour } from '../compose/iris.js';
import type { MeshIdentity } from './mesh-identity.js';
import { expressionFactors, expressionRegions, fillMouthInterior, mouthInteriorMask, photoExpression } from './mesh-expression-weights.js';

/** Weight of a texel a photo only has from its mirrored half, relative to one it sees directly. */
const MIRRORED_WEIGHT = 0.15;
/** Lighting is what varies slower than this, in texture sizes (about a tenth of the face). */
const LIGHTING_SIGMA = 1 / 10;
/** The vote compares photos blurred by this (texture sizes), so it decides by patches, not by texels' grain. */
const VOTE_SIGMA = 1 / 128;
/** Colour distance (levels, RGB) from the median at which a photo's texel keeps half its weight. */
const VOTE_SCALE = 12;
/** Least weight a photo keeps for being blurrier than the sharpest of the set. */
const BLUR_FLOOR = 0.3;
/** Each photo's gain from its own lighting to the set's is kept within these. */
const GAIN_RANGE: readonly [number, number] = [0.5, 2];

/** One photo brought to the combination's resolution: RGBA texture and its per-texel weight. */
interface Layer {
  rgb: Float32Array;
  alpha: Float32Array;
  /** How well the photo sees each texel, its confidence (alpha) left out: what the alphas are averaged by. */
  view: Float32Array;
  /** `view` times the confidence: what the colours are combined by. */
  weight: Float32Array;
}

/** Weights are blurred by this (texture sizes), as the single photo's mirror fill blurs them: no triangle edge shows as a step. */
const WEIGHT_SIGMA = 1 / 96;

/**
 * Bilinear resampling of a `from`×`from` field of `channels` values to `to`×`to`, texel centres
 * aligned and edges replicated: the core's float warp with the scale as its map.
 */
function resampleSquare(src: Float32Array, from: number, to: number, channels: number): Float32Array {
  const scale = to / from;
  const map = affineCornerToCentred([scale, 0, 0, 0, scale, 0]);
  return warpAffine({ width: from, height: from, channels, data: src }, map, to, to, { border: 'replicate' }).data;
}

/** A photo's texture (plain or softened) and its weights at `size`. */
function layerOf(identity: MeshIdentity, texture: Image, size: number): Layer {
  const n = identity.size * identity.size;
  const rgba = new Float32Array(n * 4);
  for (let i = 0; i < n * 4; i++) rgba[i] = texture.data[i];
  const seen = identity.seen ?? new Float32Array(n).fill(1);
  const scaled = identity.size === size ? rgba : resampleSquare(rgba, identity.size, size, 4);
  const seenScaled = boxBlurFast(identity.size === size ? seen : resampleSquare(seen, identity.size, size, 1), size, size, 1, Math.max(1, size * WEIGHT_SIGMA));
  const m = size * size;
  const rgb = new Float32Array(m * 3);
  const alpha = new Float32Array(m);
  const view = new Float32Array(m);
  const weight = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < 3; c++) rgb[3 * i + c] = scaled[4 * i + c];
    alpha[i] = scaled[4 * i + 3];
    view[i] = MIRRORED_WEIGHT + (1 - MIRRORED_WEIGHT) * Math.min(1, seenScaled[i]);
    weight[i] = (alpha[i] / 255) * view[i];
  }
  return { rgb, alpha, view, weight };
}

/**
 * A photo's sharpness: the mean absolute difference between its lightness and a slight blur of it,
 * over the texels it sees well. A photo upsampled from a small or soft face scores low.
 */
function sharpness(layer: Layer, size: number): number {
  const m = size * size;
  const luma = new Float32Array(m);
  for (let i = 0; i < m; i++) luma[i] = 0.299 * layer.rgb[3 * i] + 0.587 * layer.rgb[3 * i + 1] + 0.114 * layer.rgb[3 * i + 2];
  const blurred = boxBlurFast(luma, size, size, 1, Math.max(1, size / 192));
  let sum = 0,
    count = 0;
  for (let i = 0; i < m; i++) {
    if (layer.weight[i] < 0.5) continue;
    sum += Math.abs(luma[i] - blurred[i]);
    count++;
  }
  return count ? sum / count : 0;
}

/** A weight-normalised blur of `rgb` (texels with no weight borrow from their neighbours). */
function weightedBlur(rgb: Float32Array, weight: Float32Array, size: number, sigma: number): Float32Array {
  const m = size * size;
  const premultiplied = new Float32Array(m * 3);
  for (let i = 0; i < m; i++) for (let c = 0; c < 3; c++) premultiplied[3 * i + c] = rgb[3 * i + c] * weight[i];
  const num = boxBlurFast(premultiplied, size, size, 3, sigma);
  const den = boxBlurFast(weight, size, size, 1, sigma);
  for (let i = 0; i < m; i++) {
    const d = den[i] > 1e-4 ? 1 / den[i] : 0;
    for (let c = 0; c < 3; c++) num[3 * i + c] *= d;
  }
  return num;
}

/**
 * Each photo's colours under the set's lighting: divided by the photo's own low-frequency colour
 * and multiplied by the set's weighted mean of those (per channel, the gain clamped). `weights`
 * say which texels each photo's lighting is judged on (after a vote, its outliers are left out, so
 * an occluder does not tint the lighting around it).
 */
function normaliseLighting(layers: Layer[], weights: readonly Float32Array[], size: number): Float32Array[] {
  const m = size * size;
  const sigma = Math.max(1, size * LIGHTING_SIGMA);
  const lows = layers.map((l, k) => weightedBlur(l.rgb, weights[k], size, sigma));
  const softWeights = weights.map((w) => boxBlurFast(w, size, size, 1, sigma));
  const out = layers.map((l) => l.rgb.slice());
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < 3; c++) {
      let sum = 0,
        total = 0;
      for (let k = 0; k < layers.length; k++) {
        sum += softWeights[k][i] * lows[k][3 * i + c];
        total += softWeights[k][i];
      }
      if (total < 1e-4) continue;
      const mean = sum / total;
      for (let k = 0; k < layers.length; k++) {
        if (softWeights[k][i] < 1e-4) continue;
        const gain = Math.min(GAIN_RANGE[1], Math.max(GAIN_RANGE[0], (mean + 1) / (lows[k][3 * i + c] + 1)));
        out[k][3 * i + c] *= gain;
      }
    }
  }
  return out;
}

/** The weighted median of `values` (pairs with `weights`); `order` is scratch of the same length (an insertion sort: a handful of photos). */
function weightedMedian(values: Float32Array, weights: Float32Array, order: Uint16Array): number {
  const n = values.length;
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += weights[k];
    let j = k;
    while (j > 0 && values[order[j - 1]] > values[k]) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = k;
  }
  let acc = 0;
  for (let j = 0; j < n; j++) {
    acc += weights[order[j]];
    if (acc >= total / 2) return values[order[j]];
  }
  return values[order[n - 1]];
}

/**
 * With three photos or more, each photo's weight per texel times 1 / (1 + (d / VOTE_SCALE)²), d
 * its colour distance from the weighted median of the photos (all slightly blurred): where two
 * photos agree, the third's different patch is voted out.
 */
function voteWeights(layers: Layer[], rgb: readonly Float32Array[], size: number): Float32Array[] {
  const m = size * size;
  if (layers.length < 3) return layers.map((l) => l.weight);
  const sigma = Math.max(1, size * VOTE_SIGMA);
  const smooth = layers.map((l, k) => weightedBlur(rgb[k], l.weight, size, sigma));
  const out = layers.map(() => new Float32Array(m));
  const values = new Float32Array(layers.length);
  const weights = new Float32Array(layers.length);
  const order = new Uint16Array(layers.length);
  const centre = [0, 0, 0];
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < layers.length; k++) weights[k] = layers[k].weight[i];
    for (let c = 0; c < 3; c++) {
      for (let k = 0; k < layers.length; k++) values[k] = smooth[k][3 * i + c];
      centre[c] = weightedMedian(values, weights, order);
    }
    for (let k = 0; k < layers.length; k++) {
      const s = smooth[k];
      const d = Math.hypot(s[3 * i] - centre[0], s[3 * i + 1] - centre[1], s[3 * i + 2] - centre[2]) / VOTE_SCALE;
      out[k][i] = weights[k] / (1 + d * d);
    }
  }
  return out;
}

/** The photos' textures combined as described at the top of the file, at `size`. */
function combineTextures(identities: readonly MeshIdentity[], textures: readonly Image[], size: number): Image {
  const m = size * size;
  const layers = identities.map((identity, k) => layerOf(identity, textures[k], size));
  const interior = leaveOutExpression(identities, layers, size);
  const sharp = layers.map((l) => sharpness(l, size));
  const sharpest = Math.max(...sharp, 1e-6);
  layers.forEach((l, k) => {
    const factor = Math.max(BLUR_FLOOR, sharp[k] / sharpest);
    for (let i = 0; i < m; i++) {
      l.weight[i] *= factor;
      l.view[i] *= factor;
    }
  });
  // Lighting, vote, then both again with the lighting judged on what the vote kept.
  let rgb = normaliseLighting(
    layers,
    layers.map((l) => l.weight),
    size,
  );
  let votes = voteWeights(layers, rgb, size);
  if (layers.length >= 3) {
    rgb = normaliseLighting(layers, votes, size);
    votes = voteWeights(layers, rgb, size);
    votes = votes.map((v) => boxBlurFast(v, size, size, 1, Math.max(1, size * WEIGHT_SIGMA)));
  }
  const data = new Uint8ClampedArray(m * 4);
  for (let i = 0; i < m; i++) {
    let total = 0,
      plain = 0,
      alpha = 0,
      views = 0;
    for (let k = 0; k < layers.length; k++) {
      total += votes[k][i];
      plain += layers[k].weight[i];
      // Confidence as the photos that see the texel best have it: where the sharpest photo left
      // out the source's teeth on the lips or hair on the forehead, a blurrier one's do not return.
      alpha += layers[k].view[i] * layers[k].alpha[i];
      views += layers[k].view[i];
    }
    // Where the vote leaves (almost) nothing, the plain weights decide.
    const useVotes = total > 1e-3;
    const sum = useVotes ? total : plain;
    for (let c = 0; c < 3; c++) {
      let v = 0;
      if (sum > 1e-6) for (let k = 0; k < layers.length; k++) v += (useVotes ? votes[k][i] : layers[k].weight[i]) * rgb[k][3 * i + c];
      else for (let k = 0; k < layers.length; k++) v += rgb[k][3 * i + c] / layers.length;
      data[4 * i + c] = sum > 1e-6 ? v / sum : v;
    }
    data[4 * i + 3] = views > 1e-6 ? alpha / views : 0;
  }
  const texture: Image = { width: size, height: size, channels: 4, data };
  // Where every photo shows teeth or the mouth's inside, the colour is the lips' around it and the
  // confidence is low: the target's own mouth shows, and no tooth bleeds along the lip line.
  fillMouthInterior(texture, interior);
  return texture;
}

/**
 * Each photo's expression taken out of its weights (mesh-expression-weights.ts), before its
 * sharpness, lighting and vote are judged: nothing from where it shows teeth or the mouth's
 * inside, less around a mouth or eyes more expressive than the set's least expressive photo's.
 * Returns, per texel, how much every photo shows the mouth's inside (the least of their masks).
 */
function leaveOutExpression(identities: readonly MeshIdentity[], layers: readonly Layer[], size: number): Float32Array {
  const m = size * size;
  const regions = expressionRegions(size);
  const expressions = identities.map((identity) => photoExpression(identity.shape, identity.smile));
  const factors = expressionFactors(expressions, regions);
  const least = new Float32Array(m).fill(1);
  layers.forEach((layer, k) => {
    const rgba = new Uint8ClampedArray(m * 4);
    for (let i = 0; i < m; i++) {
      for (let c = 0; c < 3; c++) rgba[4 * i + c] = layer.rgb[3 * i + c];
      rgba[4 * i + 3] = layer.alpha[i];
    }
    const interior = mouthInteriorMask({ width: size, height: size, channels: 4, data: rgba }, regions, expressions[k]);
    for (let i = 0; i < m; i++) {
      const keep = (1 - interior[i]) * factors[k][i];
      layer.weight[i] *= keep;
      // A trace of view stays, so confidence still averages where every photo is left out.
      layer.view[i] *= Math.max(1e-3, keep);
      least[i] = Math.min(least[i], interior[i]);
    }
  });
  return least;
}

/**
 * The photos' shapes averaged: each aligned to the first by a similarity over every point, then
 * averaged per point with weights for how squarely each photo saw it.
 */
export function averageShapes(shapes: readonly Float32Array[], visibility: readonly (Float32Array | undefined)[]): Float32Array {
  const all = Uint16Array.from({ length: MESH_POINTS }, (_, i) => i);
  const out = new Float32Array(3 * MESH_POINTS);
  const totals = new Float32Array(MESH_POINTS);
  for (const [k, shape] of shapes.entries()) {
    const aligned = k === 0 ? shape : applySimilarity3(procrustes3(shape, shapes[0], all), shape);
    for (let i = 0; i < MESH_POINTS; i++) {
      const w = (visibility[k]?.[i] ?? 1) + 1e-3;
      totals[i] += w;
      for (let d = 0; d < 3; d++) out[3 * i + d] += w * aligned[3 * i + d];
    }
  }
  for (let i = 0; i < MESH_POINTS; i++) for (let d = 0; d < 3; d++) out[3 * i + d] /= totals[i];
  return out;
}

function averageIris(colours: readonly (IrisColour | undefined)[]): IrisColour | undefined {
  const measured = colours.filter((c): c is IrisColour => c !== undefined);
  if (measured.length === 0) return undefined;
  const lab: [number, number, number] = [0, 0, 0];
  for (const c of measured) for (let k = 0; k < 3; k++) lab[k] += c.lab[k] / measured.length;
  return { lab };
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/**
 * One mesh identity from several photos of one person (see the top of this file). One photo is
 * returned as it is, so a single source gives exactly the single-photo engine.
 */
export function combineMeshIdentities(identities: readonly MeshIdentity[]): MeshIdentity {
  if (identities.length === 0) throw new RangeError('combineMeshIdentities: no identities');
  if (identities.length === 1) return identities[0];
  const size = Math.max(...identities.map((i) => i.size));
  const texture = combineTextures(
    identities,
    identities.map((i) => i.texture),
    size,
  );
  // The smile is the set's median: one smiling photo among neutral ones is voted out of the
  // texture already, and its softened copy is only needed when the set as a whole smiles.
  const smile = median(identities.map((i) => i.smile));
  const neutralTexture =
    smile > 0 && identities.some((i) => i.neutralTexture)
      ? combineTextures(
          identities,
          identities.map((i) => i.neutralTexture ?? i.texture),
          size,
        )
      : undefined;
  const uv = new Float32Array(MESH_POINTS * 2);
  for (let i = 0; i < MESH_POINTS * 2; i++) uv[i] = CANONICAL_UV[i] * size;
  const shape = averageShapes(
    identities.map((i) => i.shape),
    identities.map((i) => i.vertexSeen),
  );
  return { texture, size, uv, shape, smile, neutralTexture, iris: averageIris(identities.map((i) => i.iris)), photos: identities.length };
}
