/**
 * The paste-back's inner loop in WebAssembly: a bilinear warp of an 8-bit crop (cv2.warpAffine's
 * float32 path, spec F1.10, as warp-taps.ts's interiorU8C3 computes it) over the interior columns
 * of one frame row, written straight into the row or blended under a float mask as insightface's
 * paste does (α = m/255 in float32, truncated). Every operation is the TypeScript loops' own in the
 * same precision and order, so the bytes are theirs. Assembled by wasm-asm.ts and compiled once
 * per thread; where WebAssembly is missing {@link warpBlendKernel} returns undefined and callers
 * keep their loops. Platform-free.
 */

import type { Image } from './image.js';
import { assemble, F32, F64, I32, op, wasmApi, type WasmFunction } from './wasm-asm.js';

const PAGE = 65536;

/** Scalar opcodes wasm-asm.ts does not name. */
const x = {
  f64: (value: number) => [0x44, ...new Uint8Array(Float64Array.of(value).buffer)],
  i32Ne: [0x47],
  f32Eq: [0x5b],
  f32Floor: [0x8e],
  f32Add: [0x92],
  f32Div: [0x95],
  f32Min: [0x96],
  f64Nearest: [0x9e],
  f64Add: [0xa0],
  f64Sub: [0xa1],
  f64Mul: [0xa2],
  i32TruncF64u: [0xab],
  i32TruncF32u: [0xa9],
  f32ConvertI32u: [0xb3],
  f32DemoteF64: [0xb6],
  f64ConvertI32s: [0xb7],
  f64ConvertI32u: [0xb8],
  f64PromoteF32: [0xbb],
};

/**
 * warpRow{c} / blendRow{c}(src, stride, out, mask, count, x0, m0, m3, rowX, rowY), one function
 * per channel count c and kind, channels unrolled: for count pixels from frame column x0 on, the
 * crop coordinates sx = f32(x·m0 + rowX), sy = f32(x·m3 + rowY) (all four taps inside the crop at
 * `src`), each channel's bilinear mix in float64 rounded half to even; written to `out` (c bytes a
 * pixel), or blended into the bytes there under the mask floats at `mask`: α = m/255,
 * out = trunc(min(255, α·warp + (1 − α)·out)) in float32, α = 0 leaving them.
 */
function warpRow(c: number, blend: boolean): WasmFunction {
  const [src, stride, out, mask, count, px, m0, m3, rowX, rowY] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [sx, sy, ix, iy, ax, ay, o, o2, v0, a, alpha, beta] = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21];
  const tap = (at: number, offset: number) => [...op.get(at), ...op.i32Load8u(offset), ...x.f64ConvertI32u];
  // left + t·(right − left) in float64 for the taps at `at` + k and + k + c.
  const lerp = (at: number, k: number) => [...tap(at, k), ...op.tee(a), ...tap(at, k + c), ...op.get(a), ...x.f64Sub, ...op.get(ax), ...x.f64Mul, ...x.f64Add];
  const channel = (k: number) => [
    ...op.get(out),
    ...lerp(o, k),
    ...op.tee(v0),
    ...lerp(o2, k),
    ...op.get(v0),
    ...x.f64Sub,
    ...op.get(ay),
    ...x.f64Mul,
    ...x.f64Add,
    ...x.f64Nearest,
    ...x.i32TruncF64u,
    ...(blend
      ? [
          // α·warped + β·frame in float32, truncated, at most 255
          ...x.f32ConvertI32u,
          ...op.get(alpha),
          ...op.f32Mul,
          ...op.get(beta),
          ...op.get(out),
          ...op.i32Load8u(k),
          ...x.f32ConvertI32u,
          ...op.f32Mul,
          ...x.f32Add,
          ...op.f32(255),
          ...x.f32Min,
          ...x.f32Floor,
          ...x.i32TruncF32u,
        ]
      : []),
    ...op.i32Store8(k),
  ];
  const coordinate = (m: number, row: number, into: number, floor: number, frac: number) => [
    ...op.get(px),
    ...x.f64ConvertI32s,
    ...op.get(m),
    ...x.f64Mul,
    ...op.get(row),
    ...x.f64Add,
    ...x.f32DemoteF64,
    ...op.tee(into),
    ...x.f32Floor,
    ...op.i32TruncF32s,
    ...op.set(floor),
    ...op.get(into),
    ...x.f64PromoteF32,
    ...op.get(floor),
    ...x.f64ConvertI32s,
    ...x.f64Sub,
    ...op.set(frac),
  ];
  const pixel = [
    ...coordinate(m0, rowX, sx, ix, ax),
    ...coordinate(m3, rowY, sy, iy, ay),
    // o = src + iy·stride + ix·c, o2 the row below
    ...op.get(src),
    ...op.get(iy),
    ...op.get(stride),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.get(ix),
    ...op.i32(c),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.tee(o),
    ...op.get(stride),
    ...op.i32Add,
    ...op.set(o2),
    ...Array.from({ length: c }, (_, k) => channel(k)).flat(),
  ];
  return {
    name: `${blend ? 'blend' : 'warp'}Row${c}`,
    params: [I32, I32, I32, I32, I32, I32, F64, F64, F64, F64],
    locals: [F32, F32, I32, I32, F64, F64, I32, I32, F64, F64, F32, F32],
    body: [
      ...op.block,
      ...op.loop,
      ...op.get(count),
      ...op.i32Eqz,
      ...op.brIf(1),
      ...(blend
        ? [
            // α = m/255; a zero mask value leaves the pixel.
            ...op.get(mask),
            ...op.f32Load(),
            ...op.f32(255),
            ...x.f32Div,
            ...op.tee(alpha),
            ...op.f32(0),
            ...x.f32Eq,
            ...op.i32Eqz,
            ...op.if,
            ...op.f32(1),
            ...op.get(alpha),
            ...op.f32Sub,
            ...op.set(beta),
            ...pixel,
            ...op.end,
            ...op.get(mask),
            ...op.i32(4),
            ...op.i32Add,
            ...op.set(mask),
          ]
        : pixel),
      ...op.get(out),
      ...op.i32(c),
      ...op.i32Add,
      ...op.set(out),
      ...op.get(px),
      ...op.i32(1),
      ...op.i32Add,
      ...op.set(px),
      ...op.get(count),
      ...op.i32(1),
      ...op.i32Sub,
      ...op.set(count),
      ...op.br(0),
      ...op.end,
      ...op.end,
    ],
  };
}

type WarpRow = (src: number, stride: number, out: number, mask: number, count: number, x0: number, m0: number, m3: number, rowX: number, rowY: number) => void;

/** The channel counts with a kernel of their own. */
const CHANNELS = [1, 2, 3, 4] as const;

/** The float32 warp of one crop into frame rows, warped in or blended (see {@link warpBlendKernel}). */
export interface WarpBlendKernel {
  /** Loads the 8-bit crop the rows below sample, for frames up to `frameWidth` pixels wide. */
  load(crop: Image, frameWidth: number): void;
  /**
   * Frame row y's pixels [x0, x1) (all four taps of each inside the crop), with the sampler's
   * float32 coefficients m0, m3 and the row's offsets rowX = m1·y + m2, rowY = m4·y + m5: the warped
   * crop written in, or with `mask` (values from mask[maskAt] on, one per pixel) blended in.
   */
  row(frame: Image, y: number, x0: number, x1: number, m0: number, m3: number, rowX: number, rowY: number, mask?: Float32Array, maskAt?: number): void;
}

function instantiate(): WarpBlendKernel | undefined {
  const wasm = wasmApi();
  if (!wasm) return undefined;
  const bytes = assemble(
    CHANNELS.flatMap((c) => [warpRow(c, false), warpRow(c, true)]),
    1,
  );
  if (!wasm.validate(bytes)) return undefined;
  const { exports } = new wasm.Instance(new wasm.Module(bytes));
  const memory = exports.memory as { buffer: ArrayBuffer; grow(pages: number): number };
  const warp = new Map(CHANNELS.map((c) => [c as number, exports[`warpRow${c}`] as WarpRow]));
  const blend = new Map(CHANNELS.map((c) => [c as number, exports[`blendRow${c}`] as WarpRow]));
  let heap = new Uint8Array(memory.buffer);
  let floats = new Float32Array(memory.buffer);
  let stride = 0;
  let channels = 0;
  let rowAt = 0;
  let maskAt = 0;
  return {
    load(crop, frameWidth) {
      const c = crop.channels;
      const size = crop.width * crop.height * c;
      rowAt = Math.ceil((size + 16) / 16) * 16;
      maskAt = rowAt + Math.ceil((frameWidth * c + 16) / 16) * 16;
      const end = maskAt + frameWidth * 4 + 16;
      if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE));
      if (heap.buffer !== memory.buffer) {
        heap = new Uint8Array(memory.buffer);
        floats = new Float32Array(memory.buffer);
      }
      heap.set(crop.data.subarray(0, size), 0);
      stride = crop.width * c;
      channels = c;
    },
    row(frame, y, x0, x1, m0, m3, rowX, rowY, mask, at = 0) {
      const count = x1 - x0;
      if (count <= 0) return;
      const c = channels;
      const start = (y * frame.width + x0) * c;
      const bytes = count * c;
      const fd = frame.data;
      if (mask) {
        heap.set(fd.subarray(start, start + bytes), rowAt);
        floats.set(mask.subarray(at, at + count), maskAt >> 2);
      }
      (mask ? blend : warp).get(c)!(0, stride, rowAt, maskAt, count, x0, m0, m3, rowX, rowY);
      fd.set(heap.subarray(rowAt, rowAt + bytes), start);
    },
  };
}

let cached: WarpBlendKernel | null | undefined;

/** The compiled kernel, or undefined where WebAssembly is unavailable. One instance per thread. */
export function warpBlendKernel(): WarpBlendKernel | undefined {
  if (cached === undefined) {
    try {
      cached = instantiate() ?? null;
    } catch {
      cached = null; // a runtime that refuses synchronous compilation: callers keep their loops
    }
  }
  return cached ?? undefined;
}
