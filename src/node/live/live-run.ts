/**
 * A live run: one decoder, one frame processor (stream mode: faces followed, painted, labelled and
 * watermarked), several outputs. The freshest frame wins: the processor always takes the newest
 * decoded frame, and frames that arrived while it worked are dropped (counted); outputs keep the
 * input's timeline by showing the frame before a dropped one for its time. The adaptive quality
 * controller the web app uses holds the frame rate by looking for faces less often. A status is
 * given about once a second; the run ends when the input ends or the signal aborts (Ctrl-C), and
 * then finishes every output cleanly.
 */

import type { Image } from '../../core/image.js';
import { LiveswapError } from '../../core/errors.js';
import { median } from '../../core/median.js';
import type { Face } from '../../face/face.js';
import { QUALITY_LADDER, QualityController, type QualityChange, type QualityLevel } from '../../pipeline/adaptive-quality.js';
import { FrameProcessor, type FrameEngine, type MarkChoice } from '../../pipeline/frame-processor.js';
import { FrameMarker, type MarkSettings } from '../../provenance/marks.js';
import type { SwapOptions } from '../../pipeline/options.js';
import type { PreparedSource } from '../../pipeline/still.js';
import { AUTO_DETECT_EVERY, type VideoFaceOptions } from '../../pipeline/video.js';
import type { VideoPreset } from '../media/ffmpeg-formats.js';
import { LIVE_AUDIO } from './live-args.js';
import { LiveDecoder, type LiveFrame, type LiveInputInfo } from './live-input.js';
import { MarkThread } from '../provenance/mark-thread.js';
import { FfmpegOutput, type LiveSink, type OutputStatus } from './live-output.js';
import type { CameraRequest } from './live-args.js';
import type { LiveInput, LiveOutput } from './live-spec.js';

/** What the status line shows, about once a second. */
export interface LiveStatus {
  /** Seconds since the first frame. */
  seconds: number;
  /** Frames processed per second over the last second. */
  fps: number;
  /** Median time from a frame's arrival to its handing to the outputs, over the last second (ms). */
  latencyMs: number;
  /** Frames dropped (a fresher one came first) per second over the last second. */
  droppedPerSecond: number;
  frames: number;
  dropped: number;
  /** The adaptive controller's rung (0: full quality) and how many there are. */
  quality: { level: number; levels: number };
  /** Where the main thread's time went, per frame over the last second (ms). */
  stages: LiveStages;
  outputs: OutputStatus[];
}

/**
 * The main thread's time per frame, by stage (ms): waiting for the decoder's next frame (the
 * hand-over), finding and following faces, painting them, the marks (label and watermark), and
 * handing the frame to the outputs. Averages over every frame, so a stage that runs on some frames
 * only (detection) counts for what it costs a frame on average.
 */
export interface LiveStages {
  wait: number;
  detect: number;
  track: number;
  paint: number;
  mark: number;
  /** The marks on their own thread (not the main thread's time; 0 when they are drawn on the main thread). */
  markThread: number;
  /** The processor's time outside the stages above (planning, smoothing, the quality controller). */
  other: number;
  /** Waiting for the frame before to be marked and taken by the outputs (their rings full, or the marks thread behind). */
  write: number;
}

const NO_STAGES: LiveStages = { wait: 0, detect: 0, track: 0, paint: 0, mark: 0, markThread: 0, other: 0, write: 0 };

/** Sums of stage times over some frames, and their average. */
class StageTotals {
  private sums: LiveStages = { ...NO_STAGES };
  private count = 0;

  /** One frame's stages. */
  add(stages: LiveStages): void {
    for (const key of Object.keys(stages) as (keyof LiveStages)[]) this.sums[key] += stages[key];
    this.count++;
  }

  /** Time for one stage measured apart from its frame's others (the main thread's wait for the frame before to be handed over). */
  extra(key: keyof LiveStages, ms: number): void {
    this.sums[key] += ms;
  }

  average(): LiveStages {
    const n = Math.max(1, this.count);
    const r = (v: number): number => Math.round((v / n) * 10) / 10;
    const s = this.sums;
    return {
      wait: r(s.wait),
      detect: r(s.detect),
      track: r(s.track),
      paint: r(s.paint),
      mark: r(s.mark),
      markThread: r(s.markThread),
      other: r(s.other),
      write: r(s.write),
    };
  }
}

/** The figures of a whole run. */
export interface LiveSummary {
  seconds: number;
  /** Frames decoded, processed, dropped before processing. */
  decoded: number;
  frames: number;
  dropped: number;
  /** The most frames ever waiting to be processed (the freshest-frame rule keeps it at 1). */
  maxWaiting: number;
  /** Frames processed per second over the run. */
  fps: number;
  /** Median and 95th percentile of arrival → outputs (ms). */
  latencyMs: { median: number; p95: number };
  /** The main thread's time per frame by stage, averaged over the run (ms). */
  stages: LiveStages;
  /** How the run ended: the input ended, or it was stopped. */
  ended: 'input-ended' | 'stopped';
  outputs: OutputStatus[];
  qualityChanges: QualityChange[];
}

export interface LiveRunOptions {
  ffmpegPath: string;
  input: LiveInput;
  info: LiveInputInfo;
  camera?: CameraRequest;
  /** The frame size worked at and sent; default the input's. */
  width: number;
  height: number;
  fps: number;
  outputs: readonly LiveOutput[];
  /** Sinks of the caller's own for some outputs, by index into `outputs` (replacing the ffmpeg output). */
  extraSinks?: ReadonlyMap<number, LiveSink>;
  engine: FrameEngine;
  identities: readonly (PreparedSource | undefined)[];
  paint: SwapOptions;
  tracking: VideoFaceOptions;
  marks: MarkChoice;
  /**
   * The settings `marks` was made from: given, the marks are drawn on a thread of their own while
   * the next frame is found and painted (a frame reaches the outputs only once marked).
   */
  markSettings?: MarkSettings;
  /** Carry the input's sound into the outputs. */
  audio: boolean;
  audioDelayMs: number;
  preset: VideoPreset;
  crf: number;
  /** The frame rate the adaptive controller holds; 0 turns it off. */
  targetFps: number;
  signal?: AbortSignal;
  onStatus?: (status: LiveStatus) => void;
  onEvent?: (message: string) => void;
  /**
   * Called with each frame the processor takes, before it is processed; it may change the frame in
   * place. For measurements only: bench:stream paints the frame's number into it and notes its arrival.
   */
  onFrame?: (frame: LiveFrame) => void;
  /** How often onStatus is called (ms); default 1000. */
  statusEveryMs?: number;
}

/**
 * The detector with a budget while no face is followed: it runs on every `searchEvery`-th frame
 * and the frames between find nothing (what the live app's session does with the same rung).
 */
class SearchBudget {
  level: QualityLevel = { detectFactor: 1, searchEvery: 1 };
  searching = true;
  private skipped = Number.POSITIVE_INFINITY;

  constructor(private readonly analyze: (image: Image, known?: readonly Face[]) => Promise<Face[]>) {}

  find(image: Image, known?: readonly Face[]): Promise<Face[]> {
    if (this.searching && this.skipped + 1 < this.level.searchEvery) {
      this.skipped++;
      return Promise.resolve([]);
    }
    this.skipped = 0;
    return this.analyze(image, known);
  }
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** The input's sound of the last few seconds, by sample number, so an output started late takes it from its first frame's time. */
class AudioRing {
  private chunks: { first: number; pcm: Buffer }[] = [];
  /** Samples received so far. */
  total = 0;

  constructor(private readonly keepSamples: number) {}

  push(pcm: Buffer): { first: number; pcm: Buffer } {
    const chunk = { first: this.total, pcm };
    this.total += pcm.length / (LIVE_AUDIO.channels * LIVE_AUDIO.bytesPerSample);
    this.chunks.push(chunk);
    while (this.chunks.length > 1 && this.chunks[0]!.first < this.total - this.keepSamples) this.chunks.shift();
    return chunk;
  }

  get held(): readonly { first: number; pcm: Buffer }[] {
    return this.chunks;
  }
}

/** Runs the stream until the input ends or `signal` aborts; every output is then finished. */
export async function runLive(options: LiveRunOptions): Promise<LiveSummary> {
  const { width, height, fps } = options;
  const events = options.onEvent ?? (() => undefined);
  const ring = new AudioRing(LIVE_AUDIO.sampleRate * 5);
  const sinks: LiveSink[] = options.outputs.map((output, index) => {
    const extra = options.extraSinks?.get(index);
    if (extra) return extra;
    return new FfmpegOutput(output, {
      ffmpegPath: options.ffmpegPath,
      width,
      height,
      fps,
      audio: options.audio,
      audioDelayMs: options.audioDelayMs,
      preset: options.preset,
      crf: options.crf,
      onEvent: events,
      heldAudio: () => ring.held,
    });
  });

  const budget = new SearchBudget((image, known) => options.engine.analyze(image, known));
  const baseDetectEvery = options.tracking.detectEvery === 'auto' ? (options.engine.track ? AUTO_DETECT_EVERY : 1) : options.tracking.detectEvery;
  const markThread = options.markSettings && options.marks !== false ? new MarkThread(options.markSettings) : undefined;
  if (markThread && options.marks instanceof FrameMarker && markThread.watermarkId !== options.marks.watermarkId) {
    await markThread.close();
    throw new LiveswapError('internal', "The marks thread was given other settings than the run's marks.");
  }
  // With the marks thread the processor leaves the marks to it; every frame still goes through it before any output.
  const processor = FrameProcessor.create(
    { ...options.engine, analyze: (image, known) => budget.find(image, known) },
    { mode: 'stream', paint: options.paint, tracking: options.tracking, marks: markThread ? false : options.marks },
    options.identities,
  );
  // The rungs that work at a lower resolution are left out: every output here has a fixed frame size.
  const ladder = QUALITY_LADDER.filter((level) => (level.scale ?? 1) === 1);
  const quality = options.targetFps > 0 ? new QualityController({ targetFps: options.targetFps, ladder }) : undefined;
  const qualityChanges: QualityChange[] = [];
  // The controller's first rung applies from the first frame.
  if (quality) {
    budget.level = quality.level;
    if (quality.level.detectFactor !== 1) processor.setDetectEvery(baseDetectEvery * quality.level.detectFactor);
  }

  const decoder = new LiveDecoder({
    ffmpegPath: options.ffmpegPath,
    input: options.input,
    ...(options.camera ? { camera: options.camera } : {}),
    width,
    height,
    fps,
    audio: options.audio,
    onAudio: (pcm) => {
      const chunk = ring.push(pcm);
      for (const sink of sinks) sink.audio(chunk.pcm, chunk.first);
    },
    onAudioEnd: () => {
      for (const sink of sinks) sink.endAudio();
    },
  });
  const stop = (): void => void decoder.stop();
  options.signal?.addEventListener('abort', stop, { once: true });

  const latencies: number[] = [];
  let windowLatencies: number[] = [];
  let windowStages = new StageTotals();
  const runStages = new StageTotals();
  let windowFrames = 0;
  let windowDropped = decoder.stats.dropped;
  let started: number | undefined;
  let lastStatus = performance.now();
  let frames = 0;
  const statusEvery = options.statusEveryMs ?? 1000;
  const status = (now: number): LiveStatus => {
    const elapsed = Math.max(1e-3, (now - lastStatus) / 1000);
    return {
      seconds: started === undefined ? 0 : (now - started) / 1000,
      fps: windowFrames / elapsed,
      latencyMs: median(windowLatencies),
      droppedPerSecond: (decoder.stats.dropped - windowDropped) / elapsed,
      frames,
      dropped: decoder.stats.dropped,
      quality: { level: quality?.levelIndex ?? 0, levels: quality ? ladder.length : 1 },
      stages: windowStages.average(),
      outputs: sinks.map((sink) => ({ ...sink.status })),
    };
  };
  const ticker = setInterval(() => {
    const now = performance.now();
    options.onStatus?.(status(now));
    lastStatus = now;
    windowFrames = 0;
    windowLatencies = [];
    windowStages = new StageTotals();
    windowDropped = decoder.stats.dropped;
  }, statusEvery);

  let failed: Error | undefined;
  /** The frame being marked and handed to the outputs, while the next one is processed. */
  let handing: Promise<void> = Promise.resolve();
  try {
    // The first output that cannot start (a refused connection, a folder that cannot be written) stops the run at once.
    const refusal: { error?: Error } = {};
    const refused = (): Error | undefined => refusal.error;
    for (const sink of sinks) {
      if (sink instanceof FfmpegOutput)
        sink.whenStarted().catch((error: unknown) => {
          refusal.error ??= error instanceof Error ? error : new LiveswapError('output', String(error));
          stop();
        });
    }
    for (;;) {
      const asked = performance.now();
      const frame = await decoder.next();
      if (refused()) throw refused()!;
      if (!frame) break;
      options.onFrame?.(frame);
      const begin = performance.now();
      started ??= begin;
      const result = await processor.process(frame.image, frame.slot / fps);
      const busyMs = performance.now() - begin;
      budget.searching = result.plan!.tracks.every((track) => !track.observed);
      const change = quality?.record({ at: begin, busyMs });
      if (change) {
        qualityChanges.push(change);
        budget.level = change.to;
        processor.setDetectEvery(baseDetectEvery * change.to.detectFactor);
        events(`quality ${change.direction}: ${change.what} (${change.why})`);
      }
      const painted = performance.now();
      const t = result.timings;
      const paint = t.warp + t.colour + t.blend;
      const stages: LiveStages = {
        wait: started === begin ? 0 : begin - asked,
        detect: t.detect,
        track: t.track,
        paint,
        mark: t.mark,
        markThread: 0,
        other: Math.max(0, painted - begin - t.detect - t.track - paint - t.mark),
        write: 0,
      };
      // The frame is marked (on the marks thread, while the next one is painted) and handed to the outputs in order.
      const marking = markThread ? markThread.mark(result.image) : Promise.resolve({ image: result.image, ms: 0 });
      const before = handing;
      handing = (async () => {
        const marked = await marking;
        await before;
        stages.markThread = marked.ms;
        await Promise.all(sinks.map((sink) => sink.write(marked.image, frame.slot)));
        windowStages.add(stages);
        runStages.add(stages);
        const latency = performance.now() - frame.arrivedAt;
        latencies.push(latency);
        windowLatencies.push(latency);
        windowFrames++;
        frames++;
      })();
      handing.catch(() => undefined);
      // At most one frame is being marked and handed over while the next is processed.
      const waitFrom = performance.now();
      await before;
      windowStages.extra('write', performance.now() - waitFrom);
      runStages.extra('write', performance.now() - waitFrom);
      if (sinks.every((sink) => sink.status.state === 'failed')) {
        throw (
          refused() ??
          sinks.map((sink) => (sink instanceof FfmpegOutput ? sink.startError : undefined)).find((e) => e !== undefined) ??
          new LiveswapError('output', 'Every output has stopped; ending the stream.')
        );
      }
    }
    await handing;
    if (refused()) throw refused()!;
  } catch (error) {
    failed = error instanceof Error ? error : new LiveswapError('internal', String(error));
  } finally {
    clearInterval(ticker);
    options.signal?.removeEventListener('abort', stop);
    await decoder.stop();
    await handing.catch(() => undefined);
    processor.close();
    await markThread?.close();
  }
  // Finish every output, even after a failure: a recording keeps what was streamed.
  const finishing = await Promise.allSettled(sinks.map((sink) => (failed && !(sink instanceof FfmpegOutput && sink.status.frames > 0) ? sink.abort() : sink.finish())));
  if (failed) throw failed;
  const unfinished = finishing.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (unfinished) throw unfinished.reason instanceof Error ? unfinished.reason : new LiveswapError('output', String(unfinished.reason));
  if (frames === 0) throw new LiveswapError('input-unreadable', 'The input gave no frames before it ended.');
  const now = performance.now();
  const seconds = started === undefined ? 0 : (now - started) / 1000;
  options.onStatus?.(status(now));
  return {
    seconds,
    decoded: decoder.stats.decoded,
    frames,
    dropped: decoder.stats.dropped,
    maxWaiting: decoder.stats.maxWaiting,
    fps: frames / Math.max(seconds, 1e-3),
    latencyMs: { median: median(latencies), p95: percentile(latencies, 0.95) },
    stages: runStages.average(),
    ended: options.signal?.aborted ? 'stopped' : 'input-ended',
    outputs: sinks.map((sink) => ({ ...sink.status })),
    qualityChanges,
  };
}
