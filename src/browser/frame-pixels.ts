/**
 * Camera frames to RGBA pixels without a canvas: the planes of a WebCodecs VideoFrame (I420, its
 * alpha variant, or NV12, as cameras and decoders hand them out) converted by a table-driven loop
 * that also mirrors and scales down in the same pass, so a smaller working frame costs less to make
 * than a full one. BT.601 limited range, which is what cameras and Chromium's decoders give.
 */

/** Where a plane lies in the copied buffer (as VideoFrame.copyTo reports it). */
export interface PlaneSpan {
  offset: number;
  stride: number;
}

/** The frame formats {@link yuvToRgba} reads. */
export type YuvFormat = 'I420' | 'I420A' | 'NV12';

/** Whether a VideoFrame format is one {@link yuvToRgba} converts. */
export function isYuvFormat(format: string | null): format is YuvFormat {
  return format === 'I420' || format === 'I420A' || format === 'NV12';
}

/** Fixed-point (×256) BT.601 limited-range coefficients, one table per term. */
const Y_TERM = new Int32Array(256);
const V_RED = new Int32Array(256);
const U_GREEN = new Int32Array(256);
const V_GREEN = new Int32Array(256);
const U_BLUE = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  Y_TERM[i] = (i - 16) * 298 + 128;
  V_RED[i] = (i - 128) * 409;
  U_GREEN[i] = (i - 128) * -100;
  V_GREEN[i] = (i - 128) * -208;
  U_BLUE[i] = (i - 128) * 516;
}
/** (value >> 8) clamped to 0..255, indexed by (value >> 8) + CLAMP_OFFSET. */
const CLAMP_OFFSET = 384;
const CLAMP = new Uint8Array(1024);
for (let i = 0; i < CLAMP.length; i++) CLAMP[i] = Math.min(255, Math.max(0, i - CLAMP_OFFSET));

export interface YuvSource {
  format: YuvFormat;
  /** The copied planes, as laid out by `layout`. */
  data: Uint8Array;
  /** Y then U, V (I420) or Y then interleaved UV (NV12); I420A's alpha plane is ignored. */
  layout: readonly PlaneSpan[];
  /** The frame's visible size. */
  width: number;
  height: number;
}

/**
 * Converts `source` to RGBA at `outWidth`×`outHeight` (at most the source's size), each output
 * pixel taken from the nearest source pixel, mirrored left to right when asked. Writes into `out`
 * (outWidth × outHeight × 4 bytes) and returns it.
 */
export function yuvToRgba(source: YuvSource, outWidth: number, outHeight: number, mirror: boolean, out: Uint8ClampedArray): Uint8ClampedArray {
  const { data, layout, width, height } = source;
  const [yPlane, uPlane, vPlane] = layout as [PlaneSpan, PlaneSpan, PlaneSpan | undefined];
  const nv12 = source.format === 'NV12';
  const pixels = new Uint32Array(out.buffer, out.byteOffset, outWidth * outHeight);
  // Source columns for each output column: luma, and the chroma sample's byte offset in its row.
  const lumaX = new Int32Array(outWidth);
  const chromaX = new Int32Array(outWidth);
  for (let x = 0; x < outWidth; x++) {
    const column = Math.min(width - 1, Math.floor(((mirror ? outWidth - 1 - x : x) + 0.5) * (width / outWidth)));
    lumaX[x] = column;
    chromaX[x] = nv12 ? (column >> 1) * 2 : column >> 1;
  }
  for (let y = 0; y < outHeight; y++) {
    const row = Math.min(height - 1, Math.floor((y + 0.5) * (height / outHeight)));
    const yRow = yPlane.offset + row * yPlane.stride;
    const uRow = uPlane.offset + (row >> 1) * uPlane.stride;
    // NV12 interleaves U and V: V is the byte after U.
    const vRow = nv12 ? uRow + 1 : vPlane!.offset + (row >> 1) * vPlane!.stride;
    let o = y * outWidth;
    for (let x = 0; x < outWidth; x++) {
      const c = Y_TERM[data[yRow + lumaX[x]!]!]!;
      const cx = chromaX[x]!;
      const u = data[uRow + cx]!;
      const v = data[vRow + cx]!;
      const r = CLAMP[((c + V_RED[v]!) >> 8) + CLAMP_OFFSET]!;
      const g = CLAMP[((c + U_GREEN[u]! + V_GREEN[v]!) >> 8) + CLAMP_OFFSET]!;
      const b = CLAMP[((c + U_BLUE[u]!) >> 8) + CLAMP_OFFSET]!;
      pixels[o++] = 0xff000000 | (b << 16) | (g << 8) | r;
    }
  }
  return out;
}
