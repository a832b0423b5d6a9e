/**
 * The watermark's costliest step, adding the bilinear upsample of the residual grid to a frame row,
 * as a small WebAssembly SIMD module. It is assembled here from its instructions (no toolchain,
 * nothing downloaded) and compiled once; where WebAssembly or its SIMD extension is missing,
 * {@link upsampleKernel} returns undefined and the caller keeps its plain TypeScript loop.
 * Platform-free: Node and browser Workers alike. One file on purpose: the assembler, the two kernel
 * bodies and the loader share one memory layout and one set of lane tricks, each meaningless alone.
 *
 * The residual grid goes into the module's memory once per frame as 16-bit fixed point
 * ({@link KERNEL_SCALE} units per level, rounded half up), each row padded with a copy of its edge
 * values. Per frame row a kernel blends the two grid rows above and below (Q15 weight, rounded),
 * then works out each pixel's delta, floor(v + 0.5) of the horizontal interpolation, narrows the
 * deltas to bytes, spreads them over R, G, B (alpha gets 0) and adds them to the frame bytes with
 * unsigned saturation (the positive and negative parts apart), which is the clamp to 0..255.
 *
 * - 1920-wide rows (4 pixels per grid column): 8 grid columns (32 pixels) per iteration, the four
 *   pixels under a column at fixed weights (5·mid + 3·left)/8, (7·mid + left)/8, (7·mid + right)/8,
 *   (5·mid + 3·right)/8, put in pixel order by shuffles.
 * - Other widths from {@link MIN_ANY_WIDTH}: the caller's own bilinear taps, through a table that
 *   gives, per run of 8 pixels, the first of 8 consecutive grid values they read, byte indices that
 *   pick each pixel's left and right value out of those 8 (a swizzle), and each pixel's Q15 weight.
 */

import { name, section, sleb, uleb, vector } from '../core/wasm-asm.js';

/** Fixed-point units per luma level of the residual the kernel reads. */
export const KERNEL_SCALE = 128;
/** Largest |residual| (levels) the 16-bit lanes hold: 8 × 31.9 × 128 stays under 32768. */
export const KERNEL_MAX_LEVEL = 31;
/** Added before truncating a fixed-point residual value: a whole number above its range, plus the 0.5 that rounds. */
const INTEGER_BIAS = 4096;
const ROUNDING_BIAS = INTEGER_BIAS + 0.5;

const GRID_W = 480;
const GRID_H = 270;
/** A padded residual row: [edge, v0 … v479, edge]. */
const PADDED = GRID_W + 2;
/** Memory layout: the padded residual rows, one frame row, the tap table; 64 KiB pages. */
const RESIDUAL_AT = 0;
const ROW_AT = 4 * 65536;
const TABLE_AT = 5 * 65536;
const PAGES = 6;
/** Room for one frame row (plus the 16 pixels a last, partial run may write past it). */
const ROW_ROOM = 65536 - 64;
/** Table bytes per run of 8 pixels: window start (i32), left indices, right indices, weights (16 bytes each). */
const RUN_BYTES = 52;
/** Narrower frames have more than 8 grid values under 8 pixels somewhere; the TypeScript loop does them. */
export const MIN_ANY_WIDTH = 560;

/** Bilinear taps per frame pixel on the 480-column grid: left and right column, weight of the right one. */
export interface Taps {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly frac: Float32Array;
}

export interface UpsampleKernel {
  /**
   * Loads a frame's residual grid (480×270 levels). False when a value is beyond
   * ±{@link KERNEL_MAX_LEVEL}: then nothing usable is loaded and the caller's own loop must do the frame.
   */
  setResidual(residual: Float32Array): boolean;
  /**
   * Readies rows of this width: 1920 always; other widths from {@link MIN_ANY_WIDTH} up, with the
   * caller's horizontal taps (built into a table, kept until another width comes). False when the
   * width is out of the kernels' reach.
   */
  prepareWidth(width: number, taps: Taps): boolean;
  /**
   * Adds one frame row's upsampled residual, blended from grid rows `above` and `below` with
   * weight `fraction` (0 ≤ fraction < 1) of `below`, to `bytes[row .. row + width·channels)`, the
   * width being the one last prepared.
   */
  addRow(bytes: Uint8Array, row: number, channels: 3 | 4, above: number, below: number, fraction: number): void;
}

// ---- the module's instructions (the encoding helpers are core/wasm-asm.ts's) ----------------------

const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32: (value: number) => [0x41, ...sleb(value)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Load: (offset: number) => [0x28, 2, ...uleb(offset)],
  simd: (code: number, ...immediates: number[]) => [0xfd, ...uleb(code), ...immediates],
};
/** v128 memory access with an offset, alignment hint 1 byte. */
const load = (offset: number) => op.simd(0x00, 0, ...uleb(offset));
const store = (offset: number) => op.simd(0x0b, 0, ...uleb(offset));
const v128Const = (lanes16: number[]) => op.simd(0x0c, ...lanes16.flatMap((v) => [v & 0xff, (v >> 8) & 0xff]));
const zeroConst = () => op.simd(0x0c, ...new Array<number>(16).fill(0));
const shuffle = (lanes: number[]) => op.simd(0x0d, ...lanes);
// SIMD opcodes after the 0xFD prefix (WebAssembly 2.0 binary format), named by lane shape.
const SWIZZLE_8 = 0x0e;
const SPLAT_16 = 0x10;
const NARROW_I16_S = 0x65;
const ADD_SAT_U8 = 0x70;
const SUB_U8 = 0x71;
const SUB_SAT_U8 = 0x73;
const MAX_S8 = 0x78;
const Q15_MUL_16 = 0x82;
const SHR_S16 = 0x8c;
const ADD_16 = 0x8e;
const SUB_16 = 0x91;
const MUL_16 = 0x95;

const splat16 = (v: number) => v128Const(new Array<number>(8).fill(v));

/** Pixel order from A = [d0 of columns 0..7 | d1 …] and E = [d2 … | d3 …]: 16 pixels of 4 columns each. */
const PIXELS_LOW = [0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27];
const PIXELS_HIGH = [4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31];

/** Byte lanes of each 16-byte chunk of 16 pixels: RGB spreads them over 3 chunks, RGBA over 4 (lane 16 is a zero). */
function spread(channels: 3 | 4): number[][] {
  const chunks: number[][] = [];
  const bytes: number[] = [];
  for (let p = 0; p < 16; p++) for (let c = 0; c < channels; c++) bytes.push(c < 3 ? p : 16);
  for (let i = 0; i < bytes.length; i += 16) chunks.push(bytes.slice(i, i + 16));
  return chunks;
}

/**
 * add(frame, above, below, weight, groups): i32 params 0..4; v128 locals: 5 left, 6 mid, 7 right,
 * 8 d0, 9 d1, 10 d2, 11 d3 (then A, E), 12 pixels, 13 delta, 14 positive part, 15 zero, 16 weight.
 */
function kernelBody(channels: 3 | 4): number[] {
  const [FRAME, ABOVE, BELOW, WEIGHT, GROUPS, LEFT, MID, RIGHT, D0, D1, D2, D3, PIXELS, DELTA, POSITIVE, ZERO, WEIGHTS] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
  ];
  const code: number[] = [];
  const emit = (...parts: number[][]): void => {
    for (const part of parts) code.push(...part);
  };
  // The row between the two grid rows: above + round(weight · (below − above)), in Q15.
  const blend = (target: number, offset: number): void => {
    emit(op.get(ABOVE), load(offset), op.get(BELOW), load(offset), op.get(ABOVE), load(offset), op.simd(SUB_16));
    emit(op.get(WEIGHTS), op.simd(Q15_MUL_16), op.simd(ADD_16), op.set(target));
  };
  // floor((a·mid + b·side)/8 + 0.5) in KERNEL_SCALE units: (a·mid + b·side + 4·scale) >> (3 + log2 scale)
  const shift = 3 + Math.log2(KERNEL_SCALE);
  const delta = (target: number, midWeight: number, side: number, sideWeight: number): void => {
    emit(op.get(MID), splat16(midWeight), op.simd(MUL_16), op.get(side));
    if (sideWeight !== 1) emit(splat16(sideWeight), op.simd(MUL_16));
    emit(op.simd(ADD_16), splat16(4 * KERNEL_SCALE), op.simd(ADD_16), op.i32(shift), op.simd(SHR_S16), op.set(target));
  };
  emit(zeroConst(), op.set(ZERO), op.get(WEIGHT), op.simd(SPLAT_16), op.set(WEIGHTS));
  emit(op.block, op.loop);
  blend(LEFT, 0);
  blend(MID, 2);
  blend(RIGHT, 4);
  delta(D0, 5, LEFT, 3);
  delta(D1, 7, LEFT, 1);
  delta(D2, 7, RIGHT, 1);
  delta(D3, 5, RIGHT, 3);
  // A = [d0 | d1] and E = [d2 | d3] as bytes (|d| is far below 128).
  emit(op.get(D0), op.get(D1), op.simd(NARROW_I16_S), op.set(D0), op.get(D2), op.get(D3), op.simd(NARROW_I16_S), op.set(D2));
  let offset = 0;
  for (const pixels of [PIXELS_LOW, PIXELS_HIGH]) {
    emit(op.get(D0), op.get(D2), shuffle(pixels), op.set(PIXELS));
    offset = emitSaturatingAdd(emit, channels, { FRAME, PIXELS, DELTA, POSITIVE, ZERO }, offset);
  }
  emit(op.get(FRAME), op.i32(offset), op.i32Add, op.set(FRAME));
  emit(op.get(ABOVE), op.i32(16), op.i32Add, op.set(ABOVE), op.get(BELOW), op.i32(16), op.i32Add, op.set(BELOW));
  emit(op.get(GROUPS), op.i32(1), op.i32Sub, op.tee(GROUPS), op.brIf(0));
  emit(op.end, op.end, op.end);
  const locals = vector([[...uleb(12), V128]]);
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

/**
 * addAny(frame, above, below, weight, groups, table): i32 params 0..5; v128 locals: 6 window,
 * 7 left values, 8 right values, 9 first 8 deltas, 10 next 8, 11 pixels, 12 delta, 13 positive
 * part, 14 zero, 15 weight.
 */
function anyWidthBody(channels: 3 | 4): number[] {
  const [FRAME, ABOVE, BELOW, WEIGHT, GROUPS, TABLE, WINDOW, LEFT, RIGHT, D0, D1, PIXELS, DELTA, POSITIVE, ZERO, WEIGHTS] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
  const code: number[] = [];
  const emit = (...parts: number[][]): void => {
    for (const part of parts) code.push(...part);
  };
  const shift = Math.log2(KERNEL_SCALE);
  const windowOf = (row: number, run: number): void => emit(op.get(row), op.get(TABLE), op.i32Load(run), op.i32Add, load(0));
  emit(zeroConst(), op.set(ZERO), op.get(WEIGHT), op.simd(SPLAT_16), op.set(WEIGHTS));
  emit(op.block, op.loop);
  for (const [run, target] of [
    [0, D0],
    [RUN_BYTES, D1],
  ]) {
    // The 8 grid values this run reads, blended between the two grid rows.
    windowOf(ABOVE, run);
    windowOf(BELOW, run);
    windowOf(ABOVE, run);
    emit(op.simd(SUB_16), op.get(WEIGHTS), op.simd(Q15_MUL_16), op.simd(ADD_16), op.set(WINDOW));
    emit(op.get(WINDOW), op.get(TABLE), load(run + 4), op.simd(SWIZZLE_8), op.set(LEFT));
    emit(op.get(WINDOW), op.get(TABLE), load(run + 20), op.simd(SWIZZLE_8), op.set(RIGHT));
    // left + round(weight · (right − left)), then floor(v + 0.5) in levels.
    emit(op.get(RIGHT), op.get(LEFT), op.simd(SUB_16), op.get(TABLE), load(run + 36), op.simd(Q15_MUL_16), op.get(LEFT), op.simd(ADD_16));
    emit(splat16(KERNEL_SCALE / 2), op.simd(ADD_16), op.i32(shift), op.simd(SHR_S16), op.set(target));
  }
  emit(op.get(D0), op.get(D1), op.simd(NARROW_I16_S), op.set(PIXELS));
  const offset = emitSaturatingAdd(emit, channels, { FRAME, PIXELS, DELTA, POSITIVE, ZERO }, 0);
  emit(op.get(FRAME), op.i32(offset), op.i32Add, op.set(FRAME));
  emit(op.get(TABLE), op.i32(2 * RUN_BYTES), op.i32Add, op.set(TABLE));
  emit(op.get(GROUPS), op.i32(1), op.i32Sub, op.tee(GROUPS), op.brIf(0));
  emit(op.end, op.end, op.end);
  const locals = vector([[...uleb(10), V128]]);
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

/**
 * Spreads 16 pixel deltas (local PIXELS, signed bytes) over their colour bytes and adds them to the
 * frame at FRAME + offset.., with unsigned saturation: frame = (frame +sat max(d, 0)) −sat (max(d, 0) − d).
 * Returns the offset after the last chunk.
 */
function emitSaturatingAdd(
  emit: (...parts: number[][]) => void,
  channels: 3 | 4,
  l: { FRAME: number; PIXELS: number; DELTA: number; POSITIVE: number; ZERO: number },
  offset: number,
): number {
  for (const lanes of spread(channels)) {
    emit(op.get(l.PIXELS), op.get(l.ZERO), shuffle(lanes), op.tee(l.DELTA));
    emit(op.get(l.ZERO), op.simd(MAX_S8), op.set(l.POSITIVE));
    emit(op.get(l.FRAME), op.get(l.FRAME), load(offset), op.get(l.POSITIVE), op.simd(ADD_SAT_U8));
    emit(op.get(l.POSITIVE), op.get(l.DELTA), op.simd(SUB_U8), op.simd(SUB_SAT_U8), store(offset));
    offset += 16;
  }
  return offset;
}

function moduleBytes(): Uint8Array {
  const fiveInts = [0x60, ...vector([[I32], [I32], [I32], [I32], [I32]]), 0];
  const sixInts = [0x60, ...vector([[I32], [I32], [I32], [I32], [I32], [I32]]), 0];
  const type = section(1, vector([fiveInts, sixInts]));
  const functions = section(3, vector([[0], [0], [1], [1]]));
  const memory = section(5, vector([[0x00, PAGES]]));
  const exports = section(
    7,
    vector([
      [...name('memory'), 0x02, 0],
      [...name('addRgb'), 0x00, 0],
      [...name('addRgba'), 0x00, 1],
      [...name('addAnyRgb'), 0x00, 2],
      [...name('addAnyRgba'), 0x00, 3],
    ]),
  );
  const code = section(10, vector([kernelBody(3), kernelBody(4), anyWidthBody(3), anyWidthBody(4)]));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...functions, ...memory, ...exports, ...code]);
}

// ---- loading ---------------------------------------------------------------------------------

/** The part of the WebAssembly API used here (the project's type libraries declare only its types). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
type KernelFunction = (frame: number, above: number, below: number, weight: number, groups: number, table?: number) => void;

/**
 * The any-width kernel's table: per run of 8 pixels, the byte offset (in a padded residual row) of
 * the first of the 8 grid values the run reads, each pixel's left and right value as byte indices
 * into those 8, and its Q15 weight. Pixels past the width read the first value with weight 0.
 * False when some run needs more than 8 values, or the row or table would not fit.
 */
function buildTable(table: DataView, width: number, taps: Taps): boolean {
  const runs = 2 * Math.ceil(width / 16);
  if (width < MIN_ANY_WIDTH || width * 4 > ROW_ROOM || runs * RUN_BYTES > table.byteLength) return false;
  const { i0, i1, frac } = taps;
  for (let run = 0; run < runs; run++) {
    const at = run * RUN_BYTES;
    const first = run * 8;
    const start = i0[Math.min(first, width - 1)];
    table.setInt32(at, 2 * (start + 1), true); // + 1: the row's left padding
    for (let k = 0; k < 8; k++) {
      const x = first + k;
      const inside = x < width;
      const left = inside ? i0[x] - start : 0;
      const right = inside ? i1[x] - start : 0;
      if (left < 0 || right > 7) return false;
      table.setUint8(at + 4 + 2 * k, 2 * left);
      table.setUint8(at + 5 + 2 * k, 2 * left + 1);
      table.setUint8(at + 20 + 2 * k, 2 * right);
      table.setUint8(at + 21 + 2 * k, 2 * right + 1);
      table.setInt16(at + 36 + 2 * k, inside ? Math.min(32767, Math.round(frac[x] * 32768)) : 0, true);
    }
  }
  return true;
}

let cached: UpsampleKernel | null | undefined;

/** The compiled kernel, or undefined where WebAssembly SIMD is unavailable. One instance per thread. */
export function upsampleKernel(): UpsampleKernel | undefined {
  if (cached !== undefined) return cached ?? undefined;
  cached = null;
  try {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (!wasm) return undefined;
    const bytes = moduleBytes();
    if (!wasm.validate(bytes)) return undefined;
    const { exports } = new wasm.Instance(new wasm.Module(bytes));
    const memory = exports.memory as { buffer: ArrayBuffer };
    const fourTimes = { 3: exports.addRgb as KernelFunction, 4: exports.addRgba as KernelFunction };
    const anyWidth = { 3: exports.addAnyRgb as KernelFunction, 4: exports.addAnyRgba as KernelFunction };
    const heap = new Uint8Array(memory.buffer);
    const rows = new Int16Array(memory.buffer, RESIDUAL_AT, GRID_H * PADDED);
    const table = new DataView(memory.buffer, TABLE_AT, 65536);
    let width = 0;
    let preparedTaps: Taps | undefined;
    cached = {
      setResidual(residual: Float32Array): boolean {
        if (residual.length !== GRID_W * GRID_H) throw new RangeError(`expected a ${GRID_W}×${GRID_H} residual, got ${residual.length} values`);
        // floor(scale · level + 0.5), biased positive so that `| 0` floors: no branch per value
        // (a data-dependent one cost five times the loop). NaN fails the range test as well.
        const low = ROUNDING_BIAS - KERNEL_SCALE * KERNEL_MAX_LEVEL;
        const high = ROUNDING_BIAS + KERNEL_SCALE * KERNEL_MAX_LEVEL;
        for (let r = 0, o = 0; r < GRID_H; r++, o += PADDED) {
          const from = r * GRID_W;
          for (let i = 0; i < GRID_W; i++) {
            const v = KERNEL_SCALE * residual[from + i] + ROUNDING_BIAS;
            if (!(v >= low && v <= high)) return false; // beyond ±KERNEL_MAX_LEVEL; the rows written so far are overwritten by the next load
            rows[o + 1 + i] = (v | 0) - INTEGER_BIAS;
          }
          rows[o] = rows[o + 1];
          rows[o + GRID_W + 1] = rows[o + GRID_W];
        }
        return true;
      },
      prepareWidth(w: number, taps: Taps): boolean {
        if (w === 1920 || (w === width && taps === preparedTaps)) {
          width = w;
          return true;
        }
        width = 0;
        if (!buildTable(table, w, taps)) return false;
        width = w;
        preparedTaps = taps;
        return true;
      },
      addRow(bytes: Uint8Array, row: number, channels: 3 | 4, above: number, below: number, fraction: number): void {
        if (width === 0) throw new Error('upsample kernel: no width prepared');
        const length = width * channels;
        heap.set(bytes.subarray(row, row + length), ROW_AT);
        const weight = Math.min(32767, Math.round(fraction * 32768));
        const aboveAt = RESIDUAL_AT + 2 * PADDED * above;
        const belowAt = RESIDUAL_AT + 2 * PADDED * below;
        if (width === 1920) fourTimes[channels](ROW_AT, aboveAt, belowAt, weight, GRID_W / 8);
        else anyWidth[channels](ROW_AT, aboveAt, belowAt, weight, Math.ceil(width / 16), TABLE_AT);
        bytes.set(heap.subarray(ROW_AT, ROW_AT + length), row);
      },
    };
  } catch {
    cached = null; // no SIMD, or a runtime that refuses synchronous compilation: the caller's loop does the work
  }
  return cached ?? undefined;
}
