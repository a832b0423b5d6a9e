/**
 * A minimal WebAssembly assembler for the core's SIMD kernels (simd-kernels.ts): a module is put
 * together here from its instructions, with no toolchain and nothing downloaded, and compiled once
 * at run time. Only what the kernels use is here: i32 and f32 scalars, 128-bit SIMD, loops and
 * branches, one exported memory. Platform-free (Node, browsers, Workers).
 */

/** Value types (binary encoding). */
export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof I64 | typeof F32 | typeof F64 | typeof V128;

/** One function of a module: parameters are locals 0…n−1, `locals` follow them. */
export interface WasmFunction {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly locals: readonly ValType[];
  readonly body: readonly number[];
}

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

export function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

export function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

export function name(text: string): number[] {
  return [...uleb(text.length), ...Array.from(text, (c) => c.charCodeAt(0))];
}

function f32Bytes(v: number): number[] {
  return Array.from(new Uint8Array(Float32Array.of(v).buffer));
}

/** Scalar instructions and control flow. Memory offsets are byte offsets added to the address. */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32: (value: number) => [0x41, ...sleb(value)],
  f32: (value: number) => [0x43, ...f32Bytes(value)],
  i32Load: (offset = 0) => [0x28, 2, ...uleb(offset)],
  f32Load: (offset = 0) => [0x2a, 2, ...uleb(offset)],
  f64Load: (offset = 0) => [0x2b, 3, ...uleb(offset)],
  i32Load8u: (offset = 0) => [0x2d, 0, ...uleb(offset)],
  i32Store8: (offset = 0) => [0x3a, 0, ...uleb(offset)],
  i32Eqz: [0x45],
  i32LtS: [0x48],
  i32GtS: [0x4a],
  i32LeS: [0x4c],
  i32GeS: [0x4e],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32LtU: [0x49],
  i32Shl: [0x74],
  f32Gt: [0x5e],
  f32Ge: [0x60],
  f32Sub: [0x93],
  f32Mul: [0x94],
  i32TruncF32s: [0xa8],
};

const simd = (code: number, ...immediates: number[]): number[] => [0xfd, ...uleb(code), ...immediates];

/** 128-bit SIMD instructions (WebAssembly 2.0 opcodes after the 0xFD prefix), named by lane shape. */
export const v = {
  load: (offset = 0) => simd(0x00, 0, ...uleb(offset)),
  store: (offset = 0) => simd(0x0b, 0, ...uleb(offset)),
  load32Zero: (offset = 0) => simd(0x5c, 0, ...uleb(offset)),
  load64Zero: (offset = 0) => simd(0x5d, 0, ...uleb(offset)),
  store8Lane: (lane: number, offset = 0) => simd(0x58, 0, ...uleb(offset), lane),
  store16Lane: (lane: number, offset = 0) => simd(0x59, 1, ...uleb(offset), lane),
  store32Lane: (lane: number, offset = 0) => simd(0x5a, 0, ...uleb(offset), lane),
  store64Lane: (lane: number, offset = 0) => simd(0x5b, 0, ...uleb(offset), lane),
  const: (bytes: readonly number[]) => simd(0x0c, ...bytes),
  constF32: (lanes: readonly [number, number, number, number]) => simd(0x0c, ...lanes.flatMap(f32Bytes)),
  constI32: (lanes: readonly [number, number, number, number]) => simd(0x0c, ...lanes.flatMap((l) => [l & 0xff, (l >>> 8) & 0xff, (l >>> 16) & 0xff, (l >>> 24) & 0xff])),
  shuffle: (lanes: readonly number[]) => simd(0x0d, ...lanes),
  i32Splat: simd(0x11),
  f32Splat: simd(0x13),
  f32Extract: (lane: number) => simd(0x1f, lane),
  f32Replace: (lane: number) => simd(0x20, lane),
  f32Gt: simd(0x44),
  and: simd(0x4e),
  or: simd(0x50),
  bitselect: simd(0x52),
  i8NarrowI16u: simd(0x66),
  f32Le: simd(0x45),
  i16NarrowI32s: simd(0x85),
  i16ExtendLowI8u: simd(0x89),
  i16ExtendHighI8u: simd(0x8a),
  i32ExtendLowI16u: simd(0xa9),
  i32ExtendHighI16u: simd(0xaa),
  i32Add: simd(0xae),
  i32Sub: simd(0xb1),
  i32Mul: simd(0xb5),
  i32ShrS: simd(0xac),
  f32Nearest: simd(0x6a),
  f32Sqrt: simd(0xe3),
  f32Add: simd(0xe4),
  f32Sub: simd(0xe5),
  f32Mul: simd(0xe6),
  f32Div: simd(0xe7),
  f32Min: simd(0xe8),
  f32Max: simd(0xe9),
  f64Add: simd(0xf0),
  f64Sub: simd(0xf1),
  f64Mul: simd(0xf2),
  f64Splat: simd(0x14),
  f32DemoteF64Zero: simd(0x5e),
  f64PromoteLowF32: simd(0x5f),
  i32TruncSatF32s: simd(0xf8),
  f32ConvertI32s: simd(0xfa),
  f32ConvertI32u: simd(0xfb),
};

/**
 * Lanes for {@link v.shuffle} that pick 32-bit lanes: `picks[i]` is the lane of the first operand
 * (0–3) or of the second (4–7) that goes to lane i.
 */
export function lanes32(picks: readonly [number, number, number, number]): number[] {
  return picks.flatMap((p) => [4 * p, 4 * p + 1, 4 * p + 2, 4 * p + 3]);
}

/** The module's bytes: the functions (exported by name, no results), and a memory exported as `memory`. */
export function assemble(functions: readonly WasmFunction[], initialPages: number): Uint8Array {
  const types = functions.map((f) => [0x60, ...vector(f.params.map((p) => [p])), 0]);
  const type = section(1, vector(types));
  const funcs = section(3, vector(functions.map((_, i) => uleb(i))));
  const memory = section(5, vector([[0x00, ...uleb(initialPages)]]));
  const exports = section(7, vector([[...name('memory'), 0x02, 0], ...functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])]));
  const bodies = functions.map((f) => {
    const groups = f.locals.map((t) => [1, t]);
    const body = [...vector(groups), ...f.body, ...op.end];
    return [...uleb(body.length), ...body];
  });
  const code = section(10, vector(bodies));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...funcs, ...memory, ...exports, ...code]);
}

/** The WebAssembly API as far as the kernels use it (absent on some platforms). */
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

/** The global WebAssembly, or undefined where there is none. */
export function wasmApi(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}
