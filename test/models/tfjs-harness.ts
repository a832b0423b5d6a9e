/**
 * Test support for the TFJS → ONNX converter: a seeded PRNG, a builder for tiny TFJS graph models
 * held in memory, and runners that execute a graph on TensorFlow.js (wasm backend) and its
 * conversion on onnxruntime-node so the two can be compared.
 */

import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import * as ort from 'onnxruntime-node';
import type { TfjsAttrValue, TfjsGraphModelJson, TfjsNodeDef, TfjsWeightSpec } from '../../src/models/tfjs-graph.js';
import { seededRandom } from '../helpers/random.js';

export { seededRandom };

export function randomArray(rand: () => number, count: number, scale = 1): Float32Array {
  return Float32Array.from({ length: count }, () => (rand() * 2 - 1) * scale);
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** AttrValue constructors in the JSON form tfjs-converter writes. */
export const tfAttr = {
  s: (value: string): TfjsAttrValue => ({ s: b64(value) }),
  i: (value: number): TfjsAttrValue => ({ i: String(value) }),
  f: (value: number): TfjsAttrValue => ({ f: value }),
  b: (value: boolean): TfjsAttrValue => ({ b: value }),
  ints: (values: number[]): TfjsAttrValue => ({ list: { i: values.map(String) } }),
  strings: (values: string[]): TfjsAttrValue => ({ list: { s: values.map(b64) } }),
  type: (dtype: string): TfjsAttrValue => ({ type: dtype }),
};

/** Builds a TFJS graph model: nodes plus one weight shard holding every Const. */
export class TinyGraph {
  readonly nodes: TfjsNodeDef[] = [];
  private readonly specs: TfjsWeightSpec[] = [];
  private readonly chunks: Uint8Array[] = [];
  private outputs = 0;

  constructor(readonly rand: () => number) {}

  placeholder(name: string, shape: number[]): string {
    this.nodes.push({
      name,
      op: 'Placeholder',
      attr: { dtype: tfAttr.type('DT_FLOAT'), shape: { shape: { dim: shape.map((n) => ({ size: String(n) })) } } },
    });
    return name;
  }

  /** A float Const; random values in [-scale, scale] unless given. */
  constant(name: string, shape: number[], values?: ArrayLike<number>, scale = 1): string {
    const count = shape.reduce((a, b) => a * b, 1);
    const data = values ? Float32Array.from(values) : randomArray(this.rand, count, scale);
    return this.addConst(name, shape, 'float32', new Uint8Array(data.buffer));
  }

  intConstant(name: string, shape: number[], values: number[]): string {
    return this.addConst(name, shape, 'int32', new Uint8Array(Int32Array.from(values).buffer));
  }

  private addConst(name: string, shape: number[], dtype: 'float32' | 'int32', bytes: Uint8Array): string {
    const type = dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32';
    this.nodes.push({
      name,
      op: 'Const',
      attr: { dtype: tfAttr.type(type), value: { tensor: { dtype: type, tensorShape: { dim: shape.map((n) => ({ size: String(n) })) } } } },
    });
    this.specs.push({ name, shape, dtype });
    this.chunks.push(bytes);
    return name;
  }

  op(name: string, op: string, input: string[], attr: Record<string, TfjsAttrValue> = {}): string {
    this.nodes.push({ name, op, input, attr: { T: tfAttr.type('DT_FLOAT'), ...attr } });
    return name;
  }

  /** Marks a tensor as a model output through an Identity node, named like TF's: Identity, Identity_1, ... */
  output(input: string): string {
    const name = this.outputs === 0 ? 'Identity' : `Identity_${this.outputs}`;
    this.outputs++;
    return this.op(name, 'Identity', [input]);
  }

  build(): { model: TfjsGraphModelJson; weights: Uint8Array } {
    const weights = Buffer.concat(this.chunks);
    return {
      model: {
        format: 'graph-model',
        generatedBy: 'liveswap tests',
        convertedBy: 'liveswap tests',
        modelTopology: { node: structuredClone(this.nodes), library: {}, versions: {} },
        weightsManifest: [{ paths: ['weights.bin'], weights: structuredClone(this.specs) }],
      },
      weights: new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength),
    };
  }
}

/** The folder of TFJS models shipped inside the installed @vladmandic/human package. */
export function humanModelsDir(): string {
  // The package's "exports" hide package.json, so locate it from its main entry (in dist/).
  const entry = createRequire(import.meta.url).resolve('@vladmandic/human');
  return path.join(path.dirname(entry), '..', 'models');
}

export interface Feed {
  data: Float32Array;
  shape: number[];
}

export interface Result {
  data: Float32Array;
  shape: number[];
}

let backendReady: Promise<void> | undefined;

/**
 * Selects the tfjs wasm backend. Node resolves the package to its CommonJS build
 * (dist/tf-backend-wasm.node.js), which reads the .wasm binaries from disk; pointing setWasmPaths
 * at that same dist/ folder pins where they come from rather than relying on the loader's
 * default. Node reports no multithread support, so the single-threaded SIMD binary is used.
 */
export function useTfjsWasm(): Promise<void> {
  backendReady ??= (async () => {
    const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    setWasmPaths(path.dirname(entry) + path.sep);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs wasm backend failed to initialise');
    await tf.ready();
    if (tf.getBackend() !== 'wasm') throw new Error(`tfjs runs on ${tf.getBackend()}, not wasm`);
  })();
  return backendReady;
}

export interface Runner {
  run(feeds: Record<string, Feed>, outputs: string[]): Promise<Result[]>;
  dispose(): Promise<void>;
}

/** Loads a TFJS graph model from memory onto the wasm backend. */
export async function tfjsRunner(model: TfjsGraphModelJson, weights: Uint8Array): Promise<Runner> {
  await useTfjsWasm();
  const graph = await loadGraphModel(
    tf.io.fromMemory({
      modelTopology: model.modelTopology,
      weightSpecs: model.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
      weightData: weights.slice().buffer,
      format: model.format,
      generatedBy: model.generatedBy,
      convertedBy: model.convertedBy,
    }),
  );
  return {
    async run(feeds, outputs) {
      const inputs: Record<string, tf.Tensor> = {};
      for (const [name, feed] of Object.entries(feeds)) inputs[name] = tf.tensor(feed.data, feed.shape, 'float32');
      const produced = graph.execute(inputs, outputs);
      const tensors = Array.isArray(produced) ? produced : [produced];
      const results = await Promise.all(tensors.map(async (t) => ({ data: Float32Array.from(await t.data()), shape: t.shape.slice() })));
      tf.dispose([...Object.values(inputs), ...tensors]);
      return results;
    },
    async dispose() {
      graph.dispose();
    },
  };
}

/** Opens an ONNX model on onnxruntime-node (CPU). */
export async function onnxRunner(bytes: Uint8Array): Promise<Runner> {
  const session = await ort.InferenceSession.create(bytes);
  return {
    async run(feeds, outputs) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, feed] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor('float32', feed.data, feed.shape);
      const out = await session.run(ortFeeds);
      return outputs.map((name) => {
        const t = out[name];
        if (!t) throw new Error(`ONNX model has no output ${name}`);
        return { data: Float32Array.from(t.data as Float32Array), shape: t.dims.slice() };
      });
    },
    dispose: () => session.release(),
  };
}

async function runOnce(runner: Runner, feeds: Record<string, Feed>, outputs: string[]): Promise<Result[]> {
  try {
    return await runner.run(feeds, outputs);
  } finally {
    await runner.dispose();
  }
}

/** Runs a TFJS graph model once on the wasm backend. */
export async function runTfjs(model: TfjsGraphModelJson, weights: Uint8Array, feeds: Record<string, Feed>, outputs: string[]): Promise<Result[]> {
  return runOnce(await tfjsRunner(model, weights), feeds, outputs);
}

/** Runs an ONNX model once on onnxruntime-node. */
export async function runOnnx(bytes: Uint8Array, feeds: Record<string, Feed>, outputs: string[]): Promise<Result[]> {
  return runOnce(await onnxRunner(bytes), feeds, outputs);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, divisor = 1): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / divisor;
    if (!(d <= max)) max = d; // NaN propagates as a failure
  }
  return max;
}
