/**
 * Whole frames out of a raw-video pipe: the one chunk-to-frame loop behind every reader of ffmpeg's
 * raw output (on the calling thread and on the pipe thread alike).
 */

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
