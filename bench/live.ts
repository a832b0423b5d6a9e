/**
 * Live app benchmark (issue: live browser app): the real app in headless Chromium (software
 * rendering, onnxruntime-web on wasm), a fake 640×360 30 fps camera showing one face, the built-in
 * mesh engine. After a warm-up it samples, once a second, the frames shown in the last second and
 * the worker's per-stage milliseconds (averages over the last 30 frames), and reports their means;
 * dropped frames are the camera frames that arrived while one was already waiting.
 * Target: ≥ 20 fps with the built-in engine. Needs chromium (LIVESWAP_CHROMIUM or /usr/bin/chromium).
 * Run: npm run bench:live [-- --seconds 20] [-- --size 1280x720] [-- --json]
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUiServer } from '../src/server/ui-server.js';
import { browserSkipReason, buildWebApp, fakeCameraClip, launchChromium, newContext } from '../test/helpers/browser.js';
import { FIXTURES, TEST_HOME } from '../test/helpers/fixtures.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const seconds = Number(option('--seconds', '20'));
const [width, height] = option('--size', '640x360').split('x').map(Number) as [number, number];
const WARM_UP_SECONDS = 4;
const TARGET_FPS = 20;

const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

const skip = browserSkipReason();
if (skip) {
  console.error(`bench:live: ${skip}`);
  process.exit(1);
}

const dir = await mkdtemp(join(tmpdir(), 'liveswap-bench-live-'));
const server = await createUiServer({ home: process.env.LIVESWAP_HOME ?? TEST_HOME, port: 0, webRoot: await buildWebApp() });
const browser = await launchChromium({ camera: await fakeCameraClip(dir, 'astronaut.png', width, height, 4), allowCamera: true });
try {
  const page = await (await newContext(browser, true)).newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset.engine === 'ready', undefined, { timeout: 120_000 });
  const engineStatus = (await page.textContent('#engine-status'))?.trim();
  await page.setInputFiles('#source-input', join(FIXTURES, 'grace_hopper.jpg'));
  await page.locator('#sources .source-face').first().waitFor({ timeout: 60_000 });
  await page.setChecked('#show-fps', true);
  await page.setChecked('#show-timings', true);
  await page.selectOption('#camera-size', `${width}x${height}`);
  await page.selectOption('#target-kind', 'camera');
  await page.click('#start');
  await page.waitForFunction(() => Number(document.querySelector('#fps')?.getAttribute('data-fps') ?? 0) > 0, undefined, { timeout: 60_000 });
  await page.waitForTimeout(WARM_UP_SECONDS * 1000);

  const fps: number[] = [];
  const stages: Record<string, number[]> = {};
  const counts = async () => page.evaluate(() => (document.querySelector('#fps')?.textContent ?? '').match(/(\d+)\s*dropped/)?.[1]);
  const droppedBefore = Number((await counts()) ?? 0);
  for (let s = 0; s < seconds; s++) {
    await page.waitForTimeout(1000);
    const sample = await page.evaluate(() => ({
      fps: Number(document.querySelector('#fps')?.getAttribute('data-fps') ?? 0),
      timings: document.querySelector('#timings')?.getAttribute('data-timings') ?? '{}',
    }));
    fps.push(sample.fps);
    for (const [stage, ms] of Object.entries(JSON.parse(sample.timings) as Record<string, number>)) (stages[stage] ??= []).push(ms);
  }
  const dropped = Number((await counts()) ?? 0) - droppedBefore;
  const result = {
    size: `${width}x${height}`,
    engine: engineStatus,
    seconds,
    fps: { mean: round(mean(fps)), min: Math.min(...fps), max: Math.max(...fps) },
    droppedPerSecond: round(dropped / seconds),
    stagesMs: Object.fromEntries(Object.entries(stages).map(([stage, v]) => [stage, round(mean(v), 2)])),
    target: { fps: TARGET_FPS, met: mean(fps) >= TARGET_FPS },
  };
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(`live app in headless Chromium, ${result.size}, ${engineStatus}, ${seconds} s after ${WARM_UP_SECONDS} s warm-up`);
    console.log(`  fps: mean ${result.fps.mean} (min ${result.fps.min}, max ${result.fps.max}); target ≥ ${TARGET_FPS}: ${result.target.met ? 'met' : 'MISSED'}`);
    console.log(`  camera frames dropped: ${result.droppedPerSecond}/s`);
    console.log(
      `  per stage (ms, worker): ${Object.entries(result.stagesMs)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
