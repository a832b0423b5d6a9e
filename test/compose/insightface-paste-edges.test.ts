/**
 * The paste-back's neighbourhood path (row spans of the crop's parallelogram, α = 1 runs warped
 * straight into the frame) against the whole-frame reference computation: odd frame sizes, faces
 * across every edge and corner, a flat crop (long α = 1 runs), 3 and 4 channels, both precisions.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { multiplyAffine, type Affine } from '../../src/core/affine.js';
import { cloneImage, type Channels, type Image } from '../../src/core/image.js';
import { InsightfacePaster, pasteBackInsightface } from '../../src/compose/insightface-paste.js';

function noise(width: number, height: number, channels: Channels, seed: number): Image {
  const data = new Uint8ClampedArray(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = ((i + seed) * 2654435761) >>> 24;
  return { width, height, channels, data };
}

function flat(channels: Channels): Image {
  const data = new Uint8ClampedArray(128 * 128 * channels);
  for (let i = 0; i < data.length; i++) data[i] = 40 + (i % channels) * 70;
  return { width: 128, height: 128, channels, data };
}

// frame → crop: rotated by `angle`, scaled by `scale` (crop pixels per frame pixel), the crop's
// origin at frame (tx, ty).
const rot = (angle: number, scale: number, tx: number, ty: number): Affine => {
  const a = scale * Math.cos(angle);
  const b = scale * Math.sin(angle);
  return multiplyAffine([a, b, 0, -b, a, 0], [1, 0, -tx, 0, 1, -ty]);
};

const W = 333;
const H = 251;
const calls: [string, Affine][] = [
  ['inside, turned', rot(0.35, 0.62, 90, 60)],
  ['left edge', rot(-0.25, 0.7, -70, 80)],
  ['top edge', rot(0.6, 0.55, 100, -90)],
  ['right edge', rot(0.1, 0.6, 260, 70)],
  ['bottom edge', rot(-0.8, 0.5, 120, 190)],
  ['bottom-right corner', rot(1.2, 0.45, 290, 200)],
  ['upright (one coefficient 0)', [0.5, 0, -30.5, 0, 0.5, -20.25]],
  ['a quarter turn (the other coefficient 0)', [0, 0.58, -41, -0.58, 0, 160]],
  ['larger than the frame', rot(0.2, 0.3, -60, -50)],
];

describe('InsightfacePaster: the neighbourhood path = the whole-frame reference', () => {
  for (const channels of [3, 4] as const) {
    for (const precision of ['float32', 'fixed-point'] as const) {
      for (const [cropName, crop] of [
        ['noise crop', noise(128, 128, channels, 7)],
        ['flat crop', flat(channels)],
      ] as const) {
        it(`${W}×${H}, ${channels} channels, ${precision}, ${cropName}: identical pixels`, () => {
          const paster = new InsightfacePaster();
          for (const [name, m] of calls) {
            const base = noise(W, H, channels, 3);
            const fast = cloneImage(base);
            const reference = cloneImage(base);
            paster.paste(fast, crop, m, { precision });
            pasteBackInsightface(reference, crop, m, { precision, region: 'frame' });
            assert.notDeepEqual(reference.data, base.data, name);
            assert.deepEqual(fast.data, reference.data, name);
          }
        });
      }
    }
  }
});
