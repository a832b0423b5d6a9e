/**
 * One entry point pastes every FacePatch: Compositor.compose sends a 'feathered' patch to the
 * multiband blend and an 'insightface-reference' patch to the reference paste-back, which with
 * default settings gives the pixels of pasteBackInsightface (pinned to insightface by the goldens).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { multiplyAffine, type Affine } from '../../src/core/affine.js';
import { cloneImage, createImage, toRgba, type Image } from '../../src/core/image.js';
import { pasteBackInsightface } from '../../src/compose/insightface-paste.js';
import { Compositor } from '../../src/compose/paste.js';
import { PASTE_STRATEGIES, type FeatheredPatch, type ReferencePatch, type SwapSettings } from '../../src/compose/patch.js';
import { MESH_POINTS, type Face } from '../../src/face/face.js';

function noise(width: number, height: number, seed: number, channels: 3 | 4 = 3): Image {
  const data = new Uint8ClampedArray(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = ((i + seed) * 2654435761) >>> 24;
  return { width, height, channels, data };
}

const DEFAULTS: SwapSettings = { mouthMask: false, opacity: 1, sharpness: 0, colorMatch: false };
const matrix: Affine = multiplyAffine([0.5 * Math.cos(0.2), 0.5 * Math.sin(0.2), 0, -0.5 * Math.sin(0.2), 0.5 * Math.cos(0.2), 0], [1, 0, -110, 0, 1, -60]);
/** A face without a mesh: the options that need one leave it alone, as the reference does. */
const face: Face = {
  box: [110, 60, 200, 200],
  score: 0.9,
  meshScore: 0,
  kps5: new Float32Array(10),
  landmarks: new Float32Array(MESH_POINTS * 3),
  roi: { cx: 210, cy: 160, size: 300, angle: 0 },
};

function referencePatch(crop: Image): ReferencePatch {
  return { strategy: 'insightface-reference', crop, matrix, face };
}

describe('Compositor.compose', () => {
  it('knows every strategy', () => {
    assert.deepEqual([...PASTE_STRATEGIES], ['feathered', 'insightface-reference', 'facefusion']);
  });

  it("'insightface-reference' with default settings is insightface's paste-back, pixel for pixel (RGB and RGBA frames)", () => {
    const crop = noise(128, 128, 5);
    for (const channels of [3, 4] as const) {
      const frame = noise(400, 300, 9, channels);
      const expected = cloneImage(frame);
      pasteBackInsightface(expected, channels === 4 ? toRgba(crop) : crop, matrix);
      const actual = cloneImage(frame);
      const timings = { colour: 0, blend: 0 };
      new Compositor().compose(actual, referencePatch(crop), DEFAULTS, timings);
      assert.deepEqual(actual.data, expected.data, `${channels} channels`);
      assert.ok(timings.blend > 0);
    }
  });

  it("'insightface-reference' at opacity 0 leaves the frame as it was", () => {
    const frame = noise(400, 300, 9);
    const out = cloneImage(frame);
    new Compositor().compose(out, referencePatch(noise(128, 128, 5)), { ...DEFAULTS, opacity: 0 });
    assert.deepEqual(out.data, frame.data);
  });

  it("'feathered' goes to the multiband blend", () => {
    const rect = { x0: 20, y0: 10, x1: 60, y1: 50 };
    const pixels = createImage(40, 40, 4);
    pixels.data.fill(255);
    const patch: FeatheredPatch = {
      strategy: 'feathered',
      rect,
      factor: 1,
      pixels,
      mask: new Float32Array(40 * 40).fill(1),
      statsMask: { grid: 1, weights: new Float32Array(1600) },
      faceSize: 40,
    };
    const a = createImage(80, 60, 3);
    const b = createImage(80, 60, 3);
    new Compositor().compose(a, patch, DEFAULTS);
    new Compositor().feathered(b, patch, DEFAULTS);
    assert.deepEqual(a.data, b.data);
    assert.equal(a.data[3 * (30 * 80 + 40)], 255, 'the face is pasted');
    assert.equal(a.data[0], 0, 'the frame outside it is not');
  });
});
