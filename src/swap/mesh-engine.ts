/**
 * The built-in `mesh` engine. The source face is unwrapped once into the canonical mesh's texture
 * space, with each triangle weighted by how squarely the source photo sees it; parts seen edge-on
 * or not at all are filled from the mirrored half. Each target face is then painted by warping
 * that texture triangle by triangle onto the target's own 468-point mesh.
 */

import { createImage, clampRect, cropImage, type Image } from '../core/image.js';
import { smoothstep } from '../core/smoothstep.js';
import { gridSize } from '../core/resample.js';
import { ScratchBuffers } from '../core/scratch.js';
import { boxBlurFast, dilate, erode } from '../core/filters.js';
import { fillPolygon } from '../core/polygon.js';
import { warpTriangles } from '../core/warp.js';
import { buildFaceMasks } from '../compose/face-mask.js';
import { faceCrop, occlusionCropMask, occludersFor, parsedRegionCropMask, parserFor, type MaskModels } from '../compose/occlusion-mask.js';
import {
  applyCropMasks,
  keepsTargetGeometry,
  landmarkMasks,
  masksActive,
  regionsRestricted,
  regionSwapped,
  type CropMask,
  type FaceMaskSettings,
  type ParserChoice,
} from '../compose/region-mask.js';
import type { Affine } from '../core/affine.js';
import { measureIris, recolourIrises } from '../compose/iris.js';
import { CANONICAL_UV } from '../face/canonical-uv.js';
import { MESH_POINTS, faceSize, type Face } from '../face/face.js';
import { meshTopology } from '../face/mesh-topology.js';
import { LEFT_EYE, LIPS_INNER, RIGHT_EYE } from '../face/mesh-indices.js';
import { estimateNormFor } from '../face/model-input.js';
import { faceYaw } from '../face/pose.js';
import type { InputSpec } from '../models/model-spec.js';
import { outlineRing, RING_TRIANGLES, ringFolds, smileScore, symmetricShape, transferShape, vertexVisibility } from '../face/shape-transfer.js';
import type { FaceSwapper, FeatheredPatch, SwapSettings } from './engine.js';
import { DEFAULT_MESH_TUNING, type MeshTuning } from './mesh-tuning.js';
import { hideHairOnForehead, hideMouthInterior, hideTeethOnLips, softenExpressionLines } from './mesh-texture.js';
import { combineMeshIdentities } from './mesh-combine.js';
import type { MeshIdentity } from './mesh-identity.js';

export type { MeshIdentity } from './mesh-identity.js';

/**
 * How well the source photo shows a triangle, as its foreshortening relative to a frontal view:
 * below HIDDEN of its frontal area it counts as not seen, above SEEN as fully seen, and it fades
 * in between. Back-facing triangles (winding flipped against the canonical layout) are never seen.
 */
const HIDDEN = 0.3;
const SEEN = 0.6;

/**
 * Yaw limits in degrees of FaceMesh's own estimate, which reads low on turned faces (a full
 * profile measures about 55°): beyond MAX_YAW (about 60° of real turn) a face is not swapped, and
 * the identity shape fades out from SHAPE_YAW_FADE to there.
 */
const MAX_YAW = 42;
const SHAPE_YAW_FADE = 25;
/** The outline follows the source's up to this yaw, fading out by SHAPE_YAW_FADE. */
const OUTLINE_YAW_FADE = 12;

/**
 * Per triangle, projected area in the photo over area in the canonical (frontal) layout, divided
 * by the scale a frontal view of this face would have. That scale is the 75th percentile of the
 * ratios: even in a three-quarter view more than half of the face is seen at least as squarely
 * as from the front, so the percentile stays a frontal scale while the far side falls below it.
 * Foreshortening, not depth, decides: FaceMesh's z has no reliable scale.
 */
export function triangleVisibility(landmarks: Float32Array, triangles: ArrayLike<number>): Float32Array {
  const u = CANONICAL_UV;
  const count = triangles.length / 3;
  const ratio = new Float32Array(count);
  for (let t = 0; t < count; t++) {
    const a = triangles[3 * t],
      b = triangles[3 * t + 1],
      c = triangles[3 * t + 2];
    const canonical = (u[2 * b] - u[2 * a]) * (u[2 * c + 1] - u[2 * a + 1]) - (u[2 * b + 1] - u[2 * a + 1]) * (u[2 * c] - u[2 * a]);
    const photo =
      (landmarks[3 * b] - landmarks[3 * a]) * (landmarks[3 * c + 1] - landmarks[3 * a + 1]) - (landmarks[3 * b + 1] - landmarks[3 * a + 1]) * (landmarks[3 * c] - landmarks[3 * a]);
    ratio[t] = Math.abs(canonical) < 1e-12 ? 0 : photo / canonical;
  }
  const sorted = ratio.filter((r) => r > 0).sort();
  const frontal = sorted.length ? sorted[Math.floor(sorted.length * 0.75)] : 1;
  for (let t = 0; t < count; t++) ratio[t] = smoothstep(HIDDEN, SEEN, ratio[t] / frontal);
  return ratio;
}

function landmarkXY(face: Face, out: Float32Array): Float32Array {
  for (let i = 0; i < MESH_POINTS; i++) {
    out[2 * i] = face.landmarks[3 * i];
    out[2 * i + 1] = face.landmarks[3 * i + 1];
  }
  return out;
}

/**
 * Frame pixels per working pixel for a target face of `faceSize` painted from a texture of
 * `textureSize`: the face is worked on at about 1.25× the texture's resolution (at least 160 px),
 * since finer work cannot add detail the source photo does not have. Where the mask is zero the
 * frame keeps its full resolution; only the painted face is upsampled.
 */
export function workingFactor(faceSize: number, textureSize: number): number {
  const working = Math.max(160, textureSize * 1.25);
  return Math.max(1, Math.round(faceSize / working));
}

/** The crop this engine's box and model masks are cut in (frame → crop by the face's five points): the arcface template at 256 pixels. */
export const BOX_MASK_CROP: InputSpec = { size: 256, mean: 0, std: 1, channels: 'RGB', layout: 'NCHW', crop: { kind: 'five-point', template: 'arcface' } };

/** The triangles of `triangles` with a vertex on `loop`. */
function rimTriangles(triangles: Uint16Array, loop: readonly number[]): Uint16Array {
  const on = new Set(loop);
  const out: number[] = [];
  for (let t = 0; t < triangles.length; t += 3) {
    if (on.has(triangles[t]) || on.has(triangles[t + 1]) || on.has(triangles[t + 2])) out.push(triangles[t], triangles[t + 1], triangles[t + 2]);
  }
  return Uint16Array.from(out);
}

function concat(a: Uint16Array, b: Uint16Array): Uint16Array {
  const out = new Uint16Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export class MeshSwapper implements FaceSwapper<MeshIdentity> {
  readonly name = 'mesh';
  readonly mouthMaskByDefault = true;
  readonly colorMatchByDefault = true;
  private readonly topology = meshTopology();
  private readonly skinAndMouth = concat(this.topology.skin, this.topology.mouth);
  /** The eye openings and the skin triangles on their rims; the same with the mouth's. */
  private readonly eyeOpenings = concat(this.topology.eyes, rimTriangles(this.topology.skin, [...RIGHT_EYE, ...LEFT_EYE]));
  private readonly openingsWithMouth = concat(concat(this.eyeOpenings, this.topology.mouth), rimTriangles(this.topology.skin, LIPS_INNER));
  /** Every mesh triangle and the outline ring around them: what the frame warp moves with the outline. */
  private readonly wholeFaceAndRing = concat(concat(concat(this.topology.skin, this.topology.eyes), this.topology.mouth), RING_TRIANGLES);
  private readonly points = new Float32Array(MESH_POINTS * 2);
  private readonly scratch = new ScratchBuffers();

  constructor(
    readonly tuning: MeshTuning = DEFAULT_MESH_TUNING,
    /** XSeg and BiSeNet, when installed: the occlusion mask and named parsers run them. */
    private readonly maskModels?: MaskModels,
  ) {}

  createIdentity(image: Image, face: Face): MeshIdentity {
    // Texture resolution follows the source face: the canonical layout spans about 0.9 of it.
    const size = Math.min(1024, Math.max(128, Math.round(faceSize(face) / 0.9 / 8) * 8));
    const texture = createImage(size, size, 4);
    const uv = this.uvPoints(size);
    const coverage = new Float32Array(size * size);
    warpTriangles(image, landmarkXY(face, this.points), texture, uv, this.skinAndMouth, { coverage });

    const visibility = new Float32Array(size * size);
    const tri = new Float32Array(6);
    const t = this.skinAndMouth;
    const weights = triangleVisibility(face.landmarks, t);
    for (let i = 0; i < t.length; i += 3) {
      const weight = weights[i / 3];
      if (weight === 0) continue;
      for (let k = 0; k < 3; k++) {
        tri[2 * k] = uv[2 * t[i + k]];
        tri[2 * k + 1] = uv[2 * t[i + k] + 1];
      }
      fillPolygon(visibility, size, size, tri, weight);
    }
    for (let i = 0; i < visibility.length; i++) visibility[i] *= coverage[i];
    // Closing fills hairline gaps where a seen triangle meets an unseen one on the symmetry line
    // (there the mirror is the texel itself), which would otherwise show as a thin line.
    const k = Math.max(3, Math.round(size / 48)) | 1;
    const closed = erode(dilate(visibility, size, size, k), size, size, k);
    this.fillFromMirror(texture, closed);
    if (this.tuning.hideHair) hideHairOnForehead(texture);
    const smile = smileScore(face.landmarks);
    const vertexSeen = vertexVisibility(weights, t);
    const shape = symmetricShape(face.landmarks, vertexSeen);
    if (this.tuning.hideTeeth) {
      hideTeethOnLips(texture, uv);
      hideMouthInterior(texture, shape, smile);
    }
    let neutralTexture: Image | undefined;
    if (smile > 0 && this.tuning.softenSmile > 0) {
      neutralTexture = { ...texture, data: texture.data.slice() };
      softenExpressionLines(neutralTexture, smile * this.tuning.softenSmile);
    }
    return { texture, size, uv, shape, smile, neutralTexture, iris: measureIris(image, face.landmarks), seen: closed, vertexSeen };
  }

  /**
   * Several photos of one person as one identity: their textures under one lighting, combined per
   * texel by how well each photo sees it and voted robustly (three photos or more), and their
   * shapes averaged (mesh-combine.ts).
   */
  combineIdentities(identities: readonly MeshIdentity[]): MeshIdentity {
    return combineMeshIdentities(identities);
  }

  /**
   * The canonical layout is left-right symmetric about u = 0.5, so a texel's mirror image is the
   * same row, mirrored column. Where the source saw a part poorly, blend in its mirror; where it
   * saw neither side, confidence stays low and the target's own skin will show.
   */
  private fillFromMirror(texture: Image, visibility: Float32Array): void {
    const { width: size, data } = texture;
    const rgb = data.slice();
    // Colours mix under blurred weights, so no seam shows where the source goes from seen to
    // unseen; confidence combines the sharp weights first (a texel is trusted if either side was
    // seen) and is blurred after, so it does not dip where the two soft edges meet.
    const soft = boxBlurFast(visibility, size, size, 1, size / 96);
    const confidence = new Float32Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = y * size + x;
        const j = y * size + (size - 1 - x);
        const own = soft[i];
        const mirrored = (1 - own) * soft[j];
        const total = own + mirrored;
        if (total > 1e-4) {
          for (let k = 0; k < 3; k++) data[4 * i + k] = (own * rgb[4 * i + k] + mirrored * rgb[4 * j + k]) / total;
        }
        confidence[i] = visibility[i] + (1 - visibility[i]) * visibility[j];
      }
    }
    const smooth = boxBlurFast(confidence, size, size, 1, size / 96);
    for (let i = 0; i < size * size; i++) data[4 * i + 3] = 255 * Math.min(1, smooth[i]);
  }

  /** Faces turned further than {@link MAX_YAW} are left alone: their far side is not in view. */
  skipReason(face: Face): string | undefined {
    const yaw = Math.abs(faceYaw(face.landmarks));
    if (yaw <= MAX_YAW) return undefined;
    return `turned too far from the camera for the mesh engine (yaw ${Math.round(yaw)}° by FaceMesh's estimate; it swaps up to ${MAX_YAW}°, about 60° of real turn)`;
  }

  /** A promise only when a mask model runs (XSeg's occlusion, a BiSeNet parser asked for by name). */
  render(frame: Image, face: Face, identity: MeshIdentity, settings: SwapSettings): FeatheredPatch | Promise<FeatheredPatch> {
    const size = faceSize(face);
    const margin = size * 0.12;
    const [bx, by, bw, bh] = face.box;
    const rect = clampRect({ x0: bx - margin, y0: by - margin, x1: bx + bw + margin, y1: by + bh + margin }, frame.width, frame.height);
    const factor = workingFactor(size, identity.size);
    const w = gridSize(rect.x1 - rect.x0, factor);
    const h = gridSize(rect.y1 - rect.y0, factor);
    // Model masks see the frame as it was, before the openings below are moved.
    const plan = masksActive(settings.masks) ? this.maskPlan(frame, face, settings.masks) : undefined;
    // The face painted with the source's geometry, and the target's own eyes and mouth moved into
    // the new openings first, so no lid or lip line of the target shows beside the source's.
    const shaped = this.shapeFor(frame, face, identity, settings);
    const eyesSwapped = regionSwapped(settings.masks, 'left-eye') && regionSwapped(settings.masks, 'right-eye') && (settings.masks?.strength ?? 1) >= 1;
    if (this.tuning.iris && identity.iris && this.tuning.eyeHoles && eyesSwapped) recolourIrises(frame, shaped, identity.iris);
    // Reused between calls: a patch is valid until the next render on this engine.
    const warped: Image = { width: w, height: h, channels: 4, data: this.scratch.bytes('warped', w * h * 4) };
    const coverage = this.scratch.floats('coverage', w * h);
    // The mouth opening is painted only when it is swapped; a partial swap that keeps it cuts it
    // out as the mouth mask does (feathered), so no source mouth or unpainted sliver shows there.
    const mouthKept = settings.mouthMask || !regionSwapped(settings.masks, 'mouth');
    const triangles = mouthKept ? this.topology.skin : this.skinAndMouth;
    for (let i = 0; i < MESH_POINTS; i++) {
      this.points[2 * i] = (shaped[3 * i] - rect.x0) / factor;
      this.points[2 * i + 1] = (shaped[3 * i + 1] - rect.y0) / factor;
    }
    const texture = identity.neutralTexture && smileScore(face.landmarks) < identity.smile / 2 ? identity.neutralTexture : identity.texture;
    warpTriangles(texture, identity.uv, warped, this.points, triangles, { coverage });

    const masks = buildFaceMasks(
      shaped,
      rect,
      size,
      { mouthMask: mouthKept, eyeHoles: this.tuning.eyeHoles, lipsKept: this.tuning.targetLips, foreheadKept: this.tuning.foreheadKept },
      factor,
    );
    const wd = warped.data;
    for (let i = 0; i < w * h; i++) masks.blend[i] *= coverage[i] * wd[4 * i + 3] * (1 / 255);
    // Statistics only from skin the source really showed: sample the confidence at cell centres.
    const g = masks.grid;
    for (let gy = 0; gy < masks.gridHeight; gy++) {
      const y = Math.min(h - 1, Math.floor((gy + 0.5) * g));
      for (let gx = 0; gx < masks.gridWidth; gx++) {
        const i = y * w + Math.min(w - 1, Math.floor((gx + 0.5) * g));
        if (coverage[i] * wd[4 * i + 3] < 128) masks.skin[gy * masks.gridWidth + gx] = 0;
      }
    }
    const patch: FeatheredPatch & { detailMask?: Float32Array } = {
      strategy: 'feathered',
      rect,
      factor,
      pixels: warped,
      mask: masks.blend,
      statsMask: { grid: g, weights: masks.skin },
      faceSize: size / factor,
      complexion: this.tuning.complexion,
      lightingScale: this.tuning.lightingScale,
      matchDetail: this.tuning.detail,
    };
    if (!plan || !settings.masks) return patch;
    // Strength is the compositor's (like opacity): the face's detail and colour statistics stay the full mask's.
    const layers = landmarkMasks(shaped, rect, size, settings.masks, plan.box, plan.parser === 'landmarks');
    // The face's detail is judged on its whole mask, not on the part a partial swap keeps.
    const whole = masks.blend.slice();
    if (this.tuning.detail) patch.detailMask = whole;
    const apply = (more: readonly CropMask[]): FeatheredPatch => {
      if (layers.length + more.length === 0) return patch;
      // The blend holds its correction back where these masks keep the target inside the whole mask.
      patch.faceMask = whole;
      applyCropMasks(masks.blend, rect, factor, w, h, [...layers, ...more]);
      return patch;
    };
    return plan.models ? plan.models.then(apply) : apply([]);
  }

  /**
   * Which masks a face gets beyond the landmark ones: the crop FaceFusion's box mask and the model
   * masks are cut in (the arcface template at 256 pixels), the parser drawing the regions
   * (FaceMesh's points unless a BiSeNet model is asked for by name), and the model masks, started
   * on a copy of the crop taken now.
   */
  private maskPlan(frame: Image, face: Face, masks: FaceMaskSettings): { box: { matrix: Affine; size: number }; parser: ParserChoice; models?: Promise<CropMask[]> } {
    const size = BOX_MASK_CROP.size;
    const matrix = estimateNormFor(
      face.kps5.map((v) => v - 0.5),
      BOX_MASK_CROP,
    );
    const occluders = masks.occlusion ? occludersFor(masks.occlusion, this.maskModels) : [];
    const parser = regionsRestricted(masks) ? parserFor(masks.parser, this.maskModels, false) : 'landmarks';
    const models = this.maskModels;
    if (!models || (occluders.length === 0 && parser === 'landmarks')) return { box: { matrix, size }, parser };
    const crop = faceCrop(frame, matrix, size);
    const run = async (): Promise<CropMask[]> => [
      ...(occluders.length ? [await occlusionCropMask(models, occluders, crop, matrix)] : []),
      ...(parser !== 'landmarks' ? [await parsedRegionCropMask(await models.parser(parser), crop, matrix, masks)] : []),
    ];
    return { box: { matrix, size }, parser, models: run() };
  }

  /**
   * The target's mesh with the source's identity geometry, or the target's own landmarks when
   * shape transfer is off. Faces turned far from the camera take less: their far-side outline
   * points are not the silhouette, and the near side's offsets grow unreliable.
   */
  private shapeFor(frame: Image, face: Face, identity: MeshIdentity, settings: SwapSettings): Float32Array {
    // A partial swap keeps the target's geometry: moving its features would show outside the regions.
    if (keepsTargetGeometry(settings.masks)) return face.landmarks;
    const yaw = Math.abs(faceYaw(face.landmarks));
    const strength = (settings.faceShape ?? this.tuning.shape) * (1 - smoothstep(SHAPE_YAW_FADE, MAX_YAW, yaw));
    if (strength <= 0) return face.landmarks;
    // The far side's outline is not the silhouette on a turned face: the outline stays put there.
    const outline = (settings.faceOutline ?? this.tuning.outline) * (1 - smoothstep(OUTLINE_YAW_FADE, SHAPE_YAW_FADE, yaw));
    const target = face.landmarks;
    if (outline > 0) {
      const shaped = transferShape(target, identity.shape, strength, this.tuning.regions, outline).points;
      const ring = outlineRing(target, shaped);
      if (!ringFolds(ring)) {
        this.selfWarp(frame, ring.from, ring.to, this.wholeFaceAndRing);
        return shaped;
      }
    }
    const shaped = transferShape(target, identity.shape, strength, this.tuning.regions).points;
    const from = this.scratch.floats('openingsFrom', MESH_POINTS * 2);
    const to = this.scratch.floats('openingsTo', MESH_POINTS * 2);
    for (let i = 0; i < MESH_POINTS; i++) {
      from[2 * i] = target[3 * i];
      from[2 * i + 1] = target[3 * i + 1];
      to[2 * i] = shaped[3 * i];
      to[2 * i + 1] = shaped[3 * i + 1];
    }
    this.selfWarp(frame, from, to, settings.mouthMask ? this.openingsWithMouth : this.eyeOpenings);
    return shaped;
  }

  /**
   * Moves the frame's content from the target's points to the shaped ones, a piecewise-affine
   * self-warp read from a copy of the region so it never reads its own output: the eye openings
   * (and the mouth opening when the target keeps its mouth) with the lid and lip margins around
   * them, or with the outline free the whole face and a ring of its surroundings.
   */
  private selfWarp(frame: Image, from: Float32Array, to: Float32Array, triangles: Uint16Array): void {
    let x0 = Infinity,
      y0 = Infinity,
      x1 = -Infinity,
      y1 = -Infinity;
    for (let t = 0; t < triangles.length; t++) {
      const v = triangles[t];
      for (const m of [from, to]) {
        x0 = Math.min(x0, m[2 * v]);
        x1 = Math.max(x1, m[2 * v]);
        y0 = Math.min(y0, m[2 * v + 1]);
        y1 = Math.max(y1, m[2 * v + 1]);
      }
    }
    const region = clampRect({ x0: Math.floor(x0) - 2, y0: Math.floor(y0) - 2, x1: Math.ceil(x1) + 2, y1: Math.ceil(y1) + 2 }, frame.width, frame.height);
    if (region.x1 <= region.x0 || region.y1 <= region.y0) return;
    const copy = cropImage(frame, region, this.scratch.bytes('selfWarpCopy', (region.x1 - region.x0) * (region.y1 - region.y0) * frame.channels));
    const src = this.scratch.floats('selfWarpFrom', from.length);
    for (let i = 0; i < from.length; i += 2) {
      src[i] = from[i] - region.x0;
      src[i + 1] = from[i + 1] - region.y0;
    }
    warpTriangles(copy, src, frame, to, triangles, { rect: region });
  }

  private uvPoints(size: number): Float32Array {
    const out = new Float32Array(MESH_POINTS * 2);
    for (let i = 0; i < MESH_POINTS * 2; i++) out[i] = CANONICAL_UV[i] * size;
    return out;
  }
}
