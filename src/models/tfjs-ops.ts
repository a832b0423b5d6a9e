/**
 * Converters for the layout-agnostic and layout-sensitive non-window TF ops (element-wise math,
 * activations, Abs / Square / Rsqrt, Pad, Reshape, ConcatV2, Identity) and the table mapping TF op names to converters
 * (window ops live in tfjs-ops-conv.ts, whole-axis ops in tfjs-ops-dense.ts).
 * Element-wise ops run in whatever layout their inputs already have; Pad and ConcatV2 permute
 * their paddings/axis when running in NCHW; Reshape always sees the TF (NHWC) element order.
 */

import { attr, NHWC_AXIS_IN_NCHW, TO_NCHW, type Dim, type Value } from './onnx-graph-builder.js';
import { attrInt } from './tfjs-graph.js';
import { requireFloat, type OpContext, type OpConverter } from './tfjs-op-context.js';
import { applyActivation, convertConv, convertMaxPool, preluNodes } from './tfjs-ops-conv.js';
import { convertMatMul, convertMean, convertSoftmax, convertSqueeze, convertSum } from './tfjs-ops-dense.js';

const isRank4 = (v: Value) => v.shape.length === 4;

/** NumPy/TF broadcasting of two shapes; unknown sizes stay unknown unless the other side decides. */
function broadcastShape(ctx: OpContext, a: Dim[], b: Dim[]): Dim[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    // Missing leading axes count as 1 (not `?? 1`: null is a real, unknown size here).
    const x = i < rank - a.length ? 1 : a[a.length - rank + i];
    const y = i < rank - b.length ? 1 : b[b.length - rank + i];
    if (x === 1) return y;
    if (y === 1 || x === y) return x;
    if (x === null || y === null) return x ?? y;
    return ctx.fail(`shapes ${JSON.stringify(a)} and ${JSON.stringify(b)} do not broadcast`);
  });
}

/** AddV2/Add/Sub/Mul/Minimum/Maximum and Prelu (its slope broadcasts the same way; built as preluNodes). */
function binary(onnxOp: string): OpConverter {
  return (ctx) => {
    const [a, c] = [requireFloat(ctx, ctx.input(0)), requireFloat(ctx, ctx.input(1))];
    const shape = broadcastShape(ctx, a.shape, c.shape);
    const name = ctx.node.name;
    // In NCHW when the result is rank 4 and both sides can follow: rank-4 tensors are transposed,
    // lower-rank constants re-laid-out. A lower-rank computed tensor forces the TF layout.
    const canNchw = (v: Value) => isRank4(v) || v.konst !== undefined;
    const node = ([x, y]: string[]) => (onnxOp === 'PRelu' ? preluNodes(ctx, x, y, name) : ctx.b.node(onnxOp, [x, y], name));
    if (shape.length === 4 && canNchw(a) && canNchw(c) && (a.nchw || c.nchw)) {
      const operand = (v: Value) => (v.konst && !isRank4(v) ? ctx.b.broadcastConstNchw(v.konst, `${name}/${v.label}`) : ctx.b.nchw(v));
      return { label: name, shape, dtype: 'float32', nchw: node([operand(a), operand(c)]) };
    }
    return { label: name, shape, dtype: 'float32', nhwc: node([ctx.b.nhwc(a), ctx.b.nhwc(c)]) };
  };
}

/** Activations keep the layout their input already has, preferring NCHW. */
function unary(kind: string): OpConverter {
  return (ctx) => {
    const x = requireFloat(ctx, ctx.input(0));
    const name = ctx.node.name;
    if (x.nchw) return { label: name, shape: x.shape, dtype: 'float32', nchw: applyActivation(ctx, kind, x.nchw, undefined, name) };
    return { label: name, shape: x.shape, dtype: 'float32', nhwc: applyActivation(ctx, kind, ctx.b.nhwc(x), undefined, name) };
  };
}

/**
 * Element-wise maths with no ONNX op of the same name, built from a few ONNX nodes (`build` gets
 * the input tensor and a name base): keeps the layout the input already has, preferring NCHW.
 */
function elementwise(build: (ctx: OpContext, x: string, name: string) => string): OpConverter {
  return (ctx) => {
    const x = requireFloat(ctx, ctx.input(0));
    const name = ctx.node.name;
    if (x.nchw) return { label: name, shape: x.shape, dtype: 'float32', nchw: build(ctx, x.nchw, name) };
    return { label: name, shape: x.shape, dtype: 'float32', nhwc: build(ctx, ctx.b.nhwc(x), name) };
  };
}

/** Pad / PadV2 (constant mode). TF paddings are [rank, 2] (before, after) pairs in NHWC axis order. */
const convertPad: OpConverter = (ctx) => {
  const x = requireFloat(ctx, ctx.input(0));
  const paddings = ctx.constInput(1, 'paddings');
  const rank = x.shape.length;
  if (paddings.shape.join() !== `${rank},2`) ctx.fail(`paddings shape ${JSON.stringify(paddings.shape)} does not match rank ${rank}`);
  const pairs = Array.from({ length: rank }, (_, a) => [paddings.data[2 * a], paddings.data[2 * a + 1]]);
  if (pairs.some(([p, q]) => p < 0 || q < 0)) ctx.fail('negative paddings are not supported');
  const inNchw = isRank4(x) && x.nchw !== undefined;
  const order = inNchw ? TO_NCHW : pairs.map((_, a) => a);
  const pads = [...order.map((a) => pairs[a][0]), ...order.map((a) => pairs[a][1])];
  const name = ctx.node.name;
  const inputs = [inNchw ? ctx.b.nchw(x) : ctx.b.nhwc(x), ctx.b.int64Init(`${name}/pads`, [pads.length], pads)];
  if (ctx.node.op === 'PadV2') {
    const fill = ctx.constInput(2, 'constant_values');
    if (fill.data.length !== 1) ctx.fail('constant_values must be a scalar');
    inputs.push(ctx.b.floatInit(`${name}/value`, [], Float32Array.from(fill.data)));
  }
  const out = ctx.b.node('Pad', inputs, name, [attr.string('mode', 'constant')]);
  const shape = x.shape.map((n, a) => (n === null ? null : n + pairs[a][0] + pairs[a][1]));
  return inNchw ? { label: name, shape, dtype: 'float32', nchw: out } : { label: name, shape, dtype: 'float32', nhwc: out };
};

/** Reshape works on TF element order, so its input is always taken in NHWC. */
const convertReshape: OpConverter = (ctx) => {
  const x = ctx.input(0);
  const target = [...ctx.constInput(1, 'shape').data];
  // ONNX reads 0 as "copy this dimension" where TF means an empty axis; no real model does that.
  if (target.some((n) => n === 0 || n < -1) || target.filter((n) => n === -1).length > 1) {
    ctx.fail(`target shape ${JSON.stringify(target)} is not supported`);
  }
  const total = x.shape.every((n) => n !== null) ? (x.shape as number[]).reduce((p, n) => p * n, 1) : null;
  const known = target.filter((n) => n > 0).reduce((p, n) => p * n, 1);
  if (total !== null && (target.includes(-1) ? total % known !== 0 : total !== known)) {
    ctx.fail(`cannot reshape ${JSON.stringify(x.shape)} to ${JSON.stringify(target)}`);
  }
  const shape = target.map((n) => (n === -1 ? (total === null ? null : total / known) : n));
  const name = ctx.node.name;
  const out = ctx.b.node('Reshape', [ctx.b.nhwc(x), ctx.b.int64Init(`${name}/shape`, [target.length], target)], name);
  return { label: name, shape, dtype: x.dtype, nhwc: out };
};

/** ConcatV2: N tensors then the axis. Rank-4 inputs already in NCHW are joined there, axis remapped. */
const convertConcat: OpConverter = (ctx) => {
  const count = ctx.inputCount - 1;
  if (count < 1 || (attrInt(ctx.node, 'N') ?? count) !== count) ctx.fail(`expects N tensors plus an axis, got ${ctx.inputCount} inputs`);
  const parts = Array.from({ length: count }, (_, i) => requireFloat(ctx, ctx.input(i)));
  const axisTensor = ctx.constInput(count, 'axis');
  const rank = parts[0].shape.length;
  if (parts.some((p) => p.shape.length !== rank)) ctx.fail('inputs have different ranks');
  let axis = axisTensor.data[0];
  if (axisTensor.data.length !== 1 || axis < -rank || axis >= rank) ctx.fail(`axis ${axisTensor.data[0]} is invalid for rank ${rank}`);
  if (axis < 0) axis += rank;
  const inNchw = rank === 4 && parts.some((p) => p.nchw !== undefined);
  const name = ctx.node.name;
  const tensors = parts.map((p) => (inNchw ? ctx.b.nchw(p) : ctx.b.nhwc(p)));
  const out = ctx.b.node('Concat', tensors, name, [attr.int('axis', inNchw ? NHWC_AXIS_IN_NCHW[axis] : axis)]);
  const shape = parts[0].shape.map((_, a) => {
    if (a !== axis) return parts.map((p) => p.shape[a]).find((s) => s !== null) ?? null;
    return parts.some((p) => p.shape[a] === null) ? null : parts.reduce((s, p) => s + (p.shape[a] as number), 0);
  });
  return inNchw ? { label: name, shape, dtype: 'float32', nchw: out } : { label: name, shape, dtype: 'float32', nhwc: out };
};

/** TF op name → converter. Const and Placeholder are handled by the graph driver. */
export const opConverters: Readonly<Record<string, OpConverter>> = {
  Conv2D: (ctx) => convertConv(ctx, false),
  _FusedConv2D: (ctx) => convertConv(ctx, false),
  DepthwiseConv2dNative: (ctx) => convertConv(ctx, true),
  FusedDepthwiseConv2dNative: (ctx) => convertConv(ctx, true),
  MaxPool: convertMaxPool,
  AddV2: binary('Add'),
  Add: binary('Add'),
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  // ReLU6 as exported by Keras: clip_by_value becomes Minimum then Maximum against scalars.
  Minimum: binary('Min'),
  Maximum: binary('Max'),
  Prelu: binary('PRelu'),
  Relu: unary('Relu'),
  Relu6: unary('Relu6'),
  Elu: unary('Elu'),
  LeakyRelu: unary('LeakyRelu'),
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  // PReLU as Keras models export it unfused: relu(x) + alpha·(x − |x|)·0.5.
  Abs: elementwise((ctx, x, name) => ctx.b.node('Abs', [x], name)),
  // An L2 normalisation: x · rsqrt(max(Σ x², ε)).
  Square: elementwise((ctx, x, name) => ctx.b.node('Mul', [x, x], name)),
  Rsqrt: elementwise((ctx, x, name) => ctx.b.node('Reciprocal', [ctx.b.node('Sqrt', [x], `${name}/sqrt`)], name)),
  Softmax: convertSoftmax,
  Mean: convertMean,
  Sum: convertSum,
  Squeeze: convertSqueeze,
  MatMul: convertMatMul,
  _FusedMatMul: convertMatMul,
  Pad: convertPad,
  PadV2: convertPad,
  Reshape: convertReshape,
  ConcatV2: convertConcat,
  // An alias: the output shares its input's tensors (and their layouts).
  Identity: (ctx) => ctx.input(0),
};
