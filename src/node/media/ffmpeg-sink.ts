/**
 * A video file as a FrameSink: createVideoWriter's encoder, with each frame's time checked against
 * the times the file will show, which are fixed when it opens (a raw-frame pipe carries no times).
 */

import { LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import type { FrameSink } from '../../pipeline/frame-io.js';
import { ffmpegPath } from './ffmpeg-binary.js';
import { createVideoWriter, type VideoWriterOptions } from './ffmpeg-write.js';

/** The writer's options: `timing` (a source's frame times) or else `fps` decides when each frame shows. */
export type VideoSinkOptions = VideoWriterOptions;

/** A video file being written; see {@link createVideoSink}. */
export interface VideoSink extends FrameSink {
  readonly path: string;
  /** Size of the encoded video: the frame size, padded to even where the pixel format needs it. */
  readonly outputWidth: number;
  readonly outputHeight: number;
}

/**
 * Opens an encoder for `path` (see createVideoWriter: container by extension, written under a
 * temporary name and renamed on close, nothing left on abort). `write(image, tSeconds)` resolves
 * once ffmpeg has taken the frame (back-pressure). Frame k must come at the k-th time the file
 * will show (`timing`, else k / fps) within half a frame: a frame at another time would be shown
 * at the wrong moment, so it is refused with a `usage` error instead.
 */
export async function createVideoSink(path: string, options: VideoSinkOptions): Promise<VideoSink> {
  const binary = ffmpegPath(options);
  const writer = await createVideoWriter(path, { ...options, ffmpegPath: binary });
  const shownAt = outputClock(options);
  let written = 0;
  return {
    path,
    outputWidth: writer.outputWidth,
    outputHeight: writer.outputHeight,
    async write(image: Image, tSeconds: number): Promise<void> {
      const expected = shownAt(written);
      const tolerance = Math.max((shownAt(written + 1) - expected) / 2, 1e-6);
      if (!(Math.abs(tSeconds - expected) <= tolerance)) {
        throw new LiveswapError(
          'usage',
          `Frame ${written} for ${path} came at ${tSeconds} s, but the video shows it at ${expected.toFixed(6)} s: ` +
            'its times are fixed when it opens (from the timing or fps option), so write the frames at those times.',
          { file: path },
        );
      }
      await writer.write(image);
      written++;
    },
    close: () => writer.close(),
    abort: () => writer.abort(),
  };
}

/**
 * Seconds at which the encoded file shows frame k, as the encoder's setpts expression times it:
 * the listed times (ticks of timeBase), going on past the list by its last spacing (one tick for
 * a single time, and frame k at tick k for an empty list), or k / fps without a list.
 */
export function outputClock(options: Pick<VideoSinkOptions, 'fps' | 'timing'>): (index: number) => number {
  const { fps, timing } = options;
  if (timing === undefined) return (index) => index / fps;
  const [num, den] = timing.timeBase;
  const pts = timing.pts;
  const n = pts.length;
  const step = n > 1 ? pts[n - 1]! - pts[n - 2]! : 1;
  const last = n > 0 ? pts[n - 1]! : -1;
  return (index) => ((index < n ? pts[index]! : last + (index - n + 1) * step) * num) / den;
}
