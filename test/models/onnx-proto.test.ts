/**
 * ONNX protobuf encoding/decoding: the wire layout of key fields, round trips, onnxruntime
 * accepting what we write, and readOnnxModel reading initializers the way onnxruntime does.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { halfBitsToFloat32 } from '../../src/models/float16.js';
import { decodeOnnxModel, encodeOnnxModel, OnnxAttributeType, OnnxDataType, readOnnxModel, type OnnxModel, type OnnxTensor } from '../../src/models/onnx-proto.js';

const bytes = (...values: number[]) => Uint8Array.from(values);

test('fields land on the onnx.proto field numbers', () => {
  // Tag byte = field number << 3 | wire type (0 varint, 2 length-delimited).
  assert.deepEqual(encodeOnnxModel({ irVersion: 7 }), bytes(0x08, 7));
  assert.deepEqual(encodeOnnxModel({ producerName: 'p' }), bytes(0x12, 1, 0x70));
  assert.deepEqual(encodeOnnxModel({ opsetImport: [{ version: 13 }] }), bytes(0x42, 2, 0x10, 13));
  assert.deepEqual(encodeOnnxModel({ metadataProps: [{ key: 'k', value: 'v' }] }), bytes(0x72, 6, 0x0a, 1, 0x6b, 0x12, 1, 0x76));
  // graph (7) → initializer (5) → dims (1, unpacked as in proto2), data_type (2), name (8), raw_data (9).
  const tensor = encodeOnnxModel({ graph: { initializer: [{ dims: [2, 1], dataType: 1, name: 'w', rawData: bytes(9) }] } });
  assert.deepEqual(tensor, bytes(0x3a, 14, 0x2a, 12, 0x08, 2, 0x08, 1, 0x10, 1, 0x42, 1, 0x77, 0x4a, 1, 9));
  // graph → node (1): input (1), output (2), op_type (4), attribute (5) with name (1), ints (8), type (20).
  const node = encodeOnnxModel({ graph: { node: [{ input: ['a'], output: ['b'], opType: 'C', attribute: [{ name: 'd', type: OnnxAttributeType.INTS, ints: [3] }] }] } });
  assert.deepEqual(node, bytes(0x3a, 21, 0x0a, 19, 0x0a, 1, 0x61, 0x12, 1, 0x62, 0x22, 1, 0x43, 0x2a, 8, 0x0a, 1, 0x64, 0x40, 3, 0xa0, 0x01, 7));
  // graph → input (11) → type (2) → tensor_type (1) → elem_type (1), shape (2) → dim (1) → dim_param (2).
  const input = encodeOnnxModel({ graph: { input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'n' }] } } } }] } });
  assert.deepEqual(input, bytes(0x3a, 18, 0x5a, 16, 0x0a, 1, 0x78, 0x12, 11, 0x0a, 9, 0x08, 1, 0x12, 5, 0x0a, 3, 0x12, 1, 0x6e));
});

test('decodes a file written by the reference onnx Python package', () => {
  const file = new Uint8Array(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'written-by-onnx-python.pb')));
  const model = decodeOnnxModel(file);
  assert.equal(model.irVersion, 8);
  assert.deepEqual([model.producerName, model.producerVersion, model.domain, model.modelVersion, model.docString], ['pyonnx', '1.2', 'dom', 9, 'mdoc']);
  assert.deepEqual(model.opsetImport, [
    { domain: '', version: 17 },
    { domain: 'com.microsoft', version: 1 },
  ]);
  assert.deepEqual(model.metadataProps, [
    { key: 'k1', value: 'v1' },
    { key: 'k2', value: 'v2' },
  ]);
  const graph = model.graph!;
  assert.deepEqual([graph.name, graph.docString], ['gname', 'gdoc']);
  const [node] = graph.node!;
  assert.deepEqual([node.name, node.opType, node.input, node.output, node.docString], ['conv0', 'Conv', ['x', 'w'], ['y'], 'nd']);
  const attrs = Object.fromEntries(node.attribute!.map((a) => [a.name, a]));
  assert.deepEqual([attrs.alpha.type, attrs.alpha.f], [OnnxAttributeType.FLOAT, 0.5]);
  assert.deepEqual([attrs.group.type, attrs.group.i], [OnnxAttributeType.INT, 2]);
  assert.deepEqual([attrs.kernel_shape.type, attrs.kernel_shape.ints], [OnnxAttributeType.INTS, [3, 3]]);
  assert.deepEqual([attrs.mode.type, new TextDecoder().decode(attrs.mode.s)], [OnnxAttributeType.STRING, 'constant']);

  const info = readOnnxModel(file);
  assert.deepEqual(info.inputs, [{ name: 'x', dataType: 1, dtype: 'float', shape: ['N', 3, null, 5] }]);
  assert.deepEqual(info.outputs, [{ name: 'y', dataType: 10, dtype: 'float16', shape: [1, 'M'] }]);
  assert.deepEqual(
    info.initializers.map((i) => [i.name, i.dtype, i.dims]),
    [
      ['emap16', 'float16', [2, 2]],
      ['w32', 'float', [3]],
      ['w32list', 'float', [2]],
    ],
  );
  assert.deepEqual(info.initializerFloats('emap16'), Float32Array.from([1.5, -2.25, 65504, 2 ** -24]));
  assert.deepEqual(info.initializerFloats('w32'), Float32Array.from([0.1, -3.5, 7]));
  assert.deepEqual(info.initializerFloats('w32list'), Float32Array.from([4, 5]));
});

test('a model survives encode → decode', () => {
  const model: OnnxModel = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'test',
    docString: 'doc',
    metadataProps: [{ key: 'a', value: 'b' }],
    graph: {
      name: 'g',
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 4 }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 4 }] } } } }],
      initializer: [{ name: 'w', dims: [4], dataType: 1, rawData: new Uint8Array(Float32Array.from([1, 2, 3, 4]).buffer) }],
      node: [
        {
          name: 'n',
          opType: 'Add',
          input: ['x', 'w'],
          output: ['y'],
          attribute: [
            { name: 'f', type: OnnxAttributeType.FLOAT, f: 0.5 },
            { name: 'i', type: OnnxAttributeType.INT, i: -3 },
            { name: 's', type: OnnxAttributeType.STRING, s: new TextEncoder().encode('str') },
            { name: 'ints', type: OnnxAttributeType.INTS, ints: [1, 2, 3000000000] },
          ],
        },
      ],
    },
  };
  // Compare as JSON with byte fields as plain arrays (decoding yields Buffers under Node).
  const plain = (m: OnnxModel): unknown => JSON.parse(JSON.stringify(m, (_, v: unknown) => (ArrayBuffer.isView(v) ? [...(v as Uint8Array)] : v)));
  assert.deepEqual(plain(decodeOnnxModel(encodeOnnxModel(model))), plain(model));
});

/** y = x + Cast(w → float), so onnxruntime's reading of `w` can be compared with ours. */
function castModel(w: OnnxTensor, count: number): Uint8Array {
  const io = (name: string) => ({ name, type: { tensorType: { elemType: OnnxDataType.FLOAT, shape: { dim: [{ dimValue: count }] } } } });
  return encodeOnnxModel({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'liveswap test',
    metadataProps: [{ key: 'purpose', value: 'emap' }],
    graph: {
      name: 'cast',
      initializer: [w],
      input: [io('x')],
      output: [io('y')],
      node: [
        { opType: 'Cast', input: ['w'], output: ['wf'], attribute: [{ name: 'to', type: OnnxAttributeType.INT, i: OnnxDataType.FLOAT }] },
        { opType: 'Add', input: ['x', 'wf'], output: ['y'] },
      ],
    },
  });
}

async function runtimeValues(model: Uint8Array, count: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model);
  const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(count), [count]) });
  await session.release();
  return out.y.data as Float32Array;
}

test('readOnnxModel reads FLOAT and FLOAT16 initializers exactly as onnxruntime does', async () => {
  const count = 300;
  const floats = Float32Array.from({ length: count }, (_, i) => Math.sin(i) * 100);
  const halves = Uint16Array.from({ length: count }, (_, i) => ((i * 2654435761) % 0x7c00) | (i % 2 ? 0x8000 : 0));
  const variants: [string, OnnxTensor][] = [
    ['float raw_data', { name: 'w', dims: [count], dataType: OnnxDataType.FLOAT, rawData: new Uint8Array(floats.buffer) }],
    ['float float_data', { name: 'w', dims: [count], dataType: OnnxDataType.FLOAT, floatData: [...floats] }],
    ['float16 raw_data', { name: 'w', dims: [count], dataType: OnnxDataType.FLOAT16, rawData: new Uint8Array(halves.buffer) }],
    ['float16 int32_data', { name: 'w', dims: [count], dataType: OnnxDataType.FLOAT16, int32Data: [...halves] }],
  ];
  for (const [label, tensor] of variants) {
    const model = castModel(tensor, count);
    const info = readOnnxModel(model);
    const ours = info.initializerFloats('w');
    assert.deepEqual(ours, await runtimeValues(model, count), label);
    if (tensor.dataType === OnnxDataType.FLOAT16) assert.deepEqual(ours, halfBitsToFloat32(halves), label);
    else assert.deepEqual(ours, floats, label);
    assert.deepEqual(info.initializers, [{ name: 'w', dataType: tensor.dataType, dtype: tensor.dataType === 1 ? 'float' : 'float16', dims: [count] }]);
  }
});

test('readOnnxModel summarises inputs, outputs, opsets and metadata', () => {
  const info = readOnnxModel(castModel({ name: 'w', dims: [2], dataType: OnnxDataType.INT64, rawData: new Uint8Array(16) }, 2));
  assert.equal(info.irVersion, 7);
  assert.deepEqual(info.opsets, [{ domain: '', version: 13 }]);
  assert.equal(info.producerName, 'liveswap test');
  assert.deepEqual(info.metadata, { purpose: 'emap' });
  assert.deepEqual(info.inputs, [{ name: 'x', dataType: 1, dtype: 'float', shape: [2] }]);
  assert.deepEqual(info.outputs, [{ name: 'y', dataType: 1, dtype: 'float', shape: [2] }]);
  assert.throws(() => info.initializerFloats('w'), /"w" has element type int64/);
  assert.throws(() => info.initializerFloats('nope'), /no initializer named "nope"/);
});

test('half-precision decoding of special values', () => {
  const out = halfBitsToFloat32([0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0xfc00, 0x3555]);
  assert.deepEqual([...out.subarray(0, 7)], [1, -2, 65504, 2 ** -24, -0, Infinity, -Infinity]);
  assert.equal(out[7], Math.fround(0.333251953125));
  assert.ok(Number.isNaN(halfBitsToFloat32([0x7e00])[0]));
});
