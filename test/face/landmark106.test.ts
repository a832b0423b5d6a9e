/**
 * insightface 2d106det (spec §10.1): the crop map from the box, the blob fed (cv2 warpAffine,
 * black border, raw RGB planes) and the outputs mapped back to frame pixels.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invertAffine } from '../../src/core/affine.js';
import { createImage, type Image } from '../../src/core/image.js';
import { warpAffine } from '../../src/core/warp.js';
import { Landmark106, landmark106Matrix } from '../../src/face/landmark106.js';
import type { InferenceSession, TensorData } from '../../src/models/runtime.js';
import { createNodeRuntime } from '../../src/node/models/onnx-runtime.js';
import { landmark106Standin, seededRandom } from '../helpers/standin-models.js';

function patterned(width: number, height: number): Image {
  const image = createImage(width, height, 3);
  for (let i = 0; i < image.data.length; i++) image.data[i] = (i * 37 + (i >> 7) * 11) & 255;
  return image;
}

function fixedPoints(seed: number): Float32Array {
  const next = seededRandom(seed);
  return Float32Array.from({ length: 212 }, () => next() * 2 - 1);
}

test('F10.1–F10.2: the crop map scales the box by 192 / (1.5·max side) about its centre', () => {
  const box = [100, 50, 180, 170];
  const s = 192 / (1.5 * 120);
  assert.deepEqual(landmark106Matrix(box), [s, 0, 96 - s * 140, 0, s, 96 - s * 110]);
});

test('the blob is cv2.warpAffine of the frame (black border) as raw 0..255 RGB planes', async () => {
  const image = patterned(160, 120);
  const box = [-20, 10, 70, 90]; // past the left edge: the crop has a black border
  let fed: TensorData | undefined;
  const session: InferenceSession = {
    inputNames: ['in'],
    outputNames: ['out'],
    async run(feeds) {
      fed = feeds.in;
      return { out: { data: new Float32Array(212), dims: [1, 212] } };
    },
    async close() {},
  };
  await Landmark106.create(session).detect(image, box);
  assert.ok(fed);
  assert.deepEqual(fed.dims, [1, 3, 192, 192]);
  const crop = warpAffine(image, landmark106Matrix(box), 192, 192);
  const plane = 192 * 192;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) assert.equal(fed.data[c * plane + p], crop.data[p * 3 + c]);
  }
  assert.equal(fed.data[96 * 192], 0, 'outside the frame reads black');
});

test('F10.4: outputs (p + 1)·96 are mapped back to frame pixels with invert(M)', async () => {
  const points = fixedPoints(3);
  const runtime = createNodeRuntime({ threads: 1 });
  const session = await runtime.load(landmark106Standin(points), '2d106det-standin');
  try {
    const model = Landmark106.create(session);
    const box = [211.25, 140.5, 305.75, 262];
    const landmarks = await model.detect(patterned(480, 360), box);
    assert.equal(landmarks.length, 212);
    const m = landmark106Matrix(box);
    const inv = invertAffine(m);
    const s = 192 / (1.5 * Math.max(box[2] - box[0], box[3] - box[1]));
    const cx = (box[0] + box[2]) / 2;
    const cy = (box[1] + box[3]) / 2;
    for (let i = 0; i < 106; i++) {
      const qx = Math.fround(Math.fround(points[2 * i] + 1) * 96);
      const qy = Math.fround(Math.fround(points[2 * i + 1] + 1) * 96);
      // Bit for bit the spec's steps, in float32 at the end as insightface stores them.
      assert.equal(landmarks[2 * i], Math.fround(inv[0] * qx + inv[1] * qy + inv[2]));
      assert.equal(landmarks[2 * i + 1], Math.fround(inv[3] * qx + inv[4] * qy + inv[5]));
      // And the closed form: the crop point moved back about the box centre.
      assert.ok(Math.abs(landmarks[2 * i] - ((qx - 96) / s + cx)) < 1e-3);
      assert.ok(Math.abs(landmarks[2 * i + 1] - ((qy - 96) / s + cy)) < 1e-3);
    }
  } finally {
    await session.close();
  }
});

test('a model without one input and an output is refused', () => {
  const session: InferenceSession = { inputNames: ['a', 'b'], outputNames: ['out'], run: async () => ({}), close: async () => {} };
  assert.throws(() => Landmark106.create(session), /2d106det/);
});
