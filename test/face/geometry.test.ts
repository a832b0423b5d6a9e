/** Face regions, their crop maps, and which face is chosen by default. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyAffine } from '../../src/core/affine.js';
import type { Face } from '../../src/face/face.js';
import { lineAngle, roiFromPoints, roiToFrame } from '../../src/face/roi.js';
import { primaryFaceIndex } from '../../src/face/select.js';

const close = (a: number, b: number, tolerance = 1e-9) => assert.ok(Math.abs(a - b) < tolerance, `${a} vs ${b}`);

describe('regions of interest', () => {
  test('the crop maps its centre to the region centre and its x axis along the face angle', () => {
    const roi = { cx: 300, cy: 200, size: 150, angle: Math.PI / 6 };
    const m = roiToFrame(roi, 192);
    const [x, y] = applyAffine(m, 96, 96);
    close(x, 300);
    close(y, 200);
    const [ex, ey] = applyAffine(m, 192, 96);
    close(Math.hypot(ex - 300, ey - 200), 75);
    close(lineAngle(300, 200, ex, ey), Math.PI / 6);
  });

  test('a rotated square seen along its own angle gives back the square', () => {
    const angle = 0.4;
    const corners = [
      [-1, -1],
      [1, -1],
      [1, 1],
      [-1, 1],
    ].map(([u, v]) => [50 + 20 * (u * Math.cos(angle) - v * Math.sin(angle)), 80 + 20 * (u * Math.sin(angle) + v * Math.cos(angle))]);
    const roi = roiFromPoints(
      corners.map((c) => c[0]),
      corners.map((c) => c[1]),
      angle,
      1.5,
    );
    close(roi.cx, 50);
    close(roi.cy, 80);
    close(roi.size, 60);
    close(roi.angle, angle);
  });
});

function face(x: number, y: number, size: number): Face {
  return { box: [x, y, size, size], score: 1, meshScore: 1, kps5: new Float32Array(10), landmarks: new Float32Array(468 * 3), roi: { cx: 0, cy: 0, size, angle: 0 } };
}

describe('default face', () => {
  test('a large central face beats a slightly smaller one at the edge, and is not just the left-most', () => {
    const faces = [face(0, 400, 180), face(860, 440, 200), face(1700, 400, 190)];
    assert.equal(primaryFaceIndex(faces, 1920, 1080), 1);
  });

  test('a much larger face off to one side beats a tiny central one', () => {
    const faces = [face(940, 520, 40), face(100, 100, 300)];
    assert.equal(primaryFaceIndex(faces, 1920, 1080), 1);
  });

  test('no faces gives -1', () => {
    assert.equal(primaryFaceIndex([], 640, 480), -1);
  });
});
