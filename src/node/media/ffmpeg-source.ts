/**
 * A video file as a FrameSource: readFrames' decoder with each frame's presentation time attached:
 * the time the decoder gives the frame when the caller has the source's frame times (so a frame lost
 * to damaged data leaves a gap instead of pulling the rest early), else one from the frame rate.
 */

import { invalidOption, LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import type { FrameSource, TimedFrame } from '../../pipeline/frame-io.js';
import { ffmpegPath } from './ffmpeg-binary.js';
import { probeVideo, type VideoInfo } from './ffmpeg-probe.js';
import { type DecodedFrame, decodedFrameSize, FrameRecycler, readFrames, readTimedFrames, type ReadFramesOptions } from './ffmpeg-read.js';

/**
 * How far before a trim's start the decoder seeks: the keyframe found is at or before that time by
 * decoding order, and a frame shown at the trim's start may be decoded up to a few frames before
 * it (B-frames); one second covers any common reordering, and the trim filter cuts exactly.
 */
export const SEEK_MARGIN_SECONDS = 1;

export interface VideoSourceOptions extends ReadFramesOptions {
  /**
   * The file's frame times as readFrameTiming reads them (ticks of `timeBase`, display order).
   * Each frame's tSeconds is then the listed time the decoder gives it (see framePlacer), counted
   * from `trim.startPts` when trimmed (from the file's timeline start otherwise): variable rates
   * keep their rhythm, and a frame that could not be decoded leaves a gap rather than moving the
   * later ones early. A trim's start also seeks the decoder (see `seekSeconds`: the keyframe
   * SEEK_MARGIN_SECONDS before it) unless `seekSeconds` says otherwise. Left out: frame k is at
   * k / the probed rate, and no seek. When `fps` resamples, frame k is at k / fps whatever the
   * timing says (which then only places the seek).
   */
  timing?: { timeBase: readonly [number, number]; pts: readonly number[] } | undefined;
}

/** A video file's frames in display order; see {@link openVideoSource}. */
export interface VideoSource extends FrameSource {
  readonly path: string;
  /** The probe of the file (size before any scaling, rate, audio streams, colour tags…). */
  readonly info: VideoInfo;
  /**
   * Gives a frame's pixels back once nothing reads or writes them any more (the encoder has its
   * copy), so the decoder reads a later frame into them instead of a new buffer (see
   * FrameRecycler). The array is empty afterwards. Returns whether they were taken.
   */
  recycle(data: Uint8ClampedArray): boolean;
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
  const timing = options.fps === undefined ? options.timing : undefined;
  const seekSeconds = options.seekSeconds ?? seekFor(options.timing, options.trim);
  const recycler = new FrameRecycler();
  const readOptions = { ...options, ffmpegPath: binary, probed: info, recycler, ...(seekSeconds !== undefined ? { seekSeconds } : {}) };
  // Nothing runs until the first next(): a source that is never read starts no process.
  const frames = timing ? readTimedFrames(path, readOptions) : timedByIndex(readFrames(path, readOptions));
  const { width, height } = decodedFrameSize(info, options);
  const secondsOf = timing ? framePlacer(info, timing, options.trim) : frameClock(info, options);
  let state: 'ready' | 'reading' | 'closed' = 'ready';

  async function* timed(): AsyncGenerator<TimedFrame, void, undefined> {
    if (state !== 'ready') {
      const why = state === 'closed' ? 'closed' : 'being read already';
      throw new LiveswapError('internal', `The video source for ${path} is ${why}; open it again to read it again.`, { file: path });
    }
    state = 'reading';
    // Returning from here (break, throw, close) returns `frames`, whose finally kills ffmpeg.
    for await (const { image, pts } of frames) yield { image, tSeconds: secondsOf(pts) };
  }

  return {
    path,
    info,
    width,
    height,
    [Symbol.asyncIterator]: timed,
    recycle: (data) => recycler.recycle(data),
    async close(): Promise<void> {
      state = 'closed';
      await frames.return(undefined);
    },
  };
}

/** Frames numbered 0, 1, 2…, as a clock by index reads them. */
async function* timedByIndex(images: AsyncGenerator<Image, void, undefined>): AsyncGenerator<DecodedFrame, void, undefined> {
  let index = 0;
  for await (const image of images) yield { image, pts: index++ };
}

/**
 * Seconds of each decoded frame, given its time from the decoder (ticks), counted from the trim's
 * start: the listed time it is at (within half a spacing), so that a frame lost before it leaves a
 * gap; its own time when it is not after the last frame placed (a frame given twice, which a sink
 * holding gaps leaves out); else, a decoder that timed it unlike the file's listing (or not at all),
 * the next listed time, as frameClock places frames by their index. Stateful: one per read.
 */
export function framePlacer(
  info: Pick<VideoInfo, 'fps'>,
  timing: { timeBase: readonly [number, number]; pts: readonly number[] },
  trim: VideoSourceOptions['trim'],
): (pts: number) => number {
  const [num, den] = timing.timeBase;
  const origin = trim?.startPts ?? 0;
  const listed = timing.pts.filter((t) => (trim?.startPts === undefined || t >= trim.startPts) && (trim?.endPts === undefined || t < trim.endPts));
  const n = listed.length;
  const byIndex = frameClock(info, { timing, trim });
  const seconds = (t: number): number => ((t - origin) * num) / den;
  /** Half the spacing around listed time j: how far a decoder's time may be from it and still be it. */
  const reach = (j: number): number => Math.min(j + 1 < n ? listed[j + 1]! - listed[j]! : Infinity, j > 0 ? listed[j]! - listed[j - 1]! : Infinity) / 2;
  let next = 0;
  return (pts) => {
    if (Number.isFinite(pts)) {
      if (next > 0 && next <= n && pts <= listed[next - 1]!) return seconds(pts);
      let j = next;
      while (j < n && listed[j]! + reach(j) < pts) j++;
      if (j < n && Math.abs(listed[j]! - pts) <= reach(j)) {
        next = j + 1;
        return seconds(listed[j]!);
      }
    }
    return byIndex(next++);
  };
}

/** Where to seek for a trim: SEEK_MARGIN_SECONDS before its start; undefined (from the start) when that is not after 0. */
function seekFor(timing: VideoSourceOptions['timing'], trim: VideoSourceOptions['trim']): number | undefined {
  if (timing === undefined || trim?.startPts === undefined) return undefined;
  const seconds = (trim.startPts * timing.timeBase[0]) / timing.timeBase[1] - SEEK_MARGIN_SECONDS;
  return seconds > 0 ? seconds : undefined;
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
