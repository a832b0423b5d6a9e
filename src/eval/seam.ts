/** Where a seam would show: the band in which the engine's feathered face mask crosses over. */

import { buildFaceMasks } from '../compose/face-mask.js';
import type { Image } from '../core/image.js';
import { faceSize, type Face } from '../face/face.js';
import type { Region } from './image-metrics.js';

/** The band where the engine's feathered mask crosses from face to frame: where a seam would be. */
export function maskEdgeBand(face: Face, image: Image): Region {
  const size = faceSize(face);
  const g = size * 0.12;
  const rect = {
    x0: Math.max(0, Math.floor(face.box[0] - g)),
    y0: Math.max(0, Math.floor(face.box[1] - g)),
    x1: Math.min(image.width, Math.ceil(face.box[0] + face.box[2] + g)),
    y1: Math.min(image.height, Math.ceil(face.box[1] + face.box[3] + g)),
  };
  const w = rect.x1 - rect.x0;
  const { blend } = buildFaceMasks(face.landmarks, rect, size, { mouthMask: true });
  return (x, y) => {
    const lx = x - rect.x0;
    const ly = y - rect.y0;
    if (lx < 0 || ly < 0 || lx >= w || ly >= rect.y1 - rect.y0) return false;
    const m = blend[ly * w + lx];
    return m > 0.1 && m < 0.9;
  };
}
