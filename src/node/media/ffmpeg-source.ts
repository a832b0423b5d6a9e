/**
 * A video file as a FrameSource: readFrames' decoder with each frame's presentation time attached,
 * from the source's own frame times when the caller has them, else from the frame rate.
 */

import { invalidOption, LiveswapError } from '../../core/errors.js';
import type { FrameSource, TimedFrame } from '../../pipeline/frame-io.js';
import { ffmpegPath } from './ffmpeg-binary.js';
import { probeVideo, type VideoInfo } from './ffmpeg-probe.js';
import { decodedFrameSize, readFrames, type ReadFramesOptions } from './ffmpeg-read.js';

export interface VideoSourceOptions extends ReadFramesOptions {
  /**
   * The file's frame times as readFrameTiming reads them (ticks of `timeBase`, display order).
   * Frame k's tSeconds is then the k-th time inside the trim, counted from `trim.startPts` when
   * trimmed (from the file's timeline start otherwise), so variable rates keep their rhythm; frames
   * past the list go on at its last spacing. Left out: frame k is at k / the probed rate. Not used
   * when `fps` resamples: frame k is then at k / fps.
   */
  timing?: { timeBase: readonly [number, number]; pts: readonly number[] } | undefined;
}

/** A video file's frames in display order; see {@link openVideoSource}. */
export interface VideoSource extends FrameSource {
  readonly path: string;
  /** The probe of the file (size before any scaling, rate, audio streams, colour tags…). */
  readonly info: VideoInfo;
}

/**
 * Opens a video as a FrameSource: resolves ffmpeg once, probes the file (unless `probed` is given)
 * and checks the options, so a missing or unreadable file fails here, before any frame is asked
 * for. The decoder starts when iteration does; a source is read once. Leaving the loop early, or
 * `close()`, kills ffmpeg and waits for it to exit.
 */
export async function openVideoSource(path: string, options: VideoSourceOptions = {}): Promise<VideoSource> {
  const binary = ffmpegPath(options);
  checkTiming(options.timing);
  const info = options.probed ?? (await probeVideo(path, { ffmpegPath: binary }));
  // Nothing runs until the first next(): a source that is never read starts no process.
  const frames = readFrames(path, { ...options, ffmpegPath: binary, probed: info });
  const { width, height } = decodedFrameSize(info, options);
  const secondsOf = frameClock(info, options);
  let state: 'ready' | 'reading' | 'closed' = 'ready';

  async function* timed(): AsyncGenerator<TimedFrame, void, undefined> {
    if (state !== 'ready') {
      const why = state === 'closed' ? 'closed' : 'being read already';
      throw new LiveswapError('internal', `The video source for ${path} is ${why}; open it again to read it again.`, { file: path });
    }
    state = 'reading';
    let index = 0;
    // Returning from here (break, throw, close) returns `frames`, whose finally kills ffmpeg.
    for await (const image of frames) yield { image, tSeconds: secondsOf(index++) };
  }

  return {
    path,
    info,
    width,
    height,
    [Symbol.asyncIterator]: timed,
    async close(): Promise<void> {
      state = 'closed';
      await frames.return(undefined);
    },
  };
}

function checkTiming(timing: VideoSourceOptions['timing']): void {
  if (timing === undefined) return;
  const [num, den] = timing.timeBase;
  if (!(Number.isInteger(num) && Number.isInteger(den) && num > 0 && den > 0)) invalidTiming('a time base of two whole numbers > 0', timing.timeBase);
  if (!timing.pts.every((t) => Number.isFinite(t)))
    invalidTiming(
      'finite frame times',
      timing.pts.find((t) => !Number.isFinite(t)),
    );
}

function invalidTiming(expected: string, actual: unknown): never {
  throw invalidOption('timing', expected, actual);
}

/**
 * Seconds of the k-th frame the decoder yields. The trim filter keeps the frames with
 * startPts ≤ pts < endPts, so the k-th frame out is the k-th listed time in that range.
 */
export function frameClock(info: Pick<VideoInfo, 'fps'>, options: Pick<VideoSourceOptions, 'fps' | 'timing' | 'trim'>): (index: number) => number {
  const resampled = options.fps;
  if (resampled !== undefined) return (index) => index / resampled;
  const timing = options.timing;
  if (timing === undefined) return (index) => index / info.fps;
  const [num, den] = timing.timeBase;
  const start = options.trim?.startPts;
  const end = options.trim?.endPts;
  const origin = start ?? 0;
  const seconds = timing.pts.filter((t) => (start === undefined || t >= start) && (end === undefined || t < end)).map((t) => ((t - origin) * num) / den);
  const n = seconds.length;
  const step = n > 1 ? seconds[n - 1]! - seconds[n - 2]! : 1 / info.fps;
  const last = n > 0 ? seconds[n - 1]! : -step;
  return (index) => (index < n ? seconds[index]! : last + (index - n + 1) * step);
}
