/**
 * Decoding a video into Images through an ffmpeg pipe of raw RGB frames: one frame in memory at a
 * time (the pipe applies backpressure), nothing on disk, the child killed when the reader stops.
 */

import { spawn } from 'node:child_process';
import { invalidOption, LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { decoderArgs } from './ffmpeg-args.js';
import { childExit, describeExit, type FfmpegOptions, ffmpegPath, StderrTail } from './ffmpeg-binary.js';
import { probeVideo, type VideoInfo } from './ffmpeg-probe.js';

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
  /** 3 (RGB, the default) or 4 (RGBA, alpha 255). */
  channels?: 3 | 4;
  /**
   * 'accurate' (default): chroma interpolated per pixel with exact rounding; a lossless 4:2:0 round
   * trip is off by about 0.6 levels. 'fast': ffmpeg's default SIMD path, about twice as fast to
   * convert but 1–1.5 levels darker on average and blurrier in colour.
   */
  colorConversion?: 'accurate' | 'fast';
  /** The file's probe when the caller has it already (saves one ffmpeg run); it must be this file's. */
  probed?: VideoInfo | undefined;
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
 * Yields the frames of a video as RGB (or RGBA) Images in display orientation (ffmpeg applies the
 * rotation tag), each in its own buffer. The file is probed first, so missing, unreadable and
 * non-video inputs fail before decoding starts. Leaving the loop early (`break`, `return`, a
 * throw) kills ffmpeg and waits for it to exit. A failed decode is an `input-unreadable` error
 * quoting the end of ffmpeg's log.
 */
export function readFrames(path: string, options: ReadFramesOptions = {}): AsyncGenerator<Image, void, undefined> {
  positiveInteger('width', options.width);
  positiveInteger('height', options.height);
  positiveInteger('maxFrames', options.maxFrames);
  if (options.fps !== undefined && !(Number.isFinite(options.fps) && options.fps > 0)) throw invalidOption('fps', 'a frame rate > 0', options.fps);
  if (options.channels !== undefined && options.channels !== 3 && options.channels !== 4) throw invalidOption('channels', '3 or 4', options.channels);
  if (options.colorConversion !== undefined && options.colorConversion !== 'accurate' && options.colorConversion !== 'fast') {
    throw invalidOption('colorConversion', "'accurate' or 'fast'", options.colorConversion);
  }
  const binary = ffmpegPath(options);
  return decode(path, binary, options);
}

async function* decode(path: string, binary: string, options: ReadFramesOptions): AsyncGenerator<Image, void, undefined> {
  const info = options.probed ?? (await probeVideo(path, { ffmpegPath: binary }));
  const { width, height } = decodedFrameSize(info, options);
  const channels = options.channels ?? 3;
  const maxFrames = options.maxFrames ?? Infinity;
  const args = decoderArgs({
    input: path,
    streamIndex: info.streamIndex,
    width,
    height,
    channels,
    fps: options.fps,
    maxFrames: options.maxFrames,
    trim: options.trim,
    colorConversion: options.colorConversion ?? 'accurate',
  });

  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = new StderrTail();
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exit = childExit(child, binary);
  let exited = false;
  try {
    const frameBytes = width * height * channels;
    let frame = new Uint8ClampedArray(frameBytes);
    let filled = 0;
    let count = 0;
    // Pipe chunks (64 KiB) rarely align with frames: copy each byte once into the frame it belongs to.
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(frameBytes - filled, chunk.length - offset);
        frame.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === frameBytes) {
          yield { width, height, channels, data: frame };
          if (++count >= maxFrames) return;
          frame = new Uint8ClampedArray(frameBytes);
          filled = 0;
        }
      }
    }
    const status = await exit;
    exited = true;
    if (status.code !== 0) {
      const how = status.signal !== null ? `ffmpeg was ${describeExit(status)} while decoding it` : `ffmpeg stopped with ${describeExit(status)}`;
      throw new LiveswapError('input-unreadable', `Cannot decode the video ${path}: ${how} (${stderr.lastLines(4) || 'no message'}).`, {
        file: path,
      });
    }
    if (filled !== 0) {
      throw new LiveswapError('internal', `Decoding ${path} ended inside a frame (${filled} of ${frameBytes} bytes): the expected frame size ${width}×${height} was wrong.`, {
        file: path,
      });
    }
  } finally {
    if (!exited) {
      child.kill('SIGKILL');
      await exit.catch(() => undefined);
    }
  }
}
