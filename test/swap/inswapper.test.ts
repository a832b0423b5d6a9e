/**
 * InSwapper forward pass on stand-in inswapper_128 files (fp32 and fp16): emap reading, the latent,
 * the blob and output planes, truncation to 8 bits, and the guard against NaN or black output.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { createImage, type Image } from '../../src/core/image.js';
import { halfBitsToFloat32 } from '../../src/models/float16.js';
import { readEmap } from '../../src/models/emap.js';
import { encodeOnnxModel } from '../../src/models/onnx-proto.js';
import { createNodeRuntime } from '../../src/node/models/onnx-runtime.js';
import { averageIdentity, latentFromEmbedding, runInswapper } from '../../src/swap/inswapper.js';
import { loadFixture } from '../helpers/fixtures.js';
import { arcfaceStandin, floatToHalfBits, inswapperStandin, seededRandom, standinEmap, standinMix, type InswapperStandinOptions } from '../helpers/standin-models.js';

const runtime = createNodeRuntime({ threads: 1 });
const isModelError = (pattern: RegExp) => (e: unknown) => e instanceof LiveswapError && e.kind === 'model' && pattern.test(e.message);

function randomVector(seed: number, n = 512): Float32Array {
  const next = seededRandom(seed);
  return Float32Array.from({ length: n }, () => next() * 2 - 1);
}

async function swapWith(options: InswapperStandinOptions, crop: Image, latent: Float32Array, label = 'inswapper_128.onnx'): Promise<Image> {
  const session = await runtime.load(inswapperStandin(options), label);
  try {
    return await runInswapper(session, crop, latent, label);
  } finally {
    await session.close();
  }
}

async function faceCrop(): Promise<Image> {
  // Any 128×128 RGB content will do for the stand-in: the top-left of a real photo.
  const photo = await loadFixture('astronaut.png');
  const crop = createImage(128, 128, 3);
  for (let y = 0; y < 128; y++) crop.data.set(photo.data.subarray((y + 80) * 512 * 3 + 180 * 3, (y + 80) * 512 * 3 + 308 * 3), y * 128 * 3);
  return crop;
}

describe('readEmap', () => {
  test('reads the last initializer of the fp32 file exactly', () => {
    assert.deepEqual(readEmap(inswapperStandin()), standinEmap());
  });

  test('widens the fp16 file’s emap to float32', () => {
    const expected = halfBitsToFloat32(Uint16Array.from(standinEmap(), floatToHalfBits));
    const emap = readEmap(inswapperStandin({ precision: 'fp16' }));
    assert.equal(emap.length, 512 * 512);
    assert.deepEqual(emap, expected);
  });

  test('names the problem when the file holds no 512×512 emap', () => {
    assert.throws(() => readEmap(arcfaceStandin(), 'w600k_r50.onnx'), isModelError(/w600k_r50\.onnx.*\[588, 512\]/));
    assert.throws(() => readEmap(encodeOnnxModel({ irVersion: 8, graph: { name: 'empty' } }), 'empty.onnx'), isModelError(/no initializers/));
    assert.throws(() => readEmap(Uint8Array.of(0xff, 0xff, 0xff), 'junk.onnx'), isModelError(/junk\.onnx/));
  });
});

describe('latent and identity', () => {
  test('latent = normalise(normalise(e) · emap), independent of the embedding’s length (F6.3–F6.5)', () => {
    const emap = standinEmap();
    const e = randomVector(3);
    const latent = latentFromEmbedding(e, emap);
    const norm = Math.hypot(...e);
    const expected = new Float64Array(512);
    for (let i = 0; i < 512; i++) for (let j = 0; j < 512; j++) expected[j] += (e[i] / norm) * emap[i * 512 + j];
    const expectedNorm = Math.hypot(...expected);
    for (let j = 0; j < 512; j++) assert.ok(Math.abs(latent[j] - expected[j] / expectedNorm) < 1e-6);
    const scaled = latentFromEmbedding(
      e.map((v) => v * 7.5),
      emap,
    );
    for (let j = 0; j < 512; j++) assert.ok(Math.abs(scaled[j] - latent[j]) < 1e-6);
    assert.throws(() => latentFromEmbedding(new Float32Array(511), emap), RangeError);
  });

  test('averageIdentity averages raw and normed embeddings (FaceFusion’s rule)', () => {
    const a = Float32Array.of(3, 4);
    const b = Float32Array.of(0, 2);
    const { embedding, normedEmbedding } = averageIdentity([a, b]);
    assert.deepEqual(embedding, Float32Array.of(1.5, 3));
    assert.deepEqual(normedEmbedding, Float32Array.of(0.3, 0.9));
    assert.throws(() => averageIdentity([]), RangeError);
  });
});

describe('runInswapper', () => {
  test('the stand-in has inswapper_128 I/O: target, source → output', async () => {
    for (const precision of ['fp32', 'fp16'] as const) {
      const session = await runtime.load(inswapperStandin({ precision }), `inswapper ${precision}`);
      assert.deepEqual(session.inputNames, ['target', 'source']);
      assert.deepEqual(session.outputNames, ['output']);
      await session.close();
    }
  });

  test('feeds RGB/255 planes and the latent, reads RGB planes back (fp32 and fp16 files)', async () => {
    const crop = await faceCrop();
    const latent = latentFromEmbedding(randomVector(5), standinEmap());
    const mix = standinMix();
    const shift = [0, 1, 2].map((k) => latent.reduce((sum, v, i) => sum + v * mix[i * 3 + k], 0));
    for (const precision of ['fp32', 'fp16'] as const) {
      const out = await swapWith({ precision }, crop, latent);
      assert.deepEqual([out.width, out.height, out.channels], [128, 128, 3]);
      let worst = 0;
      for (let i = 0; i < out.data.length; i++) {
        const t = crop.data[i] / 255;
        const expected = Math.floor(255 / (1 + Math.exp(-(4 * (t - 0.5) + shift[i % 3]))));
        worst = Math.max(worst, Math.abs(out.data[i] - expected));
      }
      // fp16 weights shift the logits by ~1e-3, which can move a value across one integer.
      assert.ok(worst <= 1, `${precision}: largest difference ${worst}`);
    }
  });

  test('scales by 255, clips, and truncates: 0.999 → 254, 0.5 → 127, 1.5 → 255, −0.2 → 0 (F6.7)', async () => {
    const crop = await faceCrop();
    const latent = latentFromEmbedding(randomVector(9), standinEmap());
    const a = await swapWith({ constant: [0.999, 0.5, 0] }, crop, latent);
    const b = await swapWith({ constant: [1.5, -0.2, 0.3] }, crop, latent);
    for (let p = 0; p < 128 * 128 * 3; p += 3) {
      assert.deepEqual([a.data[p], a.data[p + 1], a.data[p + 2]], [254, 127, 0]);
      assert.deepEqual([b.data[p], b.data[p + 1], b.data[p + 2]], [255, 0, 76]);
    }
  });

  test('NaN or all-black output is a model error naming the file', async () => {
    const crop = await faceCrop();
    const latent = latentFromEmbedding(randomVector(9), standinEmap());
    await assert.rejects(
      swapWith({ constant: [0.5, Number.NaN, 0.5] }, crop, latent, 'models/inswapper_128_fp16.onnx'),
      (e: unknown) => isModelError(/inswapper_128_fp16\.onnx.*NaN/)(e) && (e as LiveswapError).file === 'models/inswapper_128_fp16.onnx',
    );
    await assert.rejects(swapWith({ constant: [0, 0, -1] }, crop, latent), isModelError(/inswapper_128\.onnx.*all-black/));
  });

  test('refuses a crop that is not 128×128', async () => {
    const session = await runtime.load(inswapperStandin(), 'inswapper');
    await assert.rejects(runInswapper(session, createImage(112, 112, 3), new Float32Array(512)), RangeError);
    await session.close();
  });
});
