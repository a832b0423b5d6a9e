/**
 * Where frames come from and where they go, whatever the platform: ffmpeg pipes in Node, a canvas
 * in the browser, arrays in tests. A stream of frames is pumped source → FrameProcessor → sink.
 */

import type { Image } from '../core/image.js';

/** One decoded frame with its presentation time. */
export interface TimedFrame {
  /** RGB or RGBA pixels; the processor paints on them in place. */
  image: Image;
  /** Presentation time in seconds from the start of the stream (after any trim). */
  tSeconds: number;
}

/**
 * An async iterable of frames in presentation order. Leaving the loop early (break, throw) must
 * stop whatever decodes them; `close` does the same for a source that was never iterated.
 */
export interface FrameSource extends AsyncIterable<TimedFrame> {
  readonly width: number;
  readonly height: number;
  close(): Promise<void>;
}

/**
 * Takes finished frames in order. `write` resolves when the frame is accepted (back-pressure);
 * `close` finishes the output and publishes it; `abort` stops and leaves nothing behind. After
 * either, the sink takes no more frames.
 */
export interface FrameSink {
  write(image: Image, tSeconds: number): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * The sink, with each frame's pixel buffer handed to `give` once the sink has taken the frame (an
 * encoder has its copy), so a decoder or renderer can reuse it for a later frame.
 */
export function recyclingSink(sink: FrameSink, give: (data: Uint8ClampedArray) => void): FrameSink {
  return {
    async write(image, tSeconds) {
      await sink.write(image, tSeconds);
      give(image.data);
    },
    close: () => sink.close(),
    abort: () => sink.abort(),
  };
}
