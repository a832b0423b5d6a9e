/**
 * ArcFace embedder on a stand-in w600k_r50 (pooling + a seeded projection): I/O names and shapes,
 * the crop and blob reaching the model as the spec says, determinism, different faces differing.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { arcfaceInputBlob, normCrop } from '../../src/face/align.js';
import { ArcFaceEmbedder, ARCFACE_INPUT, EMBEDDING_SIZE, l2Normalised } from '../../src/face/arcface.js';
import type { Face } from '../../src/face/face.js';
import type { Image } from '../../src/core/image.js';
import type { InferenceSession } from '../../src/models/runtime.js';
import { createNodeRuntime } from '../../src/node/models/onnx-runtime.js';
import { createNodeSwapper } from '../../src/node/jobs/swapper.js';
import { loadFixture, TEST_HOME } from '../helpers/fixtures.js';
import { ARCFACE_OUTPUT_NAME, arcfaceProjection, arcfaceStandin } from '../helpers/standin-models.js';

let session: InferenceSession;
let embedder: ArcFaceEmbedder;
const photos: { image: Image; face: Face }[] = [];

before(async () => {
  session = await createNodeRuntime({ threads: 1 }).load(arcfaceStandin(), 'w600k_r50 stand-in');
  embedder = ArcFaceEmbedder.create(session);
  const swapper = await createNodeSwapper({ home: TEST_HOME });
  for (const name of ['grace_hopper.jpg', 'astronaut.png']) {
    const image = await loadFixture(name);
    const [face] = await swapper.analyze(image);
    photos.push({ image, face });
  }
  await swapper.close();
});

after(async () => {
  await embedder.close();
});

/** What the stand-in computes: 8×8 mean pooling of the blob, then the seeded projection. */
function expectedEmbedding(blob: Float32Array): Float64Array {
  const pooled = new Float64Array(3 * 14 * 14);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 112; y++) {
      for (let x = 0; x < 112; x++) pooled[c * 196 + (y >> 3) * 14 + (x >> 3)] += blob[c * 12544 + y * 112 + x] / 64;
    }
  }
  const w = arcfaceProjection();
  const out = new Float64Array(512);
  for (let i = 0; i < pooled.length; i++) for (let j = 0; j < 512; j++) out[j] += pooled[i] * w[i * 512 + j];
  return out;
}

describe('ArcFaceEmbedder', () => {
  test('the stand-in has w600k_r50 I/O: input.1 [N,3,112,112] → 683 [1,512]', () => {
    assert.deepEqual(session.inputNames, ['input.1']);
    assert.deepEqual(session.outputNames, [ARCFACE_OUTPUT_NAME]);
  });

  test('embeds the norm_crop of the face: raw embedding and its unit copy', async () => {
    const { image, face } = photos[0];
    const result = await embedder.embed(image, face.kps5);
    assert.equal(result.embedding.length, EMBEDDING_SIZE);
    assert.equal(result.normedEmbedding.length, EMBEDDING_SIZE);
    const expected = expectedEmbedding(arcfaceInputBlob(normCrop(image, face.kps5, ARCFACE_INPUT).crop));
    for (let j = 0; j < 512; j++) assert.ok(Math.abs(result.embedding[j] - expected[j]) < 1e-4, `value ${j}: ${result.embedding[j]} vs ${expected[j]}`);
    const norm = Math.hypot(...result.normedEmbedding);
    assert.ok(Math.abs(norm - 1) < 1e-6, `norm ${norm}`);
    assert.deepEqual(result.normedEmbedding, l2Normalised(result.embedding));
  });

  test('is deterministic and tells two faces apart', async () => {
    const [a, b] = photos;
    const first = await embedder.embed(a.image, a.face.kps5);
    const again = await embedder.embed(a.image, a.face.kps5);
    assert.deepEqual(first.embedding, again.embedding);
    const other = await embedder.embed(b.image, b.face.kps5);
    let cosine = 0;
    for (let j = 0; j < 512; j++) cosine += first.normedEmbedding[j] * other.normedEmbedding[j];
    assert.ok(cosine < 0.99, `cosine ${cosine}`);
  });

  test('embedAligned takes the 112×112 crop directly and refuses other sizes', async () => {
    const { image, face } = photos[1];
    const crop = normCrop(image, face.kps5, ARCFACE_INPUT).crop;
    assert.deepEqual((await embedder.embedAligned(crop)).embedding, (await embedder.embed(image, face.kps5)).embedding);
    await assert.rejects(embedder.embedAligned(normCrop(image, face.kps5, 128).crop), RangeError);
  });

  test('l2Normalised leaves an all-zero vector at zero', () => {
    assert.deepEqual(l2Normalised(new Float32Array(3)), new Float32Array(3));
    assert.deepEqual(l2Normalised([3, 4]), Float32Array.of(0.6, 0.8));
  });
});
