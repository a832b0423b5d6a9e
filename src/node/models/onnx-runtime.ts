/** The Node implementation of the inference interface, on onnxruntime-node's CPU provider. */

import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { LiveswapError } from '../../core/errors.js';
import { wrapOrtSession } from '../../models/ort-session.js';
import type { InferenceRuntime, InferenceSession } from '../../models/runtime.js';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../../pipeline/options.js';

export interface NodeRuntimeOptions {
  /** Intra-op threads; 0 lets onnxruntime choose (one per core). */
  threads?: number;
  /** Execution provider; default cpu. One that is not available here is an error, never a silent fallback. */
  provider?: ExecutionProvider;
}

/** The provider library each non-CPU provider needs beside the onnxruntime binding, per platform. */
const PROVIDER_FILES: Readonly<Record<Exclude<ExecutionProvider, 'cpu'>, Partial<Record<NodeJS.Platform, string>>>> = {
  cuda: { linux: 'libonnxruntime_providers_cuda.so', win32: 'onnxruntime_providers_cuda.dll' },
  coreml: { darwin: 'libonnxruntime.1.dylib' },
  dml: { win32: 'DirectML.dll' },
};

function bindingDir(): string | undefined {
  try {
    const main = createRequire(import.meta.url).resolve('onnxruntime-node');
    const root = main.slice(0, main.lastIndexOf('onnxruntime-node') + 'onnxruntime-node'.length);
    const napi = readdirSync(join(root, 'bin'))
      .filter((d) => d.startsWith('napi-v'))
      .sort()
      .pop();
    return napi ? join(root, 'bin', napi, process.platform, process.arch) : undefined;
  } catch {
    return undefined;
  }
}

/** Execution providers usable on this machine with this installation of onnxruntime-node. */
export function availableProviders(): ExecutionProvider[] {
  const dir = bindingDir();
  return EXECUTION_PROVIDERS.filter((p) => {
    if (p === 'cpu') return true;
    const file = PROVIDER_FILES[p][process.platform];
    return file !== undefined && dir !== undefined && existsSync(join(dir, file));
  });
}

export function createNodeRuntime(options: NodeRuntimeOptions = {}): InferenceRuntime {
  const provider = options.provider ?? 'cpu';
  if (provider !== 'cpu') {
    const available = availableProviders();
    if (!available.includes(provider)) {
      const hint = provider === 'cuda' ? ' To add CUDA (Linux or Windows x64, CUDA 12), see "GPU" in the README.' : '';
      throw new LiveswapError('usage', `The ${provider} execution provider is not available here; available: ${available.join(', ')}.${hint}`);
    }
  }
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: options.threads ?? 0,
    interOpNumThreads: 1,
  };
  return {
    name: `onnxruntime-node ${provider}`,
    async load(model: Uint8Array, label: string): Promise<InferenceSession> {
      try {
        return wrapOrtSession(
          await ort.InferenceSession.create(model, sessionOptions),
          (data, dims) => new ort.Tensor('float32', data, dims),
          (data, dims) => new ort.Tensor('float64', data, dims),
        );
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new LiveswapError('model', `Could not load the model ${label}: ${reason}`, { file: label, cause });
      }
    },
  };
}
