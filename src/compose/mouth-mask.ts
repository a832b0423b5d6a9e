/**
 * Deep-Live-Cam's mouth mask (spec §6.4) for the reference paste: the target's own mouth shows
 * through the swapped face. With 2d106det's landmarks it is Deep-Live-Cam's lip polygon, cut from
 * the frame before the paste and blended back after it; otherwise an approximation on FaceMesh's
 * outer lip line, cut out of the paste's mask.
 */

import { boxBlurFast, dilate, gaussianBlur } from '../core/filters.js';
import type { Image, Rect } from '../core/image.js';
import { fillPolygon } from '../core/polygon.js';
import type { Face } from '../face/face.js';
import { LIPS_OUTER } from '../face/mesh-indices.js';

/**
 * Deep-Live-Cam's mouth mask on FaceMesh's outer lip line (for faces without 106 landmarks): the
 * target's own mouth, grown a little and feathered, is cut out of `mask` (over `rect`).
 */
export function cutMeshMouth(mask: Float32Array, face: Face, rect: Rect, size: number): void {
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
  fillPolygon(
    mask,
    w,
    h,
    Array.from(polygon, (v) => v + 0.5),
    1,
    box.x0,
    box.y0,
  );
  const f = Math.max(1, Math.min(30, Math.floor(Math.min(w, h) / 8)));
  gaussianBlur(mask, w, h, 1, 2 * f + 1, 0, mask);
  let max = 0;
  for (const v of mask) if (v > max) max = v;
  if (max > 0) for (let i = 0; i < mask.length; i++) mask[i] /= max;
  return mask;
}

/** The mouth region of the pre-swap frame; undefined when the padded box is empty. */
export function cutMouth106(frame: Image, landmarks: ArrayLike<number>): Mouth106 | undefined {
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
export function restoreMouth106(frame: Image, mouth: Mouth106): void {
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
