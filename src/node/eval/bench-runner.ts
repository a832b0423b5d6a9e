/**
 * `liveswap bench`: per-stage latency (min, median, p95), throughput and peak memory of the swap
 * for still images, a video file and a simulated live camera, on frames made from the bundled
 * photos. Benchmarks of the individual issues build on these functions.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Image } from '../../core/image.js';
import { resolveSwapOptions, type EngineChoice } from '../../pipeline/options.js';
import { createVideoWriter, readFrames } from '../media/ffmpeg.js';
import { decodeImage, encodeImage } from '../media/image-io.js';
import { defaultMarker } from '../provenance/default-marks.js';
import type { BenchMode } from './bench-modes.js';
import { summarise, type Summary } from './eval-stats.js';
import type { PreparedSource } from '../../pipeline/still.js';
import type { NodeSwapper } from '../jobs/swapper.js';

export interface BenchOptions {
  engine: EngineChoice;
  width: number;
  height: number;
  frames: number;
  /** Folder of the bundled photos. */
  photos: string;
}

export interface BenchResult {
  mode: BenchMode;
  frames: number;
  /** Milliseconds per stage over the frames. */
  stages: Record<string, Summary>;
  /** Frames per second over the whole run, end to end. */
  throughputFps: number;
  /** Highest resident memory seen during the run, MiB. */
  peakRssMb: number;
  /** Live only: frames the camera produced, frames dropped because the swap was busy, capture-to-output latency. */
  live?: { cameraFps: number; produced: number; dropped: number; latency: Summary };
}

/** Collects per-stage samples and the peak RSS while a mode runs. */
export class StageRecorder {
  private readonly samples: Record<string, number[]> = {};
  private peak = process.memoryUsage().rss;

  add(stage: string, ms: number): void {
    (this.samples[stage] ??= []).push(ms);
  }

  addAll(timings: Record<string, number>): void {
    for (const [k, v] of Object.entries(timings)) this.add(k, v);
  }

  sampleMemory(): void {
    this.peak = Math.max(this.peak, process.memoryUsage().rss);
  }

  stages(): Record<string, Summary> {
    return Object.fromEntries(Object.entries(this.samples).map(([k, v]) => [k, summarise(v)]));
  }

  peakRssMb(): number {
    return this.peak / 2 ** 20;
  }
}

/**
 * A width×height frame with one face: the target portrait scaled to 85 % of the frame height and
 * placed right of centre on a plain background, as a webcam or a video would show a person.
 */
export async function makeBenchFrame(photos: string, width: number, height: number): Promise<Image> {
  const portrait = await sharp(join(photos, 'grace_hopper.jpg'))
    .resize({ height: Math.round(height * 0.85) })
    .toBuffer({ resolveWithObject: true });
  const left = Math.max(0, Math.min(width - portrait.info.width, Math.round(width * 0.55)));
  // Composite runs last in a sharp pipeline, so the alpha it adds is dropped in a second pass.
  const composed = await sharp({ create: { width, height, channels: 3, background: { r: 90, g: 96, b: 104 } } })
    .composite([{ input: portrait.data, left, top: Math.round(height * 0.08) }])
    .png({ compressionLevel: 0 })
    .toBuffer();
  const { data, info } = await sharp(composed).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length) };
}

const WARM_UP = 2;

/** Still images: decode a JPEG, swap, encode a JPEG, per frame. */
export async function benchImage(swapper: NodeSwapper, source: PreparedSource, options: BenchOptions): Promise<BenchResult> {
  const frame = await makeBenchFrame(options.photos, options.width, options.height);
  const jpeg = await encodeImage(frame, 'jpeg');
  const swapOptions = resolveSwapOptions({ engine: options.engine });
  // Every frame is marked, as the CLI's are: the figures include the marks' cost.
  const marks = await defaultMarker('still');
  const recorder = new StageRecorder();
  let started = 0;
  for (let i = 0; i < options.frames + WARM_UP; i++) {
    if (i === WARM_UP) started = performance.now();
    const t0 = performance.now();
    const target = await decodeImage(jpeg, 'bench frame', { maxPixels: swapOptions.maxPixels });
    const t1 = performance.now();
    const { image, report } = await swapper.swap(source, target, swapOptions, { marks });
    const t2 = performance.now();
    await encodeImage(image, 'jpeg');
    const t3 = performance.now();
    recorder.sampleMemory();
    if (i < WARM_UP) continue;
    recorder.add('decode', t1 - t0);
    recorder.addAll(stageTimings(report.timings));
    recorder.add('encode', t3 - t2);
    recorder.add('total', t3 - t0);
  }
  return result('image', options.frames, recorder, performance.now() - started);
}

/** A clip of `frames` frames: the bench frame drifting slowly sideways, as a person sways. */
async function makeBenchClip(path: string, frame: Image, frames: number, fps: number): Promise<void> {
  const writer = await createVideoWriter(path, { width: frame.width, height: frame.height, fps, crf: 20 });
  const moved = { ...frame, data: new Uint8ClampedArray(frame.data.length) };
  try {
    for (let i = 0; i < frames; i++) {
      const shift = Math.round(8 * Math.sin((i / fps) * Math.PI)) * 3;
      // Whole pixels (3 bytes) of horizontal drift; the rows wrap, which a face in the middle never sees.
      if (shift >= 0) moved.data.set(frame.data.subarray(shift), 0);
      else moved.data.set(frame.data.subarray(0, frame.data.length + shift), -shift);
      await writer.write(moved);
    }
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/**
 * A video file end to end: ffmpeg decodes into a pipe, each frame is swapped, ffmpeg encodes from
 * a pipe. `decode` and `encode` are the waits on the two pipes.
 */
export async function benchVideo(swapper: NodeSwapper, source: PreparedSource, options: BenchOptions, fps = 30): Promise<BenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'liveswap-bench-'));
  try {
    const input = join(dir, 'input.mp4');
    await makeBenchClip(input, await makeBenchFrame(options.photos, options.width, options.height), options.frames + WARM_UP, fps);
    const swapOptions = resolveSwapOptions({ engine: options.engine });
    // Every frame is marked, as the CLI's are: the figures include the marks' cost.
    const marks = await defaultMarker('video');
    const recorder = new StageRecorder();
    const writer = await createVideoWriter(join(dir, 'output.mp4'), { width: options.width, height: options.height, fps });
    let index = 0;
    let started = performance.now();
    const frames = readFrames(input);
    try {
      for (;;) {
        const t0 = performance.now();
        const next = await frames.next();
        if (next.done) break;
        const t1 = performance.now();
        const { image, report } = await swapper.swap(source, next.value, swapOptions, { marks });
        const t2 = performance.now();
        await writer.write(image);
        const t3 = performance.now();
        recorder.sampleMemory();
        if (index++ < WARM_UP) {
          started = performance.now();
          continue;
        }
        recorder.add('decode', t1 - t0);
        recorder.addAll(stageTimings(report.timings));
        recorder.add('encode', t3 - t2);
        recorder.add('total', t3 - t0);
      }
      await writer.close();
    } catch (error) {
      await writer.abort();
      throw error;
    } finally {
      // Stops the decoder (and reaps ffmpeg) if the loop ended early.
      await frames.return(undefined);
    }
    return result('video', index - WARM_UP, recorder, performance.now() - started);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The per-frame stages of a swap report (the source is prepared once, not per frame). */
export function stageTimings(timings: Record<string, number>): Record<string, number> {
  const { detect = 0, mesh = 0, warp = 0, colour = 0, blend = 0 } = timings;
  return { detect, mesh, warp, colour, blend };
}

/**
 * A camera producing frames at `cameraFps` while the swap runs as fast as it can on the newest
 * frame: older frames are dropped, never queued, as a live preview must. Latency is from a frame's
 * capture to the end of its swap.
 */
export async function benchLive(swapper: NodeSwapper, source: PreparedSource, options: BenchOptions, cameraFps = 30): Promise<BenchResult> {
  const frame = await makeBenchFrame(options.photos, options.width, options.height);
  const swapOptions = resolveSwapOptions({ engine: options.engine });
  // Every frame is marked, as the CLI's are: the figures include the marks' cost.
  const marks = await defaultMarker('video');
  const recorder = new StageRecorder();
  const latencies: number[] = [];
  const interval = 1000 / cameraFps;
  for (let i = 0; i < WARM_UP; i++) await swapper.swap(source, frame, swapOptions, { marks });
  const start = performance.now();
  let processed = 0;
  let lastCaptured = -1;
  let dropped = 0;
  while (processed < options.frames) {
    // The newest frame the camera has produced by now; everything between it and the last one
    // processed was missed.
    const now = performance.now();
    let index = Math.floor((now - start) / interval);
    if (index === lastCaptured) {
      await new Promise((r) => setTimeout(r, Math.max(0, start + (index + 1) * interval - now)));
      index = lastCaptured + 1;
    }
    dropped += Math.max(0, index - lastCaptured - 1);
    lastCaptured = index;
    const capturedAt = start + index * interval;
    const { report } = await swapper.swap(source, frame, swapOptions, { marks });
    latencies.push(performance.now() - capturedAt);
    recorder.addAll(stageTimings(report.timings));
    recorder.sampleMemory();
    processed++;
  }
  const elapsed = performance.now() - start;
  const res = result('live', processed, recorder, elapsed);
  res.live = { cameraFps, produced: lastCaptured + 1, dropped, latency: summarise(latencies) };
  return res;
}

export function result(mode: BenchResult['mode'], frames: number, recorder: StageRecorder, elapsedMs: number): BenchResult {
  return { mode, frames, stages: recorder.stages(), throughputFps: (frames * 1000) / elapsedMs, peakRssMb: recorder.peakRssMb() };
}
