/**
 * The inswapper engine end to end on stand-in models with the real models' I/O: engine choice,
 * the swap through the library and through `liveswap swap`, the reference paste-back, options.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runSwap } from '../../src/cli/swap-command.js';
import { pasteBackInsightface } from '../../src/compose/insightface-paste.js';
import { LiveswapError } from '../../src/core/errors.js';
import { cloneImage, type Image } from '../../src/core/image.js';
import { applyAffine } from '../../src/core/affine.js';
import { normCrop } from '../../src/face/align.js';
import { ArcFaceEmbedder } from '../../src/face/arcface.js';
import { landmark106Matrix } from '../../src/face/landmark106.js';
import { readEmap } from '../../src/models/emap.js';
import { writeImage } from '../../src/node/media/image-io.js';
import { ModelStore } from '../../src/node/models/model-store.js';
import { createNodeRuntime } from '../../src/node/models/onnx-runtime.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { resolveSwapOptions } from '../../src/pipeline/options.js';
import { latentFromEmbedding, runInswapper } from '../../src/swap/inswapper.js';
import { lipPolygon106, mouthBox106, mouthMask106 } from '../../src/compose/mouth-mask.js';
import { arcfaceStandin, inswapperStandin, landmark106Standin, scrfdStandin, standinStore } from '../helpers/standin-models.js';
import { loadFixture, meanAbsDiff, TEST_HOME } from '../helpers/fixtures.js';

let dir: string;
let source: Image;
let target: Image;
const models: Record<string, Uint8Array> = {};
/** The 106 points the 2d106det stand-in answers with, mapped to the frame (OpenCV convention). */
let expected106: Float32Array;

/** A store whose registry describes the stand-in files (sizes and hashes), installed in a temp home. */
function storeWith(home: string, swapper: Uint8Array, extra: Record<string, Uint8Array> = {}): Promise<ModelStore> {
  return standinStore(home, { det_10g: models.det_10g, w600k_r50: models.w600k_r50, inswapper_128: swapper, ...extra });
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
  // 2d106det: a 12-point ellipse around FaceMesh's mouth as points 52…63 (the rest at the
  // mouth centre), written in the crop's [−1, 1] coordinates for the box SCRFD reports.
  const at = (i: number) => [face.landmarks[3 * i] - 0.5, face.landmarks[3 * i + 1] - 0.5];
  const [l, r, t, b] = [61, 291, 0, 17].map(at);
  const [mx, my] = [(l[0] + r[0]) / 2, (t[1] + b[1]) / 2];
  const [rx, ry] = [Math.abs(r[0] - l[0]) * 0.6, Math.abs(b[1] - t[1]) * 0.75 + 2];
  expected106 = new Float32Array(212);
  for (let i = 0; i < 106; i++) {
    const k = i - 52;
    const inside = k >= 0 && k < 12;
    expected106[2 * i] = inside ? mx + rx * Math.cos((k * Math.PI) / 6) : mx;
    expected106[2 * i + 1] = inside ? my + ry * Math.sin((k * Math.PI) / 6) : my;
  }
  const m = landmark106Matrix(box.map((v) => v - 0.5));
  const normalised = new Float32Array(212);
  for (let i = 0; i < 106; i++) {
    const [x, y] = applyAffine(m, expected106[2 * i], expected106[2 * i + 1]);
    normalised.set([x / 96 - 1, y / 96 - 1], 2 * i);
  }
  models['2d106det'] = landmark106Standin(normalised);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('inswapper engine', () => {
  let swapper: NodeSwapper;
  let store: ModelStore;
  before(async () => {
    store = await storeWith(join(dir, 'home'), models.inswapper_128);
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
    const { image, report } = await swapper.swap(source, target, resolveSwapOptions({}), { marks: false });
    assert.equal(report.engine, 'inswapper');
    assert.deepEqual(report.swappedFaces, [0]);
    const [face] = await swapper.analyze(target);
    assert.ok(face.kps5Reference, "faces carry the detector's own keypoints");
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
    const none = await swapper.swap(source, target, resolveSwapOptions({ opacity: 0 }), { marks: false });
    assert.deepEqual(none.image.data, target.data);
    const plain = await swapper.swap(source, target, resolveSwapOptions({}), { marks: false });
    const mouth = await swapper.swap(source, target, resolveSwapOptions({ mouthMask: true }), { marks: false });
    const [face] = await swapper.analyze(target);
    const lips = [61, 291, 0, 17].map((i) => [face.landmarks[3 * i], face.landmarks[3 * i + 1]]);
    const [x0, x1] = [Math.min(...lips.map((p) => p[0])), Math.max(...lips.map((p) => p[0]))].map(Math.round);
    const [y0, y1] = [Math.min(...lips.map((p) => p[1])), Math.max(...lips.map((p) => p[1]))].map(Math.round);
    assert.ok(meanAbsDiff(mouth.image, target, x0, y0, x1, y1) < meanAbsDiff(plain.image, target, x0, y0, x1, y1) / 2, "the mouth is mostly the target's");
  });

  test('liveswap swap --engine inswapper writes the swapped image', async () => {
    const sourcePath = join(dir, 'source.png');
    const targetPath = join(dir, 'target.png');
    await writeImage(sourcePath, source);
    await writeImage(targetPath, target);
    const out: string[] = [];
    await runSwap(
      { source: sourcePath, target: targetPath, output: join(dir, 'out.png'), engine: 'inswapper', json: true },
      { out: (t) => out.push(t), err: () => undefined },
      (runtime) => createNodeSwapper({ ...runtime, home: TEST_HOME, store }),
    );
    const summary = JSON.parse(out.join('')) as { engine: string; swappedFaces: number[] };
    assert.equal(summary.engine, 'inswapper');
    assert.ok((await readFile(join(dir, 'out.png'))).length > 1000);
  });
});

describe('inswapper engine with 2d106det', () => {
  let swapper: NodeSwapper;
  before(async () => {
    const store = await storeWith(join(dir, 'home106'), models.inswapper_128, { '2d106det': models['2d106det'] });
    swapper = await createNodeSwapper({ home: TEST_HOME, store, engine: 'auto' });
  });
  after(async () => {
    await swapper.close();
  });

  test('faces carry the 106 landmarks the model gives, mapped to the frame', async () => {
    assert.equal(swapper.engine, 'inswapper');
    const [face] = await swapper.analyze(target);
    assert.ok(face.landmarks106);
    for (let i = 0; i < 212; i++) assert.ok(Math.abs(face.landmarks106[i] - expected106[i]) < 1e-3);
  });

  test('without the mouth mask the swap is the one without 2d106det', async () => {
    const plain = await createNodeSwapper({ home: TEST_HOME, store: await storeWith(join(dir, 'home-no106'), models.inswapper_128), engine: 'auto' });
    try {
      const [face] = await plain.analyze(target);
      assert.equal(face.landmarks106, undefined);
      const a = await plain.swap(source, target, resolveSwapOptions({}), { marks: false });
      const b = await swapper.swap(source, target, resolveSwapOptions({}), { marks: false });
      assert.deepEqual(b.image.data, a.image.data);
    } finally {
      await plain.close();
    }
  });

  test('the mouth mask follows Deep-Live-Cam: orig·m + swapped·(1 − m) over the lip polygon', async () => {
    const [face] = await swapper.analyze(target);
    const plain = await swapper.swap(source, target, resolveSwapOptions({}), { marks: false });
    const mouth = await swapper.swap(source, target, resolveSwapOptions({ mouthMask: true }), { marks: false });
    const polygon = lipPolygon106(face.landmarks106!);
    const box = mouthBox106(polygon, target.width, target.height);
    const m = mouthMask106(polygon, box);
    const w = box.x1 - box.x0;
    assert.ok(w >= 10 && box.y1 - box.y0 >= 5, `a real mouth box: ${JSON.stringify(box)}`);
    let full = 0;
    for (let y = 0; y < target.height; y++) {
      for (let x = 0; x < target.width; x++) {
        const inBox = x >= box.x0 && x < box.x1 && y >= box.y0 && y < box.y1;
        const k = (y - box.y0) * w + (x - box.x0);
        for (let c = 0; c < 3; c++) {
          const o = (y * target.width + x) * 3 + c;
          if (!inBox) {
            assert.equal(mouth.image.data[o], plain.image.data[o], 'outside the mouth box the plain swap');
            continue;
          }
          const blended = Math.trunc(target.data[o] * m[k] + plain.image.data[o] * (1 - m[k]));
          assert.equal(mouth.image.data[o], blended);
          if (m[k] === 1) assert.equal(mouth.image.data[o], target.data[o], 'the original mouth where m = 1');
        }
        if (inBox && m[k] === 1) full++;
      }
    }
    assert.ok(full > 0, 'some pixels are fully the original mouth');
    assert.ok(
      meanAbsDiff(mouth.image, target, box.x0, box.y0, box.x1, box.y1) < meanAbsDiff(plain.image, target, box.x0, box.y0, box.x1, box.y1) / 2,
      "the mouth is mostly the target's",
    );
  });
});

describe('inswapper engine failures', () => {
  test('--engine inswapper without models names the pull command', async () => {
    const empty = new ModelStore({ home: join(dir, 'empty') });
    await assert.rejects(
      createNodeSwapper({ home: TEST_HOME, store: empty, engine: 'inswapper' }),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'model' && /liveswap models pull/.test(e.message),
    );
    const auto = await createNodeSwapper({ home: TEST_HOME, store: empty, engine: 'auto' });
    assert.equal(auto.engine, 'mesh');
    assert.match(auto.notice ?? '', /models pull/);
    await auto.close();
  });

  test('a swapper file that outputs NaN is named in the error', async () => {
    const store = await storeWith(join(dir, 'broken'), inswapperStandin({ constant: [Number.NaN, 0.5, 0.5] }));
    const swapper = await createNodeSwapper({ home: TEST_HOME, store, engine: 'inswapper' });
    try {
      await assert.rejects(
        swapper.swap(source, target, resolveSwapOptions({}), { marks: false }),
        (e: unknown) => e instanceof LiveswapError && e.kind === 'model' && /inswapper_128\.onnx/.test(e.message),
      );
    } finally {
      await swapper.close();
    }
  });
});

describe('several source photos of one person', () => {
  test('inswapper averages their embeddings and projects the mean raw one; mesh combines them too and says so', async () => {
    const store = await storeWith(join(dir, 'multi'), models.inswapper_128);
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
      // FaceFusion projects the mean raw embedding (spec §5, §7.3): latent = normalise(mean(e)·emap).
      type Raw = { embedding: Float32Array; latent: Float32Array };
      const [ea, eb] = [(one.identity as Raw).embedding, (other.identity as Raw).embedding];
      const expected = latentFromEmbedding(
        ea.map((v, i) => (v + eb[i]) / 2),
        readEmap(models.inswapper_128, 'inswapper_128'),
      );
      const latent = (both.identity as Raw).latent;
      for (let i = 0; i < latent.length; i++) assert.ok(Math.abs(latent[i] - expected[i]) < 1e-5, `latent[${i}]`);
      assert.match(both.notices.join('\n'), /Combined 2 source photos/);
    } finally {
      await swapper.close();
    }
    const mesh = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
    try {
      const prepared = await mesh.prepareSources([source, brighter], { sourceFace: undefined, maxPixels: 50e6 });
      assert.match(prepared.notices.join('\n'), /Combined 2 source photos into one identity/);
    } finally {
      await mesh.close();
    }
  });
});
