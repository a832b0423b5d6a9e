/** The Node implementation of the inference interface, on onnxruntime-node's CPU provider. */

import * as ort from 'onnxruntime-node';
import { LiveswapError } from '../core/errors.js';
import type { InferenceRuntime, InferenceSession, TensorData } from '../models/runtime.js';

export interface NodeRuntimeOptions {
  /** Intra-op threads; 0 lets onnxruntime choose (one per core). */
  threads?: number;
}

class NodeSession implements InferenceSession {
  constructor(private readonly session: ort.InferenceSession) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Readonly<Record<string, TensorData>>): Promise<Record<string, TensorData>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor('float32', t.data, t.dims);
    const results = await this.session.run(ortFeeds);
    const out: Record<string, TensorData> = {};
    for (const [name, t] of Object.entries(results)) {
      if (t.type !== 'float32') throw new LiveswapError('model', `Model output ${name} has type ${t.type}; expected float32.`);
      out[name] = { data: t.data as Float32Array, dims: t.dims };
      t.dispose?.();
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

export function createNodeRuntime(options: NodeRuntimeOptions = {}): InferenceRuntime {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: options.threads ?? 0,
    interOpNumThreads: 1,
  };
  return {
    name: 'onnxruntime-node cpu',
    async load(model: Uint8Array, label: string): Promise<InferenceSession> {
      try {
        return new NodeSession(await ort.InferenceSession.create(model, sessionOptions));
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new LiveswapError('model', `Could not load the model ${label}: ${reason}`, { file: label, cause });
      }
    },
  };
}
