/**
 * Accumulates the ONNX nodes and initializers of a graph being converted from TFJS, and tracks in
 * which memory layout each converted tensor exists. TF graphs are NHWC; ONNX Conv/MaxPool are
 * NCHW. Rather than wrapping every op in transposes, each value keeps whichever layouts have been
 * materialised and a transpose is emitted only the first time the other layout is asked for.
 */

import { OnnxAttributeType, OnnxDataType, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnx-proto.js';
import type { TfjsNodeDef, TfjsWeight } from './tfjs-graph.js';

export type Dim = number | null;

/** A converted TF tensor. `shape` is always the TF (NHWC) shape; unknown sizes are null. */
export interface Value {
  /** Base for generated tensor names (the TF node name). */
  label: string;
  shape: Dim[];
  dtype: 'float32' | 'int32';
  /** ONNX tensor holding the value in TF layout. */
  nhwc?: string;
  /** ONNX tensor holding a rank-4 value transposed to NCHW. */
  nchw?: string;
  /** Folded Const: no ONNX tensor exists until an op needs one (in whichever layout it needs). */
  konst?: TfjsWeight;
}

export const TO_NCHW = [0, 3, 1, 2];
export const TO_NHWC = [0, 2, 3, 1];
/** Where NHWC axis k ends up in NCHW order. */
export const NHWC_AXIS_IN_NCHW = [0, 2, 3, 1];

/** Raised for anything the converter cannot express; always names the offending node and op. */
export class TfjsConversionError extends Error {
  constructor(node: TfjsNodeDef, message: string) {
    super(`Cannot convert TFJS node "${node.name}" (op ${node.op}): ${message}`);
    this.name = 'TfjsConversionError';
  }
}

export const attr = {
  int: (name: string, i: number): OnnxAttribute => ({ name, type: OnnxAttributeType.INT, i }),
  ints: (name: string, ints: number[]): OnnxAttribute => ({ name, type: OnnxAttributeType.INTS, ints }),
  float: (name: string, f: number): OnnxAttribute => ({ name, type: OnnxAttributeType.FLOAT, f }),
  string: (name: string, s: string): OnnxAttribute => ({ name, type: OnnxAttributeType.STRING, s: new TextEncoder().encode(s) }),
};

/** Reorders a dense row-major array: out axis i is input axis perm[i]. */
export function transposeData<T extends Float32Array | Int32Array>(data: T, shape: readonly number[], perm: readonly number[]): T {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; s *= shape[i], i--) inStrides[i] = s;
  const strides = perm.map((p) => inStrides[p]); // input stride of each output axis
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0, src = 0; o < data.length; o++) {
    out[o] = data[src];
    // Odometer increment over the output shape, tracking the matching input offset.
    for (let axis = rank - 1; axis >= 0; axis--) {
      src += strides[axis];
      if (++index[axis] < outShape[axis]) break;
      src -= strides[axis] * outShape[axis];
      index[axis] = 0;
    }
  }
  return out;
}

// ONNX raw_data is little-endian; every platform Node and browsers run on is too, so the typed
// array's bytes are used as they are.
const bytesOf = (a: Float32Array | Int32Array | BigInt64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly names = new Set<string>();

  /** Claims an exact name (graph inputs/outputs) so generated names never collide with it. */
  reserve(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX tensor name "${name}" is used twice`);
    this.names.add(name);
    return name;
  }

  uniqueName(base: string): string {
    let name = base;
    for (let n = 1; this.names.has(name); n++) name = `${base}_${n}`;
    this.names.add(name);
    return name;
  }

  /** Adds a single-output node and returns the name of its output tensor. */
  node(opType: string, inputs: string[], outputBase: string, attribute: OnnxAttribute[] = [], output?: string): string {
    const out = output ?? this.uniqueName(outputBase);
    this.nodes.push({ name: out, opType, input: inputs, output: [out], attribute });
    return out;
  }

  floatInit(base: string, dims: number[], data: Float32Array): string {
    return this.init(base, dims, OnnxDataType.FLOAT, bytesOf(data));
  }

  int32Init(base: string, dims: number[], data: Int32Array): string {
    return this.init(base, dims, OnnxDataType.INT32, bytesOf(data));
  }

  int64Init(base: string, dims: number[], values: readonly number[]): string {
    return this.init(base, dims, OnnxDataType.INT64, bytesOf(BigInt64Array.from(values, (v) => BigInt(v))));
  }

  private init(base: string, dims: number[], dataType: number, rawData: Uint8Array): string {
    const name = this.uniqueName(base);
    this.initializers.push({ name, dims, dataType, rawData });
    return name;
  }

  /** Constant data as an initializer of its own element type. */
  constTensor(base: string, dims: number[], data: Float32Array | Int32Array): string {
    return data instanceof Int32Array ? this.int32Init(base, dims, data) : this.floatInit(base, dims, data);
  }

  /** The value's ONNX tensor in TF layout, transposing back from NCHW if that is all there is. */
  nhwc(v: Value): string {
    if (v.nhwc) return v.nhwc;
    if (v.konst) {
      v.nhwc = this.constTensor(v.label, v.konst.shape, v.konst.data);
    } else if (v.nchw) {
      v.nhwc = this.node('Transpose', [v.nchw], `${v.label}/nhwc`, [attr.ints('perm', TO_NHWC)]);
    } else {
      throw new Error(`internal: value "${v.label}" has no tensor`);
    }
    return v.nhwc;
  }

  /** The value's ONNX tensor in NCHW layout; only for rank-4 values. */
  nchw(v: Value): string {
    if (v.nchw) return v.nchw;
    if (v.shape.length !== 4) throw new Error(`internal: NCHW requested for rank-${v.shape.length} value "${v.label}"`);
    if (v.konst) {
      const { shape, data } = v.konst;
      v.nchw = this.constTensor(
        `${v.label}/nchw`,
        TO_NCHW.map((p) => shape[p]),
        transposeData(data, shape, TO_NCHW),
      );
    } else {
      v.nchw = this.node('Transpose', [this.nhwc(v)], `${v.label}/nchw`, [attr.ints('perm', TO_NCHW)]);
    }
    return v.nchw;
  }

  /**
   * A constant operand broadcast against a rank-4 NCHW tensor. TF broadcasting aligns trailing
   * axes in NHWC order (a [C] bias or [1,1,C] PReLU alpha), so the constant is padded to rank 4,
   * transposed like the data, and stripped of leading 1s, giving e.g. [C,1,1].
   */
  broadcastConstNchw(konst: TfjsWeight, base: string): string {
    const { shape, data } = konst;
    if (shape.length > 4) throw new Error(`internal: rank-${shape.length} constant "${base}" against a rank-4 tensor`);
    const shape4 = [...new Array<number>(4 - shape.length).fill(1), ...shape];
    const dims = TO_NCHW.map((p) => shape4[p]);
    const moved = transposeData(data, shape4, TO_NCHW);
    while (dims.length > 0 && dims[0] === 1) dims.shift();
    return this.constTensor(base, dims, moved);
  }
}
