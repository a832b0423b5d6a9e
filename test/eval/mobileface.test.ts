/**
 * MobileFace, the evaluation's second recogniser: its five-point crop, and that on real photos it
 * behaves as a recogniser (the same person seen differently scores clearly above two people).
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp, { type Sharp } from 'sharp';
import { applyAffine } from '../../src/core/affine.js';
import type { Image } from '../../src/core/image.js';
import { ARCFACE_TEMPLATE_112 } from '../../src/face/align.js';
import { cosineSimilarity } from '../../src/eval/identity.js';
import { mobileFaceCropToFrame } from '../../src/eval/mobileface.js';
import { loadRecognisers, type NodeRecogniser } from '../../src/node/models/recogniser.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { decodeRgb, FIXTURES, loadFixture, TEST_HOME } from '../helpers/fixtures.js';

describe('MobileFace crop', () => {
  test("the crop maps the ArcFace template onto the face's five points (continuous pixels on both sides)", () => {
    // Five points that are the template scaled ×3, turned 20° and moved: an exact similarity.
    const [s, r, tx, ty] = [3, (20 * Math.PI) / 180, 140, 60];
    const kps5 = new Float32Array(10);
    for (let i = 0; i < 5; i++) {
      // Template points are OpenCV pixel centres; +0.5 makes them continuous coordinates.
      const [x, y] = [ARCFACE_TEMPLATE_112[2 * i] + 0.5, ARCFACE_TEMPLATE_112[2 * i + 1] + 0.5];
      kps5[2 * i] = s * (Math.cos(r) * x - Math.sin(r) * y) + tx;
      kps5[2 * i + 1] = s * (Math.sin(r) * x + Math.cos(r) * y) + ty;
    }
    const m = mobileFaceCropToFrame(kps5);
    for (let i = 0; i < 5; i++) {
      const [x, y] = applyAffine(m, ARCFACE_TEMPLATE_112[2 * i] + 0.5, ARCFACE_TEMPLATE_112[2 * i + 1] + 0.5);
      assert.ok(Math.hypot(x - kps5[2 * i], y - kps5[2 * i + 1]) < 1e-3, `point ${i}: (${x}, ${y}) vs (${kps5[2 * i]}, ${kps5[2 * i + 1]})`);
    }
  });
});

describe('MobileFace on photos', () => {
  let swapper: NodeSwapper;
  let recogniser: NodeRecogniser;
  before(async () => {
    swapper = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
    [recogniser] = await loadRecognisers(['mobileface'], { home: TEST_HOME });
  });
  after(async () => {
    await Promise.all([swapper?.close(), recogniser?.close()]);
  });

  const embed = async (image: Image) => {
    const [face] = await swapper.analyze(image);
    assert.ok(face, 'a face is found');
    return recogniser.embed(image, face);
  };
  const variant = async (file: string, steps: (s: Sharp) => Sharp) =>
    decodeRgb(
      await steps(sharp(`${FIXTURES}${file}`).removeAlpha())
        .png()
        .toBuffer(),
    );

  test('unit-length 256-d embeddings; the same person mirrored and relit scores far above another person', async (t) => {
    const hopper = await embed(await loadFixture('grace_hopper.jpg'));
    const hopperAgain = await embed(await variant('grace_hopper.jpg', (s) => s.flop().linear(1, -30)));
    const astronaut = await embed(await loadFixture('astronaut.png'));
    const astronautAgain = await embed(await variant('astronaut.png', (s) => s.flop().resize({ height: 400 })));
    assert.equal(recogniser.id, 'mobileface');
    assert.equal(hopper.length, 256);
    assert.ok(Math.abs(Math.hypot(...hopper) - 1) < 1e-5);
    const same = [cosineSimilarity(hopper, hopperAgain), cosineSimilarity(astronaut, astronautAgain)];
    const different = [cosineSimilarity(hopper, astronaut), cosineSimilarity(hopperAgain, astronautAgain)];
    t.diagnostic(`same person ${same.map((v) => v.toFixed(3)).join(', ')}; different people ${different.map((v) => v.toFixed(3)).join(', ')}`);
    assert.ok(Math.min(...same) > Math.max(...different) + 0.3, `same person ${same.map((v) => v.toFixed(3))}, different ${different.map((v) => v.toFixed(3))}`);
  });
});
