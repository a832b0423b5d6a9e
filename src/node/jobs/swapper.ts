/**
 * The still-image swapper wired for Node: the engine chosen from the installed models, opened by
 * the one loader (pipeline/engines.ts) over the model files and cache on onnxruntime-node.
 */

import type { Image } from '../../core/image.js';
import type { Face } from '../../face/face.js';
import { LiveswapError } from '../../core/errors.js';
import { openEngine, type AssembledEngine, type OpenEngine } from '../../pipeline/engines.js';
import type { EngineChoice, ExecutionProvider, SwapOptions } from '../../pipeline/options.js';
import type { FaceJob, PaintTimings, PreparedSource } from '../../pipeline/still.js';
import type { MeshTuning } from '../../swap/mesh-tuning.js';
import { forgetVerification, resolveEngine } from '../models/engine-select.js';
import { nodeEngineSpec, nodeModelReader } from '../models/model-bytes.js';
import { defaultHome } from '../models/model-cache.js';
import { ModelStore } from '../models/model-store.js';
import { createNodeRuntime } from '../models/onnx-runtime.js';
import { swapStill, type MarkedStillResult, type StillCall } from './still-swap.js';

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
  /** Which engine: `auto` (default) takes inswapper when its models are installed and verified. */
  engine?: EngineChoice;
  /** Where the inswapper models are looked for; default the store under `home`. */
  store?: ModelStore;
  /** The mesh engine's settings (see mesh-tuning.ts); default DEFAULT_MESH_TUNING. Ignored by inswapper. */
  meshTuning?: MeshTuning;
}

export interface NodeSwapper {
  /** The engine in use ('mesh' or 'inswapper'). */
  readonly engine: string;
  /** Said once when `auto` could not use the engine it prefers (e.g. models not installed). */
  readonly notice: string | undefined;
  /** Faces in an image with their 468-point meshes, largest first; `known`: faces followed from the frame before (see FrameFaceFinder). */
  analyze(image: Image, known?: readonly Face[]): Promise<Face[]>;
  /** Analyses a source photo once, for many swaps (a batch, or the frames of a stream). */
  prepareSource(source: Image, options: Pick<SwapOptions, 'sourceFace' | 'maxPixels'>, file?: string): Promise<PreparedSource>;
  /** Several photos of one person as one identity (inswapper averages them; mesh combines their textures and shapes). */
  prepareSources(sources: readonly Image[], options: Pick<SwapOptions, 'sourceFace' | 'maxPixels'>, files?: readonly string[]): Promise<PreparedSource>;
  /**
   * Follows a face into the next frame without the detector (FaceMesh on the region its landmarks
   * imply), or undefined when it is lost. Absent for engines that need the detector's own points
   * on every frame (inswapper aligns on SCRFD's five points).
   */
  readonly track: ((image: Image, face: Face) => Promise<Face | undefined>) | undefined;
  /** Paints identities onto faces already found, in place (the frames of a video). */
  paintFaces(frame: Image, jobs: readonly FaceJob[], options: SwapOptions, timings?: PaintTimings): Promise<void>;
  /**
   * Swaps and marks one still. `call` names the inputs in error messages (e.g. their paths) and
   * chooses the marks: by default the label and the user's watermark; `marks: false` leaves the
   * picture unmarked, and the result's `marks` says what it carries.
   */
  swap(source: Image | PreparedSource, target: Image, options: SwapOptions, call?: StillCall): Promise<MarkedStillResult>;
  /**
   * The same loaded models with the mesh engine put together again under other settings (an
   * ablation's variants). The result borrows this swapper's models: its `close` releases nothing,
   * and it must not be used after this swapper is closed.
   */
  withMeshTuning(tuning: MeshTuning): NodeSwapper;
  close(): Promise<void>;
}

export async function createNodeSwapper(options: NodeSwapperOptions = {}): Promise<NodeSwapper> {
  const home = options.home ?? defaultHome();
  const runtime = createNodeRuntime({ threads: options.threads ?? 1, provider: options.provider ?? 'cpu' });
  const choice = options.engine ?? 'auto';
  const store = options.store ?? new ModelStore({ home });
  let resolution = await resolveEngine(choice, store);
  const reader = nodeModelReader(home);
  // The engine owns the sessions it opened; variants made by withMeshTuning borrow them.
  let engine: OpenEngine;
  try {
    engine = await openEngine(nodeEngineSpec(resolution, options.meshTuning), reader, runtime);
  } catch (error) {
    const inswapperFiles: (string | undefined)[] = Object.values(resolution.models ?? {});
    if (!(error instanceof LiveswapError) || error.kind !== 'model' || !inswapperFiles.includes(error.file)) throw error;
    // The files verified by a remembered stamp yet do not load: rewritten in place with the same
    // size and time. Forget the stamps so the next run hashes them again and says which is damaged.
    await forgetVerification(store);
    const hint = '`liveswap models verify` finds the damaged file and `liveswap models pull --accept-license` replaces it.';
    if (choice === 'inswapper') throw new LiveswapError('model', `${error.message} ${hint}`, { file: error.file, cause: error });
    resolution = { engine: 'mesh', notice: `Using the built-in mesh engine: the inswapper models did not load (${error.message}). ${hint}` };
    engine = await openEngine(nodeEngineSpec(resolution, options.meshTuning), reader, runtime);
  }
  const notice = [resolution.notice, ...engine.notices].filter((n): n is string => n !== undefined).join(' ') || undefined;
  const engineName = resolution.engine;
  const wrap = ({ finder, still, track }: AssembledEngine, close: () => Promise<void>): NodeSwapper => {
    return {
      engine: engineName,
      notice,
      analyze: (image, known) => finder.analyze(image, undefined, undefined, known),
      prepareSource: (source, swapOptions, file) => still.prepareSource(source, swapOptions, file),
      prepareSources: (sources, swapOptions, files) => still.prepareSources(sources, swapOptions, files),
      track,
      paintFaces: (frame, jobs, swapOptions, timings) => still.paintFaces(frame, jobs, swapOptions, timings),
      swap: (source, target, swapOptions, call) => swapStill(engineName, still, source, target, swapOptions, { home, ...call }),
      withMeshTuning: (tuning) => wrap(engine.withMeshTuning(tuning), () => Promise.resolve()),
      close,
    };
  };
  return wrap(engine, () => engine.close());
}
