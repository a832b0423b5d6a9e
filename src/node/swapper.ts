/** The still-image swapper wired for Node: built-in models from the cache on onnxruntime-node. */

import type { Image } from '../core/image.js';
import type { BuiltinModelId } from '../models/builtin.js';
import type { InferenceRuntime, InferenceSession } from '../models/runtime.js';
import { FaceAnalyzer } from '../face/analyzer.js';
import type { Face } from '../face/face.js';
import { MeshSwapper, type MeshIdentity } from '../swap/mesh-engine.js';
import type { ExecutionProvider, SwapOptions } from '../pipeline/options.js';
import type { StillResult } from '../pipeline/report.js';
import { StillSwapper, type InputNames, type PreparedSource } from '../pipeline/still.js';
import { builtinModel, defaultHome } from './model-cache.js';
import { createNodeRuntime } from './onnx-runtime.js';

export interface NodeSwapperOptions {
  /** Model cache root; default LIVESWAP_HOME or the user's cache folder. */
  home?: string;
  /**
   * onnxruntime intra-op threads; default 1. The built-in models are small enough that a second
   * thread costs more in hand-off than it saves (measured: FaceMesh 1.9 ms on one thread, 4.7 ms
   * on two), and it leaves a core free for decoding and compositing.
   */
  threads?: number;
  /** Execution provider for the models; default cpu (see availableProviders). */
  provider?: ExecutionProvider;
}

/** Loads a converted model; a cached file that will not load is converted again once. */
async function loadBuiltin(runtime: InferenceRuntime, id: BuiltinModelId, home: string): Promise<InferenceSession> {
  const cached = await builtinModel(id, home);
  try {
    return await runtime.load(cached.bytes, cached.path);
  } catch (error) {
    if (cached.converted) throw error;
    const rebuilt = await builtinModel(id, home, { rebuild: true });
    return runtime.load(rebuilt.bytes, rebuilt.path);
  }
}

export interface NodeSwapper {
  /** Faces in an image with their 468-point meshes, largest first. */
  analyze(image: Image): Promise<Face[]>;
  /** Analyses a source photo once, for many swaps (a batch, or the frames of a stream). */
  prepareSource(source: Image, options: Pick<SwapOptions, 'sourceFace' | 'maxPixels'>, file?: string): Promise<PreparedSource>;
  /** `files` names the inputs in error messages (e.g. their paths). */
  swap(source: Image | PreparedSource, target: Image, options: SwapOptions, files?: InputNames): Promise<StillResult>;
  close(): Promise<void>;
}

export async function createNodeSwapper(options: NodeSwapperOptions = {}): Promise<NodeSwapper> {
  const home = options.home ?? defaultHome();
  const runtime = createNodeRuntime({ threads: options.threads ?? 1, provider: options.provider ?? 'cpu' });
  const detector = await loadBuiltin(runtime, 'blazeface', home);
  const mesh = await loadBuiltin(runtime, 'facemesh', home);
  const analyzer = FaceAnalyzer.create(detector, mesh);
  const still = new StillSwapper(analyzer, new MeshSwapper());
  return {
    analyze: (image) => analyzer.analyze(image),
    prepareSource: (source, swapOptions, file) => still.prepareSource(source, swapOptions, file),
    swap: (source, target, swapOptions, files) => still.swap(source as Image | PreparedSource<MeshIdentity>, target, swapOptions, files),
    async close() {
      await Promise.all([detector.close(), mesh.close()]);
    },
  };
}
