/**
 * The browser implementation of the inference interface, on onnxruntime-web: WebGPU when the
 * browser has an adapter, wasm otherwise (SIMD, and threads when the page is cross-origin
 * isolated). Model files come from the local server and are kept in the browser's Cache Storage,
 * so the large inswapper files are fetched once.
 */

import * as ort from 'onnxruntime-web/webgpu';
import { LiveswapError } from '../core/errors.js';
import { wrapOrtSession } from '../models/ort-session.js';
import type { InferenceRuntime, InferenceSession } from '../models/runtime.js';
import type { FetchBytes } from '../pipeline/engines.js';
import type { Backend } from './protocol.js';

/** Cache Storage bucket for model files; their URLs change when their content does. */
const MODEL_CACHE = 'liveswap-models-v1';

export interface WebRuntimeOptions {
  backend: Backend;
  /** Folder URL of onnxruntime-web's .wasm/.mjs files. */
  wasmPath: string;
  /** wasm threads; default: 1 (the built-in models are small), more only when cross-origin isolated. */
  threads?: number;
}

export interface WebRuntime extends InferenceRuntime {
  /** The backend actually used. */
  readonly backend: Backend;
  /** Said when the backend asked for could not be used. */
  readonly notice: string | undefined;
}

async function hasWebGpu(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

export async function createWebRuntime(options: WebRuntimeOptions): Promise<WebRuntime> {
  ort.env.wasm.wasmPaths = new URL(options.wasmPath, self.location.href).href;
  const isolated = (self as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const wanted = Math.max(1, Math.floor(options.threads ?? 1));
  ort.env.wasm.numThreads = isolated ? Math.min(wanted, navigator.hardwareConcurrency || 1) : 1;
  ort.env.logLevel = 'error';

  let backend = options.backend;
  let notice: string | undefined;
  if (backend === 'webgpu' && !(await hasWebGpu())) {
    backend = 'wasm';
    notice = 'WebGPU is not available in this browser (no adapter); running on wasm.';
  }
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
  };
  return {
    name: `onnxruntime-web ${backend}`,
    backend,
    notice,
    async load(model: Uint8Array, label: string): Promise<InferenceSession> {
      try {
        // float64 feeds: CodeFormer's fidelity weight.
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

/**
 * A model file's bytes: from Cache Storage when it was fetched before, else from the server (and
 * then kept).
 */
export async function fetchModel(url: string): Promise<Uint8Array> {
  const cache = typeof caches === 'undefined' ? undefined : await caches.open(MODEL_CACHE).catch(() => undefined);
  const cached = await cache?.match(url);
  if (cached) return new Uint8Array(await cached.arrayBuffer());
  let response: Response;
  try {
    response = await fetch(url);
  } catch (cause) {
    throw new LiveswapError('model', `Could not download the model ${url}: the server did not answer (${(cause as Error).message}).`, { file: url, cause });
  }
  if (!response.ok) throw new LiveswapError('model', `Could not download the model ${url}: the server answered ${response.status} ${response.statusText}.`, { file: url });
  const total = Number(response.headers.get('content-length') ?? 0);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (total > 0 && bytes.length !== total) throw new LiveswapError('model', `The download of ${url} was cut short (${bytes.length} of ${total} bytes).`, { file: url });
  // Cached only once complete; a full disk just means fetching again next time.
  await cache?.put(url, new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } })).catch(() => undefined);
  return bytes;
}

/**
 * The browser's byte reader for the one model loader (pipeline/engines.ts `openEngine`): model
 * files by URL through {@link fetchModel}. A file that will not load is not fetched again.
 */
export const webModelReader: FetchBytes = async (url, _spec, again) => (again ? undefined : { bytes: await fetchModel(url), label: url });
