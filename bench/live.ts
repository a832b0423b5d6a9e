/**
 * Live app benchmark: the real app in headless Chromium (software rendering, onnxruntime-web on
 * wasm), the built-in mesh engine, a fake 30 fps camera showing either a still face (a fixture
 * photo with a slight sway) or a clip of your own (`--camera FILE`, any video ffmpeg reads,
 * converted to the Y4M Chromium's fake camera plays, looped). An /output page is open in the same
 * browser, as OBS would have it. After a warm-up it samples once a second: the frames shown in that
 * second (per-second windows, so a slow second is seen, not averaged away), the camera frames
 * dropped in it, the worker's per-stage milliseconds and what the quality controller changed; it
 * reports the median and minimum fps, dropped per second, per-stage means, and how many of the
 * frames shown reached /output. Needs chromium (LIVESWAP_CHROMIUM or /usr/bin/chromium) and ffmpeg.
 * Run: npm run bench:live [-- --seconds 20] [-- --size 1280x720] [-- --camera clip.mp4] [-- --json]
 */

import { mkdtemp, open, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cpuBetween, threadCpu } from './chromium-threads.js';
import { lastLines, runFfmpeg } from '../src/node/media/ffmpeg-binary.js';
import { createUiServer } from '../src/server/ui-server.js';
import { browserSkipReason, buildWebApp, fakeCameraClip, launchChromium, newContext } from '../test/helpers/browser.js';
import { FIXTURES, TEST_HOME } from '../test/helpers/fixtures.js';
import { option } from './flags.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const seconds = Number(option('--seconds', '20'));
const [width, height] = option('--size', '640x360').split('x').map(Number) as [number, number];
const cameraFile = option('--camera', '');
const CAMERA_FPS = 30;
const WARM_UP_SECONDS = 4;
/** The figures asked of the app (issue 18): median and minimum fps by size, and /output's share. */
const TARGETS: Record<string, { median: number; min: number }> = { '640x360': { median: 30, min: 25 }, '1280x720': { median: 27, min: 20 } };
const OUTPUT_SHARE = 0.9;

const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** A clip the fake camera plays: the file scaled and padded to width×height at 30 fps, as raw Y4M. */
async function cameraClip(file: string, dir: string): Promise<string> {
  const clip = join(dir, 'camera.y4m');
  const filter = `scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2,fps=${CAMERA_FPS},format=yuv420p`;
  const run = await runFfmpeg(['-loglevel', 'error', '-y', '-i', resolve(file), '-an', '-vf', filter, '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', clip]);
  if (run.code !== 0) throw new Error(`bench:live: ffmpeg could not convert ${file}: ${lastLines(run.stderr)}`);
  return clip;
}

/** What the page records for the per-second breakdown (see {@link recordFrames}); times are the page's performance.now(). */
interface FrameLog {
  /** Each frame back from the worker: when, its stage times, whether faces were detected afresh, faces followed, the controller's rung. */
  frames: { at: number; offered: number; timings: Record<string, number>; detected: boolean; faces: number; level: number }[];
  /** Each video-frame callback of the <video> the camera plays in: when, frames presented so far, the frame's media time (s), frames the camera produced so far (-1: unknown). */
  camera: { at: number; presented: number; mediaTime: number; produced: number }[];
  /** Long tasks (over 50 ms) on the page's main thread. */
  longTasks: { at: number; ms: number }[];
  /** When the /output page drew each frame (on that page). */
  output: number[];
  /** performance.timeOrigin of the page the log is from (to line the two pages' clocks up). */
  origin: number;
}

/**
 * Runs in every page of the context before its scripts: keeps a log of the frames the live worker
 * sends back (by listening on each Worker the page starts), of the camera frames the <video>
 * presents (by wrapping requestVideoFrameCallback), of the main thread's long tasks, and, on the
 * /output page, of each frame drawn. Nothing in the app changes; the bench reads the log afterwards.
 */
function recordFrames(): void {
  const log: FrameLog = { frames: [], camera: [], longTasks: [], output: [], origin: performance.timeOrigin };
  (window as unknown as { __liveBench: FrameLog }).__liveBench = log;
  const NativeWorker = window.Worker;
  window.Worker = class extends NativeWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(url, options);
      this.addEventListener('message', (event: MessageEvent) => {
        const data = event.data as { type?: string; time: number; timings: Record<string, number>; detected: boolean; faces: unknown[]; quality: { level: number } };
        if (data?.type !== 'frame') return;
        log.frames.push({ at: performance.now(), offered: data.time, timings: data.timings, detected: data.detected, faces: data.faces.length, level: data.quality.level });
      });
    }
  };
  // The camera's track: its stats count the frames the device produced (the clip's frame index, as it plays each frame once, looped).
  let camera: MediaStreamTrack | undefined;
  const nativeGetUserMedia = Object.getOwnPropertyDescriptor(MediaDevices.prototype, 'getUserMedia')!.value as (
    this: MediaDevices,
    constraints?: MediaStreamConstraints,
  ) => Promise<MediaStream>;
  MediaDevices.prototype.getUserMedia = async function (this: MediaDevices, constraints?: MediaStreamConstraints): Promise<MediaStream> {
    const stream = await nativeGetUserMedia.call(this, constraints);
    camera = stream.getVideoTracks()[0];
    return stream;
  };
  const nativeCallback = Object.getOwnPropertyDescriptor(HTMLVideoElement.prototype, 'requestVideoFrameCallback')!.value as (
    this: HTMLVideoElement,
    callback: VideoFrameRequestCallback,
  ) => number;
  HTMLVideoElement.prototype.requestVideoFrameCallback = function (this: HTMLVideoElement, callback: VideoFrameRequestCallback): number {
    return nativeCallback.call(this, (now, metadata) => {
      const stats = (camera as (MediaStreamTrack & { stats?: { totalFrames: number } }) | undefined)?.stats;
      log.camera.push({ at: performance.now(), presented: metadata.presentedFrames, mediaTime: metadata.mediaTime, produced: stats?.totalFrames ?? -1 });
      callback(now, metadata);
    });
  };
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) log.longTasks.push({ at: entry.startTime, ms: entry.duration });
    }).observe({ type: 'longtask', buffered: false });
  } catch {
    // No long-task timing in this browser: the column stays empty.
  }
  if (location.pathname === '/output') {
    // The /output page draws each frame it shows with drawImage on its 2D canvas.
    const nativeDraw = Object.getOwnPropertyDescriptor(CanvasRenderingContext2D.prototype, 'drawImage')!.value as (this: CanvasRenderingContext2D, ...args: unknown[]) => void;
    CanvasRenderingContext2D.prototype.drawImage = function (this: CanvasRenderingContext2D, ...args: unknown[]): void {
      log.output.push(performance.now());
      nativeDraw.apply(this, args);
    } as CanvasRenderingContext2D['drawImage'];
  }
}

/** The frames in a Y4M clip (the fake camera's), from its size: a header line, then per frame "FRAME\\n" and the I420 planes. */
async function clipFrames(clip: string): Promise<number> {
  const file = await open(clip, 'r');
  try {
    const head = Buffer.alloc(256);
    await file.read(head, 0, 256, 0);
    const header = head.toString('latin1', 0, head.indexOf(10));
    const w = Number(/ W(\d+)/.exec(header)?.[1] ?? 0);
    const h = Number(/ H(\d+)/.exec(header)?.[1] ?? 0);
    const { size } = await file.stat();
    return Math.floor((size - header.length - 1) / (6 + (w * h * 3) / 2));
  } finally {
    await file.close();
  }
}

/** One second of the run, from the page's log. */
interface SecondRow {
  /** Frames back from the worker in the second (the rate shown). */
  shown: number;
  /** Camera frames the device produced in the second, those the <video> presented, and its video-frame callbacks (frames offered). */
  camera: number;
  presented: number;
  callbacks: number;
  /** The clip's frames the camera played in the second (first–last, looped). */
  clip: string;
  /** Frames detected afresh, and the detector's and tracker's milliseconds summed. */
  detections: number;
  detectMs: number;
  trackMs: number;
  /** The worker's busy milliseconds (frame totals) and the longest frame. */
  busyMs: number;
  maxFrameMs: number;
  /** The longest gap between two frames shown (ms). */
  maxGapMs: number;
  /** Means over the second: read, paint (warp + colour + blend + upscale), mark, draw (ms a frame) and faces followed. */
  read: number;
  paint: number;
  mark: number;
  draw: number;
  faces: number;
  /** The controller's rung at the second's end. */
  level: number;
  /** Long tasks on the page's main thread (ms summed). */
  longTaskMs: number;
  /** Frames the /output page drew in the second. */
  output: number;
}

/** Per-second rows over the measured window, from the logs of the app's page and the /output page. */
function breakdown(log: FrameLog, outputLog: FrameLog, start: number, seconds: number, clipLength: number): SecondRow[] {
  const rows: SecondRow[] = [];
  const shift = outputLog.origin - log.origin;
  const outputTimes = outputLog.output.map((t) => t + shift);
  const presentedBefore = (t: number): number => log.camera.filter((c) => c.at < t).at(-1)?.presented ?? 0;
  const producedBefore = (t: number): number => log.camera.filter((c) => c.at < t).at(-1)?.produced ?? 0;
  for (let s = 0; s < seconds; s++) {
    const from = start + s * 1000;
    const to = from + 1000;
    const frames = log.frames.filter((f) => f.at >= from && f.at < to);
    const camera = log.camera.filter((c) => c.at >= from && c.at < to);
    const clip = camera.map((c) => (c.produced >= 0 ? c.produced : Math.round(c.mediaTime * CAMERA_FPS)) % Math.max(1, clipLength));
    const previous = log.frames.filter((f) => f.at < from).at(-1);
    const times = [...(previous ? [previous.at] : []), ...frames.map((f) => f.at)];
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    const sum = (pick: (t: Record<string, number>) => number): number => frames.reduce((a, f) => a + pick(f.timings), 0);
    const per = (pick: (t: Record<string, number>) => number): number => round(sum(pick) / Math.max(1, frames.length));
    rows.push({
      shown: frames.length,
      camera: producedBefore(to) - producedBefore(from),
      presented: presentedBefore(to) - presentedBefore(from),
      callbacks: camera.length,
      clip: clip.length ? `${clip[0]}–${clip.at(-1)}` : '',
      detections: frames.filter((f) => f.detected).length,
      detectMs: Math.round(sum((t) => t.detect ?? 0)),
      trackMs: Math.round(sum((t) => t.track ?? 0)),
      busyMs: Math.round(sum((t) => t.total ?? 0)),
      maxFrameMs: Math.round(Math.max(0, ...frames.map((f) => f.timings.total ?? 0))),
      maxGapMs: Math.round(Math.max(0, ...gaps)),
      read: per((t) => t.read ?? 0),
      paint: per((t) => (t.warp ?? 0) + (t.colour ?? 0) + (t.blend ?? 0) + (t.upscale ?? 0)),
      mark: per((t) => t.mark ?? 0),
      draw: per((t) => t.draw ?? 0),
      faces: round(frames.reduce((a, f) => a + f.faces, 0) / Math.max(1, frames.length)),
      level: frames.at(-1)?.level ?? 0,
      longTaskMs: Math.round(log.longTasks.filter((l) => l.at >= from && l.at < to).reduce((a, l) => a + l.ms, 0)),
      output: outputTimes.filter((t) => t >= from && t < to).length,
    });
  }
  return rows;
}

/** Each stage's mean over the frames of the window that report it (the worker's timings as each frame sent them), and how many did. */
function frameStages(log: FrameLog, start: number, seconds: number): Record<string, { mean: number; frames: number }> {
  const values = new Map<string, number[]>();
  for (const frame of log.frames.filter((f) => f.at >= start && f.at < start + seconds * 1000)) {
    for (const [stage, ms] of Object.entries(frame.timings)) if (typeof ms === 'number') (values.get(stage) ?? values.set(stage, []).get(stage)!).push(ms);
  }
  return Object.fromEntries([...values].map(([stage, v]) => [stage, { mean: round(mean(v), 2), frames: v.length }]));
}

/** The camera's own rate over the window (frames its device produced each second) and the share of them shown, per second. */
function cameraRate(rows: SecondRow[]): { median: number; min: number; shownShare: { median: number; min: number } } {
  const produced = rows.map((r) => r.camera);
  const shares = rows.map((r) => (r.camera > 0 ? r.shown / r.camera : 0));
  return { median: median(produced), min: Math.min(...produced), shownShare: { median: round(median(shares), 2), min: round(Math.min(...shares), 2) } };
}

/** The per-second rows as a table. */
function printBreakdown(rows: SecondRow[]): void {
  const columns: [string, (r: SecondRow) => string | number][] = [
    ['s', (r) => rows.indexOf(r) + 1],
    ['shown', (r) => r.shown],
    ['camera', (r) => r.camera],
    ['present', (r) => r.presented],
    ['offered', (r) => r.callbacks],
    ['clip', (r) => r.clip],
    ['det', (r) => r.detections],
    ['detMs', (r) => r.detectMs],
    ['trackMs', (r) => r.trackMs],
    ['busyMs', (r) => r.busyMs],
    ['maxFrame', (r) => r.maxFrameMs],
    ['maxGap', (r) => r.maxGapMs],
    ['read', (r) => r.read],
    ['paint', (r) => r.paint],
    ['mark', (r) => r.mark],
    ['draw', (r) => r.draw],
    ['faces', (r) => r.faces],
    ['rung', (r) => r.level],
    ['longTask', (r) => r.longTaskMs],
    ['output', (r) => r.output],
  ];
  const cells = [columns.map(([name]) => name), ...rows.map((r) => columns.map(([, cell]) => String(cell(r))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  for (const row of cells) console.log(`  ${row.map((cell, i) => cell.padStart(widths[i]!)).join(' ')}`);
}

const skip = browserSkipReason();
if (skip) {
  console.error(`bench:live: ${skip}`);
  process.exit(1);
}

const dir = await mkdtemp(join(tmpdir(), 'liveswap-bench-live-'));
const server = await createUiServer({ home: process.env.LIVESWAP_HOME ?? TEST_HOME, port: 0, webRoot: await buildWebApp() });
const camera = cameraFile ? await cameraClip(cameraFile, dir) : await fakeCameraClip(dir, 'astronaut.png', width, height, 4);
const browser = await launchChromium({ camera, allowCamera: true });
try {
  const context = await newContext(browser, true);
  await context.addInitScript(recordFrames);
  const page = await context.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset.engine === 'ready', undefined, { timeout: 120_000 });
  const engineStatus = (await page.textContent('#engine-status'))?.trim();
  await page.setInputFiles('#source-input', join(FIXTURES, 'grace_hopper.jpg'));
  await page.locator('#sources .source-face').first().waitFor({ timeout: 60_000 });
  await page.setChecked('#show-fps', true);
  await page.setChecked('#show-timings', true);
  await page.selectOption('#camera-size', `${width}x${height}`);
  await page.selectOption('#target-kind', 'camera');
  if ((await page.locator('#relay').count()) > 0) await page.setChecked('#relay', true);
  const output = await context.newPage();
  await output.goto(server.outputUrl);
  await page.bringToFront();
  await page.click('#start');
  await page.waitForFunction(() => Number(document.querySelector('#fps')?.getAttribute('data-fps') ?? 0) > 0, undefined, { timeout: 60_000 });
  await page.waitForTimeout(WARM_UP_SECONDS * 1000);

  // Cumulative counts: data attributes where the page keeps them, else the dropped count in the text (older pages).
  const pageCounts = () =>
    page.evaluate(() => {
      const fps = document.querySelector('#fps');
      const dropped = fps?.getAttribute('data-dropped') ?? (fps?.textContent ?? '').match(/(\d+)\s*dropped/)?.[1] ?? '0';
      return { dropped: Number(dropped), controller: fps?.getAttribute('data-controller') ?? '' };
    });
  const outputFrames = () => output.evaluate(() => Number(document.body.dataset.frames ?? 0));

  const fps: number[] = [];
  const droppedPerSecond: number[] = [];
  const stages: Record<string, number[]> = {};
  const changes: string[] = [];
  const load = loadavg()[0]!;
  let before = await pageCounts();
  const outputBefore = await outputFrames();
  const windowStart = await page.evaluate(() => performance.now());
  const cpuBefore = threadCpu();
  for (let s = 0; s < seconds; s++) {
    await page.waitForTimeout(1000);
    const sample = await page.evaluate(() => ({
      fps: Number(document.querySelector('#fps')?.getAttribute('data-fps') ?? 0),
      timings: document.querySelector('#timings')?.getAttribute('data-timings') ?? '{}',
    }));
    const now = await pageCounts();
    fps.push(sample.fps);
    droppedPerSecond.push(now.dropped - before.dropped);
    if (now.controller && now.controller !== before.controller) changes.push(now.controller);
    before = now;
    for (const [stage, ms] of Object.entries(JSON.parse(sample.timings) as Record<string, number>)) (stages[stage] ??= []).push(ms);
  }
  const cpu = cpuBetween(cpuBefore, threadCpu());
  const received = (await outputFrames()) - outputBefore;
  const log = await page.evaluate(() => (window as unknown as { __liveBench: FrameLog }).__liveBench);
  const outputLog = await output.evaluate(() => (window as unknown as { __liveBench: FrameLog }).__liveBench);
  const perSecond = breakdown(log, outputLog, windowStart, seconds, await clipFrames(camera));
  const shown = fps.reduce((a, b) => a + b, 0);
  const size = `${width}x${height}`;
  const target = TARGETS[size];
  const result = {
    size,
    camera: cameraFile || 'still photo (astronaut.png)',
    engine: engineStatus,
    seconds,
    loadAverage: round(load, 2),
    fps: { median: round(median(fps)), min: Math.min(...fps), max: Math.max(...fps), perSecond: fps },
    cameraRate: cameraRate(perSecond),
    droppedPerSecond: { mean: round(mean(droppedPerSecond)), max: Math.max(...droppedPerSecond) },
    stagesMs: Object.fromEntries(Object.entries(stages).map(([stage, v]) => [stage, round(mean(v), 2)])),
    frameStagesMs: frameStages(log, windowStart, seconds),
    output: { shown, received, share: round(received / Math.max(1, shown), 3) },
    perSecond,
    cpuMsPerSecond: cpu.map((t) => ({ ...t, cpuMs: round(t.cpuMs / seconds) })),
    controllerChanges: changes,
    target: target ? { ...target, output: OUTPUT_SHARE, met: median(fps) >= target.median && Math.min(...fps) >= target.min && received >= OUTPUT_SHARE * shown } : undefined,
  };
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(`live app in headless Chromium, ${size}, ${engineStatus}, camera: ${result.camera}, ${seconds} s after ${WARM_UP_SECONDS} s warm-up, load ${result.loadAverage}`);
    console.log(`  fps per second: median ${result.fps.median}, min ${result.fps.min}, max ${result.fps.max} (${fps.join(' ')})`);
    const rate = result.cameraRate;
    console.log(
      `  the camera produced ${rate.median} frames a second (median; min ${rate.min}); frames shown per frame produced, per second: median ${rate.shownShare.median}, min ${rate.shownShare.min}`,
    );
    if (target) console.log(`  target: median ≥ ${target.median}, min ≥ ${target.min}, /output ≥ ${OUTPUT_SHARE * 100} %: ${result.target!.met ? 'met' : 'MISSED'}`);
    console.log(`  camera frames dropped: ${result.droppedPerSecond.mean}/s (max ${result.droppedPerSecond.max} in a second)`);
    console.log(`  /output received ${received} of ${shown} frames shown (${round(result.output.share * 100)} %)`);
    console.log(
      `  per stage (ms, worker): ${Object.entries(result.stagesMs)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    console.log(
      `  per stage over every frame of the window (ms, worker, mean; a stage a frame did not report counts as absent, not 0): ${Object.entries(result.frameStagesMs)
        .map(([k, v]) => `${k} ${v.mean} (${v.frames})`)
        .join(', ')}`,
    );
    for (const change of changes) console.log(`  controller: ${change}`);
    const totalCpu = cpu.reduce((a, t) => a + t.cpuMs, 0);
    console.log(`  CPU of Chromium's processes: ${round(totalCpu / seconds / 1000, 2)} cores; ms a frame shown by thread (those over 1 %):`);
    for (const t of cpu.filter((t) => t.cpuMs > totalCpu * 0.01)) {
      console.log(`    ${round(t.cpuMs / Math.max(1, shown), 2)}  ${t.process} / ${t.name}${t.threads > 1 ? ` ×${t.threads}` : ''}`);
    }
    console.log("  per second (shown, camera, offered: frames; clip: the clip's frames played; det: detections; ms summed, or per frame for read to draw):");
    printBreakdown(perSecond);
  }
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
