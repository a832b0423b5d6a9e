/**
 * Converters for the ops that combine values along whole axes, as classifier and embedding heads
 * use them: Mean (global pooling), Sum (an L2 norm's sum of squares), Squeeze, MatMul /
 * _FusedMatMul (dense layers) and Softmax. Mean, Sum, Squeeze and Softmax work in NCHW when their
 * input already is; MatMul is rank 2 and so always in TF layout.
 */

import { attr, NHWC_AXIS_IN_NCHW } from './onnx-graph-builder.js';
import { attrBool, attrInt, attrInts, attrStrings } from './tfjs-graph.js';
import { requireFloat, type OpContext, type OpConverter } from './tfjs-op-context.js';
import { applyActivation } from './tfjs-ops-conv.js';

const json = (v: unknown) => JSON.stringify(v);

/** Axes 0..rank-1 except `axes`: the ones a reduction or squeeze leaves. */
function axesLeft(rank: number, axes: readonly number[]): number[] {
  return Array.from({ length: rank }, (_, a) => a).filter((a) => !axes.includes(a));
}

/** Whether the axes left over keep their relative order when the tensor is held in NCHW. */
function sameOrderInNchw(left: readonly number[]): boolean {
  return left.every((a, i) => i === 0 || NHWC_AXIS_IN_NCHW[left[i - 1]] < NHWC_AXIS_IN_NCHW[a]);
}

/** Normalised, de-duplicated, sorted axes; `what` names them in errors. */
function checkedAxes(ctx: OpContext, given: readonly number[], rank: number, what: string): number[] {
  if (given.some((a) => a < -rank || a >= rank)) ctx.fail(`${what} ${json(given)} are invalid for rank ${rank}`);
  return [...new Set(given.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
}

/**
 * Mean or Sum over constant axes (ONNX ReduceMean / ReduceSum; opset 13 takes ReduceMean's axes
 * as an attribute and ReduceSum's as an int64 input). On a rank-4 input held in NCHW the axes are
 * remapped and the reduction runs there, as long as the result's element order matches TF's:
 * always with keep_dims, and without it when the axes left over keep their relative order
 * (reducing H and W leaves [N, C] either way). Otherwise it runs in NHWC.
 */
function reduction(onnxOp: 'ReduceMean' | 'ReduceSum'): OpConverter {
  return (ctx) => {
    const x = requireFloat(ctx, ctx.input(0));
    const axesTensor = ctx.constInput(1, 'reduction axes');
    const rank = x.shape.length;
    if (axesTensor.dtype !== 'int32' || axesTensor.shape.length > 1) ctx.fail('reduction axes must be an int32 scalar or list');
    const axes = checkedAxes(ctx, [...axesTensor.data], rank, 'axes');
    // TF reduces nothing for an empty list, where ONNX would reduce every axis.
    if (axes.length === 0) return x;
    const keep = attrBool(ctx.node, 'keep_dims') ?? false;
    const shape = keep ? x.shape.map((n, a) => (axes.includes(a) ? 1 : n)) : x.shape.filter((_, a) => !axes.includes(a));
    const inNchw = rank === 4 && x.nchw !== undefined && (keep || sameOrderInNchw(axesLeft(rank, axes)));
    const name = ctx.node.name;
    const onnxAxes = inNchw ? axes.map((a) => NHWC_AXIS_IN_NCHW[a]).sort((p, q) => p - q) : axes;
    const data = inNchw ? ctx.b.nchw(x) : ctx.b.nhwc(x);
    const keepAttr = attr.int('keepdims', keep ? 1 : 0);
    const out =
      onnxOp === 'ReduceMean'
        ? ctx.b.node(onnxOp, [data], name, [attr.ints('axes', onnxAxes), keepAttr])
        : ctx.b.node(onnxOp, [data, ctx.b.int64Init(`${name}/axes`, [onnxAxes.length], onnxAxes)], name, [keepAttr]);
    return inNchw && keep ? { label: name, shape, dtype: 'float32', nchw: out } : { label: name, shape, dtype: 'float32', nhwc: out };
  };
}

export const convertMean: OpConverter = reduction('ReduceMean');
export const convertSum: OpConverter = reduction('ReduceSum');

/**
 * Squeeze: drops the size-1 axes listed in squeeze_dims, or every size-1 axis when the list is
 * empty (then every size must be known). Runs in NCHW under the same condition as a reduction
 * without keep_dims, so a [N, 1, 1, C] embedding held in NCHW becomes [N, C] without a transpose.
 */
export const convertSqueeze: OpConverter = (ctx) => {
  const x = ctx.input(0);
  const rank = x.shape.length;
  const listed = attrInts(ctx.node, 'squeeze_dims') ?? attrInts(ctx.node, 'axis') ?? [];
  if (listed.length === 0 && x.shape.includes(null)) ctx.fail(`squeezing every size-1 axis needs a fully known shape, got ${json(x.shape)}`);
  const axes = listed.length ? checkedAxes(ctx, listed, rank, 'squeeze_dims') : axesLeft(rank, []).filter((a) => x.shape[a] === 1);
  if (axes.some((a) => x.shape[a] !== 1 && x.shape[a] !== null)) ctx.fail(`cannot squeeze axes ${json(axes)} of shape ${json(x.shape)}`);
  if (axes.length === 0) return x;
  const left = axesLeft(rank, axes);
  const shape = left.map((a) => x.shape[a]);
  const inNchw = rank === 4 && x.nchw !== undefined && sameOrderInNchw(left);
  const onnxAxes = inNchw ? axes.map((a) => NHWC_AXIS_IN_NCHW[a]).sort((p, q) => p - q) : axes;
  const name = ctx.node.name;
  const out = ctx.b.node('Squeeze', [inNchw ? ctx.b.nchw(x) : ctx.b.nhwc(x), ctx.b.int64Init(`${name}/axes`, [onnxAxes.length], onnxAxes)], name);
  return { label: name, shape, dtype: x.dtype, nhwc: out };
};

/**
 * MatMul and _FusedMatMul on rank-2 operands, as one ONNX Gemm (which takes the transposes and the
 * bias), followed by the fused activation if any. TF only fuses into a MatMul behind a BiasAdd, and
 * tfjs reads the fused list that way too, so a list not starting with BiasAdd is refused.
 */
export const convertMatMul: OpConverter = (ctx) => {
  const { node, b } = ctx;
  const [a, w] = [requireFloat(ctx, ctx.input(0)), requireFloat(ctx, ctx.input(1))];
  if (a.shape.length !== 2 || w.shape.length !== 2) ctx.fail(`operands must be rank 2, got shapes ${json(a.shape)} and ${json(w.shape)}`);
  const transA = attrBool(node, 'transpose_a') ?? false;
  const transB = attrBool(node, 'transpose_b') ?? false;
  const [m, k] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [k2, n] = transB ? [w.shape[1], w.shape[0]] : [w.shape[0], w.shape[1]];
  if (k !== null && k2 !== null && k !== k2) ctx.fail(`inner sizes differ: ${k} vs ${k2}`);

  const fused = node.op === '_FusedMatMul' ? attrStrings(node, 'fused_ops') : [];
  if (fused.length > 0 && (fused[0] !== 'BiasAdd' || fused.length > 2)) ctx.fail(`fused_ops ${json(fused)} is not supported`);
  const activation = fused[1];
  const extraArgs = (fused.length > 0 ? 1 : 0) + (activation === 'Prelu' ? 1 : 0);
  if (node.op === '_FusedMatMul' && (attrInt(node, 'num_args') ?? 0) !== extraArgs) {
    ctx.fail(`fused_ops ${json(fused)} expects num_args ${extraArgs}, got ${attrInt(node, 'num_args')}`);
  }
  const inputs = [b.nhwc(a), b.nhwc(w)];
  if (fused.length > 0) {
    const bias = requireFloat(ctx, ctx.input(2));
    if (bias.shape.length !== 1 || (n !== null && bias.shape[0] !== null && bias.shape[0] !== n)) {
      ctx.fail(`bias shape ${json(bias.shape)} does not match ${n} output columns`);
    }
    inputs.push(b.nhwc(bias));
  }
  const flags = [...(transA ? [attr.int('transA', 1)] : []), ...(transB ? [attr.int('transB', 1)] : [])];
  const gemm = b.node('Gemm', inputs, activation ? `${node.name}/gemm` : node.name, flags);
  // A Prelu slope ([N] or [1, N]) broadcasts against [M, N] as it is, so it keeps its TF layout.
  const out = activation ? applyActivation(ctx, activation, gemm, () => b.nhwc(requireFloat(ctx, ctx.input(3))), node.name) : gemm;
  return { label: node.name, shape: [m, n], dtype: 'float32', nhwc: out };
};

/** Softmax over the last axis; for a rank-4 value held in NCHW that is the channel axis, 1. */
export const convertSoftmax: OpConverter = (ctx) => {
  const x = requireFloat(ctx, ctx.input(0));
  const rank = x.shape.length;
  if (rank < 1) ctx.fail('input must have at least one axis');
  const name = ctx.node.name;
  if (rank === 4 && x.nchw !== undefined) {
    return { label: name, shape: x.shape, dtype: 'float32', nchw: ctx.b.node('Softmax', [x.nchw], name, [attr.int('axis', 1)]) };
  }
  return { label: name, shape: x.shape, dtype: 'float32', nhwc: ctx.b.node('Softmax', [ctx.b.nhwc(x)], name, [attr.int('axis', rank - 1)]) };
};
