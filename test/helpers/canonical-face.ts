/** A face mesh laid out as MediaPipe's canonical texture layout: a frontal face with known geometry. */

import { CANONICAL_UV } from '../../src/face/canonical-uv.js';
import { MESH_POINTS } from '../../src/face/face.js';

/** 468 × (x, y, z): the canonical layout scaled to `size` pixels, flat (z = 0). */
export function canonicalLandmarks(size: number): Float32Array {
  const m = new Float32Array(MESH_POINTS * 3);
  for (let i = 0; i < MESH_POINTS; i++) {
    m[3 * i] = CANONICAL_UV[2 * i] * size;
    m[3 * i + 1] = CANONICAL_UV[2 * i + 1] * size;
  }
  return m;
}
