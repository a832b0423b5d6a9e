/**
 * The TensorFlow.js graph-model format (model.json + weight shards): its JSON types, the weight
 * decoder (including the float16/uint8/uint16 quantization tfjs applies when loading), and helpers
 * to read TF NodeDef attributes, whose strings are base64-encoded in the JSON.
 */

import { halfBitsToFloat32 } from './float16.js';

export type TfjsDtype = 'float32' | 'int32' | 'bool' | 'string' | 'complex64';

export interface TfjsQuantization {
  dtype: 'float16' | 'uint8' | 'uint16';
  scale?: number;
  min?: number;
  original_dtype?: string;
}

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: TfjsDtype;
  quantization?: TfjsQuantization;
}

export interface TfjsWeightsGroup {
  paths: string[];
  weights: TfjsWeightSpec[];
}

export interface TfjsTensorShape {
  dim?: { size?: string | number }[];
  unknownRank?: boolean;
}

/** A TF AttrValue in the JSON mapping: int64s arrive as strings, strings as base64. */
export interface TfjsAttrValue {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  shape?: TfjsTensorShape;
  tensor?: { dtype?: string; tensorShape?: TfjsTensorShape };
  list?: { s?: string[]; i?: (string | number)[]; f?: number[]; b?: boolean[]; type?: string[] };
}

export interface TfjsNodeDef {
  name: string;
  op: string;
  input?: string[];
  device?: string;
  attr?: Record<string, TfjsAttrValue>;
}

export interface TfjsGraphModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: { node: TfjsNodeDef[]; library?: unknown; versions?: unknown };
  weightsManifest: TfjsWeightsGroup[];
  signature?: unknown;
  userDefinedMetadata?: unknown;
}

/** A decoded weight: float32 for floating weights (dequantized), int32 for integer ones. */
export interface TfjsWeight {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

const quantizedBytes = { float16: 2, uint8: 1, uint16: 2 } as const;
const plainBytes: Record<TfjsDtype, number> = { float32: 4, int32: 4, bool: 1, string: 0, complex64: 8 };

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Decodes the concatenated weight shards (all groups' paths, in manifest order) into a map keyed by
 * weight name. bool and complex64 weights are skipped (no supported op consumes them); strings
 * cannot be skipped because their byte length is not in the manifest.
 */
export function decodeTfjsWeights(manifest: readonly TfjsWeightsGroup[], bytes: Uint8Array): Map<string, TfjsWeight> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<string, TfjsWeight>();
  let offset = 0;
  for (const spec of manifest.flatMap((group) => group.weights)) {
    // A negative or fractional size passed the length check below and made a RangeError (found by fuzzing).
    if (!spec.shape.every((n) => Number.isSafeInteger(n) && n >= 0))
      throw new Error(`TFJS weight "${spec.name}" has the shape [${spec.shape.join(', ')}]; sizes must be whole numbers ≥ 0`);
    const count = shapeSize(spec.shape);
    const q = spec.quantization;
    if (!q && spec.dtype === 'string') throw new Error(`TFJS weight "${spec.name}" is a string tensor, which is not supported`);
    const size = count * (q ? quantizedBytes[q.dtype] : plainBytes[spec.dtype]);
    if (size === undefined || Number.isNaN(size)) throw new Error(`TFJS weight "${spec.name}": unknown dtype ${q?.dtype ?? spec.dtype}`);
    if (offset + size > bytes.length) {
      throw new Error(`TFJS weights end early: "${spec.name}" needs bytes ${offset}..${offset + size}, file has ${bytes.length}`);
    }
    const weight = decodeOne(spec, view, offset, count);
    if (weight) out.set(spec.name, weight);
    offset += size;
  }
  return out;
}

function decodeOne(spec: TfjsWeightSpec, view: DataView, offset: number, count: number): TfjsWeight | undefined {
  const q = spec.quantization;
  const shape = [...spec.shape];
  if (q?.dtype === 'float16') {
    if (spec.dtype !== 'float32') throw new Error(`TFJS weight "${spec.name}": float16 quantization of ${spec.dtype}`);
    const bits = new Uint16Array(count);
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(offset + i * 2, true);
    return { dtype: 'float32', shape, data: halfBitsToFloat32(bits) };
  }
  if (q) {
    // Affine dequantization, computed in double precision like tfjs: value = q * scale + min.
    const scale = q.scale ?? 1;
    const min = q.min ?? 0;
    const wide = q.dtype === 'uint16';
    const read = (i: number) => (wide ? view.getUint16(offset + i * 2, true) : view.getUint8(offset + i));
    if (spec.dtype === 'float32') {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = read(i) * scale + min;
      return { dtype: 'float32', shape, data };
    }
    if (spec.dtype === 'int32') {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = Math.round(read(i) * scale + min);
      return { dtype: 'int32', shape, data };
    }
    throw new Error(`TFJS weight "${spec.name}": ${q.dtype} quantization of ${spec.dtype} is not supported`);
  }
  if (spec.dtype === 'float32') {
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(offset + i * 4, true);
    return { dtype: 'float32', shape, data };
  }
  if (spec.dtype === 'int32') {
    const data = new Int32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getInt32(offset + i * 4, true);
    return { dtype: 'int32', shape, data };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// NodeDef helpers

/** Decodes a base64 attribute string (TF stores `s` attrs as bytes). atob keeps this browser-safe. */
export function decodeBase64Text(b64: string): string {
  let binary: string;
  try {
    binary = atob(b64);
  } catch {
    // atob's DOMException names neither the value nor the model (found by fuzzing).
    throw new Error(`TFJS attribute value "${b64.slice(0, 40)}" is not base64`);
  }
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

export function attrString(node: TfjsNodeDef, key: string): string | undefined {
  const s = node.attr?.[key]?.s;
  return s === undefined ? undefined : decodeBase64Text(s);
}

export function attrStrings(node: TfjsNodeDef, key: string): string[] {
  return (node.attr?.[key]?.list?.s ?? []).map(decodeBase64Text);
}

export function attrInt(node: TfjsNodeDef, key: string): number | undefined {
  const i = node.attr?.[key]?.i;
  return i === undefined ? undefined : Number(i);
}

/** An int-list attribute; undefined when absent (an empty list reads as []). */
export function attrInts(node: TfjsNodeDef, key: string): number[] | undefined {
  const attr = node.attr?.[key];
  if (!attr) return undefined;
  return (attr.list?.i ?? []).map(Number);
}

export function attrBool(node: TfjsNodeDef, key: string): boolean | undefined {
  return node.attr?.[key]?.b;
}

export function attrFloat(node: TfjsNodeDef, key: string): number | undefined {
  return node.attr?.[key]?.f;
}

export function attrType(node: TfjsNodeDef, key: string): string | undefined {
  return node.attr?.[key]?.type;
}

/** A shape attribute with unknown sizes (-1) as null; undefined when absent or of unknown rank. */
export function attrShape(node: TfjsNodeDef, key: string): (number | null)[] | undefined {
  const shape = node.attr?.[key]?.shape;
  if (!shape || shape.unknownRank) return undefined;
  return (shape.dim ?? []).map((d) => {
    const size = Number(d.size ?? -1);
    return size < 0 ? null : size;
  });
}

/** Splits a NodeDef input reference: "name", "name:1" (output 1) or "^name" (control edge). */
export function parseInputRef(ref: string): { name: string; index: number; control: boolean } {
  if (ref.startsWith('^')) return { name: ref.slice(1), index: 0, control: true };
  const match = /^(.*):(\d+)$/.exec(ref);
  return match ? { name: match[1], index: Number(match[2]), control: false } : { name: ref, index: 0, control: false };
}
