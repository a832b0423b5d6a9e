/**
 * The InSwapper engine at its real size: structural replicas of det_10g, w600k_r50 and
 * inswapper_128 (bench/real-size-models.ts: the real files' I/O, layer layout and size, seeded
 * random weights; generated here and cached in the temporary folder, never committed) run through
 * the whole engine — in Node on the CPU (or `--provider cuda` where installed) and in headless
 * Chromium, in the live app's worker on onnxruntime-web (wasm; WebGPU is reported when an adapter
 * exists). Prints milliseconds per stage and frames per second for one face at each frame size.
 *
 * Stages: detect (letterbox + det_10g + decode), embed (the source's ArcFace, once per source),
 * swap (the 128 px crop + inswapper_128), paste (the paste-back). A frame costs detect + swap +
 * paste (the live app detects on some frames only; see its figures).
 *
 * Run: npm run bench:inswapper-real [-- --sizes 640x360,1280x720] [-- --precision fp32,fp16]
 *      [-- --node-only | --browser-only] [-- --frames 5] [-- --seconds 120] [-- --threads 2] [-- --provider cuda] [-- --json]
 */

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloneImage, type Image } from '../src/core/image.js';
import type { Face } from '../src/face/face.js';
import { DEFAULT_SWAP_OPTIONS, type ExecutionProvider } from '../src/pipeline/options.js';
import { createNodeSwapper } from '../src/node/jobs/swapper.js';
import { createUiServer } from '../src/server/ui-server.js';
import { browserSkipReason, buildWebApp, fakeCameraClip, launchChromium, newContext } from '../test/helpers/browser.js';
import { framedPhoto } from '../test/helpers/clips.js';
import { FIXTURES } from '../test/helpers/fixtures.js';
import { freshHome } from '../test/helpers/live-home.js';
import { standinStore } from '../test/helpers/standin-models.js';
import { arcfaceReplica, detectorReplica, inswapperReplica, type Precision, type Replica } from './real-size-models.js';
import { option } from './flags.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const sizes = option('--sizes', '640x360,1280x720')
  .split(',')
  .map((s) => s.split('x').map(Number) as [number, number]);
const precisions = option('--precision', 'fp32,fp16').split(',') as Precision[];
const frames = Number(option('--frames', '5'));
const threads = Number(option('--threads', String(Math.min(4, availableParallelism()))));
const provider = option('--provider', 'cpu') as ExecutionProvider;
const browserSeconds = Number(option('--seconds', '120'));
const runNode = !args.includes('--browser-only');
const runBrowser = !args.includes('--node-only');
for (const p of precisions as string[]) if (p !== 'fp32' && p !== 'fp16') throw new Error(`bench: --precision takes fp32 and/or fp16, not ${p}`);

const CACHE = join(tmpdir(), 'liveswap-real-size-models-v1');
const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const log = (line: string): void => {
  if (!json) console.log(line);
};

/** A replica from the cache, or made and cached (the big ones take seconds to make). */
async function cached(name: string, make: () => Replica): Promise<Uint8Array> {
  const file = join(CACHE, name);
  if (existsSync(file)) return new Uint8Array(await readFile(file));
  const replica = make();
  log(`  made ${name}: ${round(replica.parameters / 1e6, 2)} M parameters, ${round(replica.macs / 1e9, 1)} GMAC, ${round(replica.bytes.length / 1e6)} MB`);
  await mkdir(CACHE, { recursive: true });
  await writeFile(`${file}.tmp`, replica.bytes);
  await rename(`${file}.tmp`, file);
  return replica.bytes;
}

/** The frame (the astronaut portrait framed at this size), its face, and a detector that reports it. */
async function scene(width: number, height: number): Promise<{ frame: Image; face: Face; detector: Uint8Array }> {
  const frame = await framedPhoto('astronaut.png', width, height);
  const builtin = await createNodeSwapper({ engine: 'mesh' });
  const [face] = await builtin.analyze(frame);
  await builtin.close();
  if (!face) throw new Error('bench: the built-in analyzer found no face in the bench frame');
  // SCRFD letterboxes into 640×640 at the top left; its points are pixel-centred.
  const scale = 640 / Math.max(width, height);
  const canvas = (v: ArrayLike<number>) => Array.from(v, (x) => (x - 0.5) * scale);
  const [x, y, w, h] = face.box;
  const box = canvas([x, y, x + w, y + h]) as [number, number, number, number];
  const detector = detectorReplica([{ box, kps5: canvas(face.kps5), score: 0.92 }]);
  return { frame, face, detector: detector.bytes };
}

async function modelFiles(precision: Precision, detector: Uint8Array): Promise<Record<string, Uint8Array>> {
  const swapperId = precision === 'fp16' ? 'inswapper_128_fp16' : 'inswapper_128';
  return {
    det_10g: detector,
    w600k_r50: await cached('w600k_r50.onnx', () => arcfaceReplica()),
    [swapperId]: await cached(`${swapperId}.onnx`, () => inswapperReplica(precision)),
  };
}

interface StageFigures {
  detect: number;
  embed: number;
  swap: number;
  paste: number;
  frame: number;
  fps: number;
}

async function nodeRun(precision: Precision, width: number, height: number): Promise<StageFigures | { error: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'liveswap-bench-real-'));
  try {
    const { frame, detector } = await scene(width, height);
    const store = await standinStore(join(dir, 'home'), await modelFiles(precision, detector));
    const swapper = await createNodeSwapper({ engine: 'inswapper', store, home: join(dir, 'home'), threads, provider });
    try {
      const source = await swapper.prepareSource(frame, DEFAULT_SWAP_OPTIONS);
      const detect: number[] = [];
      const swap: number[] = [];
      const paste: number[] = [];
      for (let i = 0; i < frames + 1; i++) {
        let t = performance.now();
        const [face] = await swapper.analyze(frame);
        const detected = performance.now() - t;
        if (!face) throw new Error('the detector replica reported no face');
        const timings = { warp: 0, colour: 0, blend: 0 };
        t = performance.now();
        await swapper.paintFaces(cloneImage(frame), [{ face, identity: source.identity }], DEFAULT_SWAP_OPTIONS, timings);
        if (i === 0) continue; // the first run of each session warms it up
        detect.push(detected);
        swap.push(timings.warp);
        paste.push(timings.colour + timings.blend);
      }
      const figures = { detect: median(detect), embed: source.timings.identity, swap: median(swap), paste: median(paste) };
      const perFrame = figures.detect + figures.swap + figures.paste;
      return { ...mapRound(figures), frame: round(perFrame), fps: round(1000 / perFrame, 2) };
    } finally {
      await swapper.close();
    }
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function mapRound<T extends Record<string, number>>(figures: T): T {
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, round(v)])) as T;
}

interface BrowserFigures {
  backend: string;
  webgpuAdapter: boolean;
  framesTimed: number;
  stagesMs: Record<string, number>;
  fps: number;
}

/** The live app with these models on its server, the inswapper engine chosen, a camera showing the frame. */
async function browserRun(precision: Precision, width: number, height: number): Promise<BrowserFigures | { error: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'liveswap-bench-real-web-'));
  const { detector } = await scene(width, height);
  const store = await standinStore(join(dir, 'home'), await modelFiles(precision, detector));
  const server = await createUiServer({ home: await freshHome(join(dir, 'app')), store, port: 0, webRoot: await buildWebApp() });
  const browser = await launchChromium({ camera: await fakeCameraClip(dir, 'astronaut.png', width, height, 4), allowCamera: true });
  try {
    const page = await (await newContext(browser, true)).newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(server.url);
    const webgpuAdapter = await page.evaluate(async () => {
      const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      return Boolean(gpu && (await gpu.requestAdapter().catch(() => null)));
    });
    await page.waitForFunction(() => document.body.dataset.engine === 'ready', undefined, { timeout: 120_000 });
    await page.selectOption('#engine', 'inswapper');
    const ready = await page
      .waitForFunction(() => document.body.dataset.engine === 'ready' && /inswapper/.test(document.querySelector('#engine-status')?.textContent ?? ''), undefined, {
        timeout: 600_000,
      })
      .then(() => true)
      .catch(() => false);
    const status = (await page.textContent('#engine-status'))?.trim() ?? '';
    if (!ready) return { error: `the engine did not start: ${status} ${errors.join('; ')}`.trim() };
    await page.setInputFiles('#source-input', join(FIXTURES, 'grace_hopper.jpg'));
    await page.locator('#sources .source-face').first().waitFor({ timeout: 300_000 });
    await page.setChecked('#show-fps', true);
    await page.setChecked('#show-timings', true);
    await page.selectOption('#camera-size', `${width}x${height}`);
    await page.selectOption('#target-kind', 'camera');
    await page.click('#start');
    // Per-frame timings as the page keeps them; a frame takes seconds, so sample until the time is up.
    const samples: Record<string, number>[] = [];
    const end = Date.now() + browserSeconds * 1000;
    let last = '';
    while (Date.now() < end) {
      await page.waitForTimeout(1000);
      const timings = (await page.getAttribute('#timings', 'data-timings')) ?? '';
      if (timings && timings !== last) samples.push(JSON.parse(timings) as Record<string, number>);
      last = timings;
    }
    if (samples.length === 0) return { error: `no frame in ${browserSeconds} s (${status}) ${errors.join('; ')}`.trim() };
    // The first frame warms the session up; it is left out when there are others.
    const timed = samples.length > 1 ? samples.slice(1) : samples;
    const keys = Object.keys(timed[0]!);
    const stagesMs = Object.fromEntries(keys.map((k) => [k, round(median(timed.map((s) => s[k] ?? 0)))]));
    return { backend: status, webgpuAdapter, framesTimed: timed.length, stagesMs, fps: round(1000 / (stagesMs.total ?? Infinity), 2) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const load = round(loadavg()[0]!, 2);
const results: Record<string, unknown> = { cpus: availableParallelism(), loadAverage: load, threads, provider };
log(`InSwapper engine on real-size replicas (${availableParallelism()} CPUs, load ${load}, ${threads} onnxruntime threads, provider ${provider})`);
for (const precision of precisions) {
  for (const [width, height] of sizes) {
    const key = `${precision} ${width}x${height}`;
    if (runNode) {
      const figures = await nodeRun(precision, width, height);
      results[`node ${key}`] = figures;
      if ('error' in figures) log(`  Node ${key}: ${figures.error}`);
      else
        log(
          `  Node ${key}: detect ${figures.detect} ms, swap ${figures.swap} ms, paste ${figures.paste} ms → ${figures.frame} ms a frame, ${figures.fps} fps (embed ${figures.embed} ms once per source)`,
        );
    }
    if (runBrowser) {
      const skip = browserSkipReason();
      if (skip) {
        log(`  Chromium ${key}: skipped (${skip})`);
        continue;
      }
      const figures = await browserRun(precision, width, height);
      results[`chromium ${key}`] = figures;
      if ('error' in figures) log(`  Chromium ${key}: ${figures.error}`);
      else {
        const stages = Object.entries(figures.stagesMs)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
        log(
          `  Chromium ${key} (${figures.backend}; WebGPU adapter: ${figures.webgpuAdapter ? 'yes' : 'none'}): ${stages} ms over ${figures.framesTimed} frames → ${figures.fps} fps`,
        );
      }
    }
  }
}
if (json) console.log(JSON.stringify(results));
