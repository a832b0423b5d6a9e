/**
 * Encoding Images into a video file through an ffmpeg pipe. The file is written under a temporary
 * name and renamed only after ffmpeg finished cleanly, so a failed or aborted encode leaves nothing.
 * By default the pipe is written from a thread of its own (see ffmpeg-pipes.ts) out of a small
 * queue, so ffmpeg encodes while the caller works on the next frame.
 */

import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { invalidOption, LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { type EncodePlan, encodedSize, encoderArgs, encoderFilterGraph, needsClosingFrame } from './ffmpeg-args.js';
import { childExit, describeExit, type ExitStatus, type FfmpegOptions, ffmpegPath, lastLines, StderrTail } from './ffmpeg-binary.js';
import {
  CRF,
  VIDEO_CODECS,
  VIDEO_CONTAINERS,
  VIDEO_PIXEL_FORMATS,
  VIDEO_PRESETS,
  type VideoCodec,
  type VideoContainer,
  type VideoPixelFormat,
  type VideoPreset,
} from './ffmpeg-formats.js';
import { defaultPipeFrames, PipedFfmpeg } from './ffmpeg-pipes.js';
import { checkOutputPath, createTemporaryFolder, outputError, outputPathOf, writeAtomically } from '../files/output.js';

export { audioCopies, VIDEO_CODECS, VIDEO_CONTAINERS, VIDEO_PIXEL_FORMATS, VIDEO_PRESETS, type VideoCodec, type VideoPixelFormat, type VideoPreset } from './ffmpeg-formats.js';

export interface VideoWriterOptions extends FfmpegOptions {
  width: number;
  height: number;
  /** Frames per second; 29.97, 23.976 and 59.94 are written as exact n×1000/1001 rates. */
  fps: number;
  /** Default: libvpx-vp9 for .webm, libx264 otherwise. */
  codec?: VideoCodec;
  /** Constant quality, lower is better: 0–51 for x264/x265 (defaults 18/22), 0–63 for VP9 (default 31). */
  crf?: number;
  /** Encoding speed against file size at the same quality; default medium (the codecs' own default). */
  preset?: VideoPreset;
  /**
   * Default yuv420p, which players expect. 4:2:0 needs an even width and height and 4:2:2 an even
   * width: an odd size is padded by one column/row that repeats the edge pixels.
   */
  pixelFormat?: VideoPixelFormat;
  /** Layout of the Images given to write(): 3 (RGB, default) or 4 (RGBA, alpha ignored). */
  channels?: 3 | 4;
  /**
   * Each frame's presentation time (ticks of `timeBase`), e.g. a source's, variable rates included;
   * frames past the list continue at its last spacing. Default: evenly spaced at `fps`.
   */
  timing?: { timeBase: readonly [number, number]; pts: readonly number[] };
  /**
   * Audio to add: every audio stream of `path` (all of them when `streams` is left out), from
   * `startSeconds` for `durationSeconds`, copied as they are where the container takes their codec
   * and re-encoded otherwise (AAC; Opus in WebM).
   */
  audio?: { path: string; streams: readonly { index: number; codec: string }[]; startSeconds?: number; durationSeconds?: number };
  /**
   * How RGB becomes YUV, and the tags written: `matrix` as ffmpeg names it (bt709, smpte170m,
   * bt470bg, bt2020nc…, or 'unknown': BT.601 untagged, which is how an untagged source decodes) and
   * the range. Default: BT.709, limited range, tagged.
   */
  color?: { matrix: string; range: 'tv' | 'pc' | 'unknown' };
  /** Keep a copy of the last frame written, so that {@link VideoWriter.repeatLast} can send it again (one frame copy per write). */
  repeatable?: boolean;
  /**
   * Frames that may wait for the encoder, copied into a queue that a thread of its own writes to
   * ffmpeg, so write() returns while ffmpeg works. 0: the pipe is written from the calling thread,
   * and write() waits until ffmpeg took the frame. Default: 4, fewer for frames over 12 MB.
   */
  queue?: number | undefined;
}

export interface VideoWriter {
  readonly path: string;
  /** Size of the encoded video: the frame size, padded to even where the pixel format needs it. */
  readonly outputWidth: number;
  readonly outputHeight: number;
  /**
   * Sends one frame; resolves once it is queued or in the pipe to ffmpeg (so the caller may reuse
   * `image.data`), which waits while ffmpeg is behind: await each write and memory stays flat.
   */
  write(image: Image): Promise<void>;
  /**
   * Sends the last frame written once more, as the next frame (its time is the next one the file
   * shows): the picture held through a gap. Needs `repeatable` and a frame written before.
   */
  repeatLast(): Promise<void>;
  /** Finishes the file and moves it to `path`; rejects (and leaves nothing) when encoding failed. */
  close(): Promise<void>;
  /**
   * Stops ffmpeg and deletes the partial file; `path` is left as it was. Safe to call twice, and
   * the thing to call in a `catch`: a writer neither closed nor aborted leaves ffmpeg waiting.
   */
  abort(): Promise<void>;
}

/**
 * Checks the options against the output's extension and settles every default: the plan the
 * encoder's command line is built from. Throws `usage` errors naming the option and what it takes.
 */
export function planEncode(path: string, options: VideoWriterOptions): EncodePlan {
  const { width, height, fps } = options;
  if (!(Number.isInteger(width) && width >= 2)) throw invalidOption('width', 'a whole number ≥ 2', width);
  if (!(Number.isInteger(height) && height >= 2)) throw invalidOption('height', 'a whole number ≥ 2', height);
  if (!(Number.isFinite(fps) && fps > 0 && fps <= 1000)) throw invalidOption('fps', 'a frame rate in (0, 1000]', fps);
  const ext = extname(path).toLowerCase();
  const allowed = VIDEO_CONTAINERS[ext];
  if (!allowed) throw new LiveswapError('usage', `Cannot write video to ${path}: use one of ${Object.keys(VIDEO_CONTAINERS).join(', ')} as the extension.`, { file: path });
  const codec = options.codec ?? allowed[0]!;
  if (!(VIDEO_CODECS as readonly string[]).includes(codec)) throw invalidOption('codec', `one of ${VIDEO_CODECS.join(', ')}`, codec);
  if (!allowed.includes(codec)) {
    throw new LiveswapError('usage', `A ${ext} file cannot hold ${codec} video; use ${allowed.join(' or ')}, or another extension.`, { file: path });
  }
  const crf = options.crf ?? CRF[codec].default;
  if (!(Number.isInteger(crf) && crf >= 0 && crf <= CRF[codec].max)) throw invalidOption('crf', `a whole number 0–${CRF[codec].max} for ${codec}`, crf);
  const preset = options.preset ?? 'medium';
  if (!(VIDEO_PRESETS as readonly string[]).includes(preset)) throw invalidOption('preset', `one of ${VIDEO_PRESETS.join(', ')}`, preset);
  const pixelFormat = options.pixelFormat ?? 'yuv420p';
  if (!(VIDEO_PIXEL_FORMATS as readonly string[]).includes(pixelFormat)) throw invalidOption('pixelFormat', `one of ${VIDEO_PIXEL_FORMATS.join(', ')}`, pixelFormat);
  const channels = options.channels ?? 3;
  if (channels !== 3 && channels !== 4) throw invalidOption('channels', '3 or 4', channels);
  if (options.queue !== undefined && !(Number.isInteger(options.queue) && options.queue >= 0 && options.queue <= 64)) {
    throw invalidOption('queue', 'a whole number of frames from 0 to 64', options.queue);
  }
  return {
    container: ext as VideoContainer,
    width,
    height,
    channels,
    fps,
    codec,
    crf,
    preset,
    pixelFormat,
    color: options.color ?? { matrix: 'bt709', range: 'tv' },
    timing: options.timing,
    audio: options.audio,
  };
}

/** Maps a failed encode to an error saying what to do: disk full, no such encoder, or ffmpeg's own words. */
export function encodeError(written: string, status: ExitStatus, stderr: string): LiveswapError {
  const path = outputPathOf(written); // the user's file, not the hidden temporary ffmpeg wrote
  if (/No space left on device/i.test(stderr)) return outputError(path, Object.assign(new Error('No space left on device'), { code: 'ENOSPC' }));
  if (/Disk quota exceeded/i.test(stderr)) return outputError(path, Object.assign(new Error('Disk quota exceeded'), { code: 'EDQUOT' }));
  if (/Permission denied/i.test(stderr)) return outputError(path, Object.assign(new Error('Permission denied'), { code: 'EACCES' }));
  const encoder = /Unknown encoder '([^']+)'/.exec(stderr);
  if (encoder) {
    const fix = 'Choose another codec, or point LIVESWAP_FFMPEG at an ffmpeg built with it.';
    return new LiveswapError('usage', `This ffmpeg has no ${encoder[1]} encoder, so ${path} cannot be written with it. ${fix}`, { file: path });
  }
  if (status.signal !== null) {
    return new LiveswapError('output', `Cannot write ${path}: ffmpeg was ${describeExit(status)} before the video was complete; nothing was saved.`, { file: path });
  }
  const log = lastLines(stderr, 4) || 'no message';
  return new LiveswapError('output', `Cannot write ${path}: ffmpeg stopped with ${describeExit(status)} (${log}); nothing was saved.`, { file: path });
}

/**
 * Opens an ffmpeg encoder for `path` (the container follows the extension: .mp4, .mov, .mkv,
 * .webm). Colours are converted with the BT.709 matrix (limited range) and tagged as such, which is
 * what players assume for untagged HD video, unless `color` says otherwise. Checks the output folder
 * before starting.
 */
export async function createVideoWriter(path: string, options: VideoWriterOptions): Promise<VideoWriter> {
  const plan = planEncode(path, options);
  const { width, height, channels } = plan;
  const binary = ffmpegPath(options);
  await checkOutputPath(path);
  const { width: outputWidth, height: outputHeight } = encodedSize(plan);
  // A long variable-rate list makes a long expression: it goes to ffmpeg in a file.
  const script = await writeFilterScript(encoderFilterGraph(plan));
  const args = (target: string): string[] => encoderArgs(plan, { filterScript: script.path, output: target });

  const frameBytes = width * height * channels;
  const queue = options.queue ?? defaultPipeFrames(frameBytes);
  let encoder: Encoder | undefined;
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  let state: 'open' | 'closing' | 'aborted' = 'open';
  let frames = 0;
  const done = writeAtomically(path, async (temporary) => {
    encoder = queue > 0 ? threadedEncoder(binary, args(temporary), frameBytes, queue, path) : callerEncoder(binary, args(temporary));
    await encoder.spawned;
    started();
    const status = await encoder.exit;
    if (state === 'aborted') throw new LiveswapError('output', `Writing ${path} was aborted; nothing was saved.`, { file: path });
    if (status.code !== 0 || status.signal !== null) throw encodeError(path, status, encoder.stderr.text());
  });
  done.catch(() => undefined);
  void done.finally(() => script.remove()).catch(() => undefined);
  await Promise.race([running, done]);
  const child = encoder!;
  // A function, so TypeScript does not narrow `state` across the awaits in write().
  const isAborted = (): boolean => state === 'aborted';
  const abortedError = (): LiveswapError => new LiveswapError('output', `Writing ${path} was aborted; nothing was saved.`, { file: path });
  const closingFrame = needsClosingFrame(plan);
  // The last frame's bytes, for repeatLast() and the closing frame: the caller may reuse its buffer.
  const last = options.repeatable || closingFrame ? Buffer.alloc(frameBytes) : undefined;

  /** Hands bytes to ffmpeg; resolves once they are queued or in the pipe (the buffer may then be reused). */
  async function send(bytes: Buffer): Promise<void> {
    try {
      await child.write(bytes);
    } catch {
      if (isAborted()) throw abortedError();
      await done; // rejects with the reason ffmpeg stopped (killed, disk full, …)
      throw new LiveswapError('output', `Cannot write ${path}: ffmpeg exited before the video was finished.`, { file: path });
    }
    frames++;
  }

  function checkOpen(): void {
    if (state !== 'open') throw new LiveswapError('internal', `The video writer for ${path} is already ${state === 'aborted' ? 'aborted' : 'closed'}.`, { file: path });
  }

  return {
    path,
    outputWidth,
    outputHeight,
    async write(image: Image): Promise<void> {
      checkOpen();
      if (image.width !== width || image.height !== height || image.channels !== channels || image.data.length !== frameBytes) {
        throw invalidOption('frame', `a ${width}×${height} image with ${channels} channels`, `${image.width}×${image.height} with ${image.channels} channels`);
      }
      const bytes = Buffer.from(image.data.buffer, image.data.byteOffset, frameBytes);
      last?.set(bytes);
      await send(bytes);
    },
    async repeatLast(): Promise<void> {
      checkOpen();
      if (!options.repeatable || frames === 0) {
        throw new LiveswapError('internal', `The video writer for ${path} has no frame to repeat (${frames === 0 ? 'none written yet' : 'not opened repeatable'}).`, {
          file: path,
        });
      }
      await send(last!);
    },
    async close(): Promise<void> {
      if (state === 'aborted') throw abortedError();
      if (state === 'open') {
        if (frames === 0) {
          state = 'aborted';
          child.kill();
          await done.catch(() => undefined);
          throw new LiveswapError('output', `Cannot write ${path}: no frames were given, so there is no video to save.`, { file: path });
        }
        if (closingFrame) await send(last!);
        state = 'closing';
        child.end();
      }
      await done;
    },
    async abort(): Promise<void> {
      state = 'aborted';
      if (!child.exited()) child.kill();
      await done.catch(() => undefined);
    },
  };
}

/** A filter graph in a temporary file (ffmpeg's -filter_script), removed once the encode ends. */
async function writeFilterScript(graph: string): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await createTemporaryFolder('filter');
  const path = join(dir, 'graph.txt');
  await writeFile(path, graph);
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A running encoder, whichever thread writes its pipe. */
interface Encoder {
  /** Resolves once ffmpeg runs (or failed to start). */
  spawned: Promise<void>;
  /** Resolves when ffmpeg has exited; rejects when it could not start (or its pipe thread died). */
  exit: Promise<ExitStatus>;
  stderr: StderrTail;
  exited(): boolean;
  /** Hands a frame over; resolves once the caller may reuse `bytes`; rejects once ffmpeg stopped taking frames. */
  write(bytes: Buffer): Promise<void>;
  /** Closes ffmpeg's input once every frame given is written. */
  end(): void;
  kill(): void;
}

/** An encoder whose pipe is written from this thread: a write resolves once ffmpeg has the frame. */
function callerEncoder(binary: string, args: string[]): Encoder {
  const child = spawn(binary, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  const stderr = new StderrTail();
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  // EPIPE when ffmpeg dies mid-frame: the write callback and the exit status report it.
  child.stdin.on('error', () => undefined);
  const exit = childExit(child, binary);
  let exited = false;
  void exit.then(
    () => (exited = true),
    () => (exited = true),
  );
  // One promise for the whole stream: a fresh one per frame would hold each frame's bytes (through
  // the closure it shares with them) until ffmpeg exits, gigabytes over a long video.
  const stopped = exit.then(() => Promise.reject(new Error('ffmpeg exited')));
  stopped.catch(() => undefined);
  return {
    spawned: Promise.resolve(),
    exit,
    stderr,
    exited: () => exited,
    async write(bytes) {
      const taken = new Promise<void>((resolve, reject) => child.stdin.write(bytes, (error) => (error ? reject(error) : resolve())));
      taken.catch(() => undefined);
      await Promise.race([taken, stopped]);
    },
    end: () => child.stdin.end(),
    kill: () => child.kill('SIGKILL'),
  };
}

/** An encoder whose pipe a thread of its own writes, out of a queue of `queue` frames. */
function threadedEncoder(binary: string, args: string[], frameBytes: number, queue: number, path: string): Encoder {
  const stderr = new StderrTail();
  const piped = new PipedFfmpeg({ binary, args, write: { frameBytes, queue }, onStderr: (chunk) => stderr.push(chunk), what: `encoding ${path}` });
  return {
    spawned: piped.spawned,
    exit: piped.exit,
    stderr,
    exited: () => piped.done,
    write: (bytes) => piped.write(bytes),
    end: () => piped.endInput(),
    kill: () => piped.kill(),
  };
}
