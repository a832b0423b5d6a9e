/**
 * The inference interface the platform-free code depends on. `src/node` implements it with
 * onnxruntime-node and `src/browser` with onnxruntime-web; the core never imports either.
 */

export interface TensorData {
  readonly data: Float32Array;
  readonly dims: readonly number[];
  /**
   * A feed the graph declares float64 (CodeFormer's fidelity `weight`): the runtime widens `data`
   * to it. Absent: float32, as every output is.
   */
  readonly dtype?: 'float64';
}

export interface InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Readonly<Record<string, TensorData>>): Promise<Record<string, TensorData>>;
  close(): Promise<void>;
}

/** Loads model bytes into a session on the platform's runtime. */
export interface InferenceRuntime {
  /** A label for reports, e.g. "onnxruntime-node cpu". */
  readonly name: string;
  load(model: Uint8Array, label: string): Promise<InferenceSession>;
}
