/**
 * Per-stage cost of the insightface InSwapper path around the models, for one face in a 1080p frame,
 * with the stand-in models (their run times are reported apart: they say nothing about the real ones).
 * Run: node --import tsx bench/inswapper.ts [--json] [--portrait-scale F]   (median of 20 runs per
 * stage, in ms). --portrait-scale resizes the 512 px portrait before it is placed: at 1 the
 * detected face box is about 105 px, at 2 about 210 px (the paste-back grows with the face's area).
 *
 * `nonModelTotal` sums every stage. `perFaceTotal` leaves out `latent`: the source identity's
 * latent (ArcFace embedding × emap, normalised) depends only on the source photo, so a live swap
 * computes it once when the source is chosen, not for each face of each frame; what a frame pays
 * per face is the rest. The target is perFaceTotal ≤ 5 ms at 1080p.
 */

import { InsightfacePaster } from '../src/compose/insightface-paste.js';
import { cloneImage, createImage, pasteImage } from '../src/core/image.js';
import { resizeBilinear } from '../src/core/resize.js';
import { arcfaceInputBlob, inswapperInputBlob, normCrop } from '../src/face/align.js';
import { decodeScrfd, insightfaceNms, letterboxBlob, scrfdLayout } from '../src/face/scrfd.js';
import { readEmap } from '../src/models/emap.js';
import type { InferenceSession, TensorData } from '../src/models/runtime.js';
import { createNodeRuntime } from '../src/node/models/onnx-runtime.js';
import { createNodeSwapper } from '../src/node/jobs/swapper.js';
import { inswapperOutputToImage, latentFromEmbedding } from '../src/swap/inswapper.js';
import { loadFixture } from '../test/helpers/fixtures.js';
import { arcfaceStandin, inswapperStandin, scrfdStandin } from '../test/helpers/standin-models.js';

const RUNS = 20;
const json = process.argv.includes('--json');
const scaleArg = process.argv.indexOf('--portrait-scale');
const portraitScale = scaleArg > 0 ? Number(process.argv[scaleArg + 1]) : 1;
if (!(portraitScale > 0.2 && portraitScale <= 2.1)) throw new Error('bench: --portrait-scale must be in (0.2, 2.1]');

async function median(run: () => unknown): Promise<number> {
  for (let i = 0; i < 3; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const self = await run();
    // A stage that has untimed set-up reports its own time as a number.
    times.push(typeof self === 'number' ? self : performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return Number(((times[(RUNS - 1) >> 1] + times[RUNS >> 1]) / 2).toFixed(3));
}

// One real face in a 1920×1080 frame: the astronaut portrait pasted near the centre.
const frame = createImage(1920, 1080, 3);
frame.data.fill(96);
const portrait = await loadFixture('astronaut.png');
const placed = portraitScale === 1 ? portrait : resizeBilinear(portrait, Math.round(512 * portraitScale), Math.round(512 * portraitScale));
pasteImage(frame, placed, Math.round(960 - placed.width / 2), Math.round(540 - placed.height / 2));
const analyzer = await createNodeSwapper({});
const [face] = await analyzer.analyze(frame);
await analyzer.close();
if (!face) throw new Error('bench: the built-in analyzer found no face in the bench frame');

const scale = 360 / 1080;
const toCanvas = (v: ArrayLike<number>) => Array.from(v, (x) => x * scale);
const [bx, by, bw, bh] = face.box;
const runtime = createNodeRuntime({ threads: 1 });
const scrfd = await runtime.load(
  scrfdStandin([{ box: toCanvas([bx, by, bx + bw, by + bh]) as [number, number, number, number], kps5: toCanvas(face.kps5), score: 0.9 }]),
  'det_10g stand-in',
);
const arcface = await runtime.load(arcfaceStandin(), 'w600k_r50 stand-in');
const inswapperBytes = inswapperStandin();
const inswapper = await runtime.load(inswapperBytes, 'inswapper_128 stand-in');
const emap = readEmap(inswapperBytes);

const blob = new Float32Array(3 * 640 * 640);
const box = letterboxBlob(frame, 640, 640, blob);
const run = (session: InferenceSession, feeds: Record<string, TensorData>) => session.run(feeds);
const detFeeds = { 'input.1': { data: blob, dims: [1, 3, 640, 640] } };
const detOut = await run(scrfd, detFeeds);
const tensors = scrfd.outputNames.map((n) => detOut[n].data);
const layout = scrfdLayout(tensors.length);
const [detection] = insightfaceNms(decodeScrfd(tensors, layout, 640, 640, box.scale, 0.5), 0.4);
if (!detection?.kps5) throw new Error('bench: the stand-in detector lost the face');
const kps = detection.kps5;
const crop112 = normCrop(frame, kps, 112).crop;
const crop128 = normCrop(frame, kps, 128).crop;
const arcBlob = arcfaceInputBlob(crop112);
const swapBlob = inswapperInputBlob(crop128);
const embedding = (await run(arcface, { 'input.1': { data: arcBlob, dims: [1, 3, 112, 112] } }))['683'].data;
const latent = latentFromEmbedding(embedding, emap);
const swapFeeds = { target: { data: swapBlob, dims: [1, 3, 128, 128] }, source: { data: latent, dims: [1, 512] } };
const pred = (await run(inswapper, swapFeeds)).output.data;

// Paste-back of the swapped crop (F6.10–F6.19) into a copy of the frame; the copy is not timed.
const swapped128 = inswapperOutputToImage(pred, 128, 128, 'bench');
const crop128M = normCrop(frame, kps, 128).matrix;
const paster = new InsightfacePaster();
const pasteTarget = cloneImage(frame);

const stages = {
  letterboxNormalise: await median(() => letterboxBlob(frame, 640, 640, blob)),
  decodeNms: await median(() => insightfaceNms(decodeScrfd(tensors, layout, 640, 640, box.scale, 0.5), 0.4)),
  alignNormCrop112: await median(() => normCrop(frame, kps, 112)),
  alignNormCrop128: await median(() => normCrop(frame, kps, 128)),
  blob112And128: await median(() => {
    arcfaceInputBlob(crop112, arcBlob);
    inswapperInputBlob(crop128, swapBlob);
  }),
  latent: await median(() => latentFromEmbedding(embedding, emap)),
  postProcess: await median(() => inswapperOutputToImage(pred, 128, 128, 'bench')),
  pasteBack: await median(() => {
    pasteTarget.data.set(frame.data);
    const t0 = performance.now();
    paster.paste(pasteTarget, swapped128, crop128M);
    return performance.now() - t0;
  }),
};
const models = {
  scrfdStandin: await median(() => run(scrfd, detFeeds)),
  arcfaceStandin: await median(() => run(arcface, { 'input.1': { data: arcBlob, dims: [1, 3, 112, 112] } })),
  inswapperStandin: await median(() => run(inswapper, swapFeeds)),
};
const nonModelTotal = Number(
  Object.values(stages)
    .reduce((a, b) => a + b, 0)
    .toFixed(3),
);
const perFaceTotal = Number((nonModelTotal - stages.latent).toFixed(3));
await Promise.all([scrfd.close(), arcface.close(), inswapper.close()]);

const faceBoxPx = Math.round(Math.max(bw, bh));
const result = { frame: '1920x1080 RGB, one face', faceBoxPx, runs: RUNS, unit: 'ms (median)', stages, nonModelTotal, perFaceTotal, targetPerFace: 5, models };
if (json) {
  console.log(JSON.stringify(result));
} else {
  console.log(`${'face box'.padEnd(24)} ${String(faceBoxPx).padStart(8)} px`);
  for (const [name, ms] of Object.entries(stages)) console.log(`${name.padEnd(24)} ${ms.toFixed(3).padStart(8)} ms`);
  console.log(`${'non-model total'.padEnd(24)} ${nonModelTotal.toFixed(3).padStart(8)} ms`);
  console.log(`${'per face (no latent)'.padEnd(24)} ${perFaceTotal.toFixed(3).padStart(8)} ms (target ≤ 5)`);
  for (const [name, ms] of Object.entries(models)) console.log(`${`model: ${name}`.padEnd(24)} ${ms.toFixed(3).padStart(8)} ms`);
}
