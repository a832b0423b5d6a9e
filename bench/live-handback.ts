/**
 * How the live worker's finished frame reaches the page, measured on its own in headless Chromium
 * (software rendering): each way of handing a frame back is run for a few seconds at 30 frames a
 * second, in turns, and timed in the worker (ms a frame) and by the CPU time of Chromium's threads
 * (ms a frame, all processes; see chromium-threads.ts), so copies made outside the worker count too.
 * Ways: `bitmap` (the app's: the pixels put on the worker's canvas, taken as an ImageBitmap, shown on
 * a bitmaprenderer canvas), `bands` (the same in bands of under 960 KiB, one canvas each), and
 * `offscreen` (the page's canvas handed to the worker with transferControlToOffscreen, the pixels put
 * on it there); and the relay's JPEG encoding (`relay-one`: one canvas drawn on for each frame, as the
 * relay did; `relay-turns`: one canvas per encoding under way, in turn) and the /output page's
 * showing of a decoded JPEG (`output-2d`: drawImage on a 2D canvas; `output-bitmap`: a
 * bitmaprenderer canvas). Needs chromium (LIVESWAP_CHROMIUM or /usr/bin/chromium).
 * Run: node --import tsx bench/live-handback.ts [--size 1280x720] [--seconds 3] [--rounds 2] [--ways relay-one,relay-turns]
 */

import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { cpuBetween, threadCpu } from './chromium-threads.js';
import { browserSkipReason, launchChromium } from '../test/helpers/browser.js';
import { option } from './flags.js';

const [width, height] = option('--size', '1280x720').split('x').map(Number) as [number, number];
const seconds = Number(option('--seconds', '3'));
const rounds = Number(option('--rounds', '2'));
const only = option('--ways', '');
const ALL_WAYS = ['bitmap', 'bands', 'offscreen', 'relay-one', 'relay-turns', 'output-2d', 'output-bitmap'] as const;
type Way = (typeof ALL_WAYS)[number];
const WAYS: readonly Way[] = only ? ALL_WAYS.filter((w) => only.split(',').includes(w)) : ALL_WAYS;

/** The worker: makes a frame of pixels and hands it back by the way asked, 30 times a second, for the time asked. */
const WORKER = `
let canvas, context, bands = [], placeholder, placeholderContext, relayCanvases = [], turn = 0, encoding = 0, jpegs = [];
const BAND_BYTES = 960 * 1024;
onmessage = async ({ data }) => {
  if (data.type === 'offscreen') { placeholder = data.canvas; placeholderContext = placeholder.getContext('2d'); return; }
  const { way, width, height, frames } = data;
  const pixels = new Uint8ClampedArray(width * height * 4);
  const image = new ImageData(pixels, width, height);
  const bandRows = Math.max(1, Math.floor(BAND_BYTES / (width * 4)));
  let ms = 0;
  for (let f = 0; f < frames; f++) {
    const due = performance.now() + 1000 / 30;
    // A frame that changes (as a swapped one does): a moving stripe.
    pixels.fill(f & 255);
    for (let y = 0; y < height; y++) pixels[(y * width + ((f * 7) % width)) * 4] = 255;
    const start = performance.now();
    if (way === 'bitmap') {
      if (!canvas || canvas.width !== width) { canvas = new OffscreenCanvas(width, height); context = canvas.getContext('2d', { willReadFrequently: true }); }
      context.putImageData(image, 0, 0);
      const bitmap = canvas.transferToImageBitmap();
      ms += performance.now() - start;
      postMessage({ type: 'bitmaps', bitmaps: [bitmap] }, [bitmap]);
    } else if (way === 'bands') {
      const count = Math.ceil(height / bandRows);
      if (bands.length !== count) bands = Array.from({ length: count }, (_, i) => { const c = new OffscreenCanvas(width, Math.min(bandRows, height - i * bandRows)); return { canvas: c, context: c.getContext('2d', { willReadFrequently: true }) }; });
      const bitmaps = bands.map(({ canvas: c, context: x }, i) => { x.putImageData(image, 0, -i * bandRows, 0, i * bandRows, width, c.height); return c.transferToImageBitmap(); });
      ms += performance.now() - start;
      postMessage({ type: 'bitmaps', bitmaps, bandRows }, bitmaps);
    } else if (way === 'relay-one' || way === 'relay-turns') {
      // The relay: the bitmap drawn on a canvas (one, or one per encoding under way taken in turn) and encoded as JPEG, at most 3 at once.
      if (!canvas || canvas.width !== width) { canvas = new OffscreenCanvas(width, height); context = canvas.getContext('2d', { willReadFrequently: true }); }
      context.putImageData(image, 0, 0);
      const bitmap = canvas.transferToImageBitmap();
      if (relayCanvases.length === 0) relayCanvases = [0, 1, 2].map(() => new OffscreenCanvas(width, height));
      if (encoding < 3) {
        const c = relayCanvases[way === 'relay-one' ? 0 : turn];
        turn = (turn + 1) % 3;
        c.getContext('2d').drawImage(bitmap, 0, 0);
        encoding++;
        c.convertToBlob({ type: 'image/jpeg', quality: 0.85 }).finally(() => encoding--);
      }
      bitmap.close();
      ms += performance.now() - start;
    } else if (way === 'output-2d' || way === 'output-bitmap') {
      // JPEGs made once; the page decodes each and shows it (2D drawImage, or a bitmaprenderer canvas).
      if (jpegs.length === 0) {
        const c = new OffscreenCanvas(width, height); const x = c.getContext('2d');
        for (let j = 0; j < 8; j++) { pixels.fill(j * 30); x.putImageData(image, 0, 0); jpegs.push(await c.convertToBlob({ type: 'image/jpeg', quality: 0.85 })); }
      }
      postMessage({ type: 'jpeg', blob: jpegs[f % jpegs.length], way });
      ms += performance.now() - start;
    } else {
      if (placeholder.width !== width) { placeholder.width = width; placeholder.height = height; }
      placeholderContext.putImageData(image, 0, 0);
      ms += performance.now() - start;
      postMessage({ type: 'shown' });
    }
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
  }
  postMessage({ type: 'done', ms: ms / frames });
};
`;

/** The page: shows what the worker hands back (bitmaprenderer canvases: one, or one a band). */
const PAGE = `<!doctype html><body style="margin:0"><div id="box"></div><canvas id="placeholder"></canvas><script>
const worker = new Worker(URL.createObjectURL(new Blob([${JSON.stringify(WORKER)}], { type: 'text/javascript' })));
const off = document.getElementById('placeholder').transferControlToOffscreen();
worker.postMessage({ type: 'offscreen', canvas: off }, [off]);
const box = document.getElementById('box');
let canvases = [];
let resolveRun;
worker.onmessage = ({ data }) => {
  if (data.type === 'done') return resolveRun(data.ms);
  if (data.type === 'jpeg') return showJpeg(data.blob, data.way === 'output-2d');
  if (data.type !== 'bitmaps') return;
  if (canvases.length !== data.bitmaps.length) {
    box.textContent = '';
    canvases = data.bitmaps.map(() => { const c = document.createElement('canvas'); c.style.display = 'block'; box.append(c); return { c, x: c.getContext('bitmaprenderer') }; });
  }
  data.bitmaps.forEach((b, i) => { const { c, x } = canvases[i]; if (c.width !== b.width) c.width = b.width; if (c.height !== b.height) c.height = b.height; x.transferFromImageBitmap(b); });
};
const out2d = document.createElement('canvas'); document.body.append(out2d); const out2dContext = out2d.getContext('2d');
const outBitmap = document.createElement('canvas'); document.body.append(outBitmap); const outBitmapContext = outBitmap.getContext('bitmaprenderer');
let decoding = 0;
async function showJpeg(blob, twoD) {
  if (decoding >= 3) return;
  decoding++;
  const bitmap = await createImageBitmap(blob);
  decoding--;
  const c = twoD ? out2d : outBitmap;
  if (c.width !== bitmap.width) { c.width = bitmap.width; c.height = bitmap.height; }
  if (twoD) { out2dContext.drawImage(bitmap, 0, 0); bitmap.close(); } else outBitmapContext.transferFromImageBitmap(bitmap);
}
window.runWay = (way, width, height, frames) => new Promise((resolve) => { resolveRun = resolve; worker.postMessage({ way, width, height, frames }); });
</script></body>`;

const skip = browserSkipReason();
if (skip) {
  console.error(`bench:live-handback: ${skip}`);
  process.exit(1);
}
const server = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
const browser = await launchChromium({ camera: false, allowCamera: false });
try {
  const page = await browser.newPage();
  await page.goto(url);
  const frames = Math.round(seconds * 30);
  const results = Object.fromEntries(ALL_WAYS.map((way) => [way, { workerMs: [] as number[], cpuMs: [] as number[], byThread: new Map<string, number>() }]));
  await page.evaluate(([w, h]) => (globalThis as unknown as { runWay: (...a: unknown[]) => Promise<number> }).runWay('bitmap', w, h, 15), [width, height]);
  const load = loadavg()[0]!;
  for (let round = 0; round < rounds; round++) {
    for (const way of WAYS) {
      const before = threadCpu();
      const workerMs = await page.evaluate(([w, wi, h, n]) => (globalThis as unknown as { runWay: (...a: unknown[]) => Promise<number> }).runWay(w, wi, h, n), [
        way,
        width,
        height,
        frames,
      ] as const);
      await page.waitForTimeout(200);
      const cpu = cpuBetween(before, threadCpu());
      const r = results[way];
      r.workerMs.push(workerMs);
      r.cpuMs.push(cpu.reduce((a, t) => a + t.cpuMs, 0) / frames);
      for (const t of cpu) r.byThread.set(`${t.process} / ${t.name}`, (r.byThread.get(`${t.process} / ${t.name}`) ?? 0) + t.cpuMs / frames / rounds);
    }
  }
  const f = (v: number) => v.toFixed(2);
  console.log(`hand-back of a ${width}x${height} frame, ${frames} frames a way a round, ${rounds} rounds in turns, load ${load.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`);
  for (const way of WAYS) {
    const r = results[way];
    console.log(`  ${way.padEnd(9)} worker ms a frame ${r.workerMs.map(f).join(' / ')}; Chromium CPU ms a frame (all threads) ${r.cpuMs.map(f).join(' / ')}`);
    const top = [...r.byThread].sort((a, b) => b[1] - a[1]).slice(0, 6);
    for (const [name, ms] of top) console.log(`      ${f(ms)}  ${name}`);
  }
} finally {
  await browser.close();
  server.close();
}
