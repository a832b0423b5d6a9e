/** The blend mask's openings: eyes, mouth opening, or the whole lips, as asked. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildFaceMasks } from '../../src/compose/face-mask.js';
import { canonicalLandmarks } from '../helpers/canonical-face.js';

const SIZE = 400;

const landmarks = () => canonicalLandmarks(SIZE);

describe('face masks', () => {
  const m = landmarks();
  const rect = { x0: 0, y0: 0, x1: SIZE, y1: SIZE };
  const at = (blend: Float32Array, i: number, j?: number) => {
    const x = j === undefined ? m[3 * i] : (m[3 * i] + m[3 * j]) / 2;
    const y = j === undefined ? m[3 * i + 1] : (m[3 * i + 1] + m[3 * j + 1]) / 2;
    return blend[Math.floor(y) * SIZE + Math.floor(x)];
  };
  const upperLip = [0, 13] as const; // halfway between the outer and inner upper lip: on the lip
  const eye = [159, 145] as const; // between the lids: inside the eye opening
  const cheek = 50;

  test('by default the eyes are cut out and the lips painted', () => {
    const { blend } = buildFaceMasks(m, rect, SIZE, { mouthMask: true });
    assert.ok(at(blend, ...eye) < 0.1, `eye ${at(blend, ...eye)}`);
    assert.ok(at(blend, ...upperLip) > 0.8, `lip ${at(blend, ...upperLip)}`);
    assert.ok(at(blend, cheek) > 0.9);
  });

  test('lipsKept cuts the whole lips out; eyeHoles false paints the eyes', () => {
    const kept = buildFaceMasks(m, rect, SIZE, { mouthMask: true, lipsKept: true }).blend;
    assert.ok(at(kept, ...upperLip) < 0.1, `lip ${at(kept, ...upperLip)}`);
    assert.ok(at(kept, cheek) > 0.9);
    const eyes = buildFaceMasks(m, rect, SIZE, { mouthMask: true, eyeHoles: false }).blend;
    assert.ok(at(eyes, ...eye) > 0.8, `eye ${at(eyes, ...eye)}`);
  });
});
