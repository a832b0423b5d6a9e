/**
 * ONNX protobuf encoding and decoding for the subset of onnx.proto this project writes and reads
 * (models, graphs, nodes, attributes, tensors, value infos), built on protobufjs reflection so no
 * generated code or .proto file has to ship. Also a small reader that summarises a model file.
 *
 * Field names below are camelCased; only the field numbers and wire types matter on the wire, and
 * they follow onnx.proto exactly.
 */

import protobuf from 'protobufjs';
import { halfBitsToFloat32, readHalfLE } from './float16.js';

/** TensorProto.DataType values. */
export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType values for the kinds this project emits. */
export const OnnxAttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

export interface OnnxTensor {
  name?: string;
  dims?: number[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  dataLocation?: number;
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}

export interface OnnxNode {
  name?: string;
  opType: string;
  domain?: string;
  input?: string[];
  output?: string[];
  attribute?: OnnxAttribute[];
  docString?: string;
}

/** One dimension: a fixed size, a symbolic name, or neither (unknown). */
export interface OnnxDimension {
  dimValue?: number;
  dimParam?: string;
}

export interface OnnxValueInfo {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: OnnxDimension[] } } };
  docString?: string;
}

export interface OnnxGraph {
  name?: string;
  node?: OnnxNode[];
  initializer?: OnnxTensor[];
  input?: OnnxValueInfo[];
  output?: OnnxValueInfo[];
  valueInfo?: OnnxValueInfo[];
  docString?: string;
}

export interface OnnxModel {
  irVersion?: number;
  opsetImport?: { domain?: string; version?: number }[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: OnnxGraph;
  metadataProps?: { key?: string; value?: string }[];
}

type FieldJson = { id: number; type: string; edition: 'proto2'; rule?: 'repeated'; options?: Record<string, boolean> };

// onnx.proto is proto2: a set field is written even when it holds the default ("" domain), and
// repeated numbers are unpacked unless the field says otherwise. protobufjs JSON fields default
// to proto3 rules, so each field states its edition, and packing is spelled out.
const one = (id: number, type: string): FieldJson => ({ id, type, edition: 'proto2' });
const many = (id: number, type: string, packed = false): FieldJson => ({ id, type, edition: 'proto2', rule: 'repeated', options: { packed } });

const descriptor = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: one(1, 'int64'),
            producerName: one(2, 'string'),
            producerVersion: one(3, 'string'),
            domain: one(4, 'string'),
            modelVersion: one(5, 'int64'),
            docString: one(6, 'string'),
            graph: one(7, 'GraphProto'),
            opsetImport: many(8, 'OperatorSetIdProto'),
            metadataProps: many(14, 'StringStringEntryProto'),
          },
        },
        OperatorSetIdProto: { fields: { domain: one(1, 'string'), version: one(2, 'int64') } },
        StringStringEntryProto: { fields: { key: one(1, 'string'), value: one(2, 'string') } },
        GraphProto: {
          fields: {
            node: many(1, 'NodeProto'),
            name: one(2, 'string'),
            initializer: many(5, 'TensorProto'),
            docString: one(10, 'string'),
            input: many(11, 'ValueInfoProto'),
            output: many(12, 'ValueInfoProto'),
            valueInfo: many(13, 'ValueInfoProto'),
          },
        },
        NodeProto: {
          fields: {
            input: many(1, 'string'),
            output: many(2, 'string'),
            name: one(3, 'string'),
            opType: one(4, 'string'),
            attribute: many(5, 'AttributeProto'),
            docString: one(6, 'string'),
            domain: one(7, 'string'),
          },
        },
        AttributeProto: {
          fields: {
            name: one(1, 'string'),
            f: one(2, 'float'),
            i: one(3, 'int64'),
            s: one(4, 'bytes'),
            t: one(5, 'TensorProto'),
            g: one(6, 'GraphProto'),
            floats: many(7, 'float'),
            ints: many(8, 'int64'),
            strings: many(9, 'bytes'),
            tensors: many(10, 'TensorProto'),
            graphs: many(11, 'GraphProto'),
            docString: one(13, 'string'),
            type: one(20, 'int32'),
            refAttrName: one(21, 'string'),
          },
        },
        TensorProto: {
          fields: {
            dims: many(1, 'int64'),
            dataType: one(2, 'int32'),
            floatData: many(4, 'float', true),
            int32Data: many(5, 'int32', true),
            stringData: many(6, 'bytes'),
            int64Data: many(7, 'int64', true),
            name: one(8, 'string'),
            rawData: one(9, 'bytes'),
            doubleData: many(10, 'double', true),
            uint64Data: many(11, 'uint64', true),
            docString: one(12, 'string'),
            dataLocation: one(14, 'int32'),
          },
        },
        ValueInfoProto: { fields: { name: one(1, 'string'), type: one(2, 'TypeProto'), docString: one(3, 'string') } },
        TypeProto: {
          fields: { tensorType: one(1, 'TypeProto.Tensor'), denotation: one(6, 'string') },
          oneofs: { value: { oneof: ['tensorType'] } },
          nested: { Tensor: { fields: { elemType: one(1, 'int32'), shape: one(2, 'TensorShapeProto') } } },
        },
        TensorShapeProto: {
          fields: { dim: many(1, 'TensorShapeProto.Dimension') },
          nested: {
            Dimension: {
              fields: { dimValue: one(1, 'int64'), dimParam: one(2, 'string'), denotation: one(3, 'string') },
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
            },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
const ModelType = root.lookupType('onnx.ModelProto');

/** Serialises a model to the ONNX file format. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const out = ModelType.encode(ModelType.fromObject(model as Record<string, unknown>)).finish();
  // Under Node protobufjs returns a Buffer; hand out a plain view of the same bytes.
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Parses an ONNX file. int64 fields come back as plain numbers (exact up to 2^53); bytes fields
 * are views into `bytes` (no copy), so large initializers cost no extra memory.
 */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModel {
  return ModelType.toObject(ModelType.decode(bytes), { longs: Number }) as OnnxModel;
}

// ---------------------------------------------------------------------------------------------
// Reader

const dataTypeNames: Record<number, string> = Object.fromEntries(Object.entries(OnnxDataType).map(([name, code]) => [code, name.toLowerCase()]));
/** Lower-case ONNX element type name ("float", "float16", "int64", ...) for reports. */
export function onnxDataTypeName(code: number): string {
  return dataTypeNames[code] ?? `type${code}`;
}

export interface OnnxTensorInfo {
  name: string;
  dataType: number;
  dtype: string;
  /** Fixed sizes as numbers, symbolic dimensions by name, unknown ones as null. */
  shape: (number | string | null)[];
}

export interface OnnxInitializerInfo {
  name: string;
  dataType: number;
  dtype: string;
  dims: number[];
}

export interface OnnxModelInfo {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producerName: string;
  metadata: Record<string, string>;
  inputs: OnnxTensorInfo[];
  outputs: OnnxTensorInfo[];
  initializers: OnnxInitializerInfo[];
  /** An initializer's values as float32 (FLOAT or FLOAT16 initializers only). */
  initializerFloats(name: string): Float32Array;
}

/** Summarises a model file: its graph inputs, outputs and initializers. */
export function readOnnxModel(bytes: Uint8Array): OnnxModelInfo {
  const model = decodeOnnxModel(bytes);
  const graph = model.graph ?? {};
  const tensors = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const info = (v: OnnxValueInfo): OnnxTensorInfo => {
    const tensorType = v.type?.tensorType;
    const dataType = tensorType?.elemType ?? 0;
    const shape = (tensorType?.shape?.dim ?? []).map((d) => d.dimValue ?? d.dimParam ?? null);
    return { name: v.name, dataType, dtype: onnxDataTypeName(dataType), shape };
  };
  return {
    irVersion: model.irVersion ?? 0,
    opsets: (model.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: o.version ?? 0 })),
    producerName: model.producerName ?? '',
    metadata: Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
    // Models from IR version < 4 also list their initializers as graph inputs; those are not feeds.
    inputs: (graph.input ?? []).filter((v) => !tensors.has(v.name)).map(info),
    outputs: (graph.output ?? []).map(info),
    initializers: [...tensors.values()].map((t) => ({
      name: t.name ?? '',
      dataType: t.dataType ?? 0,
      dtype: onnxDataTypeName(t.dataType ?? 0),
      dims: t.dims ?? [],
    })),
    initializerFloats(name: string): Float32Array {
      const tensor = tensors.get(name);
      if (!tensor) throw new Error(`ONNX model has no initializer named "${name}"`);
      return tensorFloats(tensor);
    },
  };
}

function tensorFloats(tensor: OnnxTensor): Float32Array {
  const label = `ONNX initializer "${tensor.name}"`;
  if (tensor.dataLocation === 1) throw new Error(`${label} keeps its data in an external file, which is not supported`);
  const count = (tensor.dims ?? []).reduce((a, b) => a * b, 1);
  const raw = tensor.rawData;
  const hasRaw = raw !== undefined && raw.length > 0;
  if (tensor.dataType === OnnxDataType.FLOAT) {
    if (!hasRaw) return Float32Array.from(tensor.floatData ?? []);
    if (raw.length !== count * 4) throw new Error(`${label}: raw_data holds ${raw.length} bytes, expected ${count * 4}`);
    // raw_data is little-endian and may start at any byte offset of the file buffer.
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  if (tensor.dataType === OnnxDataType.FLOAT16) {
    // Without raw_data, onnx.proto stores each half's bit pattern in an int32_data entry.
    if (!hasRaw) return halfBitsToFloat32(tensor.int32Data ?? []);
    if (raw.length !== count * 2) throw new Error(`${label}: raw_data holds ${raw.length} bytes, expected ${count * 2}`);
    return readHalfLE(raw, 0, count);
  }
  throw new Error(`${label} has element type ${onnxDataTypeName(tensor.dataType ?? 0)}; only float and float16 can be read`);
}
