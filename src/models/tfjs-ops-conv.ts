/**
 * Converters for the windowed TF ops (Conv2D, _FusedConv2D, DepthwiseConv2dNative and its fused
 * form, MaxPool) and for activations, which fused convs share with the standalone ops. All of
 * them compute in NCHW and produce values that exist only in NCHW until something asks otherwise.
 */

import { attr, transposeData, type Dim, type Value } from './onnx-graph-builder.js';
import type { OnnxAttribute } from './onnx-proto.js';
import { attrFloat, attrInt, attrInts, attrString, attrStrings } from './tfjs-graph.js';
import type { OpContext } from './tfjs-op-context.js';

/** Checks the NHWC data_format and reads a [1, h, w, 1] attribute (strides, dilations, ksize). */
function spatialPair(ctx: OpContext, key: string, fallback?: [number, number]): [number, number] {
  const format = attrString(ctx.node, 'data_format') ?? 'NHWC';
  if (format !== 'NHWC') ctx.fail(`data_format ${format} is not supported (only NHWC)`);
  const v = attrInts(ctx.node, key);
  if (!v && fallback) return fallback;
  if (!v || v.length !== 4 || v[0] !== 1 || v[3] !== 1 || v[1] < 1 || v[2] < 1) {
    ctx.fail(`${key} ${JSON.stringify(v)} is not supported (expected [1, h, w, 1])`);
  }
  return [v[1], v[2]];
}

export interface Window {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
}

/**
 * Translates TF padding (SAME / VALID / EXPLICIT) into ONNX pads and infers the output size.
 * TF SAME pads a total of max((out-1)*stride + extent - in, 0) per axis with the odd pixel at the
 * end. With static sizes that becomes explicit pads; with a dynamic size, ONNX auto_pad SAME_UPPER
 * is the same rule.
 */
export function windowPadding(ctx: OpContext, inHW: Dim[], w: Window): { attrs: OnnxAttribute[]; outHW: Dim[] } {
  const padding = attrString(ctx.node, 'padding');
  const extent = [0, 1].map((a) => (w.kernel[a] - 1) * w.dilations[a] + 1);
  const checked = (size: number) => (size >= 1 ? size : ctx.fail(`window larger than the padded input ${JSON.stringify(inHW)}`));
  if (padding === 'SAME') {
    const outHW = inHW.map((n, a) => (n === null ? null : Math.ceil(n / w.strides[a])));
    if (inHW.some((n) => n === null)) return { attrs: [attr.string('auto_pad', 'SAME_UPPER')], outHW };
    const total = inHW.map((n, a) => Math.max(((outHW[a] as number) - 1) * w.strides[a] + extent[a] - (n as number), 0));
    const before = total.map((t) => Math.floor(t / 2));
    return { attrs: [attr.ints('pads', [before[0], before[1], total[0] - before[0], total[1] - before[1]])], outHW };
  }
  let pads = [0, 0, 0, 0];
  if (padding === 'EXPLICIT') {
    const e = attrInts(ctx.node, 'explicit_paddings') ?? [];
    if (e.length !== 8 || e[0] || e[1] || e[6] || e[7]) ctx.fail(`explicit_paddings ${JSON.stringify(e)} must pad H and W only`);
    pads = [e[2], e[4], e[3], e[5]];
  } else if (padding !== 'VALID') {
    ctx.fail(`padding ${padding} is not supported`);
  }
  const outHW = inHW.map((n, a) => (n === null ? null : checked(Math.floor((n + pads[a] + pads[a + 2] - extent[a]) / w.strides[a]) + 1)));
  return { attrs: [attr.ints('pads', pads)], outHW };
}

/** Applies a TF activation (by its op name) to an NCHW tensor. */
export function applyActivation(ctx: OpContext, kind: string, x: string, alpha?: () => string, base = `${ctx.node.name}/${kind}`): string {
  switch (kind) {
    case 'Relu':
    case 'Sigmoid':
    case 'Tanh':
    case 'Elu':
      return ctx.b.node(kind, [x], base);
    case 'Relu6':
      return ctx.b.node('Clip', [x, ctx.b.floatInit(`${base}/min`, [], new Float32Array([0])), ctx.b.floatInit(`${base}/max`, [], new Float32Array([6]))], base);
    case 'LeakyRelu': {
      // The standalone op names it `alpha`, the fused one `leakyrelu_alpha`; TF defaults both to 0.2.
      const slope = attrFloat(ctx.node, ctx.node.op === 'LeakyRelu' ? 'alpha' : 'leakyrelu_alpha') ?? 0.2;
      return ctx.b.node('LeakyRelu', [x], base, [attr.float('alpha', slope)]);
    }
    case 'Prelu':
      if (!alpha) return ctx.fail('Prelu needs an alpha operand');
      return preluNodes(ctx, x, alpha(), base);
    default:
      return ctx.fail(`activation ${kind} is not supported`);
  }
}

/**
 * PReLU as max(x, 0) + alpha·min(x, 0) rather than ONNX's PRelu: the same numbers (each term is
 * exact, so the sum is x or alpha·x), and on onnxruntime's CPU provider several times faster on
 * real pictures, whose PRelu branches per element (FaceMesh on a face: 2.9 ms, 1.9 ms so).
 */
export function preluNodes(ctx: OpContext, x: string, alpha: string, base: string): string {
  const zero = ctx.b.floatInit(`${base}/zero`, [], new Float32Array([0]));
  const positive = ctx.b.node('Max', [x, zero], `${base}/positive`);
  const negative = ctx.b.node('Mul', [ctx.b.node('Min', [x, zero], `${base}/negative`), alpha], `${base}/scaled`);
  return ctx.b.node('Add', [positive, negative], base);
}

/** Operand for a per-channel tensor (bias, alpha) applied to an NCHW result. */
export function channelOperand(ctx: OpContext, v: Value, base: string): string {
  if (v.konst) return ctx.b.broadcastConstNchw(v.konst, base);
  if (v.shape.length === 4) return ctx.b.nchw(v);
  return ctx.fail(`operand "${v.label}" must be a constant or a rank-4 tensor`);
}

/** Conv2D, _FusedConv2D, DepthwiseConv2dNative and FusedDepthwiseConv2dNative. */
export function convertConv(ctx: OpContext, depthwise: boolean): Value {
  const { node, b } = ctx;
  const x = ctx.input(0);
  if (x.shape.length !== 4) ctx.fail(`input must be rank 4, got shape ${JSON.stringify(x.shape)}`);
  const filter = ctx.constInput(1, 'filter');
  if (filter.shape.length !== 4 || filter.dtype !== 'float32') ctx.fail(`filter must be a rank-4 float tensor`);
  const [kh, kw, inC, outPerIn] = filter.shape;
  if (x.shape[3] !== null && x.shape[3] !== inC) ctx.fail(`input has ${x.shape[3]} channels but the filter expects ${inC}`);
  const window: Window = {
    kernel: [kh, kw],
    strides: spatialPair(ctx, 'strides'),
    dilations: spatialPair(ctx, 'dilations', [1, 1]),
  };
  const { attrs, outHW } = windowPadding(ctx, x.shape.slice(1, 3), window);
  // TF filters are HWIO (depthwise: HWCM, output channel c*M+m). ONNX wants OIHW; a depthwise conv
  // is a grouped conv with one group per input channel, whose weight [C*M, 1, H, W] is the same
  // HWCM data transposed with the (C, M) pair flattened in that order.
  const outC = depthwise ? inC * outPerIn : outPerIn;
  const weightDims = depthwise ? [outC, 1, kh, kw] : [outC, inC, kh, kw];
  const weight = b.floatInit(`${node.name}/weight`, weightDims, transposeData(filter.data as Float32Array, filter.shape, depthwise ? [2, 3, 0, 1] : [3, 2, 0, 1]));

  // Fused ops are [BiasAdd?, activation?]; their extra inputs follow in that order (num_args).
  const fused = attrStrings(node, 'fused_ops');
  const hasBias = fused[0] === 'BiasAdd';
  const activation = hasBias ? fused[1] : fused[0];
  if (fused.length > (hasBias ? 2 : 1) || fused.includes('FusedBatchNorm')) ctx.fail(`fused_ops ${JSON.stringify(fused)} is not supported`);
  const extraArgs = (hasBias ? 1 : 0) + (activation === 'Prelu' ? 1 : 0);
  if (fused.length > 0 && (attrInt(node, 'num_args') ?? 0) !== extraArgs) {
    ctx.fail(`fused_ops ${JSON.stringify(fused)} expects num_args ${extraArgs}, got ${attrInt(node, 'num_args')}`);
  }
  const inputs = [b.nchw(x), weight];
  if (hasBias) {
    const bias = ctx.constInput(2, 'bias');
    if (bias.data.length !== outC) ctx.fail(`bias has ${bias.data.length} values for ${outC} output channels`);
    inputs.push(b.floatInit(`${node.name}/bias`, [outC], Float32Array.from(bias.data)));
  }
  const conv = b.node('Conv', inputs, activation ? `${node.name}/conv` : node.name, [
    attr.ints('kernel_shape', [kh, kw]),
    attr.ints('strides', window.strides),
    attr.ints('dilations', window.dilations),
    attr.int('group', depthwise ? inC : 1),
    ...attrs,
  ]);
  const alphaIndex = hasBias ? 3 : 2;
  const out = activation ? applyActivation(ctx, activation, conv, () => channelOperand(ctx, ctx.input(alphaIndex), `${node.name}/alpha`)) : conv;
  return { label: node.name, shape: [x.shape[0], outHW[0], outHW[1], outC], dtype: 'float32', nchw: out };
}

export function convertMaxPool(ctx: OpContext): Value {
  const x = ctx.input(0);
  if (x.shape.length !== 4) ctx.fail(`input must be rank 4, got shape ${JSON.stringify(x.shape)}`);
  const window: Window = { kernel: spatialPair(ctx, 'ksize'), strides: spatialPair(ctx, 'strides'), dilations: [1, 1] };
  // ONNX MaxPool ignores padded cells just like TF, so SAME needs no special fill value.
  const { attrs, outHW } = windowPadding(ctx, x.shape.slice(1, 3), window);
  const out = ctx.b.node('MaxPool', [ctx.b.nchw(x)], ctx.node.name, [attr.ints('kernel_shape', window.kernel), attr.ints('strides', window.strides), ...attrs]);
  return { label: ctx.node.name, shape: [x.shape[0], outHW[0], outHW[1], x.shape[3]], dtype: 'float32', nchw: out };
}
