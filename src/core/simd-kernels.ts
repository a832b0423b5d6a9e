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

import { LAB_CONSTANTS as LAB } from './color.js';
import { reflectTable } from './border.js';
import type { Image, Rect } from './image.js';
import { upsampleRows } from './resample.js';
import { assemble, F32, F64, I32, lanes32, op, V128, v, wasmApi, type WasmFunction } from './wasm-asm.js';

const PAGE = 65536;
/** Fixed memory: the colour kernel's tables (linear value per sRGB level, level edges, first guesses) and its gains and offsets. */
const LINEAR_AT = 0;
const EDGE_AT = 1024;
const START_AT = 2048;
const GAINS_AT = 6160;
const OFFSETS_AT = 6176;
const STATIC_BYTES = 8192;
/** Pixels the Y′CbCr kernel converts per call: its planes and output in about 64 KiB. */
const YUV_RUN = 10240;

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

const splatF32 = (x: number) => v.constF32([x, x, x, x]);

/** Local `y` ≈ ∛t per lane of local `t`, for t ≥ 2^-10 (raised to that in `c`): a guess from the exponent bits, then two Halley steps. */
function cbrtLanes(t: number, c: number, y: number, y3: number): number[] {
  // Arguments below 2^-10 (the linear segment's, never used) are raised to it: a tiny guess would
  // make the steps denormal, many times slower.
  const halley = [
    ...op.get(y),
    ...op.get(y),
    ...v.f32Mul,
    ...op.get(y),
    ...v.f32Mul,
    ...op.set(y3),
    ...op.get(y),
    ...op.get(y3),
    ...op.get(c),
    ...op.get(c),
    ...v.f32Add,
    ...v.f32Add,
    ...v.f32Mul,
    ...op.get(y3),
    ...op.get(y3),
    ...v.f32Add,
    ...op.get(c),
    ...v.f32Add,
    ...v.f32Div,
    ...op.set(y),
  ];
  return [
    ...op.get(t),
    ...splatF32(2 ** -10),
    ...v.f32Max,
    ...op.tee(c),
    ...v.f32ConvertI32s,
    ...splatF32(1 / 3),
    ...v.f32Mul,
    ...v.i32TruncSatF32s,
    ...v.constI32([0x2a514067, 0x2a514067, 0x2a514067, 0x2a514067]),
    ...v.i32Add,
    ...op.set(y),
    ...halley,
    ...halley,
  ];
}

/** Per lane: where the value left by `t` exceeds threshold, the value left by `above`, else the one left by `below`. */
function selectAbove(above: number[], below: number[], t: number[], threshold: number): number[] {
  return [...above, ...below, ...t, ...splatF32(threshold), ...v.f32Gt, ...v.bitselect];
}

const cube = (x: number): number[] => [...op.get(x), ...op.get(x), ...v.f32Mul, ...op.get(x), ...v.f32Mul];

/**
 * Leaves the nearest 8-bit sRGB level of each lane of local `lin` (linear values, clamped to 0..1)
 * as an i32 lane: 12.92·v on the linear segment, else 1.055·v^(1/2.4) − 0.055 with
 * v^(1/2.4) = c·√√c, c = ∛v, then ×255 rounded half to even.
 */
function encodeLanes(lin: number, c: number, y: number, y3: number): number[] {
  return [
    ...op.get(lin),
    ...splatF32(0),
    ...v.f32Max,
    ...splatF32(1),
    ...v.f32Min,
    ...op.set(lin),
    ...cbrtLanes(lin, c, y, y3),
    ...selectAbove(
      [...op.get(y), ...op.get(y), ...v.f32Sqrt, ...v.f32Sqrt, ...v.f32Mul, ...splatF32(1.055 * 255), ...v.f32Mul, ...splatF32(0.055 * 255), ...v.f32Sub],
      [...op.get(lin), ...splatF32(12.92 * 255), ...v.f32Mul],
      op.get(lin),
      0.0031308,
    ),
    ...v.f32Nearest,
    ...v.i32TruncSatF32s,
  ];
}

/** The linear values of channel `ch` of four pixels (`step` bytes apart), one per lane. */
function linearLanes(pixels: number, step: number, ch: number): number[] {
  const linear = (at: number) => [...op.get(pixels), ...op.i32Load8u(at), ...op.i32(2), ...op.i32Shl, ...op.f32Load(LINEAR_AT)];
  return [...linear(ch), ...v.f32Splat, ...[1, 2, 3].flatMap((j) => [...linear(j * step + ch), ...v.f32Replace(j)])];
}

/** a·x + b·y + c·z of three locals with constant weights. */
function weighted3(x: number, y: number, z: number, [a, b, c]: readonly number[]): number[] {
  return [...op.get(x), ...splatF32(a), ...v.f32Mul, ...op.get(y), ...splatF32(b), ...v.f32Mul, ...v.f32Add, ...op.get(z), ...splatF32(c), ...v.f32Mul, ...v.f32Add];
}

/**
 * colourRow3 / colourRow4(pixels, ratio, count): four pixels (3 or 4 bytes each) per step, one
 * per lane: sRGB → L*a*b* (color.ts's conversion in float32), then L ← (L·g0 + o0)·ratio,
 * a ← a·g1 + o1, b ← b·g2 + o2 with the gains and offsets at GAINS_AT and OFFSETS_AT and a float
 * ratio per pixel, and back to sRGB bytes (a fourth byte is kept). Works in whole steps of four
 * pixels: up to three pixels (and ratios) past `count` are read and rewritten.
 */
function colourRow(step: 3 | 4): WasmFunction {
  let next = 3;
  const local = () => next++;
  const [pixels, ratio, count] = [0, 1, 2];
  const [r, g, b, x, y, z, fx, fy, fz, c, t, t3, l, a, bb, g0, g1, g2, o0, o1, o2] = Array.from({ length: 21 }, local);
  const [rgbToX, rgbToY, rgbToZ] = [0, 1, 2].map((i) => LAB.toXyz.map((col) => col[i]));
  const [xyzToR, xyzToG, xyzToB] = [0, 1, 2].map((i) => LAB.toRgb.map((col) => col[i]));
  const f = (src: number, dst: number) => [
    ...cbrtLanes(src, c, t, t3),
    ...selectAbove(op.get(t), [...op.get(src), ...splatF32(LAB.kLin), ...v.f32Mul, ...splatF32(LAB.fOff), ...v.f32Add], op.get(src), LAB.tLin),
    ...op.set(dst),
  ];
  // f⁻¹: t³ above F_THRESH, the linear segment below.
  const fInverse = (src: number, white: number) => [
    ...selectAbove(cube(src), [...op.get(src), ...splatF32(LAB.fOff), ...v.f32Sub, ...splatF32(1 / LAB.kLin), ...v.f32Mul], op.get(src), LAB.fThresh),
    ...splatF32(white),
    ...v.f32Mul,
  ];
  const param = (at: number, into: number) => [...op.i32(at), ...op.f32Load(0), ...v.f32Splat, ...op.set(into)];
  return {
    name: `colourRow${step}`,
    params: [I32, I32, I32],
    locals: new Array<typeof V128>(21).fill(V128),
    body: [
      ...param(GAINS_AT, g0),
      ...param(GAINS_AT + 4, g1),
      ...param(GAINS_AT + 8, g2),
      ...param(OFFSETS_AT, o0),
      ...param(OFFSETS_AT + 4, o1),
      ...param(OFFSETS_AT + 8, o2),
      ...op.block,
      ...op.loop,
      ...op.get(count),
      ...op.i32(0),
      ...op.i32LeS,
      ...op.brIf(1),
      ...linearLanes(pixels, step, 0),
      ...op.set(r),
      ...linearLanes(pixels, step, 1),
      ...op.set(g),
      ...linearLanes(pixels, step, 2),
      ...op.set(b),
      ...weighted3(r, g, b, rgbToX),
      ...op.set(x),
      ...weighted3(r, g, b, rgbToY),
      ...op.set(y),
      ...weighted3(r, g, b, rgbToZ),
      ...op.set(z),
      ...f(x, fx),
      ...f(y, fy),
      ...f(z, fz),
      // L = 116·fy − 16 (903.3·Y on the linear segment), a = 500·(fx − fy), b = 200·(fy − fz); then the transfer.
      ...selectAbove([...op.get(fy), ...splatF32(116), ...v.f32Mul, ...splatF32(16), ...v.f32Sub], [...op.get(y), ...splatF32(LAB.lLin), ...v.f32Mul], op.get(y), LAB.tLin),
      ...op.get(g0),
      ...v.f32Mul,
      ...op.get(o0),
      ...v.f32Add,
      ...op.get(ratio),
      ...v.load(),
      ...v.f32Mul,
      ...op.set(l),
      ...op.get(fx),
      ...op.get(fy),
      ...v.f32Sub,
      ...splatF32(500),
      ...v.f32Mul,
      ...op.get(g1),
      ...v.f32Mul,
      ...op.get(o1),
      ...v.f32Add,
      ...op.set(a),
      ...op.get(fy),
      ...op.get(fz),
      ...v.f32Sub,
      ...splatF32(200),
      ...v.f32Mul,
      ...op.get(g2),
      ...v.f32Mul,
      ...op.get(o2),
      ...v.f32Add,
      ...op.set(bb),
      // Back: fy and Y from L, fx and fz beside it, then XYZ and linear sRGB.
      ...selectAbove(
        [...op.get(l), ...splatF32(16), ...v.f32Add, ...splatF32(1 / 116), ...v.f32Mul],
        [...op.get(l), ...splatF32(LAB.kLin / LAB.lLin), ...v.f32Mul, ...splatF32(LAB.fOff), ...v.f32Add],
        op.get(l),
        LAB.lThresh,
      ),
      ...op.tee(fy),
      ...op.get(a),
      ...splatF32(1 / 500),
      ...v.f32Mul,
      ...v.f32Add,
      ...op.set(fx),
      ...op.get(fy),
      ...op.get(bb),
      ...splatF32(1 / 200),
      ...v.f32Mul,
      ...v.f32Sub,
      ...op.set(fz),
      ...selectAbove(cube(fy), [...op.get(l), ...splatF32(1 / LAB.lLin), ...v.f32Mul], op.get(l), LAB.lThresh),
      ...op.set(y),
      ...fInverse(fx, LAB.white[0]),
      ...op.set(x),
      ...fInverse(fz, LAB.white[2]),
      ...op.set(z),
      ...weighted3(x, y, z, xyzToR),
      ...op.set(r),
      ...weighted3(x, y, z, xyzToG),
      ...op.set(g),
      ...weighted3(x, y, z, xyzToB),
      ...op.set(b),
      // The levels as bytes [r0…r3 g0…g3 b0…b3 …], put in pixel order over the pixels' own bytes (alpha, or what follows).
      ...op.get(pixels),
      ...encodeLanes(r, c, t, t3),
      ...encodeLanes(g, c, t, t3),
      ...v.i16NarrowI32s,
      ...encodeLanes(b, c, t, t3),
      ...op.tee(r),
      ...op.get(r),
      ...v.i16NarrowI32s,
      ...v.i8NarrowI16u,
      ...op.get(pixels),
      ...v.load(),
      ...v.shuffle(step === 4 ? [0, 4, 8, 19, 1, 5, 9, 23, 2, 6, 10, 27, 3, 7, 11, 31] : [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 28, 29, 30, 31]),
      ...v.store(),
      ...op.get(pixels),
      ...op.i32(4 * step),
      ...op.i32Add,
      ...op.set(pixels),
      ...op.get(ratio),
      ...op.i32(16),
      ...op.i32Add,
      ...op.set(ratio),
      ...op.get(count),
      ...op.i32(4),
      ...op.i32Sub,
      ...op.set(count),
      ...op.br(0),
      ...op.end,
      ...op.end,
    ],
  };
}

/** Where the Y′CbCr kernel's 16-pixel blocks go in the 48 bytes of RGB: per output vector, the lanes of (R, G) then of (that, B). */
function interleaveMasks(k: number): [number[], number[]] {
  const first: number[] = [];
  const second: number[] = [];
  for (let i = 0; i < 16; i++) {
    const j = 16 * k + i;
    const pixel = Math.floor(j / 3);
    const channel = j % 3;
    first.push(channel === 0 ? pixel : channel === 1 ? 16 + pixel : 0);
    second.push(channel === 2 ? 16 + pixel : i);
  }
  return [first, second];
}

/**
 * yuvRgbRow(y, u, v, out, blocks, fy, rv, bu, gu, gv, base): `blocks` runs of 16 pixels from three
 * byte planes (luma, Cb, Cr) to interleaved RGB, in 16-bit fixed point as yuv.ts's loop does it
 * (luma·fy + base, base holding the rounding half and the black level; chroma centred on 128;
 * each sum shifted down 16 and saturated to 0–255 by the narrowing): the same bytes.
 */
function yuvRgbRow(): WasmFunction {
  const [yp, up, vp, outp, blocks, fy, rv, bu, gu, gv, base] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [vFy, vRv, vBu, vGu, vGv, vBase, v128, Y, U, V] = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
  const L = [21, 22, 23, 24];
  const CB = [25, 26, 27, 28];
  const CR = [29, 30, 31, 32];
  const [R, G, B] = [33, 34, 35];
  const splat = (from: number, to: number) => [...op.get(from), ...v.i32Splat, ...op.set(to)];
  // Quarter q of a 16-byte vector as four i32 lanes.
  const widen = (x: number, q: number) => [...op.get(x), ...(q < 2 ? v.i16ExtendLowI8u : v.i16ExtendHighI8u), ...(q % 2 === 0 ? v.i32ExtendLowI16u : v.i32ExtendHighI16u)];
  const shifted = (sum: number[]) => [...sum, ...op.i32(16), ...v.i32ShrS];
  const red = (q: number) => shifted([...op.get(L[q]!), ...op.get(CR[q]!), ...op.get(vRv), ...v.i32Mul, ...v.i32Add]);
  const green = (q: number) =>
    shifted([...op.get(L[q]!), ...op.get(CB[q]!), ...op.get(vGu), ...v.i32Mul, ...v.i32Sub, ...op.get(CR[q]!), ...op.get(vGv), ...v.i32Mul, ...v.i32Sub]);
  const blue = (q: number) => shifted([...op.get(L[q]!), ...op.get(CB[q]!), ...op.get(vBu), ...v.i32Mul, ...v.i32Add]);
  const channel = (of: (q: number) => number[], to: number) => [...of(0), ...of(1), ...v.i16NarrowI32s, ...of(2), ...of(3), ...v.i16NarrowI32s, ...v.i8NarrowI16u, ...op.set(to)];
  const quarters: number[] = [];
  for (let q = 0; q < 4; q++) {
    quarters.push(...widen(Y, q), ...op.get(vFy), ...v.i32Mul, ...op.get(vBase), ...v.i32Add, ...op.set(L[q]!));
    quarters.push(...widen(U, q), ...op.get(v128), ...v.i32Sub, ...op.set(CB[q]!));
    quarters.push(...widen(V, q), ...op.get(v128), ...v.i32Sub, ...op.set(CR[q]!));
  }
  const stores: number[] = [];
  for (let k = 0; k < 3; k++) {
    const [first, second] = interleaveMasks(k);
    stores.push(...op.get(outp), ...op.get(R), ...op.get(G), ...v.shuffle(first), ...op.get(B), ...v.shuffle(second), ...v.store(16 * k));
  }
  const step = (local: number, by: number) => [...op.get(local), ...op.i32(by), ...op.i32Add, ...op.set(local)];
  return {
    name: 'yuvRgbRow',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32],
    locals: Array<typeof V128>(25).fill(V128),
    body: [
      ...splat(fy, vFy),
      ...splat(rv, vRv),
      ...splat(bu, vBu),
      ...splat(gu, vGu),
      ...splat(gv, vGv),
      ...splat(base, vBase),
      ...op.i32(128),
      ...v.i32Splat,
      ...op.set(v128),
      ...op.block,
      ...op.loop,
      ...op.get(blocks),
      ...op.i32Eqz,
      ...op.brIf(1),
      ...op.get(yp),
      ...v.load(),
      ...op.set(Y),
      ...op.get(up),
      ...v.load(),
      ...op.set(U),
      ...op.get(vp),
      ...v.load(),
      ...op.set(V),
      ...quarters,
      ...channel(red, R),
      ...channel(green, G),
      ...channel(blue, B),
      ...stores,
      ...step(yp, 16),
      ...step(up, 16),
      ...step(vp, 16),
      ...step(outp, 48),
      ...step(blocks, -1),
      ...op.br(0),
      ...op.end,
      ...op.end,
    ],
  };
}

/**
 * boxPass(from, to, acc, rows, pairs, rowBytes, height, taps, inv): one running-sum box filter down the
 * columns, two columns at a time in float64 (box-blur.ts's boxColumns, operation for operation, so
 * the same floats): `rows` holds the byte offset of each reflected row (entry i is row i − r − 1),
 * `taps` = 2r + 1; `pairs` column pairs are done, so an odd row length reads and writes one float
 * past each row (the next row's first, written again when its turn comes, or padding).
 */
function boxPass(): WasmFunction {
  const [from, to, acc, rows, pairs, rowBytes, height, taps, inv] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [e, j, y, add, sub, out, invs, vv] = [9, 10, 11, 12, 13, 14, 15, 16];
  return {
    name: 'boxPass',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, F64],
    locals: [I32, I32, I32, I32, I32, I32, V128, V128],
    body: [
      ...op.get(inv),
      ...v.f64Splat,
      ...op.set(invs),
      // acc = the sum of rows 1 … taps of the table (row 0's window), in table order.
      ...op.i32(0),
      ...op.set(e),
      ...op.block,
      ...op.loop,
      ...op.get(e),
      ...op.get(pairs),
      ...op.i32GeS,
      ...op.brIf(1),
      ...op.get(acc),
      ...op.get(e),
      ...op.i32(4),
      ...op.i32Shl,
      ...op.i32Add,
      ...v.const(new Array<number>(16).fill(0)),
      ...v.store(),
      ...op.get(e),
      ...op.i32(1),
      ...op.i32Add,
      ...op.set(e),
      ...op.br(0),
      ...op.end,
      ...op.end,
      ...op.i32(1),
      ...op.set(j),
      ...op.block,
      ...op.loop,
      ...op.get(j),
      ...op.get(taps),
      ...op.i32GtS,
      ...op.brIf(1),
      ...op.get(from),
      ...op.get(rows),
      ...op.get(j),
      ...op.i32(2),
      ...op.i32Shl,
      ...op.i32Add,
      ...op.i32Load(0),
      ...op.i32Add,
      ...op.set(add),
      ...op.get(acc),
      ...op.set(out),
      ...op.get(pairs),
      ...op.set(e),
      ...op.block,
      ...op.loop,
      ...op.get(e),
      ...op.i32Eqz,
      ...op.brIf(1),
      ...op.get(out),
      ...op.get(out),
      ...v.load(),
      ...op.get(add),
      ...v.load64Zero(),
      ...v.f64PromoteLowF32,
      ...v.f64Add,
      ...v.store(),
      ...op.get(out),
      ...op.i32(16),
      ...op.i32Add,
      ...op.set(out),
      ...op.get(add),
      ...op.i32(8),
      ...op.i32Add,
      ...op.set(add),
      ...op.get(e),
      ...op.i32(1),
      ...op.i32Sub,
      ...op.set(e),
      ...op.br(0),
      ...op.end,
      ...op.end,
      ...op.get(j),
      ...op.i32(1),
      ...op.i32Add,
      ...op.set(j),
      ...op.br(0),
      ...op.end,
      ...op.end,
      // Per output row: to = acc·inv, acc = (acc + the row entering) − the row leaving.
      ...op.get(rows),
      ...op.i32(4),
      ...op.i32Add,
      ...op.set(rows),
      ...op.i32(0),
      ...op.set(y),
      ...op.block,
      ...op.loop,
      ...op.get(y),
      ...op.get(height),
      ...op.i32GeS,
      ...op.brIf(1),
      ...op.get(from),
      ...op.get(rows),
      ...op.i32Load(0),
      ...op.i32Add,
      ...op.set(sub),
      ...op.get(from),
      ...op.get(rows),
      ...op.get(taps),
      ...op.i32(2),
      ...op.i32Shl,
      ...op.i32Add,
      ...op.i32Load(0),
      ...op.i32Add,
      ...op.set(add),
      ...op.get(rows),
      ...op.i32(4),
      ...op.i32Add,
      ...op.set(rows),
      ...op.get(to),
      ...op.get(y),
      ...op.get(rowBytes),
      ...op.i32Mul,
      ...op.i32Add,
      ...op.set(out),
      ...op.get(acc),
      ...op.set(e),
      ...op.get(pairs),
      ...op.set(j),
      ...op.block,
      ...op.loop,
      ...op.get(j),
      ...op.i32Eqz,
      ...op.brIf(1),
      ...op.get(out),
      ...op.get(e),
      ...v.load(),
      ...op.tee(vv),
      ...op.get(invs),
      ...v.f64Mul,
      ...v.f32DemoteF64Zero,
      ...v.store64Lane(0),
      ...op.get(e),
      ...op.get(vv),
      ...op.get(add),
      ...v.load64Zero(),
      ...v.f64PromoteLowF32,
      ...v.f64Add,
      ...op.get(sub),
      ...v.load64Zero(),
      ...v.f64PromoteLowF32,
      ...v.f64Sub,
      ...v.store(),
      ...op.get(e),
      ...op.i32(16),
      ...op.i32Add,
      ...op.set(e),
      ...op.get(out),
      ...op.i32(8),
      ...op.i32Add,
      ...op.set(out),
      ...op.get(add),
      ...op.i32(8),
      ...op.i32Add,
      ...op.set(add),
      ...op.get(sub),
      ...op.i32(8),
      ...op.i32Add,
      ...op.set(sub),
      ...op.get(j),
      ...op.i32(1),
      ...op.i32Sub,
      ...op.set(j),
      ...op.br(0),
      ...op.end,
      ...op.end,
      ...op.get(y),
      ...op.i32(1),
      ...op.i32Add,
      ...op.set(y),
      ...op.br(0),
      ...op.end,
      ...op.end,
    ],
  };
}

/**
 * minRows / maxRows(from, to, count, rows, rowStride, taps, tapStride): for `rows` rows of `count`
 * outputs (4 per step; up to 3 past `count` are written), out[i] = the minimum (maximum) of
 * from[i + j·tapStride] for j < taps; `rowStride` bytes between rows in both planes.
 */
function extremumRows(kind: 'min' | 'max'): WasmFunction {
  const [from, to, count, rows, rowStride, taps, tapStride] = [0, 1, 2, 3, 4, 5, 6];
  const [i, j, src, dst, acc, tap] = [7, 8, 9, 10, 11, 12];
  const pick = kind === 'min' ? v.f32Min : v.f32Max;
  return {
    name: `${kind}Rows`,
    params: [I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, V128, I32],
    body: [
      ...op.block,
      ...op.loop,
      ...op.get(rows),
      ...op.i32Eqz,
      ...op.brIf(1),
      ...op.get(from),
      ...op.set(src),
      ...op.get(to),
      ...op.set(dst),
      ...op.get(count),
      ...op.set(i),
      ...op.block,
      ...op.loop,
      ...op.get(i),
      ...op.i32(0),
      ...op.i32LeS,
      ...op.brIf(1),
      ...op.get(src),
      ...v.load(),
      ...op.set(acc),
      ...op.get(src),
      ...op.set(tap),
      ...op.i32(1),
      ...op.set(j),
      ...op.block,
      ...op.loop,
      ...op.get(j),
      ...op.get(taps),
      ...op.i32GeS,
      ...op.brIf(1),
      ...op.get(tap),
      ...op.get(tapStride),
      ...op.i32Add,
      ...op.tee(tap),
      ...v.load(),
      ...op.get(acc),
      ...pick,
      ...op.set(acc),
      ...op.get(j),
      ...op.i32(1),
      ...op.i32Add,
      ...op.set(j),
      ...op.br(0),
      ...op.end,
      ...op.end,
      ...op.get(dst),
      ...op.get(acc),
      ...v.store(),
      ...op.get(src),
      ...op.i32(16),
      ...op.i32Add,
      ...op.set(src),
      ...op.get(dst),
      ...op.i32(16),
      ...op.i32Add,
      ...op.set(dst),
      ...op.get(i),
      ...op.i32(4),
      ...op.i32Sub,
      ...op.set(i),
      ...op.br(0),
      ...op.end,
      ...op.end,
      ...op.get(from),
      ...op.get(rowStride),
      ...op.i32Add,
      ...op.set(from),
      ...op.get(to),
      ...op.get(rowStride),
      ...op.i32Add,
      ...op.set(to),
      ...op.get(rows),
      ...op.i32(1),
      ...op.i32Sub,
      ...op.set(rows),
      ...op.br(0),
      ...op.end,
      ...op.end,
    ],
  };
}

/**
 * blurColumns(tmp, out, pairs, rowBytes, r, half): for `pairs` pairs of neighbouring plane values
 * from `tmp` on, the vertical Gaussian of filters.ts's gaussianBlurMask away from the border:
 * half[0]·t + Σ half[j]·(t[−j rows] + t[+j rows]) in float64 in its order, rounded to float32 into
 * `out` (an odd run's last pair writes one float more).
 */
function blurColumns(): WasmFunction {
  const [tmp, out, pairs, rowBytes, r, half] = [0, 1, 2, 3, 4, 5];
  const [j, up, down, w, acc] = [6, 7, 8, 9, 10];
  const promoted = (at: number) => [...op.get(at), ...v.load64Zero(), ...v.f64PromoteLowF32];
  return {
    name: 'blurColumns',
    params: [I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, V128],
    body: [
      ...op.block,
      ...op.loop,
      ...op.get(pairs),
      ...op.i32Eqz,
      ...op.brIf(1),
      ...op.get(half),
      ...op.f64Load(0),
      ...v.f64Splat,
      ...promoted(tmp),
      ...v.f64Mul,
      ...op.set(acc),
      ...op.get(tmp),
      ...op.tee(up),
      ...op.set(down),
      ...op.get(half),
      ...op.set(w),
      ...op.i32(1),
      ...op.set(j),
      ...op.block,
      ...op.loop,
      ...op.get(j),
      ...op.get(r),
      ...op.i32GtS,
      ...op.brIf(1),
      ...op.get(up),
      ...op.get(rowBytes),
      ...op.i32Sub,
      ...op.set(up),
      ...op.get(down),
      ...op.get(rowBytes),
      ...op.i32Add,
      ...op.set(down),
      ...op.get(w),
      ...op.i32(8),
      ...op.i32Add,
      ...op.set(w),
      ...op.get(acc),
      ...op.get(w),
      ...op.f64Load(0),
      ...v.f64Splat,
      ...promoted(up),
      ...promoted(down),
      ...v.f64Add,
      ...v.f64Mul,
      ...v.f64Add,
      ...op.set(acc),
      ...op.get(j),
      ...op.i32(1),
      ...op.i32Add,
      ...op.set(j),
      ...op.br(0),
      ...op.end,
      ...op.end,
      ...op.get(out),
      ...op.get(acc),
      ...v.f32DemoteF64Zero,
      ...v.store64Lane(0),
      ...op.get(tmp),
      ...op.i32(8),
      ...op.i32Add,
      ...op.set(tmp),
      ...op.get(out),
      ...op.i32(8),
      ...op.i32Add,
      ...op.set(out),
      ...op.get(pairs),
      ...op.i32(1),
      ...op.i32Sub,
      ...op.set(pairs),
      ...op.br(0),
      ...op.end,
      ...op.end,
    ],
  };
}

type BlurColumns = (tmp: number, out: number, pairs: number, rowBytes: number, r: number, half: number) => void;
type ExtremumRows = (from: number, to: number, count: number, rows: number, rowStride: number, taps: number, tapStride: number) => void;
type BoxPass = (from: number, to: number, acc: number, rows: number, pairs: number, rowBytes: number, height: number, taps: number, inv: number) => void;
type ColourRow = (pixels: number, ratio: number, count: number) => void;
type ExpandRow4 = (grid: number, table: number, out: number, count: number) => void;
type YuvRgbRow = (y: number, u: number, v: number, out: number, blocks: number, fy: number, rv: number, bu: number, gu: number, gv: number, base: number) => void;
type MixRow = (upper: number, lower: number, fy: number, pixels: number, count: number, step: number) => void;

export interface SimdKernels {
  /**
   * frame = frame·(1 − m) + A over the fw×fh region at (x0, y0) of an RGB or RGBA frame, with
   * (m, A) bilinearly interpolated from `grid` (gw×gh texels of 4 floats, each covering
   * factor×factor frame pixels, edges clamped) as upsampleRows does; alpha is kept.
   */
  upsampleMix(grid: Float32Array, factor: number, frame: Image, x0: number, y0: number, fw: number, fh: number): void;
  /**
   * The colour transfer of matchColour over `active` of `image` (RGB or RGBA, in place): in
   * L*a*b*, L ← (L·gains[0] + offsets[0])·ratio, a ← a·gains[1] + offsets[1], b ← b·gains[2] + offsets[2],
   * with the ratio bilinearly interpolated from `ratioGrid` (cells of factor×factor pixels over
   * the whole image, as upsampleRows does). Alpha is kept. `spans`, when given, narrows each row
   * y to columns [spans[2y], spans[2y + 1]) within `active` (the pixels a caller will read); each
   * pixel's result is its own, whatever the run it is in.
   */
  colourTransfer(image: Image, active: Rect, gains: ArrayLike<number>, offsets: ArrayLike<number>, ratioGrid: Float32Array, factor: number, spans?: Int32Array): void;
  /**
   * box-blur.ts's three running-sum box filters down the columns of a height × rowLength float
   * plane (REFLECT_101 rows, radii 0 skipped), from `src` into `out`: the same floats as its
   * TypeScript loop (float64 sums, in the same order).
   */
  boxColumns(src: Float32Array, rowLength: number, height: number, radii: readonly number[], out: Float32Array): void;
  /**
   * cv2.erode / cv2.dilate of a float mask by a k×k square (morphology.ts's window and ignored
   * border), from `src` into `out` (which may be `src`): the same values, minima and maxima being exact.
   */
  morph(src: Float32Array, width: number, height: number, k: number, kind: 'erode' | 'dilate', out: Float32Array): void;
  /**
   * For gaussianBlurMask: a width×height plane in the module's memory for its row pass to fill
   * (valid until the next kernel call), and `columns`, its column pass for `count` values from
   * plane index `at` on, at least r rows from the plane's top and bottom, written to dst[at …].
   */
  maskBlurPlane(width: number, height: number, half: Float64Array): MaskBlurPlane;
  /**
   * yuv.ts's limited-range Y′CbCr → RGB for the first `count` pixels (a multiple of 16) of three
   * byte planes, `planeLength` bytes apart in `planes`, into `out` as RGB: the same bytes as its
   * loop. `factors` are yuvFactors' (16-bit fixed point).
   */
  yuvToRgb(
    planes: Uint8Array | Uint8ClampedArray,
    planeLength: number,
    count: number,
    factors: { y: number; rv: number; bu: number; gu: number; gv: number },
    out: Uint8ClampedArray,
  ): void;
}

/** See {@link SimdKernels.maskBlurPlane}. */
export interface MaskBlurPlane {
  readonly tmp: Float32Array;
  columns(at: number, count: number, dst: Float32Array): void;
  /** Copies `length` values of `src` from `at` on into the module: the row the next {@link rowRun}s read. */
  loadRow(src: Float32Array, at: number, length: number): void;
  /** The row pass for `count` values of the loaded row from `at` on (at least r from its ends), into tmp[to …]. */
  rowRun(at: number, count: number, to: number): void;
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
    let end = STATIC_BYTES;
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
  const bytes = assemble([expandRow4(), mixRow(), colourRow(3), colourRow(4), boxPass(), extremumRows('min'), extremumRows('max'), blurColumns(), yuvRgbRow()], 1);
  if (!wasm.validate(bytes)) return undefined;
  const { exports } = new wasm.Instance(new wasm.Module(bytes));
  const arena = new Arena(exports.memory as { buffer: ArrayBuffer; grow(pages: number): number });
  const expand = exports.expandRow4 as ExpandRow4;
  const mix = exports.mixRow as MixRow;
  const colour = { 3: exports.colourRow3 as ColourRow, 4: exports.colourRow4 as ColourRow };
  const box = exports.boxPass as BoxPass;
  const blur = exports.blurColumns as BlurColumns;
  const yuvRow = exports.yuvRgbRow as YuvRgbRow;
  const extremum = { erode: exports.minRows as ExtremumRows, dilate: exports.maxRows as ExtremumRows };
  arena.layout([]);
  arena.floats(LINEAR_AT, 256).set(LAB.toLinear);
  const edges = arena.floats(EDGE_AT, 256);
  edges.set(LAB.edge);
  edges[255] = Infinity;
  arena.bytes.set(LAB.start, START_AT);
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
    colourTransfer(image, active, gains, offsets, ratioGrid, factor, spans) {
      if (image.channels === 1) throw new RangeError('colourTransfer: the image must be RGB or RGBA');
      const aw = active.x1 - active.x0;
      if (aw <= 0 || active.y1 <= active.y0) return;
      const c = image.channels;
      const [rowAt, ratioAt] = arena.layout([aw * c + 16, aw * 4 + 16]);
      const params = arena.floats(GAINS_AT, 8);
      params.set([gains[0], gains[1], gains[2], 0, offsets[0], offsets[1], offsets[2], 0]);
      const ratioRow = arena.floats(ratioAt, aw);
      const heap = arena.bytes;
      const data = image.data;
      upsampleRows(ratioGrid, factor, image.width, image.height, 1, (y, row) => {
        if (y < active.y0 || y >= active.y1) return;
        const x0 = spans ? Math.max(active.x0, spans[2 * y]) : active.x0;
        const x1 = spans ? Math.min(active.x1, spans[2 * y + 1]) : active.x1;
        const n = x1 - x0;
        if (n <= 0) return;
        ratioRow.set(row.subarray(x0, x1));
        const start = (y * image.width + x0) * c;
        heap.set(data.subarray(start, start + n * c), rowAt);
        colour[c](rowAt, ratioAt, n);
        data.set(heap.subarray(rowAt, rowAt + n * c), start);
      });
    },
    boxColumns(src, rowLength, height, radii, out) {
      const n = rowLength * height;
      const maxTaps = 2 * Math.max(...radii) + 1;
      const pairs = Math.ceil(rowLength / 2);
      const [aAt, bAt, accAt, rowsAt] = arena.layout([4 * n + 8, 4 * n + 8, 16 * pairs, 4 * (height + maxTaps + 1)]);
      arena.floats(aAt, n).set(src.subarray(0, n));
      let from = aAt;
      let to = bAt;
      for (const r of radii) {
        if (r === 0) continue;
        const rows = arena.words(rowsAt, height + 2 * r + 2);
        rows.set(reflectTable(height, r + 1));
        for (let i = 0; i < rows.length; i++) rows[i] *= 4 * rowLength;
        box(from, to, accAt, rowsAt, pairs, 4 * rowLength, height, 2 * r + 1, 1 / (2 * r + 1));
        [from, to] = [to, from];
      }
      out.set(arena.floats(from, n));
    },
    morph(src, width, height, k, kind, out) {
      // Rows padded to a multiple of 4 plus the window, the window's outside filled with the
      // value that never wins (+∞ for a minimum, −∞ for a maximum): that is the ignored border.
      const anchor = k >> 1;
      const padW = Math.ceil(width / 4) * 4 + k + 3;
      const padH = height + k - 1;
      const [lineAt, tmpAt] = arena.layout([4 * padW * height, 4 * padW * padH]);
      const line = arena.floats(lineAt, padW * height);
      const tmp = arena.floats(tmpAt, padW * padH);
      const outside = kind === 'erode' ? Infinity : -Infinity;
      line.fill(outside);
      tmp.fill(outside);
      for (let y = 0; y < height; y++) line.set(src.subarray(y * width, y * width + width), y * padW + anchor);
      // Rows into tmp's rows anchor … anchor + height − 1, then columns back into line.
      extremum[kind](lineAt, tmpAt + 4 * padW * anchor, width, height, 4 * padW, k, 4);
      extremum[kind](tmpAt, lineAt, width, height, 4 * padW, k, 4 * padW);
      for (let y = 0; y < height; y++) out.set(line.subarray(y * padW, y * padW + width), y * width);
    },
    yuvToRgb(planes, planeLength, count, factors, out) {
      if (count % 16 !== 0) throw new RangeError(`yuvToRgb: ${count} pixels is not a multiple of 16`);
      // In runs that stay in cache: three plane runs in, their RGB out.
      const run = Math.min(count, YUV_RUN);
      const [yAt, uAt, vAt, outAt] = arena.layout([run, run, run, 3 * run]);
      const heap = arena.bytes;
      const base = (1 << 15) - 16 * factors.y;
      for (let start = 0; start < count; start += run) {
        const n = Math.min(run, count - start);
        heap.set(planes.subarray(start, start + n), yAt);
        heap.set(planes.subarray(planeLength + start, planeLength + start + n), uAt);
        heap.set(planes.subarray(2 * planeLength + start, 2 * planeLength + start + n), vAt);
        yuvRow(yAt, uAt, vAt, outAt, n >> 4, factors.y, factors.rv, factors.bu, factors.gu, factors.gv, base);
        out.set(heap.subarray(outAt, outAt + 3 * n), 3 * start);
      }
    },
    maskBlurPlane(width, height, half) {
      const n = width * height;
      const r = half.length - 1;
      const [tmpAt, outAt, halfAt, rowAt] = arena.layout([4 * n + 8, 4 * width + 8, 8 * half.length, 4 * (width + 2 * r) + 8]);
      new Float64Array(arena.bytes.buffer, halfAt, half.length).set(half);
      const out = arena.floats(outAt, width + 2);
      const row = arena.floats(rowAt, width + 2 * r + 2);
      const tmp = arena.floats(tmpAt, n);
      return {
        tmp,
        loadRow(src, at, length) {
          row.set(src.subarray(at, at + length));
        },
        rowRun(at, count, to) {
          blur(rowAt + 4 * at, outAt, (count + 1) >> 1, 4, r, halfAt);
          tmp.set(out.subarray(0, count), to);
        },
        columns(at, count, dst) {
          blur(tmpAt + 4 * at, outAt, (count + 1) >> 1, 4 * width, r, halfAt);
          dst.set(out.subarray(0, count), at);
        },
      };
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
