/** Iris colour: found between the lids despite dark lashes, measured, and given to another eye. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createImage, type Image } from '../../src/core/image.js';
import { fillPolygon } from '../../src/core/polygon.js';
import { LEFT_EYE, RIGHT_EYE } from '../../src/face/mesh-indices.js';
import { measureIris, recolourIrises } from '../../src/compose/iris.js';
import { canonicalLandmarks } from '../helpers/canonical-face.js';

const SCALE = 600;

const landmarks = () => canonicalLandmarks(SCALE);

/** Skin, two eye openings with white sclera, an iris of `colour` shifted by `gaze` px, a pupil and a lash line. */
function eyes(colour: [number, number, number], gaze: number): Image {
  const image = createImage(SCALE, SCALE, 3);
  for (let i = 0; i < SCALE * SCALE; i++) image.data.set([200, 160, 140], 3 * i);
  const m = landmarks();
  for (const loop of [RIGHT_EYE, LEFT_EYE]) {
    const polygon = Float32Array.from(loop.flatMap((v) => [m[3 * v], m[3 * v + 1]]));
    const inside = new Float32Array(SCALE * SCALE);
    fillPolygon(inside, SCALE, SCALE, polygon);
    let cx = 0,
      cy = 0,
      x0 = Infinity,
      x1 = -Infinity;
    for (let k = 0; k < polygon.length; k += 2) {
      cx += polygon[k] / loop.length;
      cy += polygon[k + 1] / loop.length;
      x0 = Math.min(x0, polygon[k]);
      x1 = Math.max(x1, polygon[k]);
    }
    const radius = 0.2 * (x1 - x0);
    let top = Infinity;
    for (let k = 1; k < polygon.length; k += 2) top = Math.min(top, polygon[k]);
    for (let y = 0; y < SCALE; y++)
      for (let x = 0; x < SCALE; x++) {
        const i = y * SCALE + x;
        if (!inside[i]) continue;
        const r = Math.hypot(x + 0.5 - cx - gaze, y + 0.5 - cy);
        const lash = y < top + 3;
        const rgb = lash ? [20, 15, 15] : r < radius * 0.3 ? [10, 10, 10] : r < radius ? colour : [235, 235, 230];
        image.data.set(rgb, 3 * i);
      }
  }
  return image;
}

/** Mean colour of the pixels that were iris in `reference` (by its exact iris colour). */
function irisMean(image: Image, reference: Image, colour: readonly number[]): number[] {
  const sum = [0, 0, 0];
  let n = 0;
  for (let i = 0; i < SCALE * SCALE; i++) {
    if (reference.data[3 * i] !== colour[0] || reference.data[3 * i + 1] !== colour[1] || reference.data[3 * i + 2] !== colour[2]) continue;
    for (let k = 0; k < 3; k++) sum[k] += image.data[3 * i + k];
    n++;
  }
  return sum.map((v) => v / n);
}

describe('iris colour', () => {
  const green: [number, number, number] = [70, 130, 90];
  const brown: [number, number, number] = [110, 70, 40];

  test('the iris is measured, not the lashes: a green iris reads green', () => {
    const colour = measureIris(eyes(green, 4), landmarks());
    assert.ok(colour, 'an iris was found');
    assert.ok(colour.lab[1] < -10, `a* ${colour.lab[1]} (green is negative)`);
  });

  test("a brown iris takes a green one's colour; the white, lashes and skin stay", () => {
    const source = measureIris(eyes(green, 0), landmarks())!;
    const reference = eyes(brown, -5);
    const target = eyes(brown, -5);
    recolourIrises(target, landmarks(), source);
    const [r, g] = irisMean(target, reference, brown);
    assert.ok(g > r, `the iris turned green: mean ${r.toFixed(0)}, ${g.toFixed(0)}`);
    let changedOutside = 0;
    for (let i = 0; i < SCALE * SCALE; i++) {
      const wasIris = reference.data[3 * i] === brown[0] && reference.data[3 * i + 1] === brown[1];
      if (wasIris) continue;
      if (reference.data[3 * i] !== target.data[3 * i] || reference.data[3 * i + 1] !== target.data[3 * i + 1]) changedOutside++;
    }
    // The ring is feathered past the rim: allow a thin band of the white around each iris.
    assert.ok(changedOutside < 400, `${changedOutside} pixels outside the irises changed`);
  });

  test('a closed eye is left alone', () => {
    const m = landmarks();
    for (const [top, bottom] of [
      [159, 145],
      [386, 374],
    ])
      m[3 * top + 1] = m[3 * bottom + 1] - 1;
    const squint = Float32Array.from(m);
    for (const loop of [RIGHT_EYE, LEFT_EYE]) for (const v of loop) squint[3 * v + 1] = (m[3 * 159 + 1] + m[3 * 145 + 1]) / 2;
    assert.equal(measureIris(eyes(green, 0), squint), undefined);
  });
});
