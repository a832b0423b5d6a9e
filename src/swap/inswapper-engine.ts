/**
 * The `inswapper` engine: insightface 0.7.3's pipeline with Deep-Live-Cam's options. The source
 * identity is ArcFace's embedding projected through the model's own `emap`; each target face is
 * aligned with norm_crop, swapped at 128×128 and pasted back with the reference's paste-back.
 * With the options at their defaults (no mouth mask, no colour match, opacity 1, sharpness 0)
 * the pixels are the reference's; the options only reshape the crop or the blend mask. The mouth
 * mask is Deep-Live-Cam's (spec §6.4) when the faces carry 2d106det's 106 landmarks, else an
 * approximation on FaceMesh's outer lip line.
 */

import { boxBlurFast, dilate, gaussianBlur } from '../core/filters.js';
import { toRgba, type Image, type Rect } from '../core/image.js';
import { fillPolygon } from '../core/polygon.js';
import { unsharpMaskRegion } from '../core/sharpen.js';
import { blendTruncated, insightfacePasteStages } from '../compose/insightface-paste.js';
import { buildFaceMasks } from '../compose/face-mask.js';
import { matchColour } from '../compose/color-match.js';
import type { ArcFaceEmbedder } from '../face/arcface.js';
import { faceSize, type Face } from '../face/face.js';
import { LIPS_OUTER } from '../face/mesh-indices.js';
import { alignForModel } from '../face/model-input.js';
import type { FaceSwapper, SwapSettings } from './engine.js';
import { averageIdentity, latentFromEmbedding, type InswapperModel } from './inswapper.js';

export interface InswapperIdentity {
  /** ArcFace's L2-normalised embedding of the source face. */
  readonly normedEmbedding: Float32Array;
  /** normalise(normed embedding · emap): what the swapper's `source` input takes. */
  readonly latent: Float32Array;
}

/** The five keypoints as the reference detector gave them (pixel centres at integers). */
function referenceKeypoints(face: Face): ArrayLike<number> {
  return face.kps5Reference ?? face.kps5.map((v) => v - 0.5);
}

export class InswapperEngine implements FaceSwapper<InswapperIdentity> {
  readonly name = 'inswapper';
  /** Deep-Live-Cam's defaults: no mouth mask, no colour match. */
  readonly mouthMaskByDefault = false;
  readonly colorMatchByDefault = false;

  constructor(
    private readonly embedder: ArcFaceEmbedder,
    /** The swapper bound to its row: the crop's template and size come from there. */
    private readonly swapper: InswapperModel,
    /** The `emap` of the swapper file actually loaded (see readEmap). */
    private readonly emap: Float32Array,
  ) {}

  async createIdentity(image: Image, face: Face): Promise<InswapperIdentity> {
    const { normedEmbedding } = await this.embedder.embed(image, referenceKeypoints(face));
    return { normedEmbedding, latent: latentFromEmbedding(normedEmbedding, this.emap) };
  }

  /** Several photos of one person: the mean of their normed embeddings, as FaceFusion does. */
  combineIdentities(identities: readonly InswapperIdentity[]): InswapperIdentity {
    const { normedEmbedding } = averageIdentity(identities.map((i) => i.normedEmbedding));
    return { normedEmbedding, latent: latentFromEmbedding(normedEmbedding, this.emap) };
  }

  async paste(frame: Image, face: Face, identity: InswapperIdentity, settings: SwapSettings): Promise<void> {
    // Deep-Live-Cam cuts the mouth out of the frame as it was before this face was swapped.
    const mouth106 = settings.mouthMask && face.landmarks106 ? cutMouth106(frame, face.landmarks106) : undefined;
    const { crop, matrix } = alignForModel(frame, referenceKeypoints(face), this.swapper.spec.input);
    const output = await this.swapper.run(crop, identity.latent);
    // A canvas's frame is RGBA: the pasted face gets an opaque alpha to match.
    const swapped = frame.channels === 4 ? toRgba(output) : output;
    const stages = insightfacePasteStages(frame, swapped, matrix);
    const { rect, fakeFull } = stages;
    const w = rect.x1 - rect.x0;
    const h = rect.y1 - rect.y0;
    const local = { x0: 0, y0: 0, x1: w, y1: h };
    const meshed = face.meshScore > 0;
    const size = faceSize(face);
    if (settings.colorMatch && meshed) {
      const { skin, grid } = buildFaceMasks(face.landmarks, rect, size, { mouthMask: true });
      matchColour(fakeFull, frame, rect, { grid, weights: skin }, size, local);
    }
    if (settings.sharpness > 0) unsharpMaskRegion(fakeFull, local, settings.sharpness * 0.5, Math.max(0.8, size / 200));
    let mask = stages.maskBlur;
    const meshMouth = settings.mouthMask && meshed && !face.landmarks106;
    if (meshMouth || settings.opacity < 1) {
      mask = mask.slice();
      if (meshMouth) this.cutMouth(mask, face, rect, size);
      if (settings.opacity < 1) for (let i = 0; i < mask.length; i++) mask[i] *= settings.opacity;
    }
    blendTruncated(frame, fakeFull, mask, rect);
    if (mouth106) restoreMouth106(frame, mouth106);
  }

  /**
   * Deep-Live-Cam's mouth mask: the target's own mouth (the outer lip line, grown a little and
   * feathered) shows through the swapped face.
   */
  private cutMouth(mask: Float32Array, face: Face, rect: { x0: number; y0: number; x1: number; y1: number }, size: number): void {
    const w = rect.x1 - rect.x0;
    const h = rect.y1 - rect.y0;
    const lips = new Float32Array(LIPS_OUTER.length * 2);
    LIPS_OUTER.forEach((v, i) => {
      lips[2 * i] = face.landmarks[3 * v] - rect.x0;
      lips[2 * i + 1] = face.landmarks[3 * v + 1] - rect.y0;
    });
    const mouth = new Float32Array(w * h);
    fillPolygon(mouth, w, h, lips, 1);
    const grown = boxBlurFast(dilate(mouth, w, h, Math.max(3, Math.round(size * 0.04)) | 1), w, h, 1, Math.max(1, size * 0.02));
    for (let i = 0; i < mask.length; i++) mask[i] *= 1 - grown[i];
  }
}

/**
 * Deep-Live-Cam's mouth-mask size slider as s = mouth_mask_size / 100 ∈ [0, 1]. The spec gives no
 * default for it, so the lip outline is used as it is (no expansion).
 */
export const MOUTH_MASK_SIZE = 0;

/** The 106-point model's outer lip outline, in index order (spec §6.4). */
const LIP_OUTLINE_106 = Array.from({ length: 12 }, (_, i) => 52 + i);

export interface Mouth106 {
  /** The padded box, frame pixels (x1, y1 exclusive), clamped to the frame. */
  box: Rect;
  /** The expanded lip polygon, integer x,y pairs in OpenCV's convention (frame pixels). */
  polygon: Int32Array;
  /** The box's pixels before the swap, row by row. */
  original: Uint8ClampedArray;
}

/**
 * Deep-Live-Cam's lip polygon from 106 landmarks (OpenCV convention): points 52…63 grown about
 * their mean by 1 + 2s, points below the mean moved down by a further 1 + 2s, truncated to
 * integers like astype(int32).
 */
export function lipPolygon106(landmarks: ArrayLike<number>, s = MOUTH_MASK_SIZE): Int32Array {
  const n = LIP_OUTLINE_106.length;
  let cx = 0;
  let cy = 0;
  for (const i of LIP_OUTLINE_106) {
    cx += landmarks[2 * i];
    cy += landmarks[2 * i + 1];
  }
  cx /= n;
  cy /= n;
  const grow = 1 + 2 * s;
  const polygon = new Int32Array(n * 2);
  LIP_OUTLINE_106.forEach((v, k) => {
    const x = landmarks[2 * v];
    const y = landmarks[2 * v + 1];
    const dy = (y - cy) * grow * (y > cy ? grow : 1);
    polygon[2 * k] = Math.trunc(cx + (x - cx) * grow);
    polygon[2 * k + 1] = Math.trunc(cy + dy);
  });
  return polygon;
}

/** The polygon's bounds padded by 10 % of their width and height, clamped to the frame. */
export function mouthBox106(polygon: Int32Array, width: number, height: number): Rect {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < polygon.length; i += 2) {
    minX = Math.min(minX, polygon[i]);
    maxX = Math.max(maxX, polygon[i]);
    minY = Math.min(minY, polygon[i + 1]);
    maxY = Math.max(maxY, polygon[i + 1]);
  }
  const padX = Math.trunc((maxX - minX) * 0.1);
  const padY = Math.trunc((maxY - minY) * 0.1);
  return { x0: Math.max(0, minX - padX), y0: Math.max(0, minY - padY), x1: Math.min(width, maxX + padX), y1: Math.min(height, maxY + padY) };
}

/**
 * The feathered polygon mask over `box`: the polygon filled with 1 (pixels whose centre lies in
 * it), Gaussian ksize 2f + 1 with f = max(1, min(30, min(box w, box h) // 8)) (σ from ksize as
 * cv2 derives it), divided by its maximum. All zeros when the polygon covers no pixel.
 */
export function mouthMask106(polygon: Int32Array, box: Rect): Float32Array {
  const w = box.x1 - box.x0;
  const h = box.y1 - box.y0;
  const mask = new Float32Array(w * h);
  // Integer points are pixel centres in OpenCV's convention: +0.5 in the project's.
  fillPolygon(mask, w, h, Array.from(polygon, (v) => v + 0.5), 1, box.x0, box.y0);
  const f = Math.max(1, Math.min(30, Math.floor(Math.min(w, h) / 8)));
  gaussianBlur(mask, w, h, 1, 2 * f + 1, 0, mask);
  let max = 0;
  for (const v of mask) if (v > max) max = v;
  if (max > 0) for (let i = 0; i < mask.length; i++) mask[i] /= max;
  return mask;
}

/** The mouth region of the pre-swap frame; undefined when the padded box is empty. */
function cutMouth106(frame: Image, landmarks: ArrayLike<number>): Mouth106 | undefined {
  const polygon = lipPolygon106(landmarks);
  const box = mouthBox106(polygon, frame.width, frame.height);
  if (box.x1 <= box.x0 || box.y1 <= box.y0) return undefined;
  const c = frame.channels;
  const rowLen = (box.x1 - box.x0) * c;
  const original = new Uint8ClampedArray(rowLen * (box.y1 - box.y0));
  for (let y = box.y0; y < box.y1; y++) {
    const start = (y * frame.width + box.x0) * c;
    original.set(frame.data.subarray(start, start + rowLen), (y - box.y0) * rowLen);
  }
  return { box, polygon, original };
}

/** out = original·m + swapped·(1 − m) over the box, clipped and truncated to 8 bits. */
function restoreMouth106(frame: Image, mouth: Mouth106): void {
  const { box, original } = mouth;
  const mask = mouthMask106(mouth.polygon, box);
  const w = box.x1 - box.x0;
  const c = frame.channels;
  const d = frame.data;
  for (let y = box.y0; y < box.y1; y++) {
    for (let x = box.x0; x < box.x1; x++) {
      const k = (y - box.y0) * w + (x - box.x0);
      const m = mask[k];
      const o = (y * frame.width + x) * c;
      for (let ch = 0; ch < c; ch++) {
        const v = original[k * c + ch] * m + d[o + ch] * (1 - m);
        d[o + ch] = Math.trunc(Math.min(255, Math.max(0, v)));
      }
    }
  }
}
