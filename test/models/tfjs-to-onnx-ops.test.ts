/**
 * Per-op parity: each test builds a tiny TFJS graph with seeded random weights and inputs,
 * converts it, and checks onnxruntime against TensorFlow.js (wasm) element by element.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertTfjsGraph } from '../../src/models/tfjs-to-onnx.js';
import { readOnnxModel } from '../../src/models/onnx-proto.js';
import type { TfjsAttrValue } from '../../src/models/tfjs-graph.js';
import { randomArray, tfAttr } from './tfjs-harness.js';
import { check, conv, maxPool, setup, type ConvSpec } from './op-parity.js';

// --- Conv2D / _FusedConv2D -----------------------------------------------------------------

const convCases: [string, number, ConvSpec][] = [
  ['stride 1 VALID, even size', 8, { padding: 'VALID' }],
  ['stride 1 VALID, odd size', 7, { padding: 'VALID' }],
  ['stride 1 SAME, odd size', 7, { padding: 'SAME' }],
  ['stride 1 SAME, even size', 8, { padding: 'SAME' }],
  ['stride 2 SAME, odd size', 7, { padding: 'SAME', strides: 2 }],
  ['stride 2 SAME, even size (asymmetric pads)', 8, { padding: 'SAME', strides: 2 }],
  ['stride 2 VALID, odd size', 9, { padding: 'VALID', strides: 2 }],
  ['stride 2 VALID, even size', 8, { padding: 'VALID', strides: 2 }],
  ['stride 2 SAME, 2x2 kernel', 7, { padding: 'SAME', strides: 2, k: 2 }],
  ['stride 3 SAME, 1x5 kernel, strides (3,1)', 10, { padding: 'SAME', strides: [3, 1], k: [1, 5] }],
  ['1x1 kernel', 6, { k: 1, outC: 5 }],
  ['dilation 2 SAME', 9, { dilation: 2 }],
  ['EXPLICIT padding', 7, { padding: 'EXPLICIT', explicit: [0, 0, 1, 2, 3, 0, 0, 0] }],
  ['fused BiasAdd', 7, { fused: ['BiasAdd'] }],
  ['fused BiasAdd+Relu, stride 2', 8, { fused: ['BiasAdd', 'Relu'], strides: 2 }],
  ['fused BiasAdd+Prelu (num_args 2)', 7, { fused: ['BiasAdd', 'Prelu'] }],
  ['fused BiasAdd+Relu6, 5x5 kernel (values reach the clip)', 7, { fused: ['BiasAdd', 'Relu6'], k: 5 }],
  ['fused BiasAdd+Sigmoid', 7, { fused: ['BiasAdd', 'Sigmoid'] }],
  ['fused BiasAdd+Elu', 7, { fused: ['BiasAdd', 'Elu'] }],
  ['fused BiasAdd+LeakyRelu', 7, { fused: ['BiasAdd', 'LeakyRelu'] }],
];
for (const [label, size, spec] of convCases) {
  test(`Conv2D ${label}`, async (t) => {
    const { g, x, feeds } = setup(size * 31 + label.length, [1, size, size, 3]);
    g.output(conv(g, x, 3, { ...spec, k: spec.k ?? 3 }));
    await check(t, g, feeds);
  });
}

test('Conv2D with a dynamic batch fed 2 images', async (t) => {
  const { g, x, feeds } = setup(5, [-1, 7, 7, 3], 2);
  g.output(conv(g, x, 3, { strides: 2, fused: ['BiasAdd', 'Relu'] }));
  await check(t, g, feeds);
});

test('Conv2D and MaxPool SAME with dynamic spatial sizes (auto_pad), fed an odd size', async (t) => {
  const { g, x, feeds } = setup(6, [1, -1, -1, 3]);
  feeds.input = { shape: [1, 7, 9, 3], data: randomArray(g.rand, 7 * 9 * 3) };
  g.output(maxPool(g, conv(g, x, 3, { strides: 2, fused: ['BiasAdd'] }), 2, 2, 'SAME'));
  g.output(conv(g, x, 3, { depthwise: true, strides: 2, k: 2 }));
  await check(t, g, feeds);
});

// --- DepthwiseConv2dNative -----------------------------------------------------------------

const depthwiseCases: [string, number, ConvSpec][] = [
  ['multiplier 1, stride 1 SAME, odd size', 7, {}],
  ['multiplier 1, stride 2 SAME, even size', 8, { strides: 2 }],
  ['multiplier 1, stride 2 SAME, odd size', 9, { strides: 2 }],
  ['multiplier 1, stride 1 VALID', 8, { padding: 'VALID' }],
  ['multiplier 2, stride 1 SAME', 7, { multiplier: 2 }],
  ['multiplier 2, stride 2 VALID', 9, { multiplier: 2, strides: 2, padding: 'VALID' }],
  ['fused (FusedDepthwiseConv2dNative) BiasAdd+Prelu', 7, { op: 'FusedDepthwiseConv2dNative', fused: ['BiasAdd', 'Prelu'] }],
  ['fused (FusedDepthwiseConv2dNative) BiasAdd+Relu, stride 2', 8, { op: 'FusedDepthwiseConv2dNative', fused: ['BiasAdd', 'Relu'], strides: 2 }],
];
for (const [label, size, spec] of depthwiseCases) {
  test(`DepthwiseConv2dNative ${label}`, async (t) => {
    const { g, x, feeds } = setup(size * 17 + label.length, [1, size, size, 4]);
    g.output(conv(g, x, 4, { ...spec, depthwise: true }));
    await check(t, g, feeds);
  });
}

// --- MaxPool -------------------------------------------------------------------------------

const poolCases: [number, number, number, 'SAME' | 'VALID'][] = [
  [7, 2, 2, 'SAME'],
  [8, 2, 2, 'SAME'],
  [8, 3, 2, 'SAME'],
  [7, 3, 2, 'SAME'],
  [7, 2, 2, 'VALID'],
  [8, 2, 2, 'VALID'],
  [9, 3, 1, 'VALID'],
];
for (const [size, k, s, padding] of poolCases) {
  test(`MaxPool ${padding} ${k}x${k} stride ${s} on ${size}x${size}`, async (t) => {
    const { g, x, feeds } = setup(size * 7 + k * 3 + s, [1, size, size, 3]);
    // After a conv the input is NCHW already; on the raw input it is NHWC. Cover both.
    g.output(maxPool(g, conv(g, x, 3), k, s, padding));
    g.output(maxPool(g, x, k, s, padding));
    await check(t, g, feeds);
  });
}

// --- Pad -----------------------------------------------------------------------------------

const padCases: [string, number[]][] = [
  ['on channels', [0, 0, 0, 0, 0, 0, 0, 5]],
  ['on spatial dims (asymmetric)', [0, 0, 1, 2, 0, 3, 0, 0]],
  ['on every axis but batch', [0, 0, 2, 1, 1, 1, 3, 2]],
];
for (const [label, paddings] of padCases) {
  test(`Pad ${label}`, async (t) => {
    const { g, x, feeds } = setup(paddings.length + paddings.reduce((a, b) => a + b, 0), [1, 6, 5, 3]);
    const pads = g.intConstant('pads', [4, 2], paddings);
    g.output(g.op('pad_nchw', 'Pad', [conv(g, x, 3), pads]));
    g.output(g.op('pad_nhwc', 'Pad', [x, pads]));
    await check(t, g, feeds);
  });
}

test('PadV2 with a constant value', async (t) => {
  const { g, x, feeds } = setup(41, [1, 5, 5, 2]);
  g.output(g.op('pad', 'PadV2', [conv(g, x, 2), g.intConstant('pads', [4, 2], [0, 0, 1, 0, 0, 1, 0, 2]), g.constant('v', [], [0.75])]));
  await check(t, g, feeds);
});

// --- Element-wise --------------------------------------------------------------------------

for (const op of ['AddV2', 'Add', 'Sub', 'Mul']) {
  test(`${op} of two rank-4 tensors (residual)`, async (t) => {
    const { g, x, feeds } = setup(op.length * 3, [1, 6, 6, 3]);
    g.output(g.op('sum', op, [conv(g, x, 3), conv(g, x, 3)]));
    await check(t, g, feeds);
  });
  for (const [label, shape] of [
    ['[C]', [4]],
    ['[1,1,C]', [1, 1, 4]],
    ['[H,1,C]', [6, 1, 4]],
    ['[W,C]', [6, 4]],
    ['[1,H,1,C]', [1, 6, 1, 4]],
    ['scalar', []],
  ] as const) {
    test(`${op} broadcasting a ${label} constant`, async (t) => {
      const { g, x, feeds } = setup(op.length * 5 + shape.length, [1, 6, 6, 3]);
      const c = g.constant('c', [...shape]);
      g.output(g.op('a', op, [conv(g, x, 3), c]));
      g.output(g.op('b', op, [c, conv(g, x, 3)]));
      await check(t, g, feeds);
    });
  }
}

test('AddV2 broadcasting a rank-4 input against a computed rank-2 tensor', async (t) => {
  const { g, x, feeds } = setup(77, [1, 4, 4, 3]);
  const flat = g.op('flat', 'Reshape', [conv(g, x, 3, { k: 4, padding: 'VALID', outC: 3 }), g.intConstant('shape', [2], [1, 3])]);
  g.output(g.op('sum', 'AddV2', [conv(g, x, 3, { outC: 3 }), flat]));
  await check(t, g, feeds);
});

for (const op of ['Minimum', 'Maximum']) {
  test(`${op} of two rank-4 tensors, and of a rank-4 tensor with a computed rank-2 one`, async (t) => {
    const { g, x, feeds } = setup(op.length * 7, [1, 5, 5, 3]);
    g.output(g.op('both', op, [conv(g, x, 3), conv(g, x, 3)]));
    const flat = g.op('flat', 'Reshape', [conv(g, x, 3, { k: 5, padding: 'VALID', outC: 4 }), g.intConstant('shape', [2], [1, 4])]);
    g.output(g.op('mixed', op, [conv(g, x, 3), flat]));
    await check(t, g, feeds);
  });
  for (const [label, shape] of [
    ['[C]', [4]],
    ['[H,1,C]', [6, 1, 4]],
    ['[1,H,1,C]', [1, 6, 1, 4]],
    ['scalar', []],
  ] as const) {
    test(`${op} broadcasting a ${label} constant on NCHW and NHWC tensors, either side`, async (t) => {
      const { g, x, feeds } = setup(op.length * 13 + shape.length, [1, 6, 6, 4]);
      const c = g.constant('c', [...shape]);
      g.output(g.op('a', op, [conv(g, x, 4), c]));
      g.output(g.op('b', op, [c, conv(g, x, 4)]));
      g.output(g.op('raw', op, [x, c]));
      await check(t, g, feeds);
    });
  }
  test(`${op} on rank-2 tensors with a [N] constant`, async (t) => {
    const { g, x, feeds } = setup(op.length * 17, [3, 8]);
    g.output(g.op('r2', op, [x, g.constant('c', [8])]));
    await check(t, g, feeds);
  });
}

test('Keras ReLU6 (Relu, Minimum 6, Maximum 0) after a conv, with values reaching the clip', async (t) => {
  const { g, x, feeds } = setup(61, [1, 6, 6, 3]);
  const scaled = g.op('scaled', 'Mul', [x, g.constant('eight', [], [8])]);
  const relu = g.op('relu', 'Relu', [conv(g, scaled, 3, { k: 3 })]);
  const low = g.op('clip/Minimum', 'Minimum', [relu, g.constant('six', [], [6])]);
  g.output(g.op('clip', 'Maximum', [low, g.constant('zero', [], [0])]));
  await check(t, g, feeds);
});

for (const op of ['Relu', 'Relu6', 'Sigmoid', 'Tanh', 'Elu', 'LeakyRelu']) {
  test(`${op} on NCHW (after conv) and NHWC (raw input) tensors`, async (t) => {
    const { g, x, feeds } = setup(op.length * 11, [1, 5, 5, 3]);
    const scaled = g.op('scaled', 'Mul', [x, g.constant('eight', [], [8])]); // reach Relu6's upper clip
    const attr: Record<string, TfjsAttrValue> = op === 'LeakyRelu' ? { alpha: tfAttr.f(0.3) } : {};
    g.output(g.op('a', op, [conv(g, scaled, 3)], attr));
    g.output(g.op('b', op, [scaled], attr));
    await check(t, g, feeds);
  });
}

test('Prelu with a [1,1,C] alpha on NCHW and a [C] alpha on a rank-2 tensor', async (t) => {
  const { g, x, feeds } = setup(91, [1, 5, 5, 3]);
  g.output(g.op('p4', 'Prelu', [conv(g, x, 3), g.constant('alpha4', [1, 1, 4])]));
  const flat = g.op('flat', 'Reshape', [x, g.intConstant('shape', [2], [5, 15])]);
  g.output(g.op('p2', 'Prelu', [flat, g.constant('alpha2', [15])]));
  await check(t, g, feeds);
});

// --- Reshape / ConcatV2 / Identity ---------------------------------------------------------

test('Reshape NCHW conv output to [-1, N] with a dynamic batch of 2', async (t) => {
  const { g, x, feeds } = setup(12, [-1, 4, 4, 3], 2);
  g.output(g.op('flat', 'Reshape', [conv(g, x, 3, { outC: 6 }), g.intConstant('shape', [2], [-1, 96])]));
  await check(t, g, feeds);
});

test('Reshape to [1, H*W, C] (blazeface head) and to rank 4', async (t) => {
  const { g, x, feeds } = setup(13, [1, 4, 6, 3]);
  g.output(g.op('r3', 'Reshape', [conv(g, x, 3, { outC: 2 }), g.intConstant('s3', [3], [1, -1, 2])]));
  g.output(g.op('r4', 'Reshape', [conv(g, x, 3, { outC: 2 }), g.intConstant('s4', [4], [1, 6, 4, 2])]));
  await check(t, g, feeds);
});

for (const axis of [3, -1, 1, 2]) {
  test(`ConcatV2 of rank-4 tensors on axis ${axis}`, async (t) => {
    const { g, x, feeds } = setup(20 + axis, [1, 6, 6, 3]);
    const sizes = [0, 1, 2].map(() => conv(g, x, 3, { outC: 3 }));
    g.output(g.op('cat', 'ConcatV2', [...sizes, g.intConstant('axis', [], [axis])], { N: tfAttr.i(3) }));
    await check(t, g, feeds);
  });
}

test('ConcatV2 of an NCHW conv output with the raw NHWC input, and of rank-2 tensors', async (t) => {
  const { g, x, feeds } = setup(30, [1, 5, 5, 3]);
  g.output(g.op('cat4', 'ConcatV2', [conv(g, x, 3, { outC: 2 }), x, g.intConstant('axis', [], [3])], { N: tfAttr.i(2) }));
  const flat = (name: string, v: string) => g.op(name, 'Reshape', [v, g.intConstant(`${name}/s`, [2], [5, -1])]);
  g.output(g.op('cat2', 'ConcatV2', [flat('f1', x), flat('f2', conv(g, x, 3)), g.intConstant('axis2', [], [1])], { N: tfAttr.i(2) }));
  await check(t, g, feeds);
});

test('Identity chains, and outputs that are not Identity nodes keep their node names', async (t) => {
  const { g, x, feeds } = setup(31, [1, 5, 5, 3]);
  const c = conv(g, x, 3);
  g.op('second', 'Identity', [g.op('first', 'Identity', [c])]);
  g.op('relu_out', 'Relu', [c]);
  await check(t, g, feeds);
  const { model, weights } = g.build();
  assert.deepEqual(
    readOnnxModel(convertTfjsGraph(model, weights)).outputs.map((o) => o.name),
    ['relu_out', 'second'],
  );
});

test('a blazeface-like block: conv, depthwise, residual add, relu, pool, channel pad, reshape', async (t) => {
  const { g, x, feeds } = setup(99, [1, 16, 16, 3]);
  const stem = conv(g, x, 3, { strides: 2, outC: 8, fused: ['BiasAdd', 'Relu'] });
  const branch = conv(g, conv(g, stem, 8, { depthwise: true }), 8, { k: 1, outC: 8, fused: ['BiasAdd'] });
  const block = g.op('relu', 'Relu', [g.op('add', 'AddV2', [stem, branch])]);
  const pooled = maxPool(g, block, 2, 2, 'SAME');
  const padded = g.op('pad', 'Pad', [pooled, g.intConstant('pads', [4, 2], [0, 0, 0, 0, 0, 0, 0, 8])]);
  const head = conv(g, padded, 16, { k: 1, outC: 2, fused: ['BiasAdd'] });
  g.output(g.op('scores', 'Reshape', [head, g.intConstant('shape', [3], [1, -1, 1])]));
  g.output(g.op('mesh', 'Sigmoid', [conv(g, padded, 16, { k: 1, outC: 3, fused: ['BiasAdd', 'Prelu'] })]));
  await check(t, g, feeds);
});
