/**
 * Swapping a video file: ffmpeg decodes into a pipe of raw frames, each frame is planned (tracked,
 * smoothed faces) and painted, then marked (label and watermark) on a thread of its own while the
 * next frame is planned and painted, and a second ffmpeg encodes from a pipe, with the source's
 * frame times and audio. Nothing goes to disk but the output, written under a temporary name and
 * renamed when complete.
 */

import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { LiveswapError, invalidOption } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { FrameProcessor, type FrameEngine, type MarkChoice, type MarksApplied, type ProcessTimings } from '../../pipeline/frame-processor.js';
import type { SwapOptions } from '../../pipeline/options.js';
import { pumpFrames, type PumpStats } from '../../pipeline/pump.js';
import { recyclingSink } from '../../pipeline/frame-io.js';
import type { PreparedSource } from '../../pipeline/still.js';
import type { FramePlan, VideoFaceOptions } from '../../pipeline/video.js';
import { resolveFfmpeg, type FfmpegOptions } from '../media/ffmpeg-binary.js';
import { probeVideo, type VideoInfo } from '../media/ffmpeg-probe.js';
import { frameSeconds, readFrameTiming, timingFps, type FrameTiming } from '../media/ffmpeg-timing.js';
import { createVideoSink } from '../media/ffmpeg-sink.js';
import { openVideoSource } from '../media/ffmpeg-source.js';
import { audioCopies, type VideoCodec, type VideoPixelFormat, type VideoPreset } from '../media/ffmpeg-write.js';
import { defaultMarker } from '../provenance/default-marks.js';
import { MarkThread, markingSink } from '../provenance/mark-thread.js';
import { FrameMarker } from '../../provenance/marks.js';
import type { NodeSwapper } from './swapper.js';

/** A point in a video: seconds, or a frame index. */
export type VideoPoint = { seconds: number } | { frame: number };

/** Parses "12.5", "1:02.5", "01:02:03.25" (time) or "150f" (frame index). */
export function parseVideoPoint(flag: string, raw: string): VideoPoint {
  const text = raw.trim();
  const frame = /^(\d+)f$/i.exec(text);
  if (frame) return { frame: Number(frame[1]) };
  const parts = text.split(':');
  if (parts.length <= 3 && parts.every((p, i) => (i === parts.length - 1 ? /^\d+(\.\d+)?$/ : /^\d+$/).test(p))) {
    const seconds = parts.reduce((total, p) => total * 60 + Number(p), 0);
    return { seconds };
  }
  throw invalidOption(flag, 'a time (12.5, 1:02.5, 0:01:02.5) or a frame number (150f)', raw);
}

export interface VideoEncoding {
  codec?: VideoCodec;
  /** Deep-Live-Cam's --video-quality: 0 (best) … 51; VP9's 0–63 scale is mapped onto it. */
  quality?: number;
  preset?: VideoPreset;
  /** Output frame rate; default: the source's own frame times (variable rates too). */
  fps?: number;
  /** Keep the audio (default true). */
  audio?: boolean;
  trimStart?: VideoPoint;
  trimEnd?: VideoPoint;
}

export interface VideoProgress {
  frame: number;
  /** Frames expected (after trimming); an estimate when the rate changes. */
  total: number;
  /** Frames per second so far. */
  fps: number;
  etaSeconds: number;
  elapsedSeconds: number;
}

export interface VideoSwapRequest {
  input: string;
  output: string;
  /** Where the encoder writes, when not `output` itself (e.g. a temporary file signed afterwards). */
  writeTo?: string;
  /**
   * Called (and awaited) on every frame once planned, before it is painted: benchmarks and tests
   * look at the plan. The frame's pixels are only for the call: once encoded, its buffer is moved
   * to the marks thread or back to the decoder, so copy what should be kept.
   */
  onPlan?: (frame: Image, plan: FramePlan, index: number) => void | Promise<void>;
  /**
   * The provenance marks on every frame (label, watermark). Default: the default label and the
   * user's watermark key under `home`; `false` leaves the frames unmarked, and the summary says so.
   */
  marks?: MarkChoice;
  /** Where the default marks' key is kept; default LIVESWAP_HOME or the user's cache folder. */
  home?: string;
  /** The identities, by slot: one for a single source, one per person for a face map (undefined: leave that person alone). */
  identities: readonly (PreparedSource | undefined)[];
  swap: SwapOptions;
  faces: VideoFaceOptions;
  encoding?: VideoEncoding;
  /** The face embedder, when faces are chosen by who they are. */
  embed?: (image: Image, face: import('../../face/face.js').Face) => Promise<Float32Array>;
  ffmpeg?: FfmpegOptions;
  signal?: AbortSignal;
  onProgress?: (progress: VideoProgress) => void;
  /** How often onProgress is called at most (ms); default 250. */
  progressEveryMs?: number;
  /**
   * Frames decoded ahead, and frames that may wait for the encoder, each on the pipe thread, so
   * that decoding and encoding run beside the swap (frames and their order are the same). 0: both
   * pipes are served from this thread, one stage after another. Default: 4, fewer for large frames.
   */
  readAhead?: number;
  /**
   * Marks each frame on a thread of its own while the next frame is found and painted: the same
   * bytes in the same order as marking in turn, off the swap's critical path. Default: on when the
   * machine has more than one core (and the frames are marked at all).
   */
  marksThread?: boolean;
  /**
   * How the decoder turns the video's YUV into the RGB the swap paints on (see readFrames'
   * `colorConversion`). Default 'accurate' (exact rounding, bicubic chroma). 'bilinear' interpolates
   * the chroma bilinearly: about 5 ms of the decoder's CPU a 720p frame less and within 52.7 dB PSNR
   * of 'accurate' as decoded, but the generation loss through the encoder grows (a faceless clip
   * passed through came out 3.06 levels from its input on average, marks included, against 2.80),
   * and the saving did not show in the frame rate, which the main thread limits.
   */
  decodeConversion?: 'accurate' | 'bilinear';
}

export interface VideoSwapSummary {
  output: string;
  engine: string;
  input: { width: number; height: number; fps: number; frames: number; durationSeconds: number; rotation: number; variableRate: boolean; audioStreams: number };
  frames: number;
  /**
   * Frames of the input that could not be decoded (damaged data). Every other frame keeps its own
   * time, so the audio stays in sync; the frame before each gap stays on screen through it.
   */
  framesLost: number;
  framesWithFaces: number;
  framesSwapped: number;
  facesSwapped: number;
  detections: number;
  audio: 'copied' | 're-encoded' | 'none' | 'dropped';
  /**
   * Milliseconds in total per stage; `wait.decode`/`wait.encode` are time spent waiting on ffmpeg
   * (and, with the marks thread, for the frame before to be marked). `mark` counts wherever the
   * marks ran: on their own thread (see `marksThread`) it is not time of the swap's thread.
   */
  timings: { total: number; decodeWait: number; encodeWait: number; detect: number; track: number; embed: number; paint: number; mark: number };
  /** The marks every frame carries. */
  marks: MarksApplied;
  /** Whether the marks ran on a thread of their own, beside the finding and painting of the next frame. */
  marksThread: boolean;
  notices: string[];
}

const QUALITY_MAX = 51;

/** The encoder's CRF for Deep-Live-Cam's 0–51 quality scale. */
function crfFor(codec: VideoCodec, quality: number): number {
  return codec === 'libvpx-vp9' ? Math.round((quality * 63) / QUALITY_MAX) : quality;
}

/** "12.5 s" or "frame 150", for messages. */
function describePoint(point: VideoPoint): string {
  return 'frame' in point ? `frame ${point.frame}` : `${point.seconds} s`;
}

/**
 * The trim checks the container's duration answers, before the frame times are read (which, for a
 * variable frame rate, means decoding the whole video): a start past the end, an end before the start.
 */
function checkTrimAgainstDuration(info: VideoInfo, start: VideoPoint | undefined, end: VideoPoint | undefined): void {
  if (start && 'seconds' in start && info.durationSeconds > 0 && start.seconds >= info.durationSeconds) {
    throw new LiveswapError('usage', `--trim-start ${describePoint(start)} is past the end of the video, which lasts ${info.durationSeconds} s.`);
  }
  if (start && end && 'seconds' in start && 'seconds' in end && end.seconds <= start.seconds) {
    throw new LiveswapError('usage', `--trim-start and --trim-end leave no frames (from ${describePoint(start)} to ${describePoint(end)}).`);
  }
}

/** Frame index range [first, end) of a trim, from the frame times. */
function trimRange(timing: FrameTiming, start: VideoPoint | undefined, end: VideoPoint | undefined): { first: number; end: number } {
  const n = timing.pts.length;
  const indexOf = (point: VideoPoint, flag: string): number => {
    if ('frame' in point) {
      if (point.frame > n) throw new LiveswapError('usage', `${flag} ${point.frame}f is past the end of the video (${n} frames).`);
      return point.frame;
    }
    const ticks = (point.seconds * timing.timeBase[1]) / timing.timeBase[0];
    let i = 0;
    while (i < n && timing.pts[i]! < ticks - 1e-6) i++;
    return i;
  };
  const first = start ? indexOf(start, '--trim-start') : 0;
  const last = end ? indexOf(end, '--trim-end') : n;
  if (last <= first) throw new LiveswapError('usage', `--trim-start and --trim-end leave no frames (frames ${first} to ${last} of ${n}).`);
  return { first, end: last };
}

/** yuvj formats are full-range yuv; 10-bit and others are written as 8-bit 4:2:0. */
function outputPixelFormat(source: string): VideoPixelFormat {
  const base = source.replace(/^yuvj/, 'yuv');
  return base === 'yuv422p' || base === 'yuv444p' ? base : 'yuv420p';
}

/**
 * Swaps the faces of `request.input` into `request.output`. Aborting `request.signal` (Ctrl-C)
 * stops both ffmpeg processes and leaves nothing at the output path.
 */
/** A video probed, timed and trimmed: everything about the input checked before any model loads. */
export interface InspectedVideo {
  info: VideoInfo;
  timing: FrameTiming;
  range: { first: number; end: number };
}

/**
 * Probes the input, reads its frame times and resolves the trim: missing, damaged, frameless and
 * oversized videos and impossible trims fail here, cheaply (no decoding for constant-rate video).
 */
export async function inspectVideo(
  input: string,
  options: { maxPixels: number; trimStart?: VideoPoint | undefined; trimEnd?: VideoPoint | undefined; ffmpeg?: FfmpegOptions },
): Promise<InspectedVideo> {
  const ffmpeg = resolveFfmpeg(options.ffmpeg ?? {});
  const info = await probeVideo(input, ffmpeg);
  checkDimensions(info, input, options.maxPixels);
  checkTrimAgainstDuration(info, options.trimStart, options.trimEnd);
  const timing = await readFrameTiming(input, info, ffmpeg);
  if (timing.pts.length === 0) throw new LiveswapError('input-unreadable', `${input} has no video frames.`, { file: input });
  return { info, timing, range: trimRange(timing, options.trimStart, options.trimEnd) };
}

/**
 * Swaps the faces of `request.input` into `request.output`. Aborting `request.signal` (Ctrl-C)
 * stops both ffmpeg processes and leaves nothing at the output path. `inspected` is the result of
 * {@link inspectVideo} when the caller checked the input already.
 */
export async function swapVideo(swapper: NodeSwapper, request: VideoSwapRequest, inspected?: InspectedVideo): Promise<VideoSwapSummary> {
  const started = performance.now();
  const encoding = request.encoding ?? {};
  const ffmpeg = resolveFfmpeg(request.ffmpeg ?? {}); // one binary for every step
  const { info, timing, range } =
    inspected ?? (await inspectVideo(request.input, { maxPixels: request.swap.maxPixels, trimStart: encoding.trimStart, trimEnd: encoding.trimEnd, ffmpeg }));
  const trimmed = range.first > 0 || range.end < timing.pts.length;
  const startPts = timing.pts[range.first]!;
  const startSeconds = frameSeconds(timing, range.first);
  const endSeconds = range.end < timing.pts.length ? frameSeconds(timing, range.end) : undefined;
  const sourceFps = timingFps(timing, info.fps);
  const outputFps = encoding.fps ?? sourceFps;
  const expected =
    encoding.fps !== undefined
      ? Math.max(1, Math.round(((endSeconds ?? frameSeconds(timing, timing.pts.length - 1) + 1 / sourceFps) - startSeconds) * encoding.fps))
      : range.end - range.first;

  const keepAudio = (encoding.audio ?? true) && info.audioStreams.length > 0;
  const codec = encoding.codec;
  const sink = await createVideoSink(request.writeTo ?? request.output, {
    ...ffmpeg,
    width: info.width,
    height: info.height,
    fps: outputFps,
    ...(codec ? { codec } : {}),
    ...(encoding.quality !== undefined ? { crf: crfFor(codec ?? (request.output.toLowerCase().endsWith('.webm') ? 'libvpx-vp9' : 'libx264'), encoding.quality) } : {}),
    preset: encoding.preset ?? 'veryfast',
    ...(request.readAhead !== undefined ? { queue: request.readAhead } : {}),
    pixelFormat: outputPixelFormat(info.pixelFormat),
    color: { matrix: info.colorMatrix, range: info.colorRange },
    // A frame the decoder could not make leaves a gap the frame before it fills (see framesLost).
    ...(encoding.fps === undefined
      ? { timing: { timeBase: timing.timeBase, pts: timing.pts.slice(range.first, range.end).map((t) => t - (trimmed ? startPts : 0)) }, gaps: 'hold' as const }
      : {}),
    ...(keepAudio
      ? {
          audio: {
            path: request.input,
            streams: info.audioStreams,
            ...(trimmed ? { startSeconds } : {}),
            ...(endSeconds !== undefined ? { durationSeconds: endSeconds - startSeconds } : {}),
          },
        }
      : {}),
  });

  const marks = request.marks ?? (await defaultMarker('video', request.home));
  const settings = marks === false ? undefined : marks instanceof FrameMarker ? marks.settings : marks;
  // Made here, so that bad settings fail before any frame; the thread leaves the processor no marks to draw.
  const markThread = settings !== undefined && (request.marksThread ?? availableParallelism() > 1) ? new MarkThread(settings) : undefined;
  const processor = FrameProcessor.create(
    frameEngineOf(swapper),
    { mode: 'stream', paint: request.swap, tracking: request.faces, ...(request.embed ? { embed: request.embed } : {}), marks: markThread ? false : marks },
    request.identities,
  );
  const timings: ProcessTimings = { detect: 0, track: 0, embed: 0, warp: 0, colour: 0, blend: 0, mark: 0 };
  let framesWithFaces = 0;
  let framesSwapped = 0;
  let facesSwapped = 0;
  let detections = 0;
  let done = 0;
  let lastProgress = -Infinity;
  const progressEvery = request.progressEveryMs ?? 250;
  const report = (final: boolean): void => {
    const now = performance.now();
    if (!request.onProgress || (!final && now - lastProgress < progressEvery)) return;
    lastProgress = now;
    const elapsed = (now - started) / 1000;
    const fps = done / Math.max(elapsed, 1e-3);
    request.onProgress({ frame: done, total: Math.max(expected, done), fps, etaSeconds: Math.max(0, expected - done) / Math.max(fps, 1e-3), elapsedSeconds: elapsed });
  };

  const marksApplied: MarksApplied = markThread ? { label: markThread.labelShown, watermark: true, watermarkId: markThread.watermarkId } : processor.marks;
  // With the thread, frame n is marked there (and then encoded) while frame n + 1 is planned and painted.
  const threadTime = { ms: 0 };
  // Once the encoder has its copy of a frame, its buffer goes back to the decoder for a later frame.
  let recycle: ((data: Uint8ClampedArray) => boolean) | undefined;
  const recycling = recyclingSink(sink, (data) => recycle?.(data));
  const output = markThread ? markingSink(recycling, markThread, { stats: threadTime }) : recycling;
  let stats: PumpStats;
  try {
    // Frame times count from the trim's start, in the source and the sink alike; a trim's start
    // also seeks the decoder (the timing gives its time base), so a cut near the end decodes little.
    const source = await openVideoSource(request.input, {
      ...ffmpeg,
      probed: info,
      timing,
      colorConversion: request.decodeConversion ?? 'accurate',
      ...(request.readAhead !== undefined ? { readAhead: request.readAhead } : {}),
      ...(encoding.fps !== undefined ? { fps: encoding.fps } : {}),
      ...(trimmed ? { trim: { startPts, ...(range.end < timing.pts.length ? { endPts: timing.pts[range.end]! } : {}) } } : {}),
    });
    recycle = (data) => source.recycle(data);
    stats = await pumpFrames(source, processor, output, {
      signal: request.signal,
      aborted: () => new LiveswapError('interrupted', `Stopped before ${request.output} was finished; nothing was saved.`, { file: request.output }),
      onPlan: request.onPlan,
      onFrame: (result) => {
        for (const key of Object.keys(timings) as (keyof ProcessTimings)[]) timings[key] += result.timings[key];
        const plan = result.plan!;
        if (plan.detected) detections++;
        if (plan.tracked > 0) framesWithFaces++;
        if (result.painted.length > 0) {
          framesSwapped++;
          facesSwapped += result.painted.length;
        }
        done++;
        report(false);
      },
    });
  } catch (error) {
    throw namingOutput(error, request);
  } finally {
    processor.close();
    await markThread?.close();
  }
  timings.mark += threadTime.ms;
  if (stats.frames === 0) throw new LiveswapError('input-unreadable', `${request.input} decoded to no frames${trimmed ? ' in the trimmed range' : ''}.`, { file: request.input });
  const frames = stats.frames;
  report(true);
  // Listed frames the decoder did not give (the sink held the frame before each gap), plus those a
  // variable-rate timing pass already found missing. With --fps the fps filter fills gaps itself.
  const decodedLoss = encoding.fps === undefined ? Math.max(0, range.end - range.first - (frames - sink.gaps.skipped)) : 0;
  const framesLost = decodedLoss + timing.lostFrames;

  const notices: string[] = [];
  if (framesLost > 0) {
    notices.push(
      `${framesLost} frame${framesLost === 1 ? '' : 's'} of ${request.input} could not be decoded (damaged data). Every other frame kept its own time, ` +
        'so the audio stays in sync; the frame before each gap stays on screen through it.',
    );
  }
  if (framesWithFaces === 0) notices.push(`No face was found in any frame of ${request.input}; the output shows the input unchanged.`);
  if (timing.source === 'decoder') notices.push('The video has a variable frame rate; every frame keeps its own time.');
  const paintMs = timings.warp + timings.colour + timings.blend;
  const round = (v: number): number => Math.round(v * 10) / 10;
  return {
    output: request.output,
    engine: swapper.engine,
    input: {
      width: info.width,
      height: info.height,
      fps: round(sourceFps * 100) / 100,
      frames: timing.pts.length,
      durationSeconds: info.durationSeconds,
      rotation: info.rotation,
      variableRate: !timing.constantRate,
      audioStreams: info.audioStreams.length,
    },
    frames,
    framesLost,
    framesWithFaces,
    framesSwapped,
    facesSwapped,
    detections,
    audio:
      info.audioStreams.length === 0
        ? 'none'
        : !keepAudio
          ? 'dropped'
          : !trimmed && info.audioStreams.every((a) => audioCopies(extname(request.output), a.codec))
            ? 'copied'
            : 're-encoded',
    timings: {
      total: round(performance.now() - started),
      decodeWait: round(stats.decodeWait),
      encodeWait: round(stats.encodeWait),
      detect: round(timings.detect),
      track: round(timings.track),
      embed: round(timings.embed),
      paint: round(paintMs),
      mark: round(timings.mark),
    },
    marks: marksApplied,
    marksThread: markThread !== undefined,
    notices,
  };
}

/** The writer's errors name the file the user asked for, not the temporary one it wrote to. */
function namingOutput(error: unknown, request: VideoSwapRequest): unknown {
  const temporary = request.writeTo;
  if (!(error instanceof LiveswapError) || temporary === undefined || !error.message.includes(temporary)) return error;
  return new LiveswapError(error.kind, error.message.split(temporary).join(request.output), { file: request.output, cause: error });
}

/** Refuses frames too large to hold (the swap's pixel limit) before any decoding starts. */
function checkDimensions(info: VideoInfo, path: string, maxPixels: number): void {
  const pixels = info.width * info.height;
  if (pixels > maxPixels) {
    throw new LiveswapError('input-too-large', `The video ${path} is ${info.width}×${info.height} (${pixels} pixels per frame), over the limit of ${maxPixels}.`, { file: path });
  }
  if (info.width < 16 || info.height < 16)
    throw new LiveswapError('input-unsupported', `The video ${path} is ${info.width}×${info.height}: too small to hold a face.`, { file: path });
}

/** The engine of a Node swapper, as the frame processor sees it. */
export function frameEngineOf(swapper: NodeSwapper): FrameEngine {
  return {
    name: swapper.engine,
    analyze: (image, known) => swapper.analyze(image, known),
    track: swapper.track,
    paintFaces: (frame, jobs, options, timings) => swapper.paintFaces(frame, jobs, options, timings),
    swap: (source, target, options, files) => swapper.swap(source, target, options, { ...files, marks: false }),
  };
}
