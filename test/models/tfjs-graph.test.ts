/** TFJS weight decoding (checked against tfjs-core's own decoder) and NodeDef attribute helpers. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  attrInt,
  attrInts,
  attrShape,
  attrString,
  attrStrings,
  decodeTfjsWeights,
  parseInputRef,
  type TfjsGraphModelJson,
  type TfjsNodeDef,
  type TfjsWeightSpec,
} from '../../src/models/tfjs-graph.js';
import { humanModelsDir, seededRandom, tfAttr, useTfjsWasm } from './tfjs-harness.js';

/** Decodes with tfjs-core and with ours; every value must be bit-identical (NaN matching NaN). */
async function compareWithTfjs(specs: TfjsWeightSpec[], bytes: Uint8Array): Promise<number> {
  await useTfjsWasm();
  const ours = decodeTfjsWeights([{ paths: ['w.bin'], weights: specs }], bytes);
  const theirs = tf.io.decodeWeights(bytes.slice().buffer, specs as tf.io.WeightsManifestEntry[]);
  let compared = 0;
  for (const spec of specs) {
    const mine = ours.get(spec.name);
    assert.ok(mine, spec.name);
    const want = theirs[spec.name].dataSync();
    assert.deepEqual(mine.shape, spec.shape);
    assert.equal(mine.data.constructor, want.constructor, `${spec.name} array type`);
    assert.equal(mine.data.length, want.length);
    for (let i = 0; i < want.length; i++) {
      const a: number = mine.data[i];
      const b = want[i] as number;
      if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) assert.fail(`${spec.name}[${i}]: ${a} != ${b}`);
    }
    compared += want.length;
  }
  tf.dispose(Object.values(theirs));
  return compared;
}

test('decodeTfjsWeights matches tfjs-core for plain and quantized weights', async () => {
  const rand = seededRandom(7);
  const every16 = Uint16Array.from({ length: 65536 }, (_, i) => i); // every half bit pattern, incl. subnormals, Inf, NaN
  const floats = Float32Array.from({ length: 10 }, () => rand() * 8 - 4);
  const bytes8 = Uint8Array.from({ length: 12 }, () => Math.floor(rand() * 256));
  const words16 = Uint16Array.from({ length: 6 }, () => Math.floor(rand() * 65536));
  const ints = Int32Array.from([-5, 0, 7, 2147483647]);
  const specs: TfjsWeightSpec[] = [
    { name: 'plain', shape: [2, 5], dtype: 'float32' },
    { name: 'half', shape: [65536], dtype: 'float32', quantization: { dtype: 'float16', original_dtype: 'float32' } },
    { name: 'u8', shape: [3, 4], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.0123, min: -1.37, original_dtype: 'float32' } },
    { name: 'ints', shape: [4], dtype: 'int32' },
    { name: 'u16', shape: [6], dtype: 'float32', quantization: { dtype: 'uint16', scale: 3.1e-5, min: -0.9, original_dtype: 'float32' } },
    { name: 'u8int', shape: [3], dtype: 'int32', quantization: { dtype: 'uint8', scale: 0.5, min: -3, original_dtype: 'int32' } },
  ];
  const parts = [floats, every16, bytes8, ints, words16, bytes8.subarray(0, 3)];
  const bytes = Buffer.concat(parts.map((p) => new Uint8Array(p.buffer, p.byteOffset, p.byteLength)));
  assert.equal(await compareWithTfjs(specs, new Uint8Array(bytes)), 10 + 65536 + 12 + 4 + 6 + 3);
});

test('decodeTfjsWeights matches tfjs-core on the float16-quantized facemesh weights', async () => {
  const dir = humanModelsDir();
  const model = JSON.parse(readFileSync(path.join(dir, 'facemesh.json'), 'utf8')) as TfjsGraphModelJson;
  const bytes = new Uint8Array(readFileSync(path.join(dir, 'facemesh.bin')));
  const specs = model.weightsManifest.flatMap((g) => g.weights);
  assert.ok(specs.some((s) => s.quantization?.dtype === 'float16'));
  assert.ok((await compareWithTfjs(specs, bytes)) > 100_000);
});

test('decodeTfjsWeights reports truncated shards and string weights', () => {
  const spec: TfjsWeightSpec = { name: 'big', shape: [4], dtype: 'float32' };
  assert.throws(() => decodeTfjsWeights([{ paths: [], weights: [spec] }], new Uint8Array(12)), /"big" needs bytes 0\.\.16, file has 12/);
  assert.throws(() => decodeTfjsWeights([{ paths: [], weights: [{ name: 'txt', shape: [1], dtype: 'string' }] }], new Uint8Array(8)), /"txt" is a string tensor/);
});

test('weights of several manifest groups are read back to back', () => {
  const a = Float32Array.from([1.5, -2]);
  const b = Int32Array.from([42]);
  const bytes = new Uint8Array(Buffer.concat([new Uint8Array(a.buffer), new Uint8Array(b.buffer)]));
  const map = decodeTfjsWeights(
    [
      { paths: ['a.bin'], weights: [{ name: 'a', shape: [2], dtype: 'float32' }] },
      { paths: ['b.bin'], weights: [{ name: 'b', shape: [], dtype: 'int32' }] },
    ],
    bytes,
  );
  assert.deepEqual([...map.get('a')!.data], [1.5, -2]);
  assert.deepEqual(map.get('b'), { dtype: 'int32', shape: [], data: Int32Array.from([42]) });
});

test('attribute helpers decode base64 strings, int64 strings and shapes', () => {
  const node: TfjsNodeDef = {
    name: 'n',
    op: '_FusedConv2D',
    attr: {
      padding: tfAttr.s('SAME'),
      fused_ops: tfAttr.strings(['BiasAdd', 'Prelu']),
      num_args: tfAttr.i(2),
      strides: tfAttr.ints([1, 2, 2, 1]),
      explicit_paddings: { list: {} },
      shape: { shape: { dim: [{ size: '-1' }, { size: '192' }, { size: 3 }] } },
    },
  };
  assert.equal(attrString(node, 'padding'), 'SAME');
  assert.equal(attrString(node, 'missing'), undefined);
  assert.deepEqual(attrStrings(node, 'fused_ops'), ['BiasAdd', 'Prelu']);
  assert.equal(attrInt(node, 'num_args'), 2);
  assert.deepEqual(attrInts(node, 'strides'), [1, 2, 2, 1]);
  assert.deepEqual(attrInts(node, 'explicit_paddings'), []);
  assert.equal(attrInts(node, 'dilations'), undefined);
  assert.deepEqual(attrShape(node, 'shape'), [null, 192, 3]);
  assert.deepEqual(parseInputRef('a/b'), { name: 'a/b', index: 0, control: false });
  assert.deepEqual(parseInputRef('a/b:2'), { name: 'a/b', index: 2, control: false });
  assert.deepEqual(parseInputRef('^a/b'), { name: 'a/b', index: 0, control: true });
});
