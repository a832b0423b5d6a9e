/**
 * The watermark's per-pixel work as a small WebAssembly SIMD module, for frames of any width: the
 * luma of a chip row of the canonical grid (the frame rows under it summed with whole-unit weights
 * byte by byte, then BT.601 luma in 14-bit integer weights) and the bilinear upsample of the
 * residual grid added back to the frame. It is assembled here from its instructions (no toolchain,
 * nothing downloaded) and compiled once per thread; where WebAssembly or its SIMD extension is
 * missing, {@link watermarkKernels} returns undefined and the callers run the TypeScript versions in
 * this file ({@link lumaRowReference}, {@link addRowReference}), which give the same integers: the
 * marks are byte for byte the same with or without SIMD. Platform-free: Node and browser Workers
 * alike. One file on purpose: the kernels, their TypeScript twins and the loader share one memory
 * layout and one fixed-point scheme, each meaningless alone.
 *
 * A frame is copied into the module's memory once, read there for the luma and changed there by the
 * upsample, and copied back once.
 *
 * Luma: per chip row, each source row's bytes widened to 16-bit lanes, times the row's weight, summed
 * (the caller keeps 255 × the summed weights under 2^15), then per pixel 4899·R + 9617·G + 1868·B
 * (the BT.601 weights × 2^14, summing to 2^14) as 32-bit integers: exact, whatever the order.
 *
 * Upsample: the residual grid is loaded as 16-bit fixed point ({@link KERNEL_SCALE} units per level,
 * rounded half up), each row padded with a copy of its edge values. Per frame row a kernel blends
 * the two grid rows above and below (Q15 weight, rounded), works out each pixel's delta, floor(v +
 * 0.5) of the horizontal interpolation, narrows the deltas to bytes, spreads them over R, G, B
 * (alpha gets 0) and adds them to the frame bytes with unsigned saturation (the clamp to 0..255).
 * - 1920-wide rows (4 pixels per grid column): 8 grid columns (32 pixels) per iteration, the four
 *   pixels under a column at fixed weights (5·mid + 3·left)/8, (7·mid + left)/8, (7·mid + right)/8,
 *   (5·mid + 3·right)/8, put in pixel order by shuffles.
 * - Any other width: the caller's bilinear taps, through a table that gives, per run of 8 pixels,
 *   the first of 16 consecutive grid values they read, byte indices that pick each pixel's left and
 *   right value out of those 16 (two swizzles), and each pixel's Q15 weight. Pixels past the width
 *   pick nothing (index 0x80 gives 0), so the last run's extra pixels get a zero delta.
 */

import { assemble, F64, I32, I64, lanes32, op, V128, v, wasmApi, type WasmFunction } from '../core/wasm-asm.js';
import { BASIS, BLOCKS_X, BLOCKS_Y, CHIP_ROWS, COEFF_U, COEFF_V, GRID_H, GRID_W, MAX_FREQ, PER_BLOCK, SLOTS } from './watermark/pattern.js';

/** Fixed-point units per luma level of the residual the kernel reads. */
export const KERNEL_SCALE = 128;
/** Largest |residual| (levels) the 16-bit lanes hold: 8 × 31.9 × 128 stays under 32768. */
export const KERNEL_MAX_LEVEL = 31;
/** BT.601 luma weights × 2^14 (they sum to 2^14). */
export const LUMA_R = 4899;
export const LUMA_G = 9617;
export const LUMA_B = 1868;
export const LUMA_ONE = 16384;
/** Added before truncating a fixed-point residual value: a whole number above its range, plus the 0.5 that rounds. */
const INTEGER_BIAS = 4096;
const ROUNDING_BIAS = INTEGER_BIAS + 0.5;

/** A padded residual row: [edge, v0 … v479, edge, 0 × 8] (the tail: a last window may read 16 values). */
export const PADDED = GRID_W + 10;
const PAGE = 65536;
/**
 * Memory layout: the padded residual rows, the tap table, the luma lanes, one luma row, the DCT's
 * basis and its five rows of partial transforms, the luma grid, the chip coefficients, the chip
 * changes, the float residual, then the frame (grown as needed).
 */
const RESIDUAL_AT = 0;
const TABLE_AT = 5 * PAGE;
const ACC_AT = 6 * PAGE;
const ACC_ROOM = 2 * PAGE - 64;
const LUMA_AT = 8 * PAGE;
const LUMA_ROOM = PAGE - 64;
const BASIS_AT = 9 * PAGE;
const PARTIAL_AT = BASIS_AT + 1024;
const COLUMNS_AT = BASIS_AT + 12288;
const COLUMN_WEIGHTS_AT = COLUMNS_AT + 16 * GRID_W;
/** Most frame pixels one grid column may read in the kernel (frames up to 4320 wide). */
const MAX_COLUMN_TAPS = 10;
const GRID_AT = 10 * PAGE;
const COEFFS_AT = 18 * PAGE;
const SLOTS_AT = 20 * PAGE;
const RESIDUAL_FLOAT_AT = 22 * PAGE;
const FRAME_AT = 30 * PAGE;
/** Bytes per row of the float grids. */
const ROW_BYTES = 4 * GRID_W;
/** Bytes past a frame the kernels may read or write (a last partial chunk). */
const FRAME_SLACK = 256;
/** Table bytes per run of 8 pixels: window start (i32), left indices ×2, right indices ×2, weights (16 bytes each). */
const RUN_BYTES = 84;
/** Narrower frames have more than 16 grid values under 8 pixels somewhere; the TypeScript loop does them. */
export const MIN_ANY_WIDTH = 260;

/** Bilinear taps per frame pixel on the 480-column grid: left and right column, weight of the right one. */
export interface Taps {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly frac: Float32Array;
}

export interface WatermarkKernels {
  /**
   * Copies a frame's bytes into the module's memory (grown as needed) and answers a number that
   * names this load ({@link isLoaded}); undefined when the rows are too wide for the kernels' buffers.
   */
  loadFrame(bytes: Uint8Array, width: number, channels: 3 | 4): number | undefined;
  /** Whether the load `load` answered is still the frame in the module's memory. */
  isLoaded(load: number): boolean;
  /** Copies bytes [from, to) of the loaded frame back into `bytes`. */
  storeFrame(bytes: Uint8Array, from: number, to: number): void;
  /**
   * The integer luma of one chip row of the loaded frame: Σ weight × byte per channel over the
   * frame rows `rows[first..end)` with `weights[first..end)`, then {@link LUMA_R}·R + {@link LUMA_G}·G +
   * {@link LUMA_B}·B per pixel. The answer is a view of the module's memory, valid until the next call.
   */
  lumaRow(rows: Int32Array, weights: Int32Array, first: number, end: number): Int32Array;
  /** Readies the horizontal area weights of the loaded frame's width; false when a column reads more pixels than the kernel takes. */
  prepareColumns(columns: ColumnWeights): boolean;
  /** The chip row just made by {@link lumaRow} resampled to the 480 grid columns ({@link resampleColumnsReference}), into grid row `r`. */
  resampleRow(r: number, rowScale: number): void;
  /** Loads a residual grid in the kernels' fixed point ({@link quantizeResidual}). */
  setResidualRows(rows: Int16Array): void;
  /** Readies rows of this width (1920, or any from {@link MIN_ANY_WIDTH} with the caller's taps); false when out of reach. */
  prepareWidth(width: number, taps: Taps): boolean;
  /** The luma grid the analysis reads (480 × 264 values): a view of the module's memory, to be fetched again after a frame load. */
  grid(): Float32Array;
  /** The chip coefficients of {@link grid} ({@link analyzeReference}), into `coeffs`. */
  analyze(coeffs: Float32Array): void;
  /** The residual of per-slot chip changes ({@link synthesizeReference}), into the first 264 rows of `residual`. */
  synthesize(slots: Float32Array, residual: Float32Array): void;
  /** Adds frame row `y`'s upsampled residual (grid rows `above`, `below`, weight `fraction` of `below`) to the loaded frame. */
  addRow(y: number, above: number, below: number, fraction: number): void;
}

// ---- fixed point shared with the TypeScript twins ------------------------------------------------

/**
 * The residual in the kernels' fixed point, padded rows ({@link PADDED} values each: an edge copy
 * either side, zeros after). False when a value is beyond ±{@link KERNEL_MAX_LEVEL} or not a number.
 */
export function quantizeResidual(residual: Float32Array, rows: Int16Array): boolean {
  if (residual.length !== GRID_W * GRID_H) throw new RangeError(`expected a ${GRID_W}×${GRID_H} residual, got ${residual.length} values`);
  // floor(scale · level + 0.5), biased positive so that `| 0` floors: no branch per value
  // (a data-dependent one cost five times the loop). NaN fails the range test as well. The range
  // is checked for the whole grid at the end rather than value by value (a third faster): rows
  // written past a value out of range are not used, as the caller then takes the float path.
  const low = ROUNDING_BIAS - KERNEL_SCALE * KERNEL_MAX_LEVEL;
  const high = ROUNDING_BIAS + KERNEL_SCALE * KERNEL_MAX_LEVEL;
  let inRange = true;
  for (let r = 0, from = 0, o = 1; r < GRID_H; r++, o += PADDED - GRID_W) {
    const first = o;
    for (const end = from + GRID_W; from < end; from++, o++) {
      const value = KERNEL_SCALE * residual[from] + ROUNDING_BIAS;
      inRange = inRange && value >= low && value <= high;
      rows[o] = (value | 0) - INTEGER_BIAS;
    }
    rows[first - 1] = rows[first];
    rows[o] = rows[o - 1];
  }
  return inRange;
}

/** Q15 weight of a fraction in [0, 1), as the kernels use it. */
export function q15(fraction: number): number {
  return Math.min(32767, Math.round(fraction * 32768));
}

/** WebAssembly's i16x8.q15mulr_sat_s on one lane. */
function q15mul(a: number, b: number): number {
  return Math.max(-32768, Math.min(32767, (a * b + 0x4000) >> 15));
}

/** The bytes' clamp to 0..255 after a signed delta. */
const clampByte = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/**
 * The TypeScript twin of the upsample kernels: frame row `row` (byte offset, `width` pixels of
 * `channels` bytes) plus the residual `rows` (from {@link quantizeResidual}) blended between grid
 * rows `above` and `below` at Q15 weight `weight`. The same integers as the kernels, pixel for pixel.
 */
export function addRowReference(rows: Int16Array, bytes: Uint8Array, row: number, width: number, channels: number, taps: Taps, above: number, below: number, weight: number): void {
  const a = above * PADDED;
  const b = below * PADDED;
  const blend = (c: number): number => rows[a + c] + q15mul(rows[b + c] - rows[a + c], weight);
  const colours = Math.min(channels, 3);
  const put = (x: number, d: number): void => {
    for (let p = row + x * channels, k = 0; k < colours; k++) bytes[p + k] = clampByte(bytes[p + k] + d);
  };
  if (width === 4 * GRID_W) {
    const shift = 3 + Math.log2(KERNEL_SCALE);
    const bias = 4 * KERNEL_SCALE;
    for (let i = 0; i < GRID_W; i++) {
      const left = blend(i);
      const mid = blend(i + 1);
      const right = blend(i + 2);
      put(4 * i, (5 * mid + 3 * left + bias) >> shift);
      put(4 * i + 1, (7 * mid + left + bias) >> shift);
      put(4 * i + 2, (7 * mid + right + bias) >> shift);
      put(4 * i + 3, (5 * mid + 3 * right + bias) >> shift);
    }
    return;
  }
  const shift = Math.log2(KERNEL_SCALE);
  const { i0, i1, frac } = taps;
  for (let x = 0; x < width; x++) {
    const left = blend(i0[x] + 1);
    const d = left + q15mul(blend(i1[x] + 1) - left, q15(frac[x]));
    put(x, (d + KERNEL_SCALE / 2) >> shift);
  }
}

/**
 * The TypeScript twin of the luma kernel: chip row luma of `bytes` (rows of `width` pixels of
 * `channels` colour bytes) from frame rows `rows[first..end)` with `weights[first..end)`, into `out`.
 */
export function lumaRowReference(bytes: Uint8Array, width: number, channels: 3 | 4, rows: Int32Array, weights: Int32Array, first: number, end: number, out: Int32Array): void {
  const stride = width * channels;
  for (let x = 0; x < width; x++) {
    let r = 0;
    let g = 0;
    let b = 0;
    for (let e = first; e < end; e++) {
      const p = rows[e] * stride + x * channels;
      const q = weights[e];
      r += q * bytes[p];
      g += q * bytes[p + 1];
      b += q * bytes[p + 2];
    }
    out[x] = LUMA_R * r + LUMA_G * g + LUMA_B * b;
  }
}

/**
 * Horizontal area weights from a row of `width` pixels to the 480 grid columns, in whole units
 * (2^20 per pixel of overlap, rounded), `taps` per column from `start` (zero weights pad the
 * shorter columns), and each column's 1 / Σ weights. Integer sums of integer luma: exact in
 * doubles and in 64-bit integers alike, in any order (under 2^53 for frames up to 4320 wide).
 */
export interface ColumnWeights {
  readonly width: number;
  readonly taps: number;
  readonly start: Int32Array;
  readonly weights: Int32Array;
  readonly scale: Float64Array;
}

/** The {@link ColumnWeights} of a width. */
export function columnWeights(width: number): ColumnWeights {
  const units = 1 << 20;
  const taps = Math.ceil(width / GRID_W) + 1;
  const start = new Int32Array(GRID_W);
  const weights = new Int32Array(GRID_W * taps);
  const scale = new Float64Array(GRID_W);
  for (let i = 0; i < GRID_W; i++) {
    const a = (i * width) / GRID_W;
    const b = ((i + 1) * width) / GRID_W;
    start[i] = Math.floor(a);
    let total = 0;
    for (let k = 0; k < taps; k++) {
      const x = start[i] + k;
      const overlap = x < width ? Math.max(0, Math.min(b, x + 1) - Math.max(a, x)) : 0;
      const w = Math.round(overlap * units);
      weights[i * taps + k] = w;
      total += w;
    }
    scale[i] = 1 / total;
  }
  return { width, taps, start, weights, scale };
}

/** The TypeScript twin of the column kernel: out[o + i] = float32(Σ weight·luma × scale_i × rowScale), the sum exact. */
export function resampleColumnsReference(luma: Int32Array, columns: ColumnWeights, rowScale: number, out: Float32Array, o: number): void {
  const { taps, start, weights, scale } = columns;
  for (let i = 0; i < GRID_W; i++) {
    let sum = 0;
    for (let k = 0, x = start[i], e = i * taps; k < taps; k++, x++, e++) sum += weights[e] * (luma[x] ?? 0);
    out[o + i] = f32(sum * scale[i] * rowScale);
  }
}

/** The DCT kernels' float arithmetic in TypeScript: every product and sum rounded to float32, as the SIMD lanes do. */
const f32 = Math.fround;

/**
 * The TypeScript twin of the analysis kernel: the 12 chip coefficients of every 8×8 block of the
 * luma `grid` (480 × 264 values) into `coeffs` (slot = block·12 + chip), with the kernel's order
 * of float32 operations: per block row, the vertical transforms of every column for v = 0..4 (the
 * rows added in order), then per chip the horizontal one as four lane sums (x and x + 4) added
 * pairwise, (0 + 2) + (1 + 3).
 */
export function analyzeReference(grid: Float32Array, coeffs: Float32Array, partial: Float32Array): void {
  for (let by = 0, slot = 0; by < BLOCKS_Y; by++) {
    const top = by * 8 * GRID_W;
    for (let vf = 0; vf < MAX_FREQ; vf++) {
      const b = vf * 8;
      for (let x = 0; x < GRID_W; x++) {
        let acc = f32(BASIS[b] * grid[top + x]);
        for (let y = 1; y < 8; y++) acc = f32(acc + f32(BASIS[b + y] * grid[top + y * GRID_W + x]));
        partial[vf * GRID_W + x] = acc;
      }
    }
    for (let bx = 0; bx < BLOCKS_X; bx++) {
      for (let k = 0; k < PER_BLOCK; k++, slot++) {
        const t = COEFF_V[k] * GRID_W + bx * 8;
        const b = COEFF_U[k] * 8;
        const lane = (i: number): number => f32(f32(BASIS[b + i] * partial[t + i]) + f32(BASIS[b + 4 + i] * partial[t + 4 + i]));
        coeffs[slot] = f32(f32(lane(0) + lane(2)) + f32(lane(1) + lane(3)));
      }
    }
  }
}

/** Per v, the chips with that vertical frequency, in slot order: the synthesis kernel's order of sums. */
const CHIPS_OF_V = Array.from({ length: MAX_FREQ }, (_, vf) => Array.from({ length: PER_BLOCK }, (_, k) => k).filter((k) => COEFF_V[k] === vf));

/**
 * The TypeScript twin of the synthesis kernel: the inverse DCT of per-slot chip changes into the
 * residual grid's first 264 rows (480 wide; rows below are left alone), with the kernel's order of
 * float32 operations: per block, the horizontal shapes Σ d·basis(u) for each v (chips in slot
 * order), then per grid row Σ_v basis(v, y)·shape(v) in order of v.
 */
export function synthesizeReference(slots: Float32Array, residual: Float32Array, partial: Float32Array): void {
  for (let by = 0; by < BLOCKS_Y; by++) {
    for (let bx = 0; bx < BLOCKS_X; bx++) {
      const slot = (by * BLOCKS_X + bx) * PER_BLOCK;
      for (let vf = 0; vf < MAX_FREQ; vf++) {
        const chips = CHIPS_OF_V[vf];
        for (let x = 0; x < 8; x++) {
          let acc = f32(slots[slot + chips[0]] * BASIS[COEFF_U[chips[0]] * 8 + x]);
          for (let c = 1; c < chips.length; c++) acc = f32(acc + f32(slots[slot + chips[c]] * BASIS[COEFF_U[chips[c]] * 8 + x]));
          partial[vf * GRID_W + bx * 8 + x] = acc;
        }
      }
    }
    const top = by * 8 * GRID_W;
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < GRID_W; x++) {
        let acc = f32(BASIS[y] * partial[x]);
        for (let vf = 1; vf < MAX_FREQ; vf++) acc = f32(acc + f32(BASIS[vf * 8 + y] * partial[vf * GRID_W + x]));
        residual[top + y * GRID_W + x] = acc;
      }
    }
  }
}

// ---- the module's instructions -----------------------------------------------------------------

const simd = (code: number, ...immediates: number[]): number[] => [0xfd, ...uleb7(code), ...immediates];
function uleb7(n: number): number[] {
  return n < 0x80 ? [n] : [(n & 0x7f) | 0x80, n >> 7];
}
// SIMD opcodes after the 0xFD prefix (WebAssembly 2.0 binary format), named by lane shape.
const SWIZZLE_8 = 0x0e;
const SPLAT_16 = 0x10;
const NARROW_I16_S = 0x65;
const ADD_SAT_U8 = 0x70;
const SUB_U8 = 0x71;
const SUB_SAT_U8 = 0x73;
const MAX_S8 = 0x78;
const Q15_MUL_16 = 0x82;
const EXTEND_LOW_U8 = 0x89;
const EXTEND_HIGH_U8 = 0x8a;
const SHR_S16 = 0x8c;
const ADD_16 = 0x8e;
const SUB_16 = 0x91;
const MUL_16 = 0x95;
const DOT_16 = 0xba;
const I32_ADD = 0xae;

const v128Const16 = (lanes16: readonly number[]) => v.const(lanes16.flatMap((x) => [x & 0xff, (x >> 8) & 0xff]));
const splat16 = (x: number) => v128Const16(new Array<number>(8).fill(x));
const zeroConst = () => v.const(new Array<number>(16).fill(0));
/** Byte lanes of a 16-bit lane shuffle. */
const lanes16 = (picks: readonly number[]) => picks.flatMap((p) => [2 * p, 2 * p + 1]);

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

type Emit = (...parts: number[][]) => void;
function emitter(): { code: number[]; emit: Emit } {
  const code: number[] = [];
  return { code, emit: (...parts) => parts.forEach((part) => code.push(...part)) };
}

/**
 * Spreads 16 pixel deltas (local PIXELS, signed bytes) over their colour bytes and adds them to the
 * frame at FRAME + offset.., with unsigned saturation: frame = (frame +sat max(d, 0)) −sat (max(d, 0) − d).
 * Returns the offset after the last chunk.
 */
function emitSaturatingAdd(emit: Emit, channels: 3 | 4, l: { FRAME: number; PIXELS: number; DELTA: number; POSITIVE: number; ZERO: number }, offset: number): number {
  for (const lanes of spread(channels)) {
    emit(op.get(l.PIXELS), op.get(l.ZERO), v.shuffle(lanes), op.tee(l.DELTA));
    emit(op.get(l.ZERO), simd(MAX_S8), op.set(l.POSITIVE));
    emit(op.get(l.FRAME), op.get(l.FRAME), v.load(offset), op.get(l.POSITIVE), simd(ADD_SAT_U8));
    emit(op.get(l.POSITIVE), op.get(l.DELTA), simd(SUB_U8), simd(SUB_SAT_U8), v.store(offset));
    offset += 16;
  }
  return offset;
}

/**
 * add(frame, above, below, weight, groups), 1920-wide rows: i32 params 0..4; v128 locals: 5 left,
 * 6 mid, 7 right, 8 d0, 9 d1, 10 d2, 11 d3 (then A, E), 12 pixels, 13 delta, 14 positive part, 15 zero, 16 weight.
 */
function fourTimes(channels: 3 | 4): WasmFunction {
  const [FRAME, ABOVE, BELOW, WEIGHT, GROUPS, LEFT, MID, RIGHT, D0, D1, D2, D3, PIXELS, DELTA, POSITIVE, ZERO, WEIGHTS] = Array.from({ length: 17 }, (_, i) => i);
  const { code, emit } = emitter();
  // The row between the two grid rows: above + round(weight · (below − above)), in Q15.
  const blend = (target: number, offset: number): void => {
    emit(op.get(ABOVE), v.load(offset), op.get(BELOW), v.load(offset), op.get(ABOVE), v.load(offset), simd(SUB_16));
    emit(op.get(WEIGHTS), simd(Q15_MUL_16), simd(ADD_16), op.set(target));
  };
  // floor((a·mid + b·side)/8 + 0.5) in KERNEL_SCALE units: (a·mid + b·side + 4·scale) >> (3 + log2 scale)
  const shift = 3 + Math.log2(KERNEL_SCALE);
  const delta = (target: number, midWeight: number, side: number, sideWeight: number): void => {
    emit(op.get(MID), splat16(midWeight), simd(MUL_16), op.get(side));
    if (sideWeight !== 1) emit(splat16(sideWeight), simd(MUL_16));
    emit(simd(ADD_16), splat16(4 * KERNEL_SCALE), simd(ADD_16), op.i32(shift), simd(SHR_S16), op.set(target));
  };
  emit(zeroConst(), op.set(ZERO), op.get(WEIGHT), simd(SPLAT_16), op.set(WEIGHTS));
  emit(op.block, op.loop);
  blend(LEFT, 0);
  blend(MID, 2);
  blend(RIGHT, 4);
  delta(D0, 5, LEFT, 3);
  delta(D1, 7, LEFT, 1);
  delta(D2, 7, RIGHT, 1);
  delta(D3, 5, RIGHT, 3);
  // A = [d0 | d1] and E = [d2 | d3] as bytes (|d| is far below 128).
  emit(op.get(D0), op.get(D1), simd(NARROW_I16_S), op.set(D0), op.get(D2), op.get(D3), simd(NARROW_I16_S), op.set(D2));
  let offset = 0;
  for (const pixels of [PIXELS_LOW, PIXELS_HIGH]) {
    emit(op.get(D0), op.get(D2), v.shuffle(pixels), op.set(PIXELS));
    offset = emitSaturatingAdd(emit, channels, { FRAME, PIXELS, DELTA, POSITIVE, ZERO }, offset);
  }
  emit(op.get(FRAME), op.i32(offset), op.i32Add, op.set(FRAME));
  emit(op.get(ABOVE), op.i32(16), op.i32Add, op.set(ABOVE), op.get(BELOW), op.i32(16), op.i32Add, op.set(BELOW));
  emit(op.get(GROUPS), op.i32(1), op.i32Sub, op.tee(GROUPS), op.brIf(0));
  emit(op.end, op.end);
  return { name: channels === 3 ? 'addRgb' : 'addRgba', params: [I32, I32, I32, I32, I32], locals: new Array<typeof V128>(12).fill(V128), body: code };
}

/**
 * addAny(frame, above, below, weight, groups, table): i32 params 0..5; v128 locals: 6 window low,
 * 7 window high, 8 left values, 9 right values, 10 first 8 deltas, 11 next 8, 12 pixels, 13 delta,
 * 14 positive part, 15 zero, 16 weight.
 */
function anyWidth(channels: 3 | 4): WasmFunction {
  const [FRAME, ABOVE, BELOW, WEIGHT, GROUPS, TABLE, LOW, HIGH, LEFT, RIGHT, D0, D1, PIXELS, DELTA, POSITIVE, ZERO, WEIGHTS] = Array.from({ length: 17 }, (_, i) => i);
  const { code, emit } = emitter();
  const shift = Math.log2(KERNEL_SCALE);
  // 8 grid values from `offset` bytes into the run's window, blended between the two grid rows.
  const windowOf = (target: number, run: number, offset: number): void => {
    for (const row of [ABOVE, BELOW, ABOVE]) emit(op.get(row), op.get(TABLE), op.i32Load(run), op.i32Add, v.load(offset));
    emit(simd(SUB_16), op.get(WEIGHTS), simd(Q15_MUL_16), simd(ADD_16), op.set(target));
  };
  // A pixel's value: picked from the low 8 values or the high 8 (an index out of 0..15 picks 0).
  const pick = (target: number, at: number): void => {
    emit(op.get(LOW), op.get(TABLE), v.load(at), simd(SWIZZLE_8), op.get(HIGH), op.get(TABLE), v.load(at + 16), simd(SWIZZLE_8), v.or, op.set(target));
  };
  emit(zeroConst(), op.set(ZERO), op.get(WEIGHT), simd(SPLAT_16), op.set(WEIGHTS));
  emit(op.block, op.loop);
  for (const [run, target] of [
    [0, D0],
    [RUN_BYTES, D1],
  ]) {
    windowOf(LOW, run, 0);
    windowOf(HIGH, run, 16);
    pick(LEFT, run + 4);
    pick(RIGHT, run + 36);
    // left + round(weight · (right − left)), then floor(v + 0.5) in levels.
    emit(op.get(RIGHT), op.get(LEFT), simd(SUB_16), op.get(TABLE), v.load(run + 68), simd(Q15_MUL_16), op.get(LEFT), simd(ADD_16));
    emit(splat16(KERNEL_SCALE / 2), simd(ADD_16), op.i32(shift), simd(SHR_S16), op.set(target));
  }
  emit(op.get(D0), op.get(D1), simd(NARROW_I16_S), op.set(PIXELS));
  const offset = emitSaturatingAdd(emit, channels, { FRAME, PIXELS, DELTA, POSITIVE, ZERO }, 0);
  emit(op.get(FRAME), op.i32(offset), op.i32Add, op.set(FRAME));
  emit(op.get(TABLE), op.i32(2 * RUN_BYTES), op.i32Add, op.set(TABLE));
  emit(op.get(GROUPS), op.i32(1), op.i32Sub, op.tee(GROUPS), op.brIf(0));
  emit(op.end, op.end);
  return { name: channels === 3 ? 'addAnyRgb' : 'addAnyRgba', params: [I32, I32, I32, I32, I32, I32], locals: new Array<typeof V128>(11).fill(V128), body: code };
}

/**
 * accumulate(src, acc, chunks, weight): per 16 frame bytes, the bytes widened to 16-bit lanes times
 * `weight`, stored (`first`) or added to the 32 lane bytes at `acc`. i32 params 0..3; v128 locals 4 weight, 5 bytes.
 */
function accumulate(first: boolean): WasmFunction {
  const [SRC, ACC, CHUNKS, WEIGHT, WEIGHTS, BYTES] = [0, 1, 2, 3, 4, 5];
  const { code, emit } = emitter();
  emit(op.get(WEIGHT), simd(SPLAT_16), op.set(WEIGHTS));
  emit(op.block, op.loop);
  for (const [extend, offset] of [
    [EXTEND_LOW_U8, 0],
    [EXTEND_HIGH_U8, 16],
  ]) {
    emit(op.get(ACC));
    if (offset === 0) emit(op.get(SRC), v.load(0), op.tee(BYTES));
    else emit(op.get(BYTES));
    emit(simd(extend), op.get(WEIGHTS), simd(MUL_16));
    if (!first) emit(op.get(ACC), v.load(offset), simd(ADD_16));
    emit(v.store(offset));
  }
  emit(op.get(SRC), op.i32(16), op.i32Add, op.set(SRC), op.get(ACC), op.i32(32), op.i32Add, op.set(ACC));
  emit(op.get(CHUNKS), op.i32(1), op.i32Sub, op.tee(CHUNKS), op.brIf(0));
  emit(op.end, op.end);
  return { name: first ? 'accumulateFirst' : 'accumulateAdd', params: [I32, I32, I32, I32], locals: [V128, V128], body: code };
}

/**
 * luma(acc, out, groups): 4 pixels per iteration, from the 16-bit lane sums of their colour bytes
 * to LUMA_R·R + LUMA_G·G + LUMA_B·B in 32-bit lanes (dot products of lane pairs, then the pairs
 * added). RGB pixels are first laid out as RGBx. i32 params 0..2; v128 locals 3, 4 the two halves.
 */
function luma(channels: 3 | 4): WasmFunction {
  const [ACC, OUT, GROUPS, FIRST, SECOND] = [0, 1, 2, 3, 4];
  const { code, emit } = emitter();
  const weights = v128Const16([LUMA_R, LUMA_G, LUMA_B, 0, LUMA_R, LUMA_G, LUMA_B, 0]);
  emit(op.block, op.loop);
  if (channels === 4) {
    emit(op.get(ACC), v.load(0), weights, simd(DOT_16), op.set(FIRST));
    emit(op.get(ACC), v.load(16), weights, simd(DOT_16), op.set(SECOND));
  } else {
    // [R0 G0 B0 R1 G1 B1 R2 G2] and [B2 R3 G3 B3 …] as [R0 G0 B0 · R1 G1 B1 ·] and [R2 G2 B2 · R3 G3 B3 ·] (· weighted 0).
    emit(op.get(ACC), v.load(0), op.get(ACC), v.load(16), v.shuffle(lanes16([0, 1, 2, 0, 3, 4, 5, 0])), weights, simd(DOT_16), op.set(FIRST));
    emit(op.get(ACC), v.load(0), op.get(ACC), v.load(16), v.shuffle(lanes16([6, 7, 8, 0, 9, 10, 11, 0])), weights, simd(DOT_16), op.set(SECOND));
  }
  emit(op.get(OUT), op.get(FIRST), op.get(SECOND), v.shuffle(lanes32([0, 2, 4, 6])), op.get(FIRST), op.get(SECOND), v.shuffle(lanes32([1, 3, 5, 7])), simd(I32_ADD), v.store(0));
  emit(op.get(ACC), op.i32(channels === 4 ? 32 : 24), op.i32Add, op.set(ACC), op.get(OUT), op.i32(16), op.i32Add, op.set(OUT));
  emit(op.get(GROUPS), op.i32(1), op.i32Sub, op.tee(GROUPS), op.brIf(0));
  emit(op.end, op.end);
  return { name: channels === 3 ? 'lumaRgb' : 'lumaRgba', params: [I32, I32, I32], locals: [V128, V128], body: code };
}

const load32Splat = (offset: number) => simd(0x09, 2, ...uleb7(offset));
const f32Store = (offset: number) => [0x38, 2, ...uleb7(offset)];
const F32_EXTRACT = 0x1f;

/**
 * analyze(grid, partial, basis, coeffs): see {@link analyzeReference}. i32 params 0..3; locals:
 * 4 block rows left, 5 column (bytes), 6 block column (bytes), 7 lane sums (v128), 8 their pairs (v128).
 */
function analyzeKernel(): WasmFunction {
  const [GRID, PARTIAL, BASIS_P, OUT, ROWS, X, BX, P, Q] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const { code, emit } = emitter();
  emit(op.i32(BLOCKS_Y), op.set(ROWS));
  emit(op.loop);
  // Vertical: partial[v][x] for x in steps of 4.
  emit(op.i32(0), op.set(X), op.loop);
  for (let vf = 0; vf < MAX_FREQ; vf++) {
    emit(op.get(PARTIAL), op.get(X), op.i32Add);
    for (let y = 0; y < 8; y++) {
      emit(op.get(BASIS_P), load32Splat(4 * (vf * 8 + y)), op.get(GRID), op.get(X), op.i32Add, v.load(y * ROW_BYTES), v.f32Mul);
      if (y > 0) emit(v.f32Add);
    }
    emit(v.store(vf * ROW_BYTES));
  }
  emit(op.get(X), op.i32(16), op.i32Add, op.tee(X), op.i32(ROW_BYTES), op.i32LtS, op.brIf(0), op.end);
  // Horizontal: 12 chips per block.
  emit(op.i32(0), op.set(BX), op.loop);
  for (let k = 0; k < PER_BLOCK; k++) {
    const t = COEFF_V[k] * ROW_BYTES;
    const b = COEFF_U[k] * 32;
    emit(op.get(PARTIAL), op.get(BX), op.i32Add, v.load(t), op.get(BASIS_P), v.load(b), v.f32Mul);
    emit(op.get(PARTIAL), op.get(BX), op.i32Add, v.load(t + 16), op.get(BASIS_P), v.load(b + 16), v.f32Mul, v.f32Add, op.set(P));
    emit(op.get(P), op.get(P), op.get(P), v.shuffle(lanes32([2, 3, 0, 1])), v.f32Add, op.set(Q));
    emit(op.get(OUT), op.get(Q), op.get(Q), op.get(Q), v.shuffle(lanes32([1, 0, 3, 2])), v.f32Add, simd(F32_EXTRACT, 0), f32Store(4 * k));
  }
  emit(op.get(OUT), op.i32(4 * PER_BLOCK), op.i32Add, op.set(OUT));
  emit(op.get(BX), op.i32(32), op.i32Add, op.tee(BX), op.i32(ROW_BYTES), op.i32LtS, op.brIf(0), op.end);
  emit(op.get(GRID), op.i32(8 * ROW_BYTES), op.i32Add, op.set(GRID));
  emit(op.get(ROWS), op.i32(1), op.i32Sub, op.tee(ROWS), op.brIf(0), op.end);
  return { name: 'analyze', params: [I32, I32, I32, I32], locals: [I32, I32, I32, V128, V128], body: code };
}

/**
 * synthesize(slots, partial, basis, residual): see {@link synthesizeReference}. i32 params 0..3;
 * locals: 4 block rows left, 5 column or block column (bytes), 6 chip change (v128), 7, 8 the two halves (v128).
 */
function synthesizeKernel(): WasmFunction {
  const [SLOTS_P, PARTIAL, BASIS_P, OUT, ROWS, X, D, LOW, HIGH] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const { code, emit } = emitter();
  emit(op.i32(BLOCKS_Y), op.set(ROWS));
  emit(op.loop);
  // Horizontal shapes per block and v.
  emit(op.i32(0), op.set(X), op.loop);
  for (let vf = 0; vf < MAX_FREQ; vf++) {
    CHIPS_OF_V[vf].forEach((k, c) => {
      const b = COEFF_U[k] * 32;
      emit(op.get(SLOTS_P), load32Splat(4 * k), op.tee(D), op.get(BASIS_P), v.load(b), v.f32Mul);
      if (c > 0) emit(op.get(LOW), v.f32Add);
      emit(op.set(LOW), op.get(D), op.get(BASIS_P), v.load(b + 16), v.f32Mul);
      if (c > 0) emit(op.get(HIGH), v.f32Add);
      emit(op.set(HIGH));
    });
    emit(op.get(PARTIAL), op.get(X), op.i32Add, op.get(LOW), v.store(vf * ROW_BYTES));
    emit(op.get(PARTIAL), op.get(X), op.i32Add, op.get(HIGH), v.store(vf * ROW_BYTES + 16));
  }
  emit(op.get(SLOTS_P), op.i32(4 * PER_BLOCK), op.i32Add, op.set(SLOTS_P));
  emit(op.get(X), op.i32(32), op.i32Add, op.tee(X), op.i32(ROW_BYTES), op.i32LtS, op.brIf(0), op.end);
  // Vertical: each of the 8 grid rows from the five shapes.
  emit(op.i32(0), op.set(X), op.loop);
  for (let y = 0; y < 8; y++) {
    emit(op.get(OUT), op.get(X), op.i32Add);
    for (let vf = 0; vf < MAX_FREQ; vf++) {
      emit(op.get(BASIS_P), load32Splat(4 * (vf * 8 + y)), op.get(PARTIAL), op.get(X), op.i32Add, v.load(vf * ROW_BYTES), v.f32Mul);
      if (vf > 0) emit(v.f32Add);
    }
    emit(v.store(y * ROW_BYTES));
  }
  emit(op.get(X), op.i32(16), op.i32Add, op.tee(X), op.i32(ROW_BYTES), op.i32LtS, op.brIf(0), op.end);
  emit(op.get(OUT), op.i32(8 * ROW_BYTES), op.i32Add, op.set(OUT));
  emit(op.get(ROWS), op.i32(1), op.i32Sub, op.tee(ROWS), op.brIf(0), op.end);
  return { name: 'synthesize', params: [I32, I32, I32, I32], locals: [I32, I32, V128, V128, V128], body: code };
}

/**
 * columns(luma, headers, weights, out, rowScale, taps): see {@link resampleColumnsReference}. Per
 * grid column a 16-byte header (first pixel's byte offset i32, pad, 1/Σw f64) and `taps` i32 weights.
 * Params: i32 0..3, f64 4, i32 5; locals: 6 columns left, 7 sum (i64), 8 taps left, 9 pixel pointer.
 */
function columnsKernel(): WasmFunction {
  const [LUMA, HEADER, WEIGHTS, OUT, ROW_SCALE, TAPS, LEFT, SUM, K, P] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const { code, emit } = emitter();
  const i64 = { extend: [0xac], mul: [0x7e], add: [0x7c], zero: [0x42, 0] };
  emit(op.i32(GRID_W), op.set(LEFT), op.loop);
  emit(op.get(LUMA), op.get(HEADER), op.i32Load(0), op.i32Add, op.set(P), i64.zero, op.set(SUM), op.get(TAPS), op.set(K));
  emit(op.loop, op.get(SUM), op.get(WEIGHTS), op.i32Load(0), i64.extend, op.get(P), op.i32Load(0), i64.extend, i64.mul, i64.add, op.set(SUM));
  emit(op.get(WEIGHTS), op.i32(4), op.i32Add, op.set(WEIGHTS), op.get(P), op.i32(4), op.i32Add, op.set(P));
  emit(op.get(K), op.i32(1), op.i32Sub, op.tee(K), op.brIf(0), op.end);
  // f32(f64(sum) × scale × rowScale)
  emit(op.get(OUT), op.get(SUM), [0xb9], op.get(HEADER), op.f64Load(8), [0xa2], op.get(ROW_SCALE), [0xa2], [0xb6], f32Store(0));
  emit(op.get(HEADER), op.i32(16), op.i32Add, op.set(HEADER), op.get(OUT), op.i32(4), op.i32Add, op.set(OUT));
  emit(op.get(LEFT), op.i32(1), op.i32Sub, op.tee(LEFT), op.brIf(0), op.end);
  return { name: 'columns', params: [I32, I32, I32, I32, F64, I32], locals: [I32, I64, I32, I32], body: code };
}

// ---- loading ---------------------------------------------------------------------------------

type KernelFunction = (...args: number[]) => void;

/**
 * The any-width kernel's table: per run of 8 pixels, the byte offset (in a padded residual row) of
 * the first of the 16 grid values the run reads, each pixel's left and right value as byte indices
 * into the low and the high 8 of them, and its Q15 weight. False when some run needs more than 16
 * values, or the table would not fit.
 */
function buildTable(table: DataView, width: number, taps: Taps): boolean {
  const runs = 2 * Math.ceil(width / 16);
  if (width < MIN_ANY_WIDTH || runs * RUN_BYTES > table.byteLength) return false;
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
      if (left < 0 || right > 15) return false;
      for (const [base, value] of [
        [at + 4, left],
        [at + 36, right],
      ]) {
        // Byte indices into the low window (0..15) and the high one (value − 8); 0x80 picks 0.
        const low = inside && value < 8 ? 2 * value : 0x80;
        const high = inside && value >= 8 ? 2 * (value - 8) : 0x80;
        table.setUint8(base + 2 * k, low);
        table.setUint8(base + 2 * k + 1, low === 0x80 ? 0x80 : low + 1);
        table.setUint8(base + 16 + 2 * k, high);
        table.setUint8(base + 17 + 2 * k, high === 0x80 ? 0x80 : high + 1);
      }
      table.setInt16(at + 68 + 2 * k, inside ? q15(frac[x]) : 0, true);
    }
  }
  return true;
}

let cached: WatermarkKernels | null | undefined;

/** The compiled kernels, or undefined where WebAssembly SIMD is unavailable. One instance per thread. */
export function watermarkKernels(): WatermarkKernels | undefined {
  if (cached !== undefined) return cached ?? undefined;
  cached = null;
  try {
    const wasm = wasmApi();
    if (!wasm) return undefined;
    const functions = [
      fourTimes(3),
      fourTimes(4),
      anyWidth(3),
      anyWidth(4),
      accumulate(true),
      accumulate(false),
      luma(3),
      luma(4),
      analyzeKernel(),
      synthesizeKernel(),
      columnsKernel(),
    ];
    const bytes = assemble(functions, FRAME_AT / PAGE);
    if (!wasm.validate(bytes)) return undefined;
    const { exports } = new wasm.Instance(new wasm.Module(bytes));
    const memory = exports.memory as { buffer: ArrayBuffer; grow(pages: number): number };
    const fn = (name: string): KernelFunction => exports[name] as KernelFunction;
    const fourWide = { 3: fn('addRgb'), 4: fn('addRgba') };
    const anyWide = { 3: fn('addAnyRgb'), 4: fn('addAnyRgba') };
    const lumaOf = { 3: fn('lumaRgb'), 4: fn('lumaRgba') };
    const [accumulateFirst, accumulateAdd] = [fn('accumulateFirst'), fn('accumulateAdd')];
    const [analyze, synthesize, columns] = [fn('analyze'), fn('synthesize'), fn('columns')];
    let columnTaps = 0;
    let preparedColumns: ColumnWeights | undefined;
    let heap = new Uint8Array(memory.buffer);
    const views = () => ({
      rows: new Int16Array(memory.buffer, RESIDUAL_AT, GRID_H * PADDED),
      table: new DataView(memory.buffer, TABLE_AT, PAGE),
      luma: new Int32Array(memory.buffer, LUMA_AT, LUMA_ROOM >> 2),
      grid: new Float32Array(memory.buffer, GRID_AT, GRID_W * CHIP_ROWS),
      coeffs: new Float32Array(memory.buffer, COEFFS_AT, SLOTS),
      slots: new Float32Array(memory.buffer, SLOTS_AT, SLOTS),
      residual: new Float32Array(memory.buffer, RESIDUAL_FLOAT_AT, GRID_W * CHIP_ROWS),
    });
    let view = views();
    new Float32Array(memory.buffer, BASIS_AT, BASIS.length).set(BASIS);
    let frame = { width: 0, channels: 3 as 3 | 4, stride: 0 };
    let loads = 0;
    let width = 0;
    let preparedTaps: Taps | undefined;
    cached = {
      loadFrame(data: Uint8Array, w: number, channels: 3 | 4): number | undefined {
        const stride = w * channels;
        if (2 * stride + 64 > ACC_ROOM || 4 * w + 64 > LUMA_ROOM || data.length !== stride * Math.floor(data.length / stride)) return undefined;
        const end = FRAME_AT + data.length + FRAME_SLACK;
        if (end > memory.buffer.byteLength) {
          memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE));
          heap = new Uint8Array(memory.buffer);
          view = views();
        }
        heap.set(data, FRAME_AT);
        heap.fill(0, FRAME_AT + data.length, end);
        frame = { width: w, channels, stride };
        return ++loads;
      },
      isLoaded(load: number): boolean {
        return load === loads;
      },
      storeFrame(data: Uint8Array, from: number, to: number): void {
        data.set(heap.subarray(FRAME_AT + from, FRAME_AT + to), from);
      },
      lumaRow(rows: Int32Array, weights: Int32Array, first: number, end: number): Int32Array {
        const chunks = Math.ceil(frame.stride / 16);
        for (let e = first; e < end; e++) (e === first ? accumulateFirst : accumulateAdd)(FRAME_AT + rows[e] * frame.stride, ACC_AT, chunks, weights[e]);
        lumaOf[frame.channels](ACC_AT, LUMA_AT, Math.ceil(frame.width / 4));
        return view.luma;
      },
      grid(): Float32Array {
        return view.grid;
      },
      analyze(coeffs: Float32Array): void {
        analyze(GRID_AT, PARTIAL_AT, BASIS_AT, COEFFS_AT);
        coeffs.set(view.coeffs);
      },
      synthesize(slots: Float32Array, residual: Float32Array): void {
        view.slots.set(slots);
        synthesize(SLOTS_AT, PARTIAL_AT, BASIS_AT, RESIDUAL_FLOAT_AT);
        residual.set(view.residual);
      },
      prepareColumns(weights: ColumnWeights): boolean {
        if (weights === preparedColumns) return true;
        preparedColumns = undefined;
        if (weights.taps > MAX_COLUMN_TAPS) return false;
        const headers = new DataView(memory.buffer, COLUMNS_AT, 16 * GRID_W);
        for (let i = 0; i < GRID_W; i++) {
          headers.setInt32(16 * i, 4 * weights.start[i], true);
          headers.setFloat64(16 * i + 8, weights.scale[i], true);
        }
        new Int32Array(memory.buffer, COLUMN_WEIGHTS_AT, weights.weights.length).set(weights.weights);
        columnTaps = weights.taps;
        preparedColumns = weights;
        return true;
      },
      resampleRow(r: number, rowScale: number): void {
        columns(LUMA_AT, COLUMNS_AT, COLUMN_WEIGHTS_AT, GRID_AT + r * ROW_BYTES, rowScale, columnTaps);
      },
      setResidualRows(rows: Int16Array): void {
        view.rows.set(rows);
      },
      prepareWidth(w: number, taps: Taps): boolean {
        if (w === 4 * GRID_W || (w === width && taps === preparedTaps)) {
          width = w;
          return true;
        }
        width = 0;
        if (!buildTable(view.table, w, taps)) return false;
        width = w;
        preparedTaps = taps;
        return true;
      },
      addRow(y: number, above: number, below: number, fraction: number): void {
        if (width === 0 || width !== frame.width) throw new Error('watermark kernels: no width prepared for the loaded frame');
        const at = FRAME_AT + y * frame.stride;
        const aboveAt = RESIDUAL_AT + 2 * PADDED * above;
        const belowAt = RESIDUAL_AT + 2 * PADDED * below;
        if (width === 4 * GRID_W) fourWide[frame.channels](at, aboveAt, belowAt, q15(fraction), GRID_W / 8);
        else anyWide[frame.channels](at, aboveAt, belowAt, q15(fraction), Math.ceil(width / 16), TABLE_AT);
      },
    };
  } catch {
    cached = null; // no SIMD, or a runtime that refuses synchronous compilation: the callers' loops do the work
  }
  return cached ?? undefined;
}
