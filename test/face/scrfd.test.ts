/**
 * SCRFD: layout from the output count, letterbox, decoding and NMS on hand-made tensors with known
 * answers, and end to end on a stand-in det_10g with faces baked where the built-in analyzer
 * finds them in real photos.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createImage, pasteImage, type Image } from '../../src/core/image.js';
import { LiveswapError } from '../../src/core/errors.js';
import { resizeBilinear } from '../../src/core/resize.js';
import { decodeScrfd, insightfaceNms, letterboxBlob, limitFaces, ScrfdDetector, scrfdLayout, type ScrfdDetection } from '../../src/face/scrfd.js';
import { MODEL_SPECS } from '../../src/models/model-spec.js';
import type { InferenceSession } from '../../src/models/runtime.js';
import { createNodeRuntime } from '../../src/node/models/onnx-runtime.js';
import { createNodeSwapper } from '../../src/node/jobs/swapper.js';
import { loadFixture, TEST_HOME } from '../helpers/fixtures.js';
import { scrfdStandin, SCRFD_OUTPUT_NAMES, writeStandin, type BakedFace } from '../helpers/standin-models.js';

const det = (box: [number, number, number, number], score: number): ScrfdDetection => ({ box, score, kps5: null });

describe('SCRFD layout', () => {
  test('the output count decides strides, anchors and keypoints', () => {
    assert.deepEqual(scrfdLayout(9), { strides: [8, 16, 32], anchorsPerCell: 2, hasKeypoints: true });
    assert.deepEqual(scrfdLayout(6), { strides: [8, 16, 32], anchorsPerCell: 2, hasKeypoints: false });
    assert.deepEqual(scrfdLayout(10), { strides: [8, 16, 32, 64, 128], anchorsPerCell: 1, hasKeypoints: false });
    assert.deepEqual(scrfdLayout(15), { strides: [8, 16, 32, 64, 128], anchorsPerCell: 1, hasKeypoints: true });
    assert.throws(
      () => scrfdLayout(7),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'model' && /7/.test(e.message),
    );
  });

  test('a model with another output count is named by its file, with what to do', () => {
    const file = '/models/det_10g.onnx';
    const row = { ...MODEL_SPECS.det_10g, outputs: MODEL_SPECS.det_10g.outputs.slice(0, 1) };
    const session: InferenceSession = {
      inputNames: row.inputs.map((t, i) => t.name ?? `in${i}`),
      outputNames: row.outputs.map((t, i) => t.name ?? `out${i}`),
      run: () => Promise.reject(new Error('not run')),
      close: () => Promise.resolve(),
    };
    assert.throws(
      () => ScrfdDetector.create(session, row, { label: file }),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'model' && e.file === file && e.message.includes(`${file} has 1 output`) && /liveswap models/.test(e.message),
    );
  });
});

describe('SCRFD letterbox', () => {
  test('landscape frames fill the width, the rest of the canvas is −0.99609375', () => {
    const image = createImage(100, 50, 3);
    for (let i = 0; i < image.data.length; i += 3) image.data.set([200, 100, 50], i);
    const blob = new Float32Array(3 * 64 * 64).fill(7);
    const box = letterboxBlob(image, 64, 64, blob);
    assert.deepEqual(box, { scale: 32 / 50, width: 64, height: 32 });
    const plane = 64 * 64;
    const at = (x: number, y: number) => [blob[y * 64 + x], blob[plane + y * 64 + x], blob[2 * plane + y * 64 + x]];
    assert.deepEqual(at(0, 0), [72.5 / 128, -27.5 / 128, -77.5 / 128]);
    assert.deepEqual(at(63, 31), [72.5 / 128, -27.5 / 128, -77.5 / 128]);
    assert.deepEqual(at(0, 32), [-0.99609375, -0.99609375, -0.99609375]);
    assert.deepEqual(at(63, 63), [-0.99609375, -0.99609375, -0.99609375]);
  });

  test('portrait frames fill the height with a truncated width (F2.2)', () => {
    // 512×600 → new_h 640, new_w = int(640 / (600/512)) = 546, det_scale = 640/600.
    const box = letterboxBlob(createImage(512, 600, 3), 640, 640, new Float32Array(3 * 640 * 640));
    assert.deepEqual(box, { scale: 640 / 600, width: 546, height: 640 });
  });

  test('an exact 2× reduction averages 2×2 blocks with +2 rounding (F1.4)', () => {
    const image = createImage(4, 4, 1);
    image.data.set([0, 1, 10, 10, 2, 2, 10, 11, 0, 0, 0, 0, 0, 0, 0, 3]);
    const blob = new Float32Array(3 * 2 * 2);
    letterboxBlob(image, 2, 2, blob);
    // (0+1+2+2+2)>>2 = 1, (10+10+10+11+2)>>2 = 10, 0, (3+2)>>2 = 1.
    assert.deepEqual(
      [...blob.subarray(0, 4)].map((v) => v * 128 + 127.5),
      [1, 10, 0, 1],
    );
  });

  test('bilinear taps use cv2.resize half-pixel centres with 11-bit weights', () => {
    // 3×2 → 2×1. Columns: scale 1.5, fx = 0.25 and 1.75 → 0.75·0 + 0.25·100 and 0.25·100 + 0.75·200.
    const image = createImage(3, 2, 1);
    image.data.set([0, 100, 200, 0, 100, 200]);
    const out = new Float32Array(3 * 2 * 2);
    assert.deepEqual(letterboxBlob(image, 2, 2, out), { scale: 0.5, width: 2, height: 1 });
    assert.deepEqual(
      [out[0], out[1]].map((v) => v * 128 + 127.5),
      [25, 175],
    );
    // Exactly 3× (1080p → 640×360): every tap sits on a source pixel centre, weights (2048, 0).
    const third = createImage(6, 3, 3);
    for (let i = 0; i < third.data.length; i++) third.data[i] = (i * 37) % 256;
    const small = new Float32Array(3 * 2 * 2);
    assert.deepEqual(letterboxBlob(third, 2, 2, small), { scale: 1 / 3, width: 2, height: 1 });
    const centre = (x: number, k: number) => third.data[(1 * 6 + x) * 3 + k];
    assert.deepEqual(
      [0, 1, 2].map((k) => [small[k * 4], small[k * 4 + 1]].map((v) => v * 128 + 127.5)),
      [0, 1, 2].map((k) => [centre(1, k), centre(4, k)]),
    );
    // The odd-factor gather shortcut equals cv2.resize (resizeBilinear) on a noisy frame, 3× and 5×.
    for (const factor of [3, 5]) {
      const noisy = createImage(64 * factor, 40 * factor, 3);
      for (let i = 0; i < noisy.data.length; i++) noisy.data[i] = (i * 2654435761) >>> 24;
      const blob = new Float32Array(3 * 64 * 64);
      letterboxBlob(noisy, 64, 64, blob);
      const resized = resizeBilinear(noisy, 64, 40);
      for (let y = 0; y < 40; y++) {
        for (let x = 0; x < 64; x++) {
          for (let k = 0; k < 3; k++) assert.equal(blob[k * 4096 + y * 64 + x] * 128 + 127.5, resized.data[(y * 64 + x) * 3 + k]);
        }
      }
    }
    // A frame so thin that it would letterbox to zero rows is refused.
    assert.throws(
      () => letterboxBlob(createImage(3, 1, 1), 2, 2, out),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'usage',
    );
  });
});

describe('SCRFD decoding', () => {
  const layout = scrfdLayout(9);
  const tensors = (): Float32Array[] => [
    new Float32Array(12800),
    new Float32Array(3200),
    new Float32Array(800),
    new Float32Array(12800 * 4),
    new Float32Array(3200 * 4),
    new Float32Array(800 * 4),
    new Float32Array(12800 * 10),
    new Float32Array(3200 * 10),
    new Float32Array(800 * 10),
  ];

  test('anchor centres are row-major cell corners, two anchors per cell, no +0.5 (F2.6–F2.8)', () => {
    const t = tensors();
    // Stride 8, cell (col 20, row 10), second anchor: centre (160, 80).
    const k = (10 * 80 + 20) * 2 + 1;
    t[0][k] = 0.75;
    t[3].set([1, 2, 3, 4], k * 4);
    t[6].set([-1, -1, 1, -1, 0, 0, -1, 1, 1, 1], k * 10);
    // Stride 32, cell (col 3, row 2), first anchor: centre (96, 64); score exactly at the threshold.
    const m = (2 * 20 + 3) * 2;
    t[2][m] = 0.5;
    t[5].set([1, 1, 1, 1], m * 4);
    t[1][5] = 0.4999;
    const found = decodeScrfd(t, layout, 640, 640, 0.5, 0.5);
    assert.equal(found.length, 2);
    assert.equal(found[0].score, 0.75);
    // Boxes: (160 − 8, 80 − 16, 160 + 24, 80 + 32) / 0.5.
    assert.deepEqual(found[0].box, [304, 128, 368, 224]);
    assert.deepEqual([...found[0].kps5!], [304, 144, 336, 144, 320, 160, 304, 176, 336, 176]);
    assert.deepEqual(found[1].box, [128, 64, 256, 192]);
    assert.equal(found[1].score, 0.5);
  });

  test('an anchor with a NaN box, keypoint or score is no face (a damaged model)', () => {
    const t = tensors();
    t[0][0] = 0.9;
    t[3][0] = Number.NaN;
    t[0][2] = 0.8;
    t[6][2 * 10 + 3] = Number.POSITIVE_INFINITY;
    t[0][4] = Number.POSITIVE_INFINITY;
    t[0][6] = 0.75;
    const found = decodeScrfd(t, layout, 640, 640, 1, 0.5);
    assert.deepEqual(
      found.map((f) => f.score),
      [0.75],
    );
  });

  test('model without keypoints gives null keypoints; short outputs are a model error', () => {
    const t = tensors();
    t[0][0] = 0.9;
    assert.equal(decodeScrfd(t.slice(0, 6), scrfdLayout(6), 640, 640, 1, 0.5)[0].kps5, null);
    assert.throws(
      () => decodeScrfd(t, layout, 1280, 640, 1, 0.5),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'model',
    );
  });
});

describe('SCRFD NMS', () => {
  test('IoU uses +1 pixel areas and keeps boxes at exactly the threshold (F2.11–F2.12)', () => {
    // 2×2-pixel boxes sharing one column: with +1, IoU = 2 / (4 + 4 − 2) = 1/3; without, 0.
    const a = det([0, 0, 1, 1], 0.9);
    const b = det([1, 0, 2, 1], 0.8);
    assert.deepEqual(insightfaceNms([a, b], 0.3), [a]);
    assert.deepEqual(insightfaceNms([a, b], Math.fround(1 / 3)), [a, b]);
  });

  test('greedy in score order: a suppressed box suppresses nothing', () => {
    const a = det([0, 0, 9, 9], 0.9);
    const b = det([3, 0, 12, 9], 0.8); // IoU with a: 70/130 > 0.4
    const c = det([6, 0, 15, 9], 0.7); // IoU with a: 40/160 ≤ 0.4, with b: 70/130
    assert.deepEqual(insightfaceNms([a, b, c], 0.4), [a, c]);
  });

  test('maxNum ranks by area less twice the squared offset from the centre (F2.14)', () => {
    const big = det([0, 0, 40, 40], 0.6);
    const central = det([40, 40, 60, 60], 0.9);
    const small = det([90, 90, 95, 95], 0.95);
    assert.deepEqual(limitFaces([small, central, big], 1, 100, 100), [central]);
    assert.deepEqual(limitFaces([small, central, big], 2, 100, 100, 'max'), [big, central]);
    assert.deepEqual(limitFaces([small], 3, 100, 100), [small]);
  });
});

describe('SCRFD end to end on a stand-in det_10g', () => {
  let dir: string;
  let frame: Image;
  let baked: { box: number[]; kps5: Float32Array }[];
  let detector: ScrfdDetector;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'liveswap-scrfd-'));
    // Two real faces side by side: 1024×600, so the letterbox fills the width (scale 0.625).
    const left = await loadFixture('grace_hopper.jpg');
    const right = await loadFixture('astronaut.png');
    frame = createImage(1024, 600, 3);
    pasteImage(frame, left, 0, 0);
    pasteImage(frame, right, 512, 0);
    const swapper = await createNodeSwapper({ home: TEST_HOME });
    const faces = await swapper.analyze(frame);
    await swapper.close();
    assert.equal(faces.length, 2);
    baked = faces.map((f) => ({ box: [f.box[0], f.box[1], f.box[0] + f.box[2], f.box[1] + f.box[3]], kps5: f.kps5 }));
    const scale = 0.625;
    const toCanvas = (v: ArrayLike<number>) => Array.from(v, (x) => x * scale);
    const standin: BakedFace[] = baked.flatMap((f, i) => [
      { box: toCanvas(f.box) as [number, number, number, number], kps5: toCanvas(f.kps5), score: 0.9 - 0.1 * i, stride: 16 as const },
      // A weaker, shifted duplicate at another stride, which NMS must remove.
      { box: toCanvas(f.box.map((v) => v + 3)) as [number, number, number, number], kps5: toCanvas(f.kps5), score: 0.6, stride: 8 as const },
    ]);
    // A confident-looking but sub-threshold face in an empty corner.
    standin.push({ box: [600, 20, 630, 60], kps5: [605, 30, 625, 30, 615, 40, 607, 50, 623, 50], score: 0.45, stride: 32 });
    const file = writeStandin(dir, 'det_10g.onnx', scrfdStandin(standin));
    const session = await createNodeRuntime({ threads: 1 }).load(new Uint8Array(readFileSync(file)), file);
    assert.deepEqual(session.inputNames, ['input.1']);
    assert.deepEqual(session.outputNames, [...SCRFD_OUTPUT_NAMES]);
    detector = ScrfdDetector.create(session);
  });

  after(async () => {
    await detector?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('finds the baked faces in frame pixels, within a pixel', async () => {
    const found = await detector.detect(frame);
    assert.equal(found.length, 2);
    found.forEach((d, i) => {
      assert.equal(d.score, Math.fround(0.9 - 0.1 * i));
      d.box.forEach((v, j) => assert.ok(Math.abs(v - baked[i].box[j]) < 1, `box ${i}.${j}: ${v} vs ${baked[i].box[j]}`));
      for (let j = 0; j < 10; j++) assert.ok(Math.abs(d.kps5![j] - baked[i].kps5[j]) < 1, `kps ${i}.${j}`);
    });
  });

  test('threshold, NMS and maxNum options apply', async () => {
    assert.equal((await detector.detect(frame, { threshold: 0.4 })).length, 3);
    assert.equal((await detector.detect(frame, { nms: 1 })).length, 4);
    assert.equal((await detector.detect(frame, { maxNum: 1 })).length, 1);
    await assert.rejects(detector.detect(frame, { nms: 2 }), (e: unknown) => e instanceof LiveswapError && e.kind === 'usage');
  });
});
