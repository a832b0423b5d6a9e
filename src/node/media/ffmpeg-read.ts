/**
 * Decoding a video into Images through an ffmpeg pipe of raw RGB frames, nothing on disk, the child
 * killed when the reader stops. By default a thread of its own reads the pipe a few frames ahead
 * (see ffmpeg-pipes.ts), so ffmpeg decodes while the caller works on the frame before; with
 * `readAhead: 0` the pipe is read on the calling thread, one frame in memory at a time. On request
 * each frame comes with its own presentation time, read from the decoder's log.
 */

import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { invalidOption, LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { yuvMatrixFor } from '../../core/yuv.js';
import { decoderArgs } from './ffmpeg-args.js';
import { showinfoPts } from './ffmpeg-timing.js';
import { childExit, describeExit, type ExitStatus, type FfmpegOptions, ffmpegPath, StderrTail } from './ffmpeg-binary.js';
import { type PlanarFrames, pipeRgbFrames } from './ffmpeg-frames.js';
import { defaultPipeFrames, PipedFfmpeg } from './ffmpeg-pipes.js';
import { probeVideo, type VideoInfo } from './ffmpeg-probe.js';

export { pipeFrames } from './ffmpeg-frames.js';

export interface ReadFramesOptions extends FfmpegOptions {
  /** Scale frames to this width; with only one of width/height the other keeps the aspect ratio. */
  width?: number;
  height?: number;
  /** Resample to this frame rate (frames are dropped or repeated); default: every decoded frame once. */
  fps?: number;
  /** Stop after this many frames. */
  maxFrames?: number;
  /**
   * Only the frames shown from `startPts` (included) to `endPts` (excluded), in ticks of the
   * stream's time base (see readFrameTiming): frame-exact, by presentation time.
   */
  trim?: { startPts?: number; endPts?: number };
  /**
   * Start decoding at the keyframe at or before this time (seconds from the start of the file's
   * timeline) instead of at the start: with `trim`, a cut near the end decodes only about the
   * frames it keeps. Give a time a little before `trim.startPts` (reordered frames); the trim
   * still cuts exactly. Left out: from the start.
   */
  seekSeconds?: number;
  /** 3 (RGB, the default) or 4 (RGBA, alpha 255). */
  channels?: 3 | 4;
  /**
   * 'accurate' (default): chroma interpolated per pixel with exact rounding; a lossless 4:2:0 round
   * trip is off by about 0.6 levels. For 8-bit 4:2:0 video with a BT.601 or BT.709 matrix in
   * limited range (nearly every H.264, H.265 and VP9 file) ffmpeg upsamples the chroma and this
   * reader applies the matrix (see {@link planarMatrix}). 'fast': ffmpeg's default SIMD path, about twice as fast to
   * convert but 1–1.5 levels darker on average and blurrier in colour. 'bilinear': 'accurate' with
   * the chroma interpolated bilinearly: at 1280×720 about 5 ms a frame cheaper than 'accurate'
   * (of about 11), within 52.7 dB PSNR of it and no darker, but it loses more through a re-encode (an
   * option of a video swap, not its default).
   */
  colorConversion?: 'accurate' | 'bilinear' | 'fast';
  /** The file's probe when the caller has it already (saves one ffmpeg run); it must be this file's. */
  probed?: VideoInfo | undefined;
  /**
   * Frames decoded ahead, on a thread of their own, while the caller works on the one before
   * (order unchanged, each still in its own buffer). 0: the pipe is read on the calling thread,
   * and ffmpeg waits while the caller computes. Default: 4, fewer for frames over 12 MB.
   */
  readAhead?: number | undefined;
  /** Takes frames' buffers back for later frames to be read into; see {@link FrameRecycler}. */
  recycler?: FrameRecycler | undefined;
}

/**
 * Frames' buffers back to the decoder that read them, for later frames to be read into instead of
 * a new buffer each (which costs the pipe thread about 0.7 ms a 720p frame to allocate, zero and
 * fault in, and V8 the collecting). Given to readFrames or readTimedFrames as `recycler`, it is
 * attached to the decoder while that runs. Only a frame that nothing reads or writes any more may
 * be given back (its bytes are moved: the array is empty afterwards).
 */
export class FrameRecycler {
  private take: ((data: Uint8ClampedArray) => boolean) | undefined;

  /** The decoder started (`take` may refuse a buffer), or ended (undefined). */
  attach(take: ((data: Uint8ClampedArray) => boolean) | undefined): void {
    this.take = take;
  }

  /** Gives a frame's buffer back; returns whether the decoder took it (false once it has ended, or for a buffer not of its frame size). */
  recycle(data: Uint8ClampedArray): boolean {
    return this.take?.(data) ?? false;
  }
}

function positiveInteger(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) throw invalidOption(name, 'a whole number ≥ 1', value);
}

/** Size of the frames readFrames yields: the displayed (rotated) size, or the requested one with the aspect ratio kept. */
export function decodedFrameSize(info: VideoInfo, options: ReadFramesOptions): { width: number; height: number } {
  const { width, height } = options;
  if (width !== undefined && height !== undefined) return { width, height };
  if (width !== undefined) return { width, height: Math.max(1, Math.round((width * info.height) / info.width)) };
  if (height !== undefined) return { width: Math.max(1, Math.round((height * info.width) / info.height)), height };
  return { width: info.width, height: info.height };
}

/**
 * Whether ffmpeg pipes this video's frames as Y′CbCr 4:4:4 planes for the reader to convert to RGB
 * (core/yuv.ts), and with which matrix: with the accurate conversion, from 8-bit
 * 4:2:0 video in limited range (or untagged, which ffmpeg reads as limited) with a BT.601 or BT.709
 * matrix (or untagged: BT.601, as ffmpeg decodes it). ffmpeg's own exact-rounding matrix takes
 * about 9 ms of a 1280×720 frame and the reader's about 1.6; the chroma is upsampled by ffmpeg
 * either way, the same bicubic, so the colours are ffmpeg's but for the rounding of the
 * upsampled chroma to 8 bits (at most 2 levels apart, 93 % of bytes the same, 59.5 dB).
 */
export function planarMatrix(
  info: Pick<VideoInfo, 'pixelFormat' | 'colorRange' | 'colorMatrix'>,
  colorConversion: ReadFramesOptions['colorConversion'],
): PlanarFrames['matrix'] | undefined {
  if ((colorConversion ?? 'accurate') !== 'accurate') return undefined;
  if (info.pixelFormat !== 'yuv420p' || info.colorRange === 'pc') return undefined;
  return yuvMatrixFor(info.colorMatrix);
}

/** A decoded frame and its presentation time in ticks of the stream's time base, as the decoder gave it (NaN: it gave none). */
export interface DecodedFrame {
  image: Image;
  pts: number;
}

/**
 * Yields the frames of a video as RGB (or RGBA) Images in display orientation (ffmpeg applies the
 * rotation tag), each in its own buffer. The file is probed first, so missing, unreadable and
 * non-video inputs fail before decoding starts. Leaving the loop early (`break`, `return`, a
 * throw) kills ffmpeg and waits for it to exit. A failed decode is an `input-unreadable` error
 * quoting the end of ffmpeg's log.
 */
export function readFrames(path: string, options: ReadFramesOptions = {}): AsyncGenerator<Image, void, undefined> {
  const binary = checkOptions(options);
  return imagesOf(decode(path, binary, options, false));
}

/**
 * readFrames with each frame's own presentation time (ticks of the stream's time base, on the file's
 * timeline less its start time, as readFrameTiming lists them). A frame the decoder could not
 * decode (damaged data) is simply missing, so the frame after it keeps its own time, not the lost
 * one's. Not with `fps`, whose frames are made by resampling: their times are k / fps.
 */
export function readTimedFrames(path: string, options: ReadFramesOptions = {}): AsyncGenerator<DecodedFrame, void, undefined> {
  const binary = checkOptions(options);
  if (options.fps !== undefined) throw invalidOption('fps', 'left out when reading frame times (resampled frames are at k / fps)', options.fps);
  return decode(path, binary, options, true);
}

async function* imagesOf(frames: AsyncGenerator<DecodedFrame, void, undefined>): AsyncGenerator<Image, void, undefined> {
  // Leaving this loop returns `frames`, whose finally kills ffmpeg.
  for await (const { image } of frames) yield image;
}

function checkOptions(options: ReadFramesOptions): string {
  positiveInteger('width', options.width);
  positiveInteger('height', options.height);
  positiveInteger('maxFrames', options.maxFrames);
  if (options.fps !== undefined && !(Number.isFinite(options.fps) && options.fps > 0)) throw invalidOption('fps', 'a frame rate > 0', options.fps);
  if (options.channels !== undefined && options.channels !== 3 && options.channels !== 4) throw invalidOption('channels', '3 or 4', options.channels);
  if (options.colorConversion !== undefined && !['accurate', 'bilinear', 'fast'].includes(options.colorConversion)) {
    throw invalidOption('colorConversion', "'accurate', 'bilinear' or 'fast'", options.colorConversion);
  }
  if (options.seekSeconds !== undefined && !(Number.isFinite(options.seekSeconds) && options.seekSeconds >= 0)) {
    throw invalidOption('seekSeconds', 'a time in seconds ≥ 0', options.seekSeconds);
  }
  if (options.readAhead !== undefined && !(Number.isInteger(options.readAhead) && options.readAhead >= 0 && options.readAhead <= 64)) {
    throw invalidOption('readAhead', 'a whole number of frames from 0 to 64', options.readAhead);
  }
  return ffmpegPath(options);
}

/**
 * The frame times the decoder logs (showinfo lines), in order, and the error lines of its log for
 * messages; the raw frames on stdout wait here for their time, which ffmpeg logs before it writes
 * the frame, so it is on its way when the frame is.
 */
class FrameTimeLog {
  private readonly times: number[] = [];
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private ended = false;
  private wake: (() => void) | undefined;
  readonly errors = new StderrTail();

  push(chunk: Buffer): void {
    const lines = (this.pending + this.decoder.write(chunk)).split(/\r?\n/);
    this.pending = lines.pop()!;
    for (const line of lines) this.line(line);
    this.notify();
  }

  end(): void {
    if (this.pending !== '') this.line(this.pending + this.decoder.end());
    this.pending = '';
    this.ended = true;
    this.notify();
  }

  /** The time of the next frame, once logged; undefined if the log ended without one. */
  async next(): Promise<number | undefined> {
    while (this.times.length === 0 && !this.ended) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.times.shift();
  }

  private line(line: string): void {
    const pts = /\bParsed_showinfo_/.test(line) ? (showinfoPts(line) ?? (/\bn:\s*\d+\s+pts:\s*NOPTS\b/.test(line) ? NaN : undefined)) : undefined;
    if (pts !== undefined) this.times.push(pts);
    // Every line names its level: keep the errors for messages, as `-loglevel error` would.
    else if (/\[(error|fatal|panic)\] /.test(line)) this.errors.push(Buffer.from(`${line.replace(/\[(error|fatal|panic)\] /, '')}\n`));
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

async function* decode(path: string, binary: string, options: ReadFramesOptions, withTimes: boolean): AsyncGenerator<DecodedFrame, void, undefined> {
  const info = options.probed ?? (await probeVideo(path, { ffmpegPath: binary }));
  const { width, height } = decodedFrameSize(info, options);
  const channels = options.channels ?? 3;
  const maxFrames = options.maxFrames ?? Infinity;
  const matrix = planarMatrix(info, options.colorConversion);
  const planar = matrix ? { width, height, channels, matrix } : undefined;
  const args = decoderArgs({
    input: path,
    streamIndex: info.streamIndex,
    width,
    height,
    channels,
    fps: options.fps,
    maxFrames: options.maxFrames,
    trim: options.trim,
    seekSeconds: options.seekSeconds,
    frameTimes: withTimes,
    colorConversion: options.colorConversion ?? 'accurate',
    planar: planar !== undefined,
  });

  const log = withTimes ? new FrameTimeLog() : undefined;
  const stderr = log?.errors ?? new StderrTail();
  const frameBytes = width * height * channels;
  const ahead = options.readAhead ?? defaultPipeFrames(frameBytes);
  const pipe = ahead > 0 ? threadedPipe(binary, args, frameBytes, ahead, path, log, stderr, planar) : callerPipe(binary, args, frameBytes, log, stderr, planar);
  options.recycler?.attach((data) => pipe.recycle(data));
  let exited = false;
  try {
    let count = 0;
    for await (const frame of pipe.frames) {
      const pts = log ? await log.next() : count;
      if (pts === undefined) {
        throw new LiveswapError('internal', `Decoding ${path}: ffmpeg logged no time for frame ${count}, so it cannot be placed on the timeline.`, { file: path });
      }
      yield { image: { width, height, channels, data: frame }, pts };
      if (++count >= maxFrames) return;
    }
    const status = await pipe.exit;
    exited = true;
    if (status.code !== 0) {
      const how = status.signal !== null ? `ffmpeg was ${describeExit(status)} while decoding it` : `ffmpeg stopped with ${describeExit(status)}`;
      throw new LiveswapError('input-unreadable', `Cannot decode the video ${path}: ${how} (${stderr.lastLines(4) || 'no message'}).`, {
        file: path,
      });
    }
    if (pipe.tail.bytes !== 0) {
      throw new LiveswapError(
        'internal',
        `Decoding ${path} ended inside a frame (${pipe.tail.bytes} of ${planar ? 3 * width * height : frameBytes} bytes): the expected frame size ${width}×${height} was wrong.`,
        {
          file: path,
        },
      );
    }
  } finally {
    options.recycler?.attach(undefined);
    if (!exited) {
      pipe.kill();
      await pipe.exit.catch(() => undefined);
    }
  }
}

/** A decoder's frames, its exit, the partial frame at the end (set once the frames ended) and a way to stop it. */
interface DecoderPipe {
  frames: AsyncIterable<Uint8ClampedArray>;
  exit: Promise<ExitStatus>;
  tail: { bytes: number };
  kill(): void;
  /** Takes a frame's buffer back for a later frame (see FrameRecycler). */
  recycle(data: Uint8ClampedArray): boolean;
}

/** Hands ffmpeg's log to the time log (which keeps the errors) or to the plain tail. */
function logSink(log: FrameTimeLog | undefined, stderr: StderrTail): (chunk: Buffer) => void {
  return log ? (chunk) => log.push(chunk) : (chunk) => stderr.push(chunk);
}

/** The decoder's pipe read on this thread: ffmpeg waits while the caller computes. */
function callerPipe(binary: string, args: string[], frameBytes: number, log: FrameTimeLog | undefined, stderr: StderrTail, planar: PlanarFrames | undefined): DecoderPipe {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.on('data', logSink(log, stderr));
  if (log) child.stderr.on('close', () => log.end());
  const tail = { bytes: 0 };
  const spare: Uint8ClampedArray[] = [];
  return {
    frames: pipeRgbFrames(child.stdout as AsyncIterable<Buffer>, frameBytes, () => spare.pop() ?? new Uint8ClampedArray(frameBytes), tail, planar),
    exit: childExit(child, binary),
    tail,
    kill: () => child.kill('SIGKILL'),
    recycle(data) {
      // Two are enough here: the frame being read and the one being worked on.
      if (data.byteLength !== frameBytes || spare.length >= 2) return false;
      spare.push(data);
      return true;
    },
  };
}

/** The decoder's pipe read `ahead` frames ahead on a thread of its own. */
function threadedPipe(
  binary: string,
  args: string[],
  frameBytes: number,
  ahead: number,
  path: string,
  log: FrameTimeLog | undefined,
  stderr: StderrTail,
  planar: PlanarFrames | undefined,
): DecoderPipe {
  const piped = new PipedFfmpeg({ binary, args, read: { frameBytes, ahead, planar }, onStderr: logSink(log, stderr), what: `decoding ${path}` });
  const tail = { bytes: 0 };
  const exit = piped.exit.finally(() => log?.end());
  exit.catch(() => undefined);
  async function* frames(): AsyncGenerator<Uint8ClampedArray, void, undefined> {
    for (let frame = await piped.nextFrame(); frame; frame = await piped.nextFrame()) yield frame.data;
    tail.bytes = piped.tailBytes;
  }
  return { frames: frames(), exit, tail, kill: () => piped.kill(), recycle: (data) => piped.recycle(data) };
}
