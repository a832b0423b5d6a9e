/**
 * Still-swap benchmark: per-stage milliseconds for one face on a 1920×1080 target, median of N
 * runs (default 20). `--json` prints one JSON object. Run: npm run bench:still [-- --json] [--runs N]
 */

import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { resolveSwapOptions } from '../src/pipeline/options.js';
import { createNodeSwapper } from '../src/node/swapper.js';
import { readImage, writeImage } from '../src/node/image-io.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const runsFlag = args.indexOf('--runs');
const runs = runsFlag >= 0 ? Number(args[runsFlag + 1]) : 20;
const fixtures = fileURLToPath(new URL('../test/fixtures/faces/', import.meta.url));

/** A 1920×1080 frame with the target portrait placed off-centre at a typical webcam face size. */
async function makeTarget(path: string): Promise<void> {
  const portrait = await sharp(join(fixtures, 'grace_hopper.jpg')).resize({ height: 900 }).toBuffer();
  await sharp({ create: { width: 1920, height: 1080, channels: 3, background: { r: 90, g: 96, b: 104 } } })
    .composite([{ input: portrait, left: 1100, top: 90 }])
    .jpeg({ quality: 92 })
    .toFile(path);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const work = join(tmpdir(), `liveswap-bench-${process.pid}`);
const targetPath = join(work, 'target-1080p.jpg');
const outPath = join(work, 'out.jpg');
await mkdir(work, { recursive: true });
await makeTarget(targetPath);
const swapper = await createNodeSwapper();
const options = resolveSwapOptions({});
const samples: Record<string, number[]> = {};
const add = (k: string, v: number) => (samples[k] ??= []).push(v);

for (let i = 0; i < runs + 2; i++) {
  let t = performance.now();
  const source = await readImage(join(fixtures, 'astronaut.png'), { maxPixels: options.maxPixels });
  const target = await readImage(targetPath, { maxPixels: options.maxPixels });
  const decode = performance.now() - t;
  const { image, report } = await swapper.swap(source, target, options);
  t = performance.now();
  await writeImage(outPath, image);
  const encode = performance.now() - t;
  if (i < 2) continue; // warm-up: first runs include model initialisation and JIT
  add('decode', decode);
  for (const [k, v] of Object.entries(report.timings)) add(k, v);
  // What a video frame or live frame costs: the source is analysed once per stream, not per frame.
  const t2 = report.timings;
  add('perFrame', t2.detect + t2.mesh + t2.warp + t2.colour + t2.blend);
  add('encode', encode);
}

// Steady state: the same decoded frame swapped again and again, with no decoder or encoder
// garbage between runs: what each frame costs once a stream is running.
const steadySamples: Record<string, number[]> = {};
const source = await readImage(join(fixtures, 'astronaut.png'), { maxPixels: options.maxPixels });
const target = await readImage(targetPath, { maxPixels: options.maxPixels });
for (let i = 0; i < runs + 2; i++) {
  const t = (await swapper.swap(source, target, options)).report.timings;
  if (i < 2) continue;
  for (const k of ['detect', 'mesh', 'warp', 'colour', 'blend']) (steadySamples[k] ??= []).push(t[k]);
  (steadySamples.perFrame ??= []).push(t.detect + t.mesh + t.warp + t.colour + t.blend);
}
await swapper.close();
await rm(work, { recursive: true, force: true });

const medians = (from: Record<string, number[]>) => Object.fromEntries(Object.entries(from).map(([k, v]) => [k, Math.round(median(v) * 100) / 100]));
const result = medians(samples);
const steady = medians(steadySamples);
const summary = {
  bench: 'still',
  target: '1920x1080',
  faces: 1,
  runs,
  medianMs: result,
  /** detect + mesh + swap (warp) + compose (colour, blend) on the target: the 40 ms budget. */
  perFrameMs: result.perFrame,
  steadyMs: steady,
  steadyPerFrameMs: steady.perFrame,
  targetMs: 40,
};
if (json) console.log(JSON.stringify(summary));
else {
  console.log(`still swap, 1920×1080 target, one face, median of ${runs} runs (ms), each run decoding and encoding:`);
  for (const [k, v] of Object.entries(result)) console.log(`  ${k.padEnd(10)} ${v.toFixed(2)}`);
  console.log(`steady state, the same decoded frame swapped ${runs} times (ms):`);
  for (const [k, v] of Object.entries(steady)) console.log(`  ${k.padEnd(10)} ${v.toFixed(2)}`);
}
