/** A synthetic face for planner and processor tests: a square box with landmarks on a fixed pattern inside it. */

import { MESH_POINTS, type Face } from '../../src/face/face.js';

/** A face in the box [x, y, size, size], its 468 landmarks spread over the box, its five points where a face has them. */
export function makeFace(x: number, y: number, size: number): Face {
  const landmarks = new Float32Array(MESH_POINTS * 3);
  for (let i = 0; i < MESH_POINTS; i++) {
    landmarks[3 * i] = x + size * (0.05 + (0.9 * ((i * 37) % 101)) / 100);
    landmarks[3 * i + 1] = y + size * (0.05 + (0.9 * ((i * 53) % 97)) / 96);
  }
  const at = (u: number, v: number) => [x + u * size, y + v * size];
  return {
    box: [x, y, size, size],
    score: 0.9,
    meshScore: 0.95,
    kps5: Float32Array.from([...at(0.3, 0.35), ...at(0.7, 0.35), ...at(0.5, 0.55), ...at(0.35, 0.75), ...at(0.65, 0.75)]),
    landmarks,
    roi: { cx: x + size / 2, cy: y + size / 2, size: size * 1.5, angle: 0 },
  };
}
