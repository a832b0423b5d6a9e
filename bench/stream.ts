/**
 * What each way of watching `liveswap live` adds to the picture's delay, and the frame rate a
 * viewer gets: the /output page (JPEG frames over a WebSocket) and WHEP (WebRTC), each watched by
 * headless Chromium while the real command runs on a looped clip. Every frame handed to the
 * transport gets its number painted into its top-left corner (16 black or white blocks) and its
 * send time noted; the page reads the number back from each picture it shows and notes when, on
 * the same clock. Reported per transport and size: median and p95 of shown − sent, and the frames
 * shown per second. RTMP is measured by `npm run bench:live-cli` (its delay is the player's
 * buffering). Chromium gathers no ICE candidates on loopback alone, so the bench re-runs itself in
 * a network namespace with a veth pair (root). Needs Chromium and ffmpeg.
 * Run: npm run bench:stream -- --input clip.mp4 [-- --seconds 20] [-- --sizes 640x360,1280x720] [-- --json]
 */

import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runLiveCommand, type LiveFlags } from '../src/cli/live-command.js';
import type { Image } from '../src/core/image.js';
import type { LiveSink } from '../src/node/live/live-output.js';
import { startOutputPage } from '../src/server/output-page.js';
import { startWhepEndpoint } from '../src/server/whep-endpoint.js';
import { buildWebApp, launchChromium, newContext } from '../test/helpers/browser.js';
import { FIXTURES, TEST_HOME } from '../test/helpers/fixtures.js';
import { REPO_ROOT } from '../test/cli/run-cli.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const input = option('--input', '');
const seconds = Number(option('--seconds', '20'));
const sizes = option('--sizes', '640x360,1280x720').split(',');
const json = args.includes('--json');
const WARM_UP_S = 6;
const BITS = 16;
const BLOCK = 16;

if (!input) {
  console.error('usage: npm run bench:stream -- --input clip.mp4 [-- --seconds 20] [-- --sizes 640x360,1280x720] [-- --json]');
  process.exit(2);
}

// Into a network namespace with a veth pair first (see the module comment).
if (process.env.LIVESWAP_BENCH_NETNS !== '1') {
  const veth =
    'ip link set lo up && ip link add v0 type veth peer name v1 && ip addr add 10.77.0.1/24 dev v0 && ip addr add 10.77.0.2/24 dev v1 && ip link set v0 up && ip link set v1 up';
  const run = spawnSync('unshare', ['-n', 'sh', '-c', `${veth} && exec "$0" "$@"`, process.execPath, '--import', 'tsx', ...process.argv.slice(1)], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: { ...process.env, LIVESWAP_BENCH_NETNS: '1' },
  });
  process.exit(run.status ?? 1);
}

const now = (): number => performance.timeOrigin + performance.now();

/** Paints `n` into the frame's top-left corner as BITS blocks (white: 1), in place. */
function stamp(image: Image, n: number): void {
  const { width, channels, data } = image;
  for (let bit = 0; bit < BITS; bit++) {
    const value = (n >> bit) & 1 ? 255 : 0;
    for (let y = 0; y < BLOCK; y++) {
      for (let x = bit * BLOCK; x < (bit + 1) * BLOCK; x++) {
        const o = (y * width + x) * channels;
        data[o] = value;
        data[o + 1] = value;
        data[o + 2] = value;
      }
    }
  }
}

/** The page side: reads the number from a picture's corner (block centres, threshold 128). */
const READ_STAMP = `(pixels, width) => {
  let n = 0;
  for (let bit = 0; bit < ${BITS}; bit++) {
    const o = ((${BLOCK / 2}) * width + bit * ${BLOCK} + ${BLOCK / 2}) * 4;
    if (pixels[o] + pixels[o + 1] + pixels[o + 2] > 384) n |= 1 << bit;
  }
  return n;
}`;

/** /output page: every drawImage onto the output canvas is read back. */
const WATCH_PAGE = `(() => {
  window.__seen = [];
  const read = ${READ_STAMP};
  const draw = CanvasRenderingContext2D.prototype.drawImage;
  CanvasRenderingContext2D.prototype.drawImage = function (...rest) {
    draw.apply(this, rest);
    const at = performance.timeOrigin + performance.now();
    const pixels = this.getImageData(0, 0, ${BITS * BLOCK}, ${BLOCK}).data;
    window.__seen.push([read(pixels, ${BITS * BLOCK}), at]);
  };
})();`;

/** WHEP player: each video frame at its expected display time, read through a small canvas. */
const WATCH_WHEP = `(() => {
  window.__seen = [];
  const read = ${READ_STAMP};
  addEventListener('DOMContentLoaded', () => {
    const video = document.getElementById('video');
    const canvas = document.createElement('canvas');
    canvas.width = ${BITS * BLOCK};
    canvas.height = ${BLOCK};
    const context = canvas.getContext('2d', { willReadFrequently: true });
    const frame = (_now, meta) => {
      context.drawImage(video, 0, 0, ${BITS * BLOCK}, ${BLOCK}, 0, 0, ${BITS * BLOCK}, ${BLOCK});
      const pixels = context.getImageData(0, 0, ${BITS * BLOCK}, ${BLOCK}).data;
      window.__seen.push([read(pixels, ${BITS * BLOCK}), performance.timeOrigin + meta.expectedDisplayTime]);
      video.requestVideoFrameCallback(frame);
    };
    video.requestVideoFrameCallback(frame);
  });
})();`;

/** A sink that numbers and times each frame before handing it on. */
function stamped(inner: LiveSink, sent: Map<number, number>): LiveSink {
  let n = 0;
  return {
    status: inner.status,
    write(image, slot) {
      n = (n + 1) & 0xffff;
      stamp(image, n);
      sent.set(n, now());
      return inner.write(image, slot);
    },
    audio: (pcm, first) => inner.audio(pcm, first),
    endAudio: () => inner.endAudio(),
    finish: () => inner.finish(),
    abort: () => inner.abort(),
  };
}

interface Row {
  transport: 'websocket' | 'webrtc';
  size: string;
  shownPerSecond: number;
  latencyMs: { median: number; p95: number };
  frames: number;
  load1: number;
}

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

async function measure(transport: Row['transport'], size: string, web: string): Promise<Row> {
  const sent = new Map<number, number>();
  const out: string[] = [];
  const stop = new AbortController();
  const flags = {
    source: [resolve(FIXTURES, 'grace_hopper.jpg')],
    input: resolve(input),
    loop: true,
    output: [transport === 'webrtc' ? 'whep:0' : 'output:0'],
    engine: 'mesh',
    videoSize: size,
    videoPreset: 'ultrafast',
    jsonStatus: true,
  };
  process.env.LIVESWAP_HOME = TEST_HOME;
  const run = runLiveCommand(flags as unknown as LiveFlags, {
    terminal: { out: (text) => out.push(text), err: () => undefined },
    signal: stop.signal,
    startPage: async (options) => {
      const page = await startOutputPage({ ...options, webRoot: web });
      return { ...page, sink: stamped(page.sink, sent), close: () => page.close() };
    },
    startWhep: async (options) => {
      const whep = await startWhepEndpoint(options);
      return { ...whep, sink: stamped(whep.sink, sent), close: () => whep.close() };
    },
  });
  let failed: unknown;
  run.catch((error: unknown) => (failed = error));
  let url: string | undefined;
  while (!url && failed === undefined) {
    const event = out.map((line) => JSON.parse(line) as { event: string; url?: string; player?: string }).find((e) => e.event === 'output-page' || e.event === 'whep');
    url = event?.event === 'whep' ? event.player : event?.url;
    if (!url) await new Promise((r) => setTimeout(r, 100));
  }
  if (!url) throw new Error(`the run did not start: ${String(failed)}`);
  const [width, height] = size.split('x').map(Number) as [number, number];
  const browser = await launchChromium({ camera: false, allowCamera: false });
  try {
    const context = await newContext(browser, false);
    await context.addInitScript(transport === 'webrtc' ? WATCH_WHEP : WATCH_PAGE);
    const page = await context.newPage();
    await page.setViewportSize({ width, height });
    await page.goto(url);
    await new Promise((r) => setTimeout(r, WARM_UP_S * 1000));
    await page.evaluate('window.__seen.length = 0');
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const seen = (await page.evaluate('window.__seen')) as [number, number][];
    const latencies: number[] = [];
    const unique = new Set<number>();
    for (const [n, at] of seen) {
      const sentAt = sent.get(n);
      if (sentAt === undefined || unique.has(n)) continue;
      unique.add(n);
      latencies.push(at - sentAt);
    }
    return {
      transport,
      size,
      shownPerSecond: Math.round((unique.size / seconds) * 10) / 10,
      latencyMs: { median: Math.round(quantile(latencies, 0.5)), p95: Math.round(quantile(latencies, 0.95)) },
      frames: unique.size,
      load1: Math.round(loadavg()[0]! * 10) / 10,
    };
  } finally {
    await browser.close();
    stop.abort();
    await run.catch(() => undefined);
  }
}

const web = await buildWebApp();
const rows: Row[] = [];
for (const size of sizes) for (const transport of ['websocket', 'webrtc'] as const) rows.push(await measure(transport, size, web));
if (json) console.log(JSON.stringify(rows));
else {
  for (const row of rows) {
    console.log(
      `${row.transport.padEnd(10)} ${row.size.padEnd(10)} shown ${String(row.shownPerSecond).padStart(5)} fps   added delay median ${row.latencyMs.median} ms, p95 ${row.latencyMs.p95} ms   (${row.frames} frames, load ${row.load1})`,
    );
  }
  console.log('Added delay: from a frame handed to the transport (swapped and marked) to the page showing it; same clock.');
}
// libwebrtc's bindings crash while Node tears down by itself.
process.exit(0);
