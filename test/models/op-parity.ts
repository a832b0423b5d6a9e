/**
 * Per-op parity helpers shared by the op test files: a one-input graph with seeded random data,
 * a conv node builder (to get tensors held in NCHW), and the check that runs a converted graph on
 * onnxruntime and TensorFlow.js (wasm) and compares every output element by element.
 */

import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { convertTfjsGraph, type ConvertOptions } from '../../src/models/tfjs-to-onnx.js';
import { readOnnxModel } from '../../src/models/onnx-proto.js';
import { maxAbsDiff, randomArray, runOnnx, runTfjs, seededRandom, tfAttr, TinyGraph, type Feed } from './tfjs-harness.js';

export const TOLERANCE = 1e-4;

/** A graph with one NHWC input; `shape` may use -1 for a dynamic batch, fed with `batch`. */
export function setup(seed: number, shape: number[], batch = 1): { g: TinyGraph; x: string; feeds: Record<string, Feed> } {
  const g = new TinyGraph(seededRandom(seed));
  const x = g.placeholder('input', shape);
  const feedShape = shape.map((n) => (n < 0 ? batch : n));
  return {
    g,
    x,
    feeds: {
      input: {
        shape: feedShape,
        data: randomArray(
          g.rand,
          feedShape.reduce((a, b) => a * b, 1),
        ),
      },
    },
  };
}

export interface CheckOptions {
  convert?: ConvertOptions;
  /**
   * An equivalent graph, with the same output names, for TFJS to run instead of `g`: for cases
   * where a TFJS kernel itself is wrong (see the _FusedMatMul tests).
   */
  reference?: TinyGraph;
}

/**
 * Converts `g`, runs both runtimes, and asserts equal shapes and values for every output of the
 * ONNX model; returns the output names in ONNX order.
 */
export async function check(t: TestContext, g: TinyGraph, feeds: Record<string, Feed>, options: CheckOptions = {}): Promise<string[]> {
  const { model, weights } = g.build();
  const onnx = convertTfjsGraph(model, weights, options.convert);
  const declared = readOnnxModel(onnx).outputs;
  const names = declared.map((o) => o.name);
  const reference = options.reference?.build() ?? { model, weights };
  const [want, got] = [await runTfjs(reference.model, reference.weights, feeds, names), await runOnnx(onnx, feeds, names)];
  names.forEach((name, i) => {
    assert.deepEqual(got[i].shape, want[i].shape, `${name} shape`);
    // The declared output shape must agree wherever it states a fixed size.
    assert.deepEqual(
      declared[i].shape.map((n, a) => (typeof n === 'number' ? n : want[i].shape[a])),
      want[i].shape,
      `${name} declared shape`,
    );
    const diff = maxAbsDiff(got[i].data, want[i].data);
    t.diagnostic(`${name} ${JSON.stringify(want[i].shape)} max abs diff ${diff.toExponential(2)}`);
    assert.ok(diff <= TOLERANCE, `${name}: max abs diff ${diff} > ${TOLERANCE}`);
  });
  return names;
}

export interface ConvSpec {
  k?: number | [number, number];
  outC?: number;
  strides?: number | [number, number];
  padding?: 'SAME' | 'VALID' | 'EXPLICIT';
  explicit?: number[];
  dilation?: number;
  fused?: string[];
  depthwise?: boolean;
  multiplier?: number;
  op?: string;
}

/** Adds a (depthwise) conv node with random filter, bias and PReLU alpha as its fused ops need. */
export function conv(g: TinyGraph, x: string, inC: number, spec: ConvSpec = {}): string {
  const name = `conv${g.nodes.length}`;
  const [kh, kw] = typeof spec.k === 'object' ? spec.k : [spec.k ?? 3, spec.k ?? 3];
  const [sh, sw] = typeof spec.strides === 'object' ? spec.strides : [spec.strides ?? 1, spec.strides ?? 1];
  const d = spec.dilation ?? 1;
  const outPerIn = spec.depthwise ? (spec.multiplier ?? 1) : (spec.outC ?? 4);
  const outC = spec.depthwise ? inC * outPerIn : outPerIn;
  const inputs = [x, g.constant(`${name}/filter`, [kh, kw, inC, outPerIn])];
  const fused = spec.fused ?? [];
  if (fused[0] === 'BiasAdd') inputs.push(g.constant(`${name}/bias`, [outC]));
  if (fused.includes('Prelu')) inputs.push(g.constant(`${name}/alpha`, [1, 1, outC]));
  const op = spec.op ?? (spec.depthwise ? 'DepthwiseConv2dNative' : fused.length ? '_FusedConv2D' : 'Conv2D');
  return g.op(name, op, inputs, {
    strides: tfAttr.ints([1, sh, sw, 1]),
    dilations: tfAttr.ints([1, d, d, 1]),
    padding: tfAttr.s(spec.padding ?? 'SAME'),
    data_format: tfAttr.s('NHWC'),
    explicit_paddings: tfAttr.ints(spec.explicit ?? []),
    ...(fused.length ? { fused_ops: tfAttr.strings(fused), num_args: tfAttr.i(inputs.length - 2), epsilon: tfAttr.f(0) } : {}),
  });
}

export function maxPool(g: TinyGraph, x: string, k: number, s: number, padding: 'SAME' | 'VALID'): string {
  return g.op(`pool${g.nodes.length}`, 'MaxPool', [x], {
    ksize: tfAttr.ints([1, k, k, 1]),
    strides: tfAttr.ints([1, s, s, 1]),
    padding: tfAttr.s(padding),
    data_format: tfAttr.s('NHWC'),
  });
}
