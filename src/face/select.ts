/**
 * Which face to swap when the user did not say (the largest, discounted by distance from centre),
 * and which face of another picture stands where a given one did.
 */

import type { Face } from './face.js';

/**
 * The face of `faces` whose box centre is nearest `target`'s, within half its size: the same face
 * found again on an output, or undefined when none is there.
 */
export function faceAt(faces: readonly Face[], target: Face): Face | undefined {
  const cx = target.box[0] + target.box[2] / 2;
  const cy = target.box[1] + target.box[3] / 2;
  let best: Face | undefined;
  let bestDistance = Math.max(target.box[2], target.box[3]) / 2;
  for (const f of faces) {
    const d = Math.hypot(f.box[0] + f.box[2] / 2 - cx, f.box[1] + f.box[3] / 2 - cy);
    if (d < bestDistance) {
      bestDistance = d;
      best = f;
    }
  }
  return best;
}

/**
 * Index of the face with the best size × centrality: a face at the image corner counts half as
 * much as the same face at the centre, so a big face off to one side still beats a tiny central one.
 * A face with a non-finite box is never chosen; any other face can be, so the result is -1 only
 * when no face has a finite box (an empty list included), which callers treat as no face.
 */
export function primaryFaceIndex(faces: readonly Face[], width: number, height: number): number {
  let best = -1;
  let bestScore = -Infinity;
  const halfDiagonal = Math.hypot(width, height) / 2;
  faces.forEach((f, i) => {
    if (!f.box.every(Number.isFinite)) return;
    const cx = f.box[0] + f.box[2] / 2;
    const cy = f.box[1] + f.box[3] / 2;
    const off = Math.hypot(cx - width / 2, cy - height / 2) / halfDiagonal;
    const score = f.box[2] * f.box[3] * (1 - 0.5 * Math.min(1, off));
    // The first finite face is taken even if its rating is NaN (a zero-sized image), so never -1 here.
    if (best === -1 || score > bestScore) {
      bestScore = score;
      best = i;
    }
  });
  return best;
}
