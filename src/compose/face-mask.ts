/**
 * Where a swapped face applies, in the target's geometry: the face outline, eroded and feathered in
 * proportion to the face's size, with the eye openings (and the mouth opening when the mouth mask
 * is on) cut out so the target's own eyes and mouth interior show through.
 */

import type { Rect } from '../core/image.js';
import { boxBlurFast, dilate, erode } from '../core/filters.js';
import { fillPolygon } from '../core/polygon.js';
import { FACE_OVAL, LEFT_EYE, LIPS_INNER, RIGHT_EYE } from '../face/mesh-indices.js';

export interface FaceMaskOptions {
  /** Cut the mouth opening out of the mask (keeps the target's teeth and tongue). */
  mouthMask: boolean;
}

export interface FaceMasks {
  /** Feathered weights 0..1 for blending. */
  blend: Float32Array;
  /** Hard 0/1 mask of the face's skin (outline minus openings), for colour statistics. */
  skin: Float32Array;
}

function loopPoints(landmarks: Float32Array, loop: readonly number[]): Float32Array {
  const points = new Float32Array(loop.length * 2);
  loop.forEach((v, i) => {
    points[2 * i] = landmarks[3 * v];
    points[2 * i + 1] = landmarks[3 * v + 1];
  });
  return points;
}

export function buildFaceMasks(landmarks: Float32Array, rect: Rect, faceSize: number, options: FaceMaskOptions): FaceMasks {
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  const outline = new Float32Array(w * h);
  fillPolygon(outline, w, h, loopPoints(landmarks, FACE_OVAL), 1, rect.x0, rect.y0);

  const openings = new Float32Array(w * h);
  const cut = options.mouthMask ? [RIGHT_EYE, LEFT_EYE, LIPS_INNER] : [RIGHT_EYE, LEFT_EYE];
  for (const loop of cut) fillPolygon(openings, w, h, loopPoints(landmarks, loop), 1, rect.x0, rect.y0);

  const skin = new Float32Array(w * h);
  for (let i = 0; i < skin.length; i++) skin[i] = outline[i] * (1 - openings[i]);

  // The outline's edge lies on the jaw and hairline: pull the blend well inside it and feather
  // widely, so the seam falls on skin. Openings get a narrow feather so eyelids stay crisp.
  const outerErode = Math.max(3, Math.round(faceSize * 0.05)) | 1;
  const outerSigma = Math.max(1, faceSize * 0.035);
  const blend = boxBlurFast(erode(outline, w, h, outerErode), w, h, 1, outerSigma);
  const holeGrow = Math.max(1, Math.round(faceSize * 0.012)) | 1;
  const holes = boxBlurFast(dilate(openings, w, h, holeGrow), w, h, 1, Math.max(0.8, faceSize * 0.01));
  for (let i = 0; i < blend.length; i++) blend[i] *= 1 - holes[i];
  return { blend, skin };
}
