/**
 * Moves a stream from a FrameSource through a FrameProcessor into a FrameSink, in order, with
 * cancellation: the one loop behind video files (and, later, live streams in Node). On any error
 * or abort the sink is aborted (nothing half-written stays) and the source is stopped.
 */

import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import type { FrameSink, FrameSource } from './frame-io.js';
import type { FrameProcessor, ProcessedFrame } from './frame-processor.js';
import type { FramePlan } from './video.js';

export interface PumpOptions {
  signal?: AbortSignal | undefined;
  /** The error thrown when `signal` aborts (names what was being made). */
  aborted?: () => Error;
  /** Called (and awaited) once a frame is planned, before it is painted. */
  onPlan?: ((frame: Image, plan: FramePlan, index: number) => void | Promise<void>) | undefined;
  /** Called once a frame is processed, before it is written. */
  onFrame?: ((result: ProcessedFrame, index: number) => void) | undefined;
}

export interface PumpStats {
  frames: number;
  /** Milliseconds spent waiting for the source's next frame and for the sink to take one. */
  decodeWait: number;
  encodeWait: number;
}

/** Pumps every frame; resolves once the sink is closed (its output complete). */
export async function pumpFrames(source: FrameSource, processor: FrameProcessor, sink: FrameSink, options: PumpOptions = {}): Promise<PumpStats> {
  const stats: PumpStats = { frames: 0, decodeWait: 0, encodeWait: 0 };
  const aborted = options.aborted ?? (() => new LiveswapError('interrupted', 'Stopped before the output was finished; nothing was saved.'));
  const check = (): void => {
    if (options.signal?.aborted) throw aborted();
  };
  try {
    check();
    let t = performance.now();
    for await (const { image, tSeconds } of source) {
      stats.decodeWait += performance.now() - t;
      check();
      const index = stats.frames;
      const onPlan = options.onPlan;
      const result = await processor.process(image, tSeconds, onPlan ? { onPlan: (frame, plan) => onPlan(frame, plan, index) } : {});
      options.onFrame?.(result, index);
      t = performance.now();
      await sink.write(result.image, tSeconds);
      stats.encodeWait += performance.now() - t;
      stats.frames++;
      check();
      t = performance.now();
    }
    if (stats.frames > 0) {
      t = performance.now();
      await sink.close();
      stats.encodeWait += performance.now() - t;
    }
  } catch (error) {
    await sink.abort();
    await source.close().catch(() => undefined);
    if (options.signal?.aborted && !(error instanceof LiveswapError && error.kind === 'interrupted')) throw aborted();
    throw error;
  }
  if (stats.frames === 0) {
    await sink.abort();
  }
  return stats;
}
