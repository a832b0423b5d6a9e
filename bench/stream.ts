/**
 * Glass-to-glass delay and frame rate of `liveswap live` through each way of watching it: RTMP
 * (pushed to a real nginx-rtmp on loopback and pulled by ffmpeg), the /output page (JPEG frames over
 * a WebSocket, watched by headless Chromium) and WHEP (WebRTC, watched by headless Chromium), at each
 * size, while the real command (mesh engine, marks on, its default x264 preset) runs in this process
 * on a looped clip. Each input frame gets its number painted into its top-left corner (frame-stamp.ts)
 * as the swap takes it (liveswap live's onFrame hook), and the time its decoded picture arrived from
 * the input's decoder is noted; the viewer reads the number back from every picture it gets and notes
 * when, on the same clock. Reported per transport and size:
 *   - glass to glass: median and p95 of got − arrived, for the first picture of each number;
 *   - fps: different pictures got per second (the swap's rate as the viewer sees it);
 *   - for the page and WHEP also the transport's own part (got − handed to the transport), and for
 *     every row the run's own arrival → outputs median.
 * What each figure includes, from the input frame's arrival (after the input's decoder; a camera's
 * exposure and capture are not in it): the swap, the marks, then
 *   - RTMP: x264 (`--video-preset`, default superfast, zerolatency), the FLV mux, nginx-rtmp's relay,
 *     and the puller's demux and decode (ffmpeg with -fflags nobuffer -flags low_delay, on a thread
 *     of its own so the swap does not hold the reading up); not a player's buffer (OBS, VLC and
 *     browsers' players add their own, often seconds);
 *   - WebSocket: the JPEG encode, the socket, and the page's decode and draw;
 *   - WebRTC: libwebrtc's VP8 encode, pacing and RTP, and the browser's jitter buffer (asked for
 *     none), decode and display time.
 * Chromium gathers no ICE candidates on loopback alone, so the bench re-runs itself in a network
 * namespace with a veth pair (root). Needs Chromium, ffmpeg, and nginx with libnginx-mod-rtmp for
 * the RTMP rows (skipped with the reason where missing).
 * Run: npm run bench:stream [-- --input clip.mp4] [-- --seconds 20] [-- --sizes 640x360,1280x720]
 *        [-- --transports rtmp,websocket,webrtc] [-- --no-audio] [-- --json]
 * Without --input the clip is a face photo held still, swaying slightly, with a tone (made in a
 * temporary folder). --no-audio leaves the sound out of the outputs: RTMP carries it by default,
 * and the FLV mux holds each picture until the sound of its time has come (see the README).
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runLiveCommand, type LiveFlags } from '../src/cli/live-command.js';
import { ffmpegPath, fileUrlArg, lastLines, runFfmpeg } from '../src/node/media/ffmpeg-binary.js';
import type { LiveSink } from '../src/node/live/live-output.js';
import { startOutputPage } from '../src/server/output-page.js';
import { startWhepEndpoint } from '../src/server/whep-endpoint.js';
import { buildWebApp, launchChromium, newContext } from '../test/helpers/browser.js';
import { FIXTURES, TEST_HOME } from '../test/helpers/fixtures.js';
import { rtmpUnavailable, startRtmp, type RtmpServer } from '../test/helpers/rtmp-server.js';
import { paintStamp, READ_STAMP_SCRIPT, STAMP_SIZE } from './frame-stamp.js';
import { startStampPuller } from './stamp-puller.js';
import { enterNamespace } from '../test/helpers/netns.js';
import { option } from './flags.js';

const args = process.argv.slice(2);
const inputFile = option('--input', '');
const seconds = Number(option('--seconds', '20'));
const sizes = option('--sizes', '640x360,1280x720').split(',');
const TRANSPORTS = ['rtmp', 'websocket', 'webrtc'] as const;
type Transport = (typeof TRANSPORTS)[number];
const transports = option('--transports', TRANSPORTS.join(','))
  .split(',')
  .filter((t): t is Transport => (TRANSPORTS as readonly string[]).includes(t));
const json = args.includes('--json');
/** The input's sound left out of the outputs (liveswap live --no-audio). */
const noAudio = args.includes('--no-audio');
const WARM_UP_S = 6;
const FPS = 30;

// Into a network namespace with a veth pair first (see the module comment).
enterNamespace();

/** Milliseconds since the epoch, precise to the microsecond: the clock of every time noted here. */
const now = (): number => performance.timeOrigin + performance.now();

/** The default input: a face photo held still, swaying slightly, framed in grey, with a quiet tone; 10 s at 1280×720. */
async function makeInput(dir: string): Promise<string> {
  const out = join(dir, 'input.mp4');
  const run = await runFfmpeg([
    ...['-loglevel', 'error', '-y', '-loop', '1', '-framerate', String(FPS), '-i', fileUrlArg(join(FIXTURES, 'grace_hopper.jpg'))],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '10'],
    '-filter_complex',
    `[0:v]fps=${FPS},crop=iw*0.9:ih*0.9:iw*0.05+iw*0.04*sin(t):ih*0.05,scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2:gray,format=yuv420p[v]`,
    ...['-map', '[v]', '-map', '1:a', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-g', String(FPS), '-c:a', 'aac', '-shortest', fileUrlArg(out)],
  ]);
  if (run.code !== 0) throw new Error(`making the input: ${lastLines(run.stderr, 4)}`);
  return out;
}

/** The /output page: every drawImage onto the output canvas is read back. */
const WATCH_PAGE = `(() => {
  window.__seen = [];
  const read = ${READ_STAMP_SCRIPT};
  const draw = CanvasRenderingContext2D.prototype.drawImage;
  CanvasRenderingContext2D.prototype.drawImage = function (...rest) {
    draw.apply(this, rest);
    const at = performance.timeOrigin + performance.now();
    const pixels = this.getImageData(0, 0, ${STAMP_SIZE}, ${STAMP_SIZE}).data;
    window.__seen.push([read(pixels, ${STAMP_SIZE}), at]);
  };
})();`;

/** WHEP player: each video frame at its expected display time, read through a small canvas. */
const WATCH_WHEP = `(() => {
  window.__seen = [];
  const read = ${READ_STAMP_SCRIPT};
  addEventListener('DOMContentLoaded', () => {
    const video = document.getElementById('video');
    const canvas = document.createElement('canvas');
    canvas.width = ${STAMP_SIZE};
    canvas.height = ${STAMP_SIZE};
    const context = canvas.getContext('2d', { willReadFrequently: true });
    const frame = (_now, meta) => {
      context.drawImage(video, 0, 0, ${STAMP_SIZE}, ${STAMP_SIZE}, 0, 0, ${STAMP_SIZE}, ${STAMP_SIZE});
      const pixels = context.getImageData(0, 0, ${STAMP_SIZE}, ${STAMP_SIZE}).data;
      window.__seen.push([read(pixels, ${STAMP_SIZE}), performance.timeOrigin + meta.expectedDisplayTime]);
      video.requestVideoFrameCallback(frame);
    };
    video.requestVideoFrameCallback(frame);
  });
})();`;

/** A sink that notes when each frame (by its stamped number) is handed to it. */
function timed(inner: LiveSink, handed: Map<number, number>): LiveSink {
  return {
    status: inner.status,
    write(image, slot) {
      handed.set(slot & 0xffff, now());
      return inner.write(image, slot);
    },
    audio: (pcm, first) => inner.audio(pcm, first),
    endAudio: () => inner.endAudio(),
    finish: () => inner.finish(),
    abort: () => inner.abort(),
  };
}

interface Row {
  transport: Transport;
  size: string;
  /** Different pictures the viewer got per second. */
  fps: number;
  /** Input frame arrived → the viewer got it (ms). */
  glassMs: { median: number; p95: number };
  /** Handed to the transport → the viewer got it (ms); not for RTMP (its encoder is inside the run). */
  transportMs?: { median: number; p95: number };
  /** The run's own arrival → outputs (ms): the median of its per-second medians over the measured seconds. */
  pipelineMs: number;
  /** The run's frames swapped per second over the measured seconds. */
  swappedFps: number;
  frames: number;
  unreadable: number;
  load1: number;
}

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

/** Delays of the first sighting of each number from `since` (ms), rounded. */
function delays(seen: readonly [number, number][], since: ReadonlyMap<number, number>): { median: number; p95: number; count: number } {
  const first = new Map<number, number>();
  for (const [n, at] of seen) if (n >= 0 && !first.has(n)) first.set(n, at);
  const values = [...first].flatMap(([n, at]) => (since.has(n) ? [at - since.get(n)!] : []));
  return { median: Math.round(quantile(values, 0.5)), p95: Math.round(quantile(values, 0.95)), count: values.length };
}

interface RunEvent {
  event: string;
  url?: string;
  player?: string;
  seconds?: number;
  frames?: number;
  latencyMs?: number;
  outputs?: { state: string }[];
}

/** Runs `liveswap live` to one output of `transport`, watches it, and measures. */
async function measure(transport: Transport, size: string, input: string, web: string, rtmp: RtmpServer | undefined): Promise<Row> {
  const arrived = new Map<number, number>();
  const handed = new Map<number, number>();
  const out: string[] = [];
  const events = (): RunEvent[] => out.map((line) => JSON.parse(line) as RunEvent);
  const stop = new AbortController();
  const rtmpUrl = rtmp ? `${rtmp.url}/bench` : '';
  const flags = {
    source: [resolve(FIXTURES, 'grace_hopper.jpg')],
    input,
    loop: true,
    output: [transport === 'webrtc' ? 'whep:0' : transport === 'websocket' ? 'output:0' : rtmpUrl],
    engine: 'mesh',
    videoSize: size,
    jsonStatus: true,
    ...(noAudio ? { audio: false } : {}),
  };
  process.env.LIVESWAP_HOME = TEST_HOME;
  const run = runLiveCommand(flags as unknown as LiveFlags, {
    terminal: { out: (text) => out.push(text), err: () => undefined },
    signal: stop.signal,
    onFrame: (frame) => {
      paintStamp(frame.image, frame.slot);
      arrived.set(frame.slot & 0xffff, performance.timeOrigin + frame.arrivedAt);
    },
    startPage: async (options) => {
      const page = await startOutputPage({ ...options, webRoot: web });
      return { ...page, sink: timed(page.sink, handed), close: () => page.close() };
    },
    startWhep: async (options) => {
      const whep = await startWhepEndpoint(options);
      return { ...whep, sink: timed(whep.sink, handed), close: () => whep.close() };
    },
  });
  let failed: string | undefined;
  run.catch((error: unknown) => (failed = error instanceof Error ? error.message : String(error)));
  const statuses = (): RunEvent[] => events().filter((e) => e.event === 'status');
  /** The run's status lines over the measured seconds: [first, last]. */
  const span: { from?: number; to?: number } = {};
  const waitFor = async (ready: () => boolean): Promise<void> => {
    while (!ready() && failed === undefined) await new Promise((r) => setTimeout(r, 100));
    if (failed !== undefined) throw new Error(`liveswap live stopped: ${failed}`);
  };
  let seen: [number, number][];
  let unreadable: number;
  try {
    if (transport === 'rtmp') {
      await waitFor(() => events().some((e) => e.event === 'status' && e.outputs?.[0]?.state === 'live'));
      const puller = startStampPuller({ ffmpeg: ffmpegPath(), url: rtmpUrl });
      try {
        await puller.first;
        await new Promise((r) => setTimeout(r, WARM_UP_S * 1000));
        puller.reset();
        span.from = statuses().length;
        await new Promise((r) => setTimeout(r, seconds * 1000));
        span.to = statuses().length;
      } finally {
        const got = await puller.stop();
        seen = got.seen;
        unreadable = got.unreadable;
      }
    } else {
      let url: string | undefined;
      await waitFor(() => {
        const event = events().find((e) => e.event === 'output-page' || e.event === 'whep');
        url = event?.event === 'whep' ? event.player : event?.url;
        return url !== undefined;
      });
      const [width, height] = size.split('x').map(Number) as [number, number];
      const browser = await launchChromium({ camera: false, allowCamera: false });
      try {
        const context = await newContext(browser, false);
        await context.addInitScript(transport === 'webrtc' ? WATCH_WHEP : WATCH_PAGE);
        const page = await context.newPage();
        await page.setViewportSize({ width, height });
        await page.goto(url!);
        await new Promise((r) => setTimeout(r, WARM_UP_S * 1000));
        await page.evaluate('window.__seen.length = 0');
        span.from = statuses().length;
        await new Promise((r) => setTimeout(r, seconds * 1000));
        span.to = statuses().length;
        const all = (await page.evaluate('window.__seen')) as [number, number][];
        seen = all.filter(([n]) => n >= 0);
        unreadable = all.length - seen.length;
      } finally {
        await browser.close();
      }
    }
  } finally {
    stop.abort();
    await run.catch(() => undefined);
  }
  if (failed !== undefined) throw new Error(`liveswap live stopped: ${failed}`);
  // The run's own figures over the measured seconds, from its status lines.
  const measured = statuses().slice(span.from, span.to);
  const first = measured[0];
  const last = measured.at(-1);
  const swapped = first && last && last !== first ? (last.frames! - first.frames!) / (last.seconds! - first.seconds!) : Number.NaN;
  const glass = delays(seen, arrived);
  const own = delays(seen, handed);
  return {
    transport,
    size,
    fps: Math.round((glass.count / seconds) * 10) / 10,
    glassMs: { median: glass.median, p95: glass.p95 },
    ...(transport === 'rtmp' ? {} : { transportMs: { median: own.median, p95: own.p95 } }),
    pipelineMs: Math.round(
      quantile(
        measured.slice(1).map((e) => e.latencyMs!),
        0.5,
      ),
    ),
    swappedFps: Math.round(swapped * 10) / 10,
    frames: glass.count,
    unreadable,
    load1: Math.round(loadavg()[0]! * 10) / 10,
  };
}

function print(row: Row): void {
  const ms = (d: { median: number; p95: number } | undefined): string => (d ? `${String(d.median).padStart(4)} / ${String(d.p95).padStart(4)}` : '     —     ');
  console.log(
    `${row.transport.padEnd(10)} ${row.size.padEnd(9)} ${String(row.fps).padStart(5)}   ${ms(row.glassMs)}      ${ms(row.transportMs)}      ${String(row.pipelineMs).padStart(4)}     ${String(row.swappedFps).padStart(5)}   ${String(row.frames).padStart(5)} ${String(row.unreadable).padStart(4)}   ${row.load1}`,
  );
}

const dir = await mkdtemp(join(tmpdir(), 'liveswap-bench-stream-'));
let rtmp: RtmpServer | undefined;
try {
  const input = inputFile ? resolve(inputFile) : await makeInput(dir);
  const noRtmp = transports.includes('rtmp') ? rtmpUnavailable() : undefined;
  if (noRtmp) console.log(`RTMP skipped: ${noRtmp}`);
  if (transports.includes('rtmp') && !noRtmp) rtmp = await startRtmp();
  const web = await buildWebApp();
  const rows: Row[] = [];
  if (!json) {
    console.log(`liveswap live, mesh engine, marks on, default x264 preset; ${inputFile || 'a face photo swaying (made here)'} looped; ${seconds} s measured after ${WARM_UP_S} s`);
    console.log('transport  size        fps   glass to glass   transport only   pipeline  swapped  frames  bad   load');
    console.log('                             median / p95 ms  median / p95 ms  median ms    fps');
  }
  for (const size of sizes) {
    for (const transport of transports) {
      if (transport === 'rtmp' && !rtmp) continue;
      const row = await measure(transport, size, input, web, rtmp);
      rows.push(row);
      if (!json) print(row);
    }
  }
  if (json) console.log(JSON.stringify(rows));
  else {
    console.log('glass to glass: from the input frame arriving from its decoder (its number painted in) to the viewer getting it, same clock;');
    console.log('  RTMP: x264 + FLV + nginx-rtmp + ffmpeg pull (nobuffer, low_delay) demux and decode, no player buffer; WebSocket: JPEG + socket + page decode and draw;');
    console.log('  WebRTC: VP8 + RTP + the browser jitter buffer (asked for none), decode and display time.');
    console.log("transport only: handed to the page or WHEP sink -> got. pipeline: the run's own arrival -> outputs. fps: different pictures got per second.");
  }
} finally {
  await rtmp?.close();
  await rm(dir, { recursive: true, force: true });
}
// libwebrtc's bindings crash while Node tears down by itself.
process.exit(0);
