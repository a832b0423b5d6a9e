/**
 * A video file as a FrameSink: createVideoWriter's encoder, with each frame's time checked against
 * the times the file will show, which are fixed when it opens (a raw-frame pipe carries no times).
 */

import { invalidOption, LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import type { FrameSink } from '../../pipeline/frame-io.js';
import { ffmpegPath } from './ffmpeg-binary.js';
import { createVideoWriter, type VideoWriterOptions } from './ffmpeg-write.js';

/** The writer's options: `timing` (a source's frame times) or else `fps` decides when each frame shows. */
export interface VideoSinkOptions extends VideoWriterOptions {
  /**
   * What a frame that comes later than the next time the file shows means. 'refuse' (default): a
   * mistake, refused with a `usage` error. 'hold': frames were lost before it (a source that could
   * not decode them), so the frame before the gap is written again at each time it skipped (the
   * frame itself when the gap is at the start), and this frame goes at its own time; a frame that
   * comes earlier than the next time (one the decoder gave twice) is left out. Only inside the
   * listed `timing`.
   */
  gaps?: 'refuse' | 'hold';
}

/** What a sink did besides writing each frame once; see {@link VideoSinkOptions.gaps}. */
export interface SinkGaps {
  /** Frames written in place of lost ones (the frame before each gap, repeated). */
  held: number;
  /** Frames given at a time already past, left out. */
  skipped: number;
}

/** A video file being written; see {@link createVideoSink}. */
export interface VideoSink extends FrameSink {
  readonly path: string;
  /** Size of the encoded video: the frame size, padded to even where the pixel format needs it. */
  readonly outputWidth: number;
  readonly outputHeight: number;
  /** Frames held or skipped so far (always 0 with `gaps: 'refuse'`). */
  readonly gaps: SinkGaps;
}

/**
 * Opens an encoder for `path` (see createVideoWriter: container by extension, written under a
 * temporary name and renamed on close, nothing left on abort). `write(image, tSeconds)` resolves
 * once ffmpeg has taken the frame (back-pressure). Frame k must come at the k-th time the file
 * will show (`timing`, else k / fps) within half a frame: a frame at another time would be shown
 * at the wrong moment, so it is refused with a `usage` error instead, unless `gaps: 'hold'` says
 * that frames may be missing.
 */
export async function createVideoSink(path: string, options: VideoSinkOptions): Promise<VideoSink> {
  const binary = ffmpegPath(options);
  const hold = options.gaps === 'hold';
  if (options.gaps !== undefined && options.gaps !== 'refuse' && !hold) throw invalidOption('gaps', "'refuse' or 'hold'", options.gaps);
  const { gaps: _gaps, ...writerOptions } = options;
  const writer = await createVideoWriter(path, { ...writerOptions, ffmpegPath: binary, ...(hold ? { repeatable: true } : {}) });
  const shownAt = outputClock(options);
  const tolerance = (k: number): number => Math.max((shownAt(k + 1) - shownAt(k)) / 2, 1e-6);
  const listed = options.timing?.pts.length ?? 0;
  const gaps: SinkGaps = { held: 0, skipped: 0 };
  let written = 0;
  return {
    path,
    outputWidth: writer.outputWidth,
    outputHeight: writer.outputHeight,
    gaps,
    async write(image: Image, tSeconds: number): Promise<void> {
      // Within the listed times only (past them a late frame is a mistake like any other).
      if (hold && Number.isFinite(tSeconds) && written < listed && tSeconds <= shownAt(listed - 1) + tolerance(listed - 1)) {
        if (tSeconds < shownAt(written) - tolerance(written)) {
          gaps.skipped++;
          return;
        }
        // The slots this frame skipped: the frame before the gap fills them.
        while (tSeconds > shownAt(written) + tolerance(written)) {
          if (written === 0) await writer.write(image);
          else await writer.repeatLast();
          written++;
          gaps.held++;
        }
      }
      const expected = shownAt(written);
      if (!(Math.abs(tSeconds - expected) <= tolerance(written))) {
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
