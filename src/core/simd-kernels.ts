/**
 * WebAssembly SIMD versions of the per-frame kernels that dominate a face swap's compose stage,
 * assembled by wasm-asm.ts and compiled once per thread. Each works in float32 lanes where the
 * TypeScript loops it replaces work in doubles, so an output byte can differ from theirs by one
 * level where a value falls within rounding of a half; nothing else changes. Where WebAssembly or
 * its SIMD extension is missing, {@link simdKernels} returns undefined and callers keep their
 * TypeScript loops. Platform-free: Node, browsers and Workers alike.
 *
 * Data is copied into the module's memory, worked on there and copied back: the copies are plain
 * memory moves, a small part of the kernels' time.
 */

import type { Image } from './image.js';
import { assemble, F32, I32, lanes32, op, V128, v, wasmApi, type WasmFunction } from './wasm-asm.js';

const PAGE = 65536;

/** expandRow4(grid, table, out, count): out[x] = a + (b − a)·f per 4-float texel, (a, b, f) from the table row x. */
function expandRow4(): WasmFunction {
  const [grid, table, out, count, a] = [0, 1, 2, 3, 4];
  return {
    name: 'expandRow4',
    params: [I32, I32, I32, I32],
    locals: [V128],
    body: [
      ...op.block,
      ...op.loop,
      ...op.get(count),
      ...op.i32Eqz,
      ...op.brIf(1),
      ...op.get(out),
      ...op.get(grid),
      ...op.get(table),
      ...op.i32Load(0),
      ...op.i32Add,
      ...v.load(),
      ...op.tee(a),
      ...op.get(grid),
      ...op.get(table),
      ...op.i32Load(4),
      ...op.i32Add,
      ...v.load(),
      ...op.get(a),
      ...v.f32Sub,
      ...op.get(table),
      ...op.f32Load(8),
      ...v.f32Splat,
      ...v.f32Mul,
      ...v.f32Add,
      ...v.store(),
      ...op.get(out),
      ...op.i32(16),
      ...op.i32Add,
      ...op.set(out),
      ...op.get(table),
      ...op.i32(12),
      ...op.i32Add,
      ...op.set(table),
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

/**
 * mixRow(upper, lower, fy, pixels, count, step): per pixel, the field (m, A_r, A_g, A_b) =
 * upper + (lower − upper)·fy, then pixel = round(pixel·(1 − m) + A) on its first three bytes
 * (32-bit lanes, `step` bytes per pixel: 3 or 4; the byte after the row must be readable).
 */
function mixRow(): WasmFunction {
  const [upper, lower, fy, pixels, count, step, fyv, u, r] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const zero = v.const(new Array<number>(16).fill(0));
  return {
    name: 'mixRow',
    params: [I32, I32, F32, I32, I32, I32],
    locals: [V128, V128, V128],
    body: [
      ...op.get(fy),
      ...v.f32Splat,
      ...op.set(fyv),
      ...op.block,
      ...op.loop,
      ...op.get(count),
      ...op.i32Eqz,
      ...op.brIf(1),
      // r = u + (l − u)·fy
      ...op.get(upper),
      ...v.load(),
      ...op.tee(u),
      ...op.get(lower),
      ...v.load(),
      ...op.get(u),
      ...v.f32Sub,
      ...op.get(fyv),
      ...v.f32Mul,
      ...v.f32Add,
      ...op.set(r),
      ...op.get(pixels),
      // the pixel's bytes as floats · (1 − m, 1 − m, 1 − m, 1) + (A_r, A_g, A_b, 0)
      ...op.get(pixels),
      ...v.load32Zero(),
      ...v.i16ExtendLowI8u,
      ...v.i32ExtendLowI16u,
      ...v.f32ConvertI32u,
      ...v.constF32([1, 1, 1, 1]),
      ...op.get(r),
      ...zero,
      ...v.shuffle(lanes32([0, 0, 0, 4])),
      ...v.f32Sub,
      ...v.f32Mul,
      ...op.get(r),
      ...zero,
      ...v.shuffle(lanes32([1, 2, 3, 4])),
      ...v.f32Add,
      ...v.f32Nearest,
      ...v.i32TruncSatF32s,
      ...op.tee(u),
      ...op.get(u),
      ...v.i16NarrowI32s,
      ...op.tee(u),
      ...op.get(u),
      ...v.i8NarrowI16u,
      // Three bytes written, so the next pixel's load never overlaps a pending store.
      ...op.tee(u),
      ...v.store16Lane(0),
      ...op.get(pixels),
      ...op.get(u),
      ...v.store8Lane(2, 2),
      ...op.get(upper),
      ...op.i32(16),
      ...op.i32Add,
      ...op.set(upper),
      ...op.get(lower),
      ...op.i32(16),
      ...op.i32Add,
      ...op.set(lower),
      ...op.get(pixels),
      ...op.get(step),
      ...op.i32Add,
      ...op.set(pixels),
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

type ExpandRow4 = (grid: number, table: number, out: number, count: number) => void;
type MixRow = (upper: number, lower: number, fy: number, pixels: number, count: number, step: number) => void;

export interface SimdKernels {
  /**
   * frame = frame·(1 − m) + A over the fw×fh region at (x0, y0) of an RGB or RGBA frame, with
   * (m, A) bilinearly interpolated from `grid` (gw×gh texels of 4 floats, each covering
   * factor×factor frame pixels, edges clamped) as upsampleRows does; alpha is kept.
   */
  upsampleMix(grid: Float32Array, factor: number, frame: Image, x0: number, y0: number, fw: number, fh: number): void;
}

/** Sets out the module's memory for one call: named regions of given byte sizes, 16-byte aligned. */
class Arena {
  private heap: Uint8Array;

  constructor(private readonly memory: { buffer: ArrayBuffer; grow(pages: number): number }) {
    this.heap = new Uint8Array(memory.buffer);
  }

  /** Byte offsets of regions of the given sizes, the memory grown to hold them. */
  layout(sizes: readonly number[]): number[] {
    const at: number[] = [];
    let end = 0;
    for (const size of sizes) {
      at.push(end);
      end += Math.ceil((size + 16) / 16) * 16;
    }
    if (end > this.memory.buffer.byteLength) this.memory.grow(Math.ceil((end - this.memory.buffer.byteLength) / PAGE));
    if (this.heap.buffer !== this.memory.buffer) this.heap = new Uint8Array(this.memory.buffer);
    return at;
  }

  get bytes(): Uint8Array {
    return this.heap;
  }

  floats(at: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, length);
  }

  words(at: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, at, length);
  }
}

function instantiate(): SimdKernels | undefined {
  const wasm = wasmApi();
  if (!wasm) return undefined;
  const bytes = assemble([expandRow4(), mixRow()], 1);
  if (!wasm.validate(bytes)) return undefined;
  const { exports } = new wasm.Instance(new wasm.Module(bytes));
  const arena = new Arena(exports.memory as { buffer: ArrayBuffer; grow(pages: number): number });
  const expand = exports.expandRow4 as ExpandRow4;
  const mix = exports.mixRow as MixRow;
  return {
    upsampleMix(grid, factor, frame, x0, y0, fw, fh) {
      if (frame.channels === 1) throw new RangeError('upsampleMix: the frame must be RGB or RGBA');
      const gw = Math.ceil(fw / factor);
      const gh = Math.ceil(fh / factor);
      const c = frame.channels;
      const [gridAt, tableAt, upperAt, lowerAt, rowAt] = arena.layout([gw * gh * 16, fw * 12, fw * 16, fw * 16, fw * c + 4]);
      arena.floats(gridAt, gw * gh * 4).set(grid.subarray(0, gw * gh * 4));
      // Per frame column: byte offsets of its two texels in a grid row, and the weight of the second.
      const table = arena.words(tableAt, fw * 3);
      const weights = arena.floats(tableAt, fw * 3);
      for (let x = 0; x < fw; x++) {
        const gx = Math.min(gw - 1, Math.max(0, (x + 0.5) / factor - 0.5));
        const i = Math.floor(gx);
        table[3 * x] = i * 16;
        table[3 * x + 1] = Math.min(gw - 1, i + 1) * 16;
        weights[3 * x + 2] = gx - i;
      }
      let upper = upperAt;
      let lower = lowerAt;
      let upperRow = -1;
      let lowerRow = -1;
      const heap = arena.bytes;
      const fd = frame.data;
      const rowBytes = fw * c;
      for (let y = 0; y < fh; y++) {
        const gy = Math.min(gh - 1, Math.max(0, (y + 0.5) / factor - 0.5));
        const r0 = Math.floor(gy);
        const r1 = Math.min(gh - 1, r0 + 1);
        if (r0 !== upperRow) {
          if (r0 === lowerRow) {
            [upper, lower] = [lower, upper];
            lowerRow = upperRow;
          } else {
            expand(gridAt + r0 * gw * 16, tableAt, upper, fw);
          }
          upperRow = r0;
        }
        if (r1 !== lowerRow) {
          expand(gridAt + r1 * gw * 16, tableAt, lower, fw);
          lowerRow = r1;
        }
        const start = ((y0 + y) * frame.width + x0) * c;
        heap.set(fd.subarray(start, start + rowBytes), rowAt);
        mix(upper, lower, gy - r0, rowAt, fw, c);
        fd.set(heap.subarray(rowAt, rowAt + rowBytes), start);
      }
    },
  };
}

let cached: SimdKernels | null | undefined;

/** The compiled kernels, or undefined where WebAssembly SIMD is unavailable. One instance per thread. */
export function simdKernels(): SimdKernels | undefined {
  if (cached === undefined) {
    try {
      cached = instantiate() ?? null;
    } catch {
      cached = null; // a runtime that refuses synchronous compilation: callers keep their loops
    }
  }
  return cached ?? undefined;
}
