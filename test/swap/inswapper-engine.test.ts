/**
 * The inswapper engine end to end on stand-in models with the real models' I/O: engine choice,
 * the swap through the library and through `liveswap swap`, the reference paste-back, options.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runSwap } from '../../src/cli/swap-command.js';
import { pasteBackInsightface } from '../../src/compose/insightface-paste.js';
import { LiveswapError } from '../../src/core/errors.js';
import { cloneImage, type Image } from '../../src/core/image.js';
import { normCrop } from '../../src/face/align.js';
import { ArcFaceEmbedder } from '../../src/face/arcface.js';
import { MODEL_REGISTRY, type ModelRegistry } from '../../src/models/registry.js';
import { readEmap } from '../../src/models/emap.js';
import { writeImage } from '../../src/node/image-io.js';
import { ModelStore } from '../../src/node/model-store.js';
import { createNodeRuntime } from '../../src/node/onnx-runtime.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/swapper.js';
import { resolveSwapOptions } from '../../src/pipeline/options.js';
import { latentFromEmbedding, runInswapper } from '../../src/swap/inswapper.js';
import { arcfaceStandin, inswapperStandin, scrfdStandin } from '../helpers/standin-models.js';
import { loadFixture, meanAbsDiff, TEST_HOME } from '../helpers/fixtures.js';

let dir: string;
let source: Image;
let target: Image;
const models: Record<string, Uint8Array> = {};

/** A store whose registry describes the stand-in files (sizes and hashes), installed in a temp home. */
async function standinStore(home: string, swapper: Uint8Array): Promise<ModelStore> {
  const files: Record<string, Uint8Array> = { det_10g: models.det_10g, w600k_r50: models.w600k_r50, inswapper_128: swapper };
  const registry: ModelRegistry = Object.fromEntries(
    Object.entries(MODEL_REGISTRY).map(([id, e]) => {
      const bytes = files[id] ?? new Uint8Array([0]);
      return [id, { ...e, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }];
    }),
  );
  const store = new ModelStore({ home, registry });
  await mkdir(store.folder, { recursive: true });
  for (const [id, bytes] of Object.entries(files)) await writeFile(store.pathOf(store.entries([id])[0]), bytes);
  return store;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-inswapper-'));
  // Source and target share one geometry (the stand-in detector answers the same for any input):
  // the astronaut, and the astronaut relit and recoloured as the target.
  source = await loadFixture('astronaut.png');
  target = cloneImage(source);
  for (let i = 0; i < target.data.length; i += 3) target.data.set([target.data[i + 2] * 0.9, target.data[i] * 0.8 + 20, target.data[i + 1]], i);
  const mesh = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
  const [face] = await mesh.analyze(source);
  await mesh.close();
  // The letterbox of a 512×512 frame fills the 640 canvas: scale 1.25. SCRFD's coordinates are
  // OpenCV's (pixel centres at integers), the analyzer's corner-based: shift by half a pixel.
  const toCanvas = (v: ArrayLike<number>) => Array.from(v, (x) => (x - 0.5) * 1.25);
  const box = [face.box[0], face.box[1], face.box[0] + face.box[2], face.box[1] + face.box[3]];
  models.det_10g = scrfdStandin([{ box: toCanvas(box) as [number, number, number, number], kps5: toCanvas(face.kps5), score: 0.92 }]);
  models.w600k_r50 = arcfaceStandin();
  models.inswapper_128 = inswapperStandin();
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('inswapper engine', () => {
  let swapper: NodeSwapper;
  let store: ModelStore;
  before(async () => {
    store = await standinStore(join(dir, 'home'), models.inswapper_128);
    swapper = await createNodeSwapper({ home: TEST_HOME, store, engine: 'auto' });
  });
  after(async () => {
    await swapper.close();
  });

  test('auto picks inswapper when its models verify, with no notice', () => {
    assert.equal(swapper.engine, 'inswapper');
    assert.equal(swapper.notice, undefined);
  });

  test('the swap equals the reference composition: norm_crop, swapper, paste-back', async () => {
    const { image, report } = await swapper.swap(source, target, resolveSwapOptions({}));
    assert.equal(report.engine, 'inswapper');
    assert.deepEqual(report.swappedFaces, [0]);
    const [face] = await swapper.analyze(target);
    assert.ok(face.kps5Reference, 'faces carry the detector\'s own keypoints');
    // The same steps by hand, from the parts.
    const runtime = createNodeRuntime({ threads: 1 });
    const embedder = ArcFaceEmbedder.create(await runtime.load(models.w600k_r50, 'w600k_r50'));
    const [sourceFace] = await swapper.analyze(source);
    const latent = latentFromEmbedding((await embedder.embed(source, sourceFace.kps5Reference!)).normedEmbedding, readEmap(models.inswapper_128));
    const { crop, matrix } = normCrop(target, face.kps5Reference!, 128);
    const swapped = await runInswapper(await runtime.load(models.inswapper_128, 'inswapper'), crop, latent);
    const expected = cloneImage(target);
    pasteBackInsightface(expected, swapped, matrix);
    assert.deepEqual(image.data, expected.data, 'identical pixels');
    const [x, y, w, h] = face.box;
    assert.ok(meanAbsDiff(image, target, Math.round(x + w * 0.2), Math.round(y + h * 0.3), Math.round(x + w * 0.8), Math.round(y + h * 0.8)) > 5, 'the face changed');
  });

  test('options reshape the blend: opacity 0 keeps the target, the mouth mask keeps its mouth', async () => {
    const none = await swapper.swap(source, target, resolveSwapOptions({ opacity: 0 }));
    assert.deepEqual(none.image.data, target.data);
    const plain = await swapper.swap(source, target, resolveSwapOptions({}));
    const mouth = await swapper.swap(source, target, resolveSwapOptions({ mouthMask: true }));
    const [face] = await swapper.analyze(target);
    const lips = [61, 291, 0, 17].map((i) => [face.landmarks[3 * i], face.landmarks[3 * i + 1]]);
    const [x0, x1] = [Math.min(...lips.map((p) => p[0])), Math.max(...lips.map((p) => p[0]))].map(Math.round);
    const [y0, y1] = [Math.min(...lips.map((p) => p[1])), Math.max(...lips.map((p) => p[1]))].map(Math.round);
    assert.ok(meanAbsDiff(mouth.image, target, x0, y0, x1, y1) < meanAbsDiff(plain.image, target, x0, y0, x1, y1) / 2, 'the mouth is mostly the target\'s');
  });

  test('liveswap swap --engine inswapper writes the swapped image', async () => {
    const sourcePath = join(dir, 'source.png');
    const targetPath = join(dir, 'target.png');
    await writeImage(sourcePath, source);
    await writeImage(targetPath, target);
    const out: string[] = [];
    await runSwap({ source: sourcePath, target: targetPath, output: join(dir, 'out.png'), engine: 'inswapper', json: true }, { out: (t) => out.push(t), err: () => undefined }, (runtime) =>
      createNodeSwapper({ ...runtime, home: TEST_HOME, store }),
    );
    const summary = JSON.parse(out.join('')) as { engine: string; swappedFaces: number[] };
    assert.equal(summary.engine, 'inswapper');
    assert.ok((await readFile(join(dir, 'out.png'))).length > 1000);
  });
});

describe('inswapper engine failures', () => {
  test('--engine inswapper without models names the pull command', async () => {
    const empty = new ModelStore({ home: join(dir, 'empty') });
    await assert.rejects(createNodeSwapper({ home: TEST_HOME, store: empty, engine: 'inswapper' }), (e: unknown) => e instanceof LiveswapError && e.kind === 'model' && /liveswap models pull/.test(e.message));
    const auto = await createNodeSwapper({ home: TEST_HOME, store: empty, engine: 'auto' });
    assert.equal(auto.engine, 'mesh');
    assert.match(auto.notice ?? '', /models pull/);
    await auto.close();
  });

  test('a swapper file that outputs NaN is named in the error', async () => {
    const store = await standinStore(join(dir, 'broken'), inswapperStandin({ constant: [Number.NaN, 0.5, 0.5] }));
    const swapper = await createNodeSwapper({ home: TEST_HOME, store, engine: 'inswapper' });
    try {
      await assert.rejects(swapper.swap(source, target, resolveSwapOptions({})), (e: unknown) => e instanceof LiveswapError && e.kind === 'model' && /inswapper_128\.onnx/.test(e.message));
    } finally {
      await swapper.close();
    }
  });
});

describe('several source photos of one person', () => {
  test('inswapper averages their embeddings; mesh uses the first and says so', async () => {
    const store = await standinStore(join(dir, 'multi'), models.inswapper_128);
    const swapper = await createNodeSwapper({ home: TEST_HOME, store, engine: 'inswapper' });
    const brighter = cloneImage(source);
    for (let i = 0; i < brighter.data.length; i++) brighter.data[i] = brighter.data[i] + 30;
    try {
      const one = await swapper.prepareSource(source, { sourceFace: undefined, maxPixels: 50e6 });
      const other = await swapper.prepareSource(brighter, { sourceFace: undefined, maxPixels: 50e6 });
      const both = await swapper.prepareSources([source, brighter], { sourceFace: undefined, maxPixels: 50e6 }, ['a.png', 'b.png']);
      const a = (one.identity as { normedEmbedding: Float32Array }).normedEmbedding;
      const b = (other.identity as { normedEmbedding: Float32Array }).normedEmbedding;
      const mean = (both.identity as { normedEmbedding: Float32Array }).normedEmbedding;
      for (let i = 0; i < mean.length; i++) assert.ok(Math.abs(mean[i] - (a[i] + b[i]) / 2) < 1e-6);
      assert.match(both.notices.join('\n'), /Combined 2 source photos/);
    } finally {
      await swapper.close();
    }
    const mesh = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
    try {
      const prepared = await mesh.prepareSources([source, brighter], { sourceFace: undefined, maxPixels: 50e6 });
      assert.match(prepared.notices.join('\n'), /mesh engine takes its identity from one photo: using the first of 2/);
    } finally {
      await mesh.close();
    }
  });
});
