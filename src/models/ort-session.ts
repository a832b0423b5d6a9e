/**
 * onnxruntime-node and onnxruntime-web share one session and tensor API (onnxruntime-common): the
 * wrapper that turns either into the project's {@link InferenceSession}. Structural types only, so
 * the platform-free code imports neither runtime.
 */

import { LiveswapError } from '../core/errors.js';
import type { InferenceSession, TensorData } from './runtime.js';

/** The part of an onnxruntime tensor read here. */
export interface OrtTensorLike {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
  /** 'cpu' for data in memory; 'gpu-buffer' and others for data on the device (onnxruntime-web). */
  readonly location?: string;
  getData?(releaseData?: boolean): Promise<unknown>;
  dispose?(): void;
}

/** The part of an onnxruntime session used here. */
export interface OrtSessionLike<Tensor> {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, Tensor>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/**
 * `makeTensor` builds the runtime's own float32 tensor from data and dims; `makeFloat64`, where the
 * runtime is given one, its float64 tensor (for feeds marked `dtype: 'float64'`).
 */
export function wrapOrtSession<Tensor>(
  session: OrtSessionLike<Tensor>,
  makeTensor: (data: Float32Array, dims: readonly number[]) => Tensor,
  makeFloat64?: (data: Float64Array, dims: readonly number[]) => Tensor,
): InferenceSession {
  return {
    get inputNames() {
      return session.inputNames;
    },
    get outputNames() {
      return session.outputNames;
    },
    async run(feeds: Readonly<Record<string, TensorData>>): Promise<Record<string, TensorData>> {
      const ortFeeds: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) {
        if (t.dtype !== 'float64') ortFeeds[name] = makeTensor(t.data, t.dims);
        else if (makeFloat64) ortFeeds[name] = makeFloat64(Float64Array.from(t.data), t.dims);
        else throw new LiveswapError('model', `Model input ${name} is float64, which this runtime is not given a tensor maker for.`);
      }
      const results = await session.run(ortFeeds);
      const out: Record<string, TensorData> = {};
      for (const [name, t] of Object.entries(results)) {
        if (t.type !== 'float32') throw new LiveswapError('model', `Model output ${name} has type ${t.type}; expected float32.`);
        if (t.location !== undefined && t.location !== 'cpu' && t.getData) {
          // On the GPU: read back, and let the device copy go.
          out[name] = { data: (await t.getData(true)) as Float32Array, dims: t.dims };
        } else {
          out[name] = { data: t.data as Float32Array, dims: t.dims };
          t.dispose?.();
        }
      }
      return out;
    },
    close: () => session.release(),
  };
}
