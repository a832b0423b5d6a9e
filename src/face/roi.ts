/** Square rotated regions around faces, and the affine maps between a region and the frame. */

import type { Affine } from '../core/affine.js';
import type { FaceRoi } from './face.js';

/**
 * Map from a `size`×`size` crop of the region (continuous crop pixels) to frame pixels: the crop's
 * x axis follows the face's eye line, so the face is upright in the crop.
 */
export function roiToFrame(roi: FaceRoi, size: number): Affine {
  const s = roi.size / size;
  const cos = Math.cos(roi.angle) * s;
  const sin = Math.sin(roi.angle) * s;
  const h = size / 2;
  return [cos, -sin, roi.cx - cos * h + sin * h, sin, cos, roi.cy - sin * h - cos * h];
}

/** The region around a set of points seen along `angle`, enlarged by `scale` and made square. */
export function roiFromPoints(xs: ArrayLike<number>, ys: ArrayLike<number>, angle: number, scale: number): FaceRoi {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  // Bounding box in the face-aligned frame, so a tilted face gets a tight box.
  let minU = Infinity,
    maxU = -Infinity,
    minV = Infinity,
    maxV = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    const u = xs[i] * cos + ys[i] * sin;
    const v = -xs[i] * sin + ys[i] * cos;
    if (u < minU) minU = u;
    if (u > maxU) maxU = u;
    if (v < minV) minV = v;
    if (v > maxV) maxV = v;
  }
  const cu = (minU + maxU) / 2;
  const cv = (minV + maxV) / 2;
  return { cx: cu * cos - cv * sin, cy: cu * sin + cv * cos, size: Math.max(maxU - minU, maxV - minV) * scale, angle };
}

/** Angle of the line from point a to point b, in image coordinates. */
export function lineAngle(ax: number, ay: number, bx: number, by: number): number {
  return Math.atan2(by - ay, bx - ax);
}
