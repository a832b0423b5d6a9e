/**
 * Converters for the ops that combine values along whole axes, as classifier and embedding heads
 * use them: Mean (global pooling), MatMul / _FusedMatMul (dense layers) and Softmax. Mean and
 * Softmax work in NCHW when their input already is; MatMul is rank 2 and so always in TF layout.
 */

import { attr, NHWC_AXIS_IN_NCHW } from './onnx-graph-builder.js';
import { attrBool, attrInt, attrStrings } from './tfjs-graph.js';
import { requireFloat, type OpConverter } from './tfjs-op-context.js';
import { applyActivation } from './tfjs-ops-conv.js';

const json = (v: unknown) => JSON.stringify(v);

/**
 * Mean over constant axes (ONNX ReduceMean; opset 13 takes the axes as an attribute). On a rank-4
 * input held in NCHW the axes are remapped and the reduction runs there, as long as the result's
 * element order matches TF's: always with keep_dims, and without it when the axes left over keep
 * their relative order (reducing H and W leaves [N, C] either way). Otherwise it runs in NHWC.
 */
export const convertMean: OpConverter = (ctx) => {
  const x = requireFloat(ctx, ctx.input(0));
  const axesTensor = ctx.constInput(1, 'reduction axes');
  const rank = x.shape.length;
  if (axesTensor.dtype !== 'int32' || axesTensor.shape.length > 1) ctx.fail('reduction axes must be an int32 scalar or list');
  const given = [...axesTensor.data];
  if (given.some((a) => a < -rank || a >= rank)) ctx.fail(`axes ${json(given)} are invalid for rank ${rank}`);
  const axes = [...new Set(given.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
  // TF reduces nothing for an empty list, where ONNX would reduce every axis.
  if (axes.length === 0) return x;
  const keep = attrBool(ctx.node, 'keep_dims') ?? false;
  const shape = keep ? x.shape.map((n, a) => (axes.includes(a) ? 1 : n)) : x.shape.filter((_, a) => !axes.includes(a));
  const left = x.shape.map((_, a) => a).filter((a) => !axes.includes(a));
  const sameOrder = left.every((a, i) => i === 0 || NHWC_AXIS_IN_NCHW[left[i - 1]] < NHWC_AXIS_IN_NCHW[a]);
  const inNchw = rank === 4 && x.nchw !== undefined && (keep || sameOrder);
  const name = ctx.node.name;
  const out = ctx.b.node('ReduceMean', [inNchw ? ctx.b.nchw(x) : ctx.b.nhwc(x)], name, [
    attr.ints('axes', inNchw ? axes.map((a) => NHWC_AXIS_IN_NCHW[a]).sort((p, q) => p - q) : axes),
    attr.int('keepdims', keep ? 1 : 0),
  ]);
  return inNchw && keep ? { label: name, shape, dtype: 'float32', nchw: out } : { label: name, shape, dtype: 'float32', nhwc: out };
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
