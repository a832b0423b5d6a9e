/**
 * Still-swap benchmark (issue: the foundation): per-stage milliseconds for one face on a
 * 1920×1080 target, median of N runs (default 20), each run decoding both photos and encoding the
 * result, then the same in a steady state (one decoded frame swapped again and again).
 * `--json` prints one JSON object. Run: npm run bench:still [-- --json] [-- --runs N]
 * Built on the `liveswap bench` runner (src/node/eval/bench-runner.ts).
 */

import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveSwapOptions } from '../src/pipeline/options.js';
import { makeBenchFrame, stageTimings, StageRecorder } from '../src/node/eval/bench-runner.js';
import { createNodeSwapper } from '../src/node/jobs/swapper.js';
import { readImage, writeImage } from '../src/node/media/image-io.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const runsFlag = args.indexOf('--runs');
const runs = runsFlag >= 0 ? Number(args[runsFlag + 1]) : 20;
const photos = fileURLToPath(new URL('../test/fixtures/faces/', import.meta.url));
const WARM_UP = 2;

const work = join(tmpdir(), `liveswap-bench-${process.pid}`);
await mkdir(work, { recursive: true });
const targetPath = join(work, 'target-1080p.jpg');
const outPath = join(work, 'out.jpg');
await writeImage(targetPath, await makeBenchFrame(photos, 1920, 1080));
const swapper = await createNodeSwapper();
const options = resolveSwapOptions({});
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
await swapper.close();
await rm(work, { recursive: true, force: true });

const round = (v: number) => Math.round(v * 100) / 100;
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
};
if (json) console.log(JSON.stringify(summary));
else {
  console.log(`still swap, 1920×1080 target, one face, median of ${runs} runs (ms), each run decoding and encoding:`);
  for (const [k, v] of Object.entries(summary.medianMs)) console.log(`  ${k.padEnd(10)} ${v.toFixed(2)}`);
  console.log(`steady state, the same decoded frame swapped ${runs} times (ms):`);
  for (const [k, v] of Object.entries(summary.steadyMs)) console.log(`  ${k.padEnd(10)} ${v.toFixed(2)}`);
  console.log(`peak RSS ${summary.peakRssMb} MiB; target ${summary.targetMs} ms per face`);
}
