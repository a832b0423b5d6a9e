import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { multiplyAffine, type Affine } from '../../src/core/affine.js';
import { cloneImage, type Image } from '../../src/core/image.js';
import { InsightfacePaster, pasteBackInsightface } from '../../src/compose/insightface-paste.js';

function noise(width: number, height: number, seed: number): Image {
  const data = new Uint8ClampedArray(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = ((i + seed) * 2654435761) >>> 24;
  return { width, height, channels: 3, data };
}

// frame → crop maps of several sizes and angles; the paster's planes are reused (and shrink and
// grow) from one call to the next, so stale values must never reach the result.
const rot = (angle: number, scale: number, tx: number, ty: number): Affine => {
  const a = scale * Math.cos(angle);
  const b = scale * Math.sin(angle);
  return multiplyAffine([a, b, 0, -b, a, 0], [1, 0, -tx, 0, 1, -ty]);
};
const calls: [string, Affine, number, number][] = [
  ['large, rotated', rot(0.3, 0.45, 120, 60), 480, 360],
  ['small, inside', rot(-0.5, 1.1, 200, 150), 480, 360],
  ['across the top-left corner', rot(0.9, 0.6, -40, -30), 400, 300],
  ['upright, large', rot(0, 0.4, 100, 40), 480, 360],
  ['across the bottom-right corner', rot(-0.2, 0.7, 330, 230), 400, 300],
];

describe('InsightfacePaster reused across faces and frames = the whole-frame computation', () => {
  const crop = noise(128, 128, 11);
  for (const precision of ['float32', 'fixed-point'] as const) {
    it(`${precision}: one paster, one call after another`, () => {
      const paster = new InsightfacePaster();
      for (const [name, m, w, h] of calls) {
        const base = noise(w, h, w);
        const a = cloneImage(base);
        const b = cloneImage(base);
        paster.paste(a, crop, m, { precision });
        pasteBackInsightface(b, crop, m, { precision, region: 'frame' });
        assert.deepEqual(a.data, b.data, name);
        assert.notDeepEqual(a.data, base.data, name);
      }
    });
  }
});
