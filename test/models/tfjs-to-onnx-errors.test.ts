/** Unsupported graphs must fail at conversion time with an error naming the node and its op. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertTfjsGraph, TfjsConversionError } from '../../src/models/tfjs-to-onnx.js';
import { seededRandom, tfAttr, TinyGraph } from './tfjs-harness.js';

const convAttrs = (over: Record<string, ReturnType<typeof tfAttr.s>> = {}) => ({
  strides: tfAttr.ints([1, 1, 1, 1]),
  dilations: tfAttr.ints([1, 1, 1, 1]),
  padding: tfAttr.s('SAME'),
  data_format: tfAttr.s('NHWC'),
  ...over,
});

/** A graph with an input `x` [1,4,4,3] and a 3x3x3x2 filter `w`; `build` adds the node under test. */
function expectFailure(build: (g: TinyGraph) => void, pattern: RegExp): void {
  const g = new TinyGraph(seededRandom(1));
  g.placeholder('x', [1, 4, 4, 3]);
  g.constant('w', [3, 3, 3, 2]);
  build(g);
  const { model, weights } = g.build();
  assert.throws(
    () => convertTfjsGraph(model, weights),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

test('an unknown op names the node and the op', () => {
  expectFailure((g) => g.output(g.op('head/probs', 'LogSoftmax', ['x'])), /node "head\/probs" \(op LogSoftmax\): op LogSoftmax is not supported/);
  const g = new TinyGraph(seededRandom(1));
  g.output(g.op('weird', 'Erf', [g.placeholder('x', [1, 2])]));
  const { model, weights } = g.build();
  assert.throws(() => convertTfjsGraph(model, weights), TfjsConversionError);
});

test('NCHW data_format is rejected', () => {
  expectFailure((g) => g.output(g.op('c', 'Conv2D', ['x', 'w'], convAttrs({ data_format: tfAttr.s('NCHW') }))), /node "c" \(op Conv2D\): data_format NCHW is not supported/);
  expectFailure(
    (g) =>
      g.output(
        g.op('p', 'MaxPool', ['x'], {
          ksize: tfAttr.ints([1, 1, 2, 2]),
          strides: tfAttr.ints([1, 1, 2, 2]),
          padding: tfAttr.s('VALID'),
          data_format: tfAttr.s('NCHW'),
        }),
      ),
    /node "p" \(op MaxPool\): data_format NCHW/,
  );
});

test('windows over the batch or channel axis are rejected', () => {
  expectFailure(
    (g) => g.output(g.op('c', 'Conv2D', ['x', 'w'], convAttrs({ strides: tfAttr.ints([2, 1, 1, 1]) }))),
    /node "c" \(op Conv2D\): strides \[2,1,1,1\] is not supported/,
  );
  expectFailure(
    (g) =>
      g.output(
        g.op('p', 'MaxPool', ['x'], {
          ksize: tfAttr.ints([1, 2, 2, 3]),
          strides: tfAttr.ints([1, 2, 2, 1]),
          padding: tfAttr.s('VALID'),
          data_format: tfAttr.s('NHWC'),
        }),
      ),
    /node "p" \(op MaxPool\): ksize \[1,2,2,3\]/,
  );
});

test('unknown padding modes and fused batch norm are rejected', () => {
  expectFailure((g) => g.output(g.op('c', 'Conv2D', ['x', 'w'], convAttrs({ padding: tfAttr.s('REFLECT') }))), /node "c" \(op Conv2D\): padding REFLECT is not supported/);
  expectFailure(
    (g) =>
      g.output(
        g.op(
          'c',
          '_FusedConv2D',
          ['x', 'w', g.constant('s', [2]), g.constant('o', [2])],
          convAttrs({
            fused_ops: tfAttr.strings(['FusedBatchNorm']),
            num_args: tfAttr.i(2),
          }),
        ),
      ),
    /node "c" \(op _FusedConv2D\): fused_ops \["FusedBatchNorm"\] is not supported/,
  );
  expectFailure(
    (g) =>
      g.output(
        g.op(
          'c',
          '_FusedConv2D',
          ['x', 'w', g.constant('b', [2])],
          convAttrs({
            fused_ops: tfAttr.strings(['BiasAdd', 'Prelu']),
            num_args: tfAttr.i(1),
          }),
        ),
      ),
    /node "c" \(op _FusedConv2D\): fused_ops \["BiasAdd","Prelu"\] expects num_args 2/,
  );
  expectFailure(
    (g) =>
      g.output(
        g.op(
          'c',
          '_FusedConv2D',
          ['x', 'w', g.constant('b', [2])],
          convAttrs({
            fused_ops: tfAttr.strings(['BiasAdd', 'Gelu']),
            num_args: tfAttr.i(1),
          }),
        ),
      ),
    /node "c" \(op _FusedConv2D\): activation Gelu is not supported/,
  );
});

test('a computed conv filter and channel mismatches are rejected', () => {
  expectFailure((g) => g.output(g.op('c', 'Conv2D', ['x', g.op('w2', 'Relu', ['w'])], convAttrs())), /node "c" \(op Conv2D\): filter \(input 1, "w2"\) must be a constant/);
  expectFailure((g) => g.output(g.op('c', 'Conv2D', ['x', g.constant('w4', [3, 3, 4, 2])], convAttrs())), /node "c" \(op Conv2D\): input has 3 channels but the filter expects 4/);
});

test('Reshape with a 0 size, reads of a second output, and non-float inputs are rejected', () => {
  expectFailure((g) => g.output(g.op('r', 'Reshape', ['x', g.intConstant('s', [2], [0, -1])])), /node "r" \(op Reshape\): target shape \[0,-1\] is not supported/);
  expectFailure((g) => g.output(g.op('y', 'Relu', ['x:1'])), /node "y" \(op Relu\): input "x:1" reads output 1/);
  expectFailure((g) => g.output(g.op('y', 'AddV2', ['x', g.intConstant('k', [], [1])])), /node "y" \(op AddV2\): input "k" is int32/);
  const g = new TinyGraph(seededRandom(1));
  g.nodes.push({ name: 'ids', op: 'Placeholder', attr: { dtype: tfAttr.type('DT_INT32'), shape: { shape: { dim: [{ size: '1' }] } } } });
  g.output(g.op('y', 'Relu', ['ids']));
  const { model, weights } = g.build();
  assert.throws(() => convertTfjsGraph(model, weights), /node "ids" \(op Placeholder\): input dtype DT_INT32 is not supported/);
});

test('broken graphs: missing inputs, cycles, Consts without weights', () => {
  expectFailure((g) => g.output(g.op('y', 'Relu', ['nowhere'])), /node "y" \(op Relu\): input "nowhere" is not a node of the graph/);
  expectFailure((g) => {
    g.op('a', 'Relu', ['b']);
    g.op('b', 'Relu', ['a']);
    g.output(g.op('c', 'AddV2', ['a', 'x']));
  }, /the graph has a cycle/);
  expectFailure((g) => {
    g.nodes.push({ name: 'ghost', op: 'Const', attr: { dtype: tfAttr.type('DT_FLOAT') } });
    g.output(g.op('y', 'AddV2', ['x', 'ghost']));
  }, /node "ghost" \(op Const\): no float32\/int32 weight/);
});

test('Mean with computed or out-of-range axes, and MatMul on other ranks or fusions, are rejected', () => {
  expectFailure(
    (g) => g.output(g.op('m', 'Mean', ['x', g.op('axes', 'Relu', [g.constant('a', [1], [1])])])),
    /node "m" \(op Mean\): reduction axes \(input 1, "axes"\) must be a constant/,
  );
  expectFailure((g) => g.output(g.op('m', 'Mean', ['x', g.intConstant('a', [1], [4])])), /node "m" \(op Mean\): axes \[4\] are invalid for rank 4/);
  expectFailure((g) => g.output(g.op('mm', 'MatMul', ['x', 'w'])), /node "mm" \(op MatMul\): operands must be rank 2/);
  const flat = (g: TinyGraph) => g.op('flat', 'Reshape', ['x', g.intConstant('s', [2], [1, 48])]);
  expectFailure((g) => g.output(g.op('mm', 'MatMul', [flat(g), g.constant('k', [47, 2])])), /node "mm" \(op MatMul\): inner sizes differ: 48 vs 47/);
  expectFailure(
    (g) =>
      g.output(
        g.op('mm', '_FusedMatMul', [flat(g), g.constant('k', [48, 2])], {
          fused_ops: tfAttr.strings(['Relu']),
          num_args: tfAttr.i(0),
        }),
      ),
    /node "mm" \(op _FusedMatMul\): fused_ops \["Relu"\] is not supported/,
  );
  expectFailure(
    (g) =>
      g.output(
        g.op('mm', '_FusedMatMul', [flat(g), g.constant('k', [48, 2]), g.constant('b', [2])], {
          fused_ops: tfAttr.strings(['BiasAdd', 'Prelu']),
          num_args: tfAttr.i(1),
        }),
      ),
    /node "mm" \(op _FusedMatMul\): fused_ops \["BiasAdd","Prelu"\] expects num_args 2, got 1/,
  );
  expectFailure(
    (g) =>
      g.output(
        g.op('mm', '_FusedMatMul', [flat(g), g.constant('k', [48, 2]), g.constant('b', [3])], {
          fused_ops: tfAttr.strings(['BiasAdd']),
          num_args: tfAttr.i(1),
        }),
      ),
    /node "mm" \(op _FusedMatMul\): bias shape \[3\] does not match 2 output columns/,
  );
});
