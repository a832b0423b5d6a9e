/**
 * FaceRes descriptors on real faces: augmented copies of a photo (mirrored, smaller, brighter,
 * turned) must stay closer to their original than to the other people in the fixtures.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp, { type Sharp } from 'sharp';
import type { Image } from '../../src/core/image.js';
import { cosineSimilarity, DESCRIPTOR_SIZE, FaceEmbedder } from '../../src/face/embedder.js';
import type { InferenceSession } from '../../src/models/runtime.js';
import { builtinModel } from '../../src/node/models/model-cache.js';
import { createNodeRuntime } from '../../src/node/models/onnx-runtime.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { decodeRgb, FIXTURES, TEST_HOME } from '../helpers/fixtures.js';

const PEOPLE = ['astronaut.png', 'grace_hopper.jpg', 'camera.png'];

/** Each makes a changed copy of a photo of the given size. */
const AUGMENTATIONS: Record<string, (s: Sharp, width: number, height: number) => Sharp> = {
  mirrored: (s) => s.flop(),
  '0.8× scale': (s, w, h) => s.resize(Math.round(w * 0.8), Math.round(h * 0.8)),
  '+30 brightness': (s) => s.linear(1, 30),
  'turned 10°': (s) => s.rotate(10, { background: '#808080' }),
};

let swapper: NodeSwapper;
let session: InferenceSession;
let embedder: FaceEmbedder;
before(async () => {
  swapper = await createNodeSwapper({ home: TEST_HOME });
  const cached = await builtinModel('faceres', TEST_HOME);
  session = await createNodeRuntime({ threads: 1 }).load(cached.bytes, cached.path);
  embedder = FaceEmbedder.create(session);
});
after(async () => {
  await swapper.close();
  await session.close();
});

async function embedLargest(image: Image, what: string): Promise<Float32Array> {
  const faces = await swapper.analyze(image);
  assert.ok(faces.length > 0, `no face found in ${what}`);
  return embedder.embed(image, faces[0]);
}

describe('FaceEmbedder', () => {
  test('returns a unit-length 1024-d descriptor, the same for the same input', async () => {
    const image = await decodeRgb(`${FIXTURES}astronaut.png`);
    const [face] = await swapper.analyze(image);
    const [a, b] = [await embedder.embed(image, face), await embedder.embed(image, face)];
    assert.equal(a.length, DESCRIPTOR_SIZE);
    assert.ok(Math.abs(Math.hypot(...a) - 1) < 1e-5, `norm ${Math.hypot(...a)}`);
    assert.deepEqual(a, b);
  });

  test('augmented copies stay closer to their original than to the other people', async (t) => {
    const originals = new Map<string, Float32Array>();
    for (const file of PEOPLE) originals.set(file, await embedLargest(await decodeRgb(`${FIXTURES}${file}`), file));
    for (const a of PEOPLE) {
      for (const b of PEOPLE) {
        if (a < b) t.diagnostic(`different people: ${a} vs ${b}: cosine ${cosineSimilarity(originals.get(a)!, originals.get(b)!).toFixed(4)}`);
      }
    }
    let worstSame = Infinity;
    let worstOther = -Infinity;
    for (const file of PEOPLE) {
      const { width, height } = await sharp(`${FIXTURES}${file}`).metadata();
      for (const [label, augment] of Object.entries(AUGMENTATIONS)) {
        const copy = await decodeRgb(
          await augment(sharp(`${FIXTURES}${file}`).removeAlpha(), width!, height!)
            .png()
            .toBuffer(),
        );
        const descriptor = await embedLargest(copy, `${file} ${label}`);
        const same = cosineSimilarity(descriptor, originals.get(file)!);
        const others = PEOPLE.filter((p) => p !== file).map((p) => cosineSimilarity(descriptor, originals.get(p)!));
        t.diagnostic(`${file} ${label}: same person ${same.toFixed(4)}, others ${others.map((c) => c.toFixed(4)).join(', ')}`);
        assert.ok(same > Math.max(...others), `${file} ${label}: own original ${same} is not the closest (${others})`);
        worstSame = Math.min(worstSame, same);
        worstOther = Math.max(worstOther, ...others);
      }
    }
    t.diagnostic(`lowest same-person cosine ${worstSame.toFixed(4)}, highest different-person cosine ${worstOther.toFixed(4)}`);
    // One threshold separates every pair, not just each copy from its own rivals.
    assert.ok(worstSame > worstOther, `same-person ${worstSame} vs different-person ${worstOther}`);
  });

  test('refuses a model without the descriptor output', () => {
    const fake: InferenceSession = {
      inputNames: ['input_1'],
      outputNames: ['age_pred/Softmax'],
      run: () => Promise.reject(new Error('not used')),
      close: () => Promise.resolve(),
    };
    assert.throws(() => FaceEmbedder.create(fake), /faceres model's row.*expected 1 input\(s\) \[input_1\] and the output\(s\) \[global_pooling\/Mean, /);
  });
});

describe('cosineSimilarity', () => {
  test('is 1 for the same direction, 0 for orthogonal or zero vectors, -1 for opposite', () => {
    assert.ok(Math.abs(cosineSimilarity([1, 2, 3], [2, 4, 6]) - 1) < 1e-12);
    assert.equal(cosineSimilarity([1, 0], [0, 5]), 0);
    assert.equal(cosineSimilarity([0, 0], [1, 1]), 0);
    assert.ok(Math.abs(cosineSimilarity([1, -1], [-2, 2]) + 1) < 1e-12);
    assert.throws(() => cosineSimilarity([1], [1, 2]), /lengths 1 and 2 differ/);
  });
});
