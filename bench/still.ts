/**
 * Still-swap benchmark (issue: the foundation): per-stage milliseconds for one face on a
 * 1920×1080 target, median of N runs (default 20), each run decoding both photos and encoding the
 * result, then the same in a steady state (one decoded frame swapped again and again).
 * `--json` prints one JSON object. Run: npm run bench:still [-- --json] [-- --runs N] [-- --against PATH]
 * Built on the `liveswap bench` runner (src/node/eval/bench-runner.ts).
 *
 * `--against PATH` names another checkout of the project (an earlier commit, say): its swapper
 * then runs the steady state too, alternating run by run with this one in this process on the
 * same frame, and the two outputs are compared byte by byte; each stage's best and median are
 * printed for both.
 */

import { mkdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolveSwapOptions } from '../src/pipeline/options.js';
import { makeBenchFrame, stageTimings, StageRecorder } from '../src/node/eval/bench-runner.js';
import { createNodeSwapper } from '../src/node/jobs/swapper.js';
import { readImage, writeImage } from '../src/node/media/image-io.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const runsFlag = args.indexOf('--runs');
const runs = runsFlag >= 0 ? Number(args[runsFlag + 1]) : 20;
const againstFlag = args.indexOf('--against');
const against = againstFlag >= 0 ? args[againstFlag + 1] : undefined;
const photos = fileURLToPath(new URL('../test/fixtures/faces/', import.meta.url));
const WARM_UP = 2;

const work = join(tmpdir(), `liveswap-bench-${process.pid}`);
await mkdir(work, { recursive: true });
const targetPath = join(work, 'target-1080p.jpg');
const outPath = join(work, 'out.jpg');
await writeImage(targetPath, await makeBenchFrame(photos, 1920, 1080));
const swapper = await createNodeSwapper();
const options = resolveSwapOptions({});
const round = (v: number) => Math.round(v * 100) / 100;
const perFrame = (t: Record<string, number>) => t.detect + t.mesh + t.warp + t.colour + t.blend;

const still = new StageRecorder();
for (let i = 0; i < runs + WARM_UP; i++) {
  let t = performance.now();
  const source = await readImage(join(photos, 'astronaut.png'), { maxPixels: options.maxPixels });
  const target = await readImage(targetPath, { maxPixels: options.maxPixels });
  const decode = performance.now() - t;
  const { image, report } = await swapper.swap(source, target, options, { marks: false });
  t = performance.now();
  await writeImage(outPath, image);
  const encode = performance.now() - t;
  if (i < WARM_UP) continue; // the first runs include model initialisation and compilation
  still.add('decode', decode);
  still.addAll({ source: report.timings.source, identity: report.timings.identity, ...stageTimings(report.timings) });
  still.add('perFrame', perFrame(report.timings));
  still.add('encode', encode);
  still.sampleMemory();
}

// Steady state: the source prepared once and the same decoded frame swapped again and again,
// with no decoder or encoder garbage between runs: what each frame costs once a stream runs.
const steady = new StageRecorder();
const source = await swapper.prepareSource(await readImage(join(photos, 'astronaut.png'), { maxPixels: options.maxPixels }), options);
const target = await readImage(targetPath, { maxPixels: options.maxPixels });
for (let i = 0; i < runs + WARM_UP; i++) {
  const t = (await swapper.swap(source, target, options, { marks: false })).report.timings;
  if (i < WARM_UP) continue;
  steady.addAll(stageTimings(t));
  steady.add('perFrame', perFrame(t));
  steady.sampleMemory();
}

// The other checkout's swapper and this one, alternating on the same decoded frame.
interface Comparison {
  against: string;
  againstMs: Record<string, { best: number; median: number }>;
  thisMs: Record<string, { best: number; median: number }>;
  bytesDiffering: number;
  largestByteDifference: number;
}
let comparison: Comparison | undefined;
if (against) {
  const other = (await import(pathToFileURL(join(resolve(against), 'src/node/jobs/swapper.ts')).href)) as { createNodeSwapper: typeof createNodeSwapper };
  const baseline = await other.createNodeSwapper();
  const otherSource = await baseline.prepareSource(await readImage(join(photos, 'astronaut.png'), { maxPixels: options.maxPixels }), options);
  const pair = [
    { name: 'against', swapper: baseline, source: otherSource, recorder: new StageRecorder() },
    { name: 'this', swapper, source, recorder: new StageRecorder() },
  ];
  const outputs: Uint8ClampedArray[] = [];
  for (let i = 0; i < runs + WARM_UP; i++) {
    for (const side of i % 2 ? [...pair].reverse() : pair) {
      const { image, report } = await side.swapper.swap(side.source, target, options, { marks: false });
      if (i === 0) outputs.push(image.data);
      if (i < WARM_UP) continue;
      side.recorder.addAll(stageTimings(report.timings));
      side.recorder.add('perFrame', perFrame(report.timings));
    }
  }
  await baseline.close();
  let differing = 0;
  let largest = 0;
  for (let i = 0; i < outputs[0].length; i++) {
    const d = Math.abs(outputs[0][i] - outputs[1][i]);
    if (d > 0) differing++;
    largest = Math.max(largest, d);
  }
  const bestAndMedian = (r: StageRecorder) => Object.fromEntries(Object.entries(r.stages()).map(([k, s]) => [k, { best: round(s.min), median: round(s.median) }]));
  comparison = { against, againstMs: bestAndMedian(pair[0].recorder), thisMs: bestAndMedian(pair[1].recorder), bytesDiffering: differing, largestByteDifference: largest };
}
await swapper.close();
await rm(work, { recursive: true, force: true });

const medians = (r: StageRecorder) => Object.fromEntries(Object.entries(r.stages()).map(([k, s]) => [k, round(s.median)]));
const summary = {
  bench: 'still',
  target: '1920x1080',
  faces: 1,
  runs,
  medianMs: medians(still),
  /** detect + mesh + swap (warp) + compose (colour, blend) on the target: the 40 ms budget. */
  perFrameMs: round(still.stages().perFrame.median),
  steadyMs: medians(steady),
  steadyPerFrameMs: round(steady.stages().perFrame.median),
  p95Ms: { perFrame: round(still.stages().perFrame.p95), steadyPerFrame: round(steady.stages().perFrame.p95) },
  peakRssMb: Math.round(Math.max(still.peakRssMb(), steady.peakRssMb())),
  targetMs: 40,
  /** The load average over the last minute as the run ended: figures move with it on a shared machine. */
  loadAverage: round(loadavg()[0]),
  ...(comparison ? { comparison } : {}),
};
if (json) console.log(JSON.stringify(summary));
else {
  console.log(`still swap, 1920×1080 target, one face, median of ${runs} runs (ms), each run decoding and encoding:`);
  for (const [k, v] of Object.entries(summary.medianMs)) console.log(`  ${k.padEnd(10)} ${v.toFixed(2)}`);
  console.log(`steady state, the same decoded frame swapped ${runs} times (ms):`);
  for (const [k, v] of Object.entries(summary.steadyMs)) console.log(`  ${k.padEnd(10)} ${v.toFixed(2)}`);
  console.log(`peak RSS ${summary.peakRssMb} MiB; target ${summary.targetMs} ms per face; load average ${summary.loadAverage}`);
  if (comparison) {
    const a = comparison.againstMs;
    const b = comparison.thisMs;
    console.log(`steady state side by side, alternating runs (best / median ms): ${against} | this checkout`);
    for (const k of Object.keys(b)) console.log(`  ${k.padEnd(10)} ${a[k].best.toFixed(2)} / ${a[k].median.toFixed(2)} | ${b[k].best.toFixed(2)} / ${b[k].median.toFixed(2)}`);
    console.log(`  outputs: ${comparison.bytesDiffering} bytes differ, by at most ${comparison.largestByteDifference}`);
  }
}
