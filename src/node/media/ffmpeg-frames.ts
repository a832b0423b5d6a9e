/**
 * Whole frames out of a raw-video pipe: the one chunk-to-frame loop behind every reader of ffmpeg's
 * raw output (on the calling thread and on the pipe thread alike).
 */

import { yuv444ToRgb, type YuvMatrix } from '../../core/yuv.js';

/** A decoder's frames piped as 8-bit Y′CbCr 4:4:4 planes, for the reader to turn into RGB (see core/yuv.ts). */
export interface PlanarFrames {
  width: number;
  height: number;
  /** The RGB frames' channels: 3, or 4 (alpha 255). */
  channels: 3 | 4;
  matrix: YuvMatrix;
}

/**
 * The whole frames of a raw-video pipe, each in a buffer from `allocate` (frameBytes long). Pipe
 * chunks (64 KiB) rarely align with frames: each byte is copied once into the frame it belongs to.
 * A partial frame at the end is not yielded; its length is left in `tail.bytes` when given.
 */
export async function* pipeFrames(
  chunks: AsyncIterable<Buffer>,
  frameBytes: number,
  allocate: () => Uint8ClampedArray,
  tail?: { bytes: number },
): AsyncGenerator<Uint8ClampedArray, void, undefined> {
  let frame = allocate();
  let filled = 0;
  for await (const chunk of chunks) {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(frameBytes - filled, chunk.length - offset);
      frame.set(chunk.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === frameBytes) {
        yield frame;
        frame = allocate();
        filled = 0;
      }
    }
  }
  if (tail) tail.bytes = filled;
}

/**
 * {@link pipeFrames} as RGB(A) frames of `frameBytes`: with `planar`, each frame's planes are read
 * into one buffer kept for the purpose and converted into a buffer from `allocate`; without, the
 * frames as they come.
 */
export async function* pipeRgbFrames(
  chunks: AsyncIterable<Buffer>,
  frameBytes: number,
  allocate: () => Uint8ClampedArray,
  tail?: { bytes: number },
  planar?: PlanarFrames,
): AsyncGenerator<Uint8ClampedArray, void, undefined> {
  if (!planar) {
    yield* pipeFrames(chunks, frameBytes, allocate, tail);
    return;
  }
  // pipeFrames asks for the next buffer only once the frame yielded is dealt with: one is enough.
  const { width, height, channels, matrix } = planar;
  const planeBytes = 3 * width * height;
  const planes = new Uint8ClampedArray(planeBytes);
  for await (const frame of pipeFrames(chunks, planeBytes, () => planes, tail)) {
    const rgb = allocate();
    yuv444ToRgb(frame, width, height, matrix, rgb, channels);
    yield rgb;
  }
}
