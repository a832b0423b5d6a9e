/**
 * Reusable working buffers for per-frame code: one owner (an engine or compositor instance) asks
 * for a buffer by name and gets the same memory back on the next frame, grown when needed. This
 * keeps large typed arrays out of the garbage collector's way at video rates.
 */

type Buffer = Float32Array | Uint8ClampedArray;

export class ScratchBuffers {
  private readonly buffers = new Map<string, Buffer>();

  /** A Float32Array of exactly `length`, zero-filled; valid until the same name is asked for again. */
  floats(name: string, length: number): Float32Array {
    return this.take(name, length, Float32Array);
  }

  /** A Uint8ClampedArray of exactly `length`, zero-filled; valid until the same name is asked for again. */
  bytes(name: string, length: number): Uint8ClampedArray {
    return this.take(name, length, Uint8ClampedArray);
  }

  private take<T extends Buffer>(name: string, length: number, type: { new (length: number): T }): T {
    const key = `${type.name}:${name}`;
    const buffer = this.buffers.get(key) as T | undefined;
    if (!buffer || buffer.length < length) {
      const fresh = new type(length);
      this.buffers.set(key, fresh);
      return fresh;
    }
    const view = buffer.subarray(0, length) as T;
    view.fill(0);
    return view;
  }
}
