/**
 * Reusable working buffers for per-frame code: one owner (an engine or compositor instance) asks
 * for a buffer by name and gets the same memory back on the next frame, grown when needed. This
 * keeps large typed arrays out of the garbage collector's way at video rates.
 */

export class ScratchBuffers {
  private readonly floatBuffers = new Map<string, Float32Array>();
  private readonly byteBuffers = new Map<string, Uint8ClampedArray>();

  /** A Float32Array of exactly `length`, zero-filled; valid until the same name is asked for again. */
  floats(name: string, length: number): Float32Array {
    let buffer = this.floatBuffers.get(name);
    if (!buffer || buffer.length < length) {
      buffer = new Float32Array(length);
      this.floatBuffers.set(name, buffer);
      return buffer;
    }
    const view = buffer.subarray(0, length);
    view.fill(0);
    return view;
  }

  /** A Uint8ClampedArray of exactly `length`, zero-filled; valid until the same name is asked for again. */
  bytes(name: string, length: number): Uint8ClampedArray {
    let buffer = this.byteBuffers.get(name);
    if (!buffer || buffer.length < length) {
      buffer = new Uint8ClampedArray(length);
      this.byteBuffers.set(name, buffer);
      return buffer;
    }
    const view = buffer.subarray(0, length);
    view.fill(0);
    return view;
  }
}
