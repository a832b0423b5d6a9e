/** Face analysis on real photos: detection, landmarks, keypoint order, rotation, and no face. */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { createImage } from '../../src/core/image.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { decodeRgb, FIXTURES, loadFixture, TEST_HOME } from '../helpers/fixtures.js';

let swapper: NodeSwapper;
before(async () => {
  swapper = await createNodeSwapper({ home: TEST_HOME });
});
after(async () => {
  await swapper.close();
});

const eyeDistance = (k: Float32Array) => Math.hypot(k[2] - k[0], k[3] - k[1]);

describe('FaceAnalyzer', () => {
  test('one frontal face: confident, landmarks inside the box, keypoints in image order', async () => {
    const image = await loadFixture('astronaut.png');
    const faces = await swapper.analyze(image);
    assert.equal(faces.length, 1);
    const [face] = faces;
    assert.ok(face.score > 0.7 && face.meshScore > 0.9, `scores ${face.score} / ${face.meshScore}`);
    const [x, y, w, h] = face.box;
    for (let i = 0; i < 468; i++) {
      assert.ok(face.landmarks[3 * i] >= x - 1e-3 && face.landmarks[3 * i] <= x + w + 1e-3);
      assert.ok(face.landmarks[3 * i + 1] >= y - 1e-3 && face.landmarks[3 * i + 1] <= y + h + 1e-3);
    }
    const k = face.kps5;
    assert.ok(k[0] < k[2], 'left eye (image left) first');
    assert.ok(k[5] > k[1] && k[5] < k[7], 'nose between eyes and mouth');
    assert.ok(k[6] < k[8], 'mouth corners image-left first');
    // The astronaut's face is about 95 px wide in a 512 px portrait, centred near x = 225.
    assert.ok(w > 70 && w < 130 && x + w / 2 > 180 && x + w / 2 < 270, `box ${face.box.map(Math.round)}`);
  });

  test('a tilted face is found with its tilt and the same proportions', async () => {
    const upright = (await swapper.analyze(await loadFixture('astronaut.png')))[0];
    // sharp turns clockwise for positive angles: in image coordinates (y down) the eye line then
    // points 25° below the x axis.
    const tilted = await decodeRgb(await sharp(`${FIXTURES}astronaut.png`).rotate(25, { background: '#808080' }).png().toBuffer());
    const faces = await swapper.analyze(tilted);
    assert.equal(faces.length, 1);
    const degrees = (faces[0].roi.angle * 180) / Math.PI;
    assert.ok(Math.abs(degrees - 25) < 6, `eye line at ${degrees.toFixed(1)}°`);
    const ratio = eyeDistance(faces[0].kps5) / eyeDistance(upright.kps5);
    assert.ok(Math.abs(ratio - 1) < 0.1, `eye distance ratio ${ratio.toFixed(3)}`);
  });

  test('no face in a flat picture or in noise', async () => {
    const flat = createImage(320, 240, 3);
    flat.data.fill(128);
    assert.deepEqual(await swapper.analyze(flat), []);
    const noise = createImage(320, 240, 3);
    let s = 1;
    for (let i = 0; i < noise.data.length; i++) noise.data[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
    assert.deepEqual(await swapper.analyze(noise), []);
  });
});

describe('overlapping calls', () => {
  test('concurrent analyses and swaps give the same results as one at a time', async () => {
    const images = [await loadFixture('astronaut.png'), await loadFixture('grace_hopper.jpg'), await loadFixture('camera.png')];
    const oneByOne = [];
    for (const image of images) oneByOne.push(await swapper.analyze(image));
    const together = await Promise.all(images.map((image) => swapper.analyze(image)));
    assert.deepEqual(
      together.map((faces) => faces.map((f) => f.box)),
      oneByOne.map((faces) => faces.map((f) => f.box)),
    );
    const { resolveSwapOptions } = await import('../../src/pipeline/options.js');
    const options = resolveSwapOptions({});
    const sequential = await swapper.swap(images[1], images[0], options, { marks: false });
    const [a, b] = await Promise.all([swapper.swap(images[1], images[0], options, { marks: false }), swapper.swap(images[0], images[1], options)]);
    assert.deepEqual(a.image.data, sequential.image.data);
    assert.ok(b.report.swappedFaces.length === 1);
  });
});
