/** Face sharpness: real faces against blurred copies, resolution, and synthetic edge cases. */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { boxBlurFast } from '../../src/core/filters.js';
import { createImage, type Image } from '../../src/core/image.js';
import { faceSize, MESH_POINTS, type Face } from '../../src/face/face.js';
import { faceSharpness, MIN_FACE_SHARPNESS } from '../../src/face/quality.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { decodeRgb, FIXTURES, loadFixture, TEST_HOME } from '../helpers/fixtures.js';

let swapper: NodeSwapper;
before(async () => {
  swapper = await createNodeSwapper({ home: TEST_HOME });
});
after(async () => {
  await swapper.close();
});

/** The image blurred by the three-box Gaussian approximation with the given sigma (px). */
function blurred(image: Image, sigma: number): Image {
  const out = boxBlurFast(Float32Array.from(image.data), image.width, image.height, image.channels, sigma);
  return { ...image, data: Uint8ClampedArray.from(out) };
}

async function onlyFace(image: Image): Promise<Face> {
  const faces = await swapper.analyze(image);
  assert.ok(faces.length >= 1, 'a face is found');
  return faces[0]!;
}

/** A face record that only carries a box, for synthetic images. */
function boxFace(x: number, y: number, w: number, h: number): Face {
  return {
    box: [x, y, w, h],
    score: 1,
    meshScore: 1,
    kps5: new Float32Array(10),
    landmarks: new Float32Array(MESH_POINTS * 3),
    roi: { cx: x + w / 2, cy: y + h / 2, size: Math.max(w, h), angle: 0 },
  };
}

describe('faceSharpness', () => {
  for (const name of ['grace_hopper.jpg', 'astronaut.png', 'camera.png']) {
    test(`${name}: sharp above the threshold, blurred clearly lower, heavily blurred below`, async (t) => {
      const image = await loadFixture(name);
      const face = await onlyFace(image);
      const size = faceSize(face);
      const sharpScore = faceSharpness(image, face);
      // Blur in proportion to the face, so each photo loses the same share of its detail.
      const mild = faceSharpness(blurred(image, 0.015 * size), face);
      const heavy = faceSharpness(blurred(image, 0.04 * size), face);
      const figures = `${sharpScore.toFixed(1)} / ${mild.toFixed(1)} / ${heavy.toFixed(1)} (face ${Math.round(size)} px)`;
      t.diagnostic(`sharp / mild / heavy: ${figures}`);
      assert.ok(sharpScore > 5 * MIN_FACE_SHARPNESS, `sharp, mild, heavy: ${figures}`);
      assert.ok(sharpScore > 2.5 * mild, `mild blur should cost more than 60 %: ${figures}`);
      assert.ok(heavy < MIN_FACE_SHARPNESS / 2, `heavy blur well under ${MIN_FACE_SHARPNESS}: ${figures}`);
    });
  }

  test('the score barely depends on resolution for faces larger than the patch', async (t) => {
    const full = await loadFixture('grace_hopper.jpg');
    const half = await decodeRgb(
      await sharp(`${FIXTURES}grace_hopper.jpg`)
        .resize(Math.round(full.width / 2))
        .png()
        .toBuffer(),
    );
    const a = faceSharpness(full, await onlyFace(full));
    const b = faceSharpness(half, await onlyFace(half));
    t.diagnostic(`full ${a.toFixed(1)}, half ${b.toFixed(1)}`);
    assert.ok(b / a > 0.6 && b / a < 1.5, `full ${a.toFixed(1)}, half ${b.toFixed(1)}`);
  });

  test('flat is 0, a fine checkerboard is high, boxes past the edge stay finite', () => {
    const flat = createImage(100, 100, 3);
    flat.data.fill(90);
    assert.equal(faceSharpness(flat, boxFace(10, 10, 64, 64)), 0);

    const checker = createImage(128, 128, 1);
    for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) checker.data[y * 128 + x] = ((x >> 2) + (y >> 2)) % 2 ? 255 : 0;
    const score = faceSharpness(checker, boxFace(0, 0, 128, 128));
    assert.ok(score > 100 * MIN_FACE_SHARPNESS, `checkerboard ${score}`);

    const edge = faceSharpness(checker, boxFace(-50, 90, 120, 80));
    assert.ok(Number.isFinite(edge) && edge >= 0);
    assert.equal(faceSharpness(checker, boxFace(0, 0, 0, 10)), 0, 'empty box');
    const scratch = new Float32Array(64 * 64);
    assert.equal(faceSharpness(checker, boxFace(0, 0, 128, 128), scratch), score, 'same with a reused buffer');
  });
});
