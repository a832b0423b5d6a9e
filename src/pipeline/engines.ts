/**
 * Opens and puts together an engine the same way on every platform: `openEngine` is the one model
 * loader, given a byte reader and a runtime (Node: files and the model cache on onnxruntime-node;
 * the browser: the local server on onnxruntime-web), and `assembleEngine` wires loaded sessions
 * into the finder and the still swapper.
 */

import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { FaceAnalyzer, roiFromLandmarks } from '../face/analyzer.js';
import { ArcFaceEmbedder } from '../face/arcface.js';
import type { Face } from '../face/face.js';
import { Landmark106 } from '../face/landmark106.js';
import { ScrfdAnalyzer } from '../face/scrfd-analyzer.js';
import { ScrfdDetector } from '../face/scrfd.js';
import { readEmap } from '../models/emap.js';
import { MODEL_SPECS, type ModelSpec, type ModelSpecId } from '../models/model-spec.js';
import type { InferenceRuntime, InferenceSession } from '../models/runtime.js';
import { FaceEnhancer } from '../swap/face-enhancer.js';
import { InswapperModel } from '../swap/inswapper.js';
import { BoostedInswapper } from '../swap/inswapper-boost.js';
import { InswapperEngine } from '../swap/inswapper-engine.js';
import { ModelSwapEngine, type RowSession } from '../swap/model-swap-engine.js';
import { MeshSwapper } from '../swap/mesh-engine.js';
import type { MeshTuning } from '../swap/mesh-tuning.js';
import { maskModelLoader } from './mask-models.js';
import type { MaskModels } from '../compose/occlusion-mask.js';
import { StillSwapper, type EnhancerSource, type FaceFinder } from './still.js';
import { ENGINE_NAMES, type EngineName } from './options.js';

/** BlazeFace and FaceMesh: every engine finds and follows faces with them. */
export interface MeshSessions {
  detector: InferenceSession;
  mesh: InferenceSession;
}

/** The inswapper engine's models, loaded, and the emap read from inswapper_128. */
export interface InswapperSessions {
  detector: InferenceSession;
  recogniser: InferenceSession;
  swapper: InferenceSession;
  /** insightface's 2d106det, for Deep-Live-Cam's mouth mask, when installed. */
  landmarks?: InferenceSession;
  emap: Float32Array;
  /** Names the swapper model in messages (its path or URL). */
  swapperLabel: string;
  /** Names the detector model in messages; default its row id. */
  detectorLabel?: string;
  /** The swapper's row; default inswapper_128's (the fp16 file's has the same numbers). */
  swapperSpec?: ModelSpec;
}

/** A FaceFusion swapper's models, loaded: SCRFD, ArcFace (unless image-driven), the converter it names, the swapper. */
export interface ModelSwapSessions {
  detector: InferenceSession;
  detectorLabel?: string;
  recogniser?: InferenceSession;
  converter?: RowSession;
  swapper: RowSession;
}

export interface AssembledEngine {
  name: EngineName;
  /** Finds faces for this engine: BlazeFace + FaceMesh, or SCRFD (+ FaceMesh). */
  finder: FaceFinder;
  still: StillSwapper<unknown>;
  /**
   * Follows a face into the next frame with FaceMesh alone; absent for inswapper, which aligns on
   * SCRFD's own five points on every frame.
   */
  track?: (image: Image, face: Face) => Promise<Face | undefined>;
}

/**
 * The mesh engine, inswapper when its sessions are given, or a FaceFusion swapper (`options.swapper`).
 * `options.enhancers` loads the face enhancer a paint asks for (every engine can run one).
 */
export function assembleEngine(
  mesh: MeshSessions,
  inswapper?: InswapperSessions,
  options: { meshTuning?: MeshTuning; swapper?: ModelSwapSessions; enhancers?: EnhancerSource; maskModels?: MaskModels } = {},
): AssembledEngine {
  const analyzer = FaceAnalyzer.create(mesh.detector, mesh.mesh);
  const { enhancers } = options;
  if (inswapper) {
    const landmarks = inswapper.landmarks ? Landmark106.create(inswapper.landmarks) : undefined;
    const finder = new ScrfdAnalyzer(ScrfdDetector.create(inswapper.detector, MODEL_SPECS.det_10g, { label: inswapper.detectorLabel }), analyzer, landmarks);
    const swapper = InswapperModel.create(inswapper.swapper, inswapper.swapperSpec ?? MODEL_SPECS.inswapper_128, inswapper.swapperLabel);
    // At the model's own size the engine as it was; with a pixel boost, tiled (swap/inswapper-boost.ts).
    const engine = new BoostedInswapper(new InswapperEngine(ArcFaceEmbedder.create(inswapper.recogniser), swapper, inswapper.emap, options.maskModels), swapper);
    return { name: 'inswapper', finder, still: new StillSwapper(finder, engine, enhancers) as StillSwapper<unknown> };
  }
  if (options.swapper) {
    const parts = options.swapper;
    const finder = new ScrfdAnalyzer(ScrfdDetector.create(parts.detector, MODEL_SPECS.det_10g, { label: parts.detectorLabel }), analyzer);
    const engine = ModelSwapEngine.create({
      swapper: parts.swapper,
      converter: parts.converter,
      embedder: parts.recogniser ? ArcFaceEmbedder.create(parts.recogniser) : undefined,
      maskModels: options.maskModels,
    });
    return { name: parts.swapper.row.id as EngineName, finder, still: new StillSwapper(finder, engine, enhancers) as StillSwapper<unknown> };
  }
  return {
    name: 'mesh',
    finder: analyzer,
    still: new StillSwapper(analyzer, new MeshSwapper(options.meshTuning, options.maskModels), enhancers) as StillSwapper<unknown>,
    track: (image, face) => analyzer.refine(image, roiFromLandmarks(face.landmarks), face.score),
  };
}

/** The swapper files the inswapper engine takes, in order of preference when several are given. */
const SWAPPER_MODELS = ['inswapper_128', 'inswapper_128_fp16'] as const satisfies readonly ModelSpecId[];

/**
 * What to open: the engine and where each of its models' bytes are, by table row id (a path, a
 * URL: whatever `fetchBytes` reads). The mesh engine needs blazeface and facemesh; inswapper adds
 * det_10g, w600k_r50 and inswapper_128 (or inswapper_128_fp16), and 2d106det when given.
 */
export interface EngineSpec {
  readonly engine: AssembledEngine['name'];
  readonly models: Readonly<Partial<Record<ModelSpecId, string>>>;
  /** The mesh engine's settings; default DEFAULT_MESH_TUNING. Ignored by inswapper. */
  readonly meshTuning?: MeshTuning;
}

/** A model file's bytes, and what to call it in messages (its path or URL). */
export interface ModelBytes {
  readonly bytes: Uint8Array;
  readonly label: string;
  /** A line for the user about how the bytes were got (a damaged cached file converted again). */
  readonly notice?: string;
}

/**
 * Reads a model's bytes from `location`. Called a second time with `again` set when the bytes
 * would not load: a cache that made them (a converted model) makes them afresh; a reader with
 * nothing better to offer returns undefined, and the load's error stands.
 */
export type FetchBytes = (location: string, spec: ModelSpec, again: boolean) => Promise<ModelBytes | undefined>;

/** An engine that owns the sessions it loaded: `close` releases them all (once). */
export interface OpenEngine extends AssembledEngine {
  /** The rows of the models loaded, in load order. */
  readonly models: readonly ModelSpec[];
  /** Lines for the user from the byte reader (a damaged cached model converted again). */
  readonly notices: readonly string[];
  /**
   * The same sessions put together again under other mesh settings (an ablation's variants). The
   * result borrows them: it has nothing to close and must not be used after this engine's close.
   */
  withMeshTuning(tuning: MeshTuning): AssembledEngine;
  close(): Promise<void>;
}

/**
 * The one model loader, for Node and the browser alike: reads each model's bytes with
 * `fetchBytes`, loads them on `runtime` (a cached converted model that will not load is fetched
 * once more), reads the emap from the swapper file itself, and assembles the engine. On failure
 * every session already loaded is closed before the error is passed on.
 */
export async function openEngine(spec: EngineSpec, fetchBytes: FetchBytes, runtime: InferenceRuntime): Promise<OpenEngine> {
  const sessions: InferenceSession[] = [];
  const rows: ModelSpec[] = [];
  const notices: string[] = [];
  const labels: Partial<Record<ModelSpecId, string>> = {};
  const open = async (id: ModelSpecId, inspect?: (model: ModelBytes) => void): Promise<InferenceSession> => {
    const row = MODEL_SPECS[id];
    const location = spec.models[id];
    if (location === undefined) throw new LiveswapError('model', `The ${spec.engine} engine needs the ${id} model (${row.description}); no file was given for it.`);
    const loaded = await loadModel(row, location, fetchBytes, runtime, inspect);
    sessions.push(loaded.session);
    rows.push(row);
    notices.push(...loaded.notices);
    labels[id] = loaded.label;
    return loaded.session;
  };
  try {
    const mesh: MeshSessions = { detector: await open('blazeface'), mesh: await open('facemesh') };
    let inswapper: InswapperSessions | undefined;
    let swapper: ModelSwapSessions | undefined;
    if (spec.engine !== 'mesh' && spec.engine !== 'inswapper') swapper = await openModelSwapper(spec.engine, open, labels);
    if (spec.engine === 'inswapper') {
      const swapperId = SWAPPER_MODELS.find((id) => spec.models[id] !== undefined) ?? 'inswapper_128';
      const detector = await open('det_10g');
      const recogniser = await open('w600k_r50');
      let emap: Float32Array = new Float32Array(0);
      let swapperLabel: string = swapperId;
      // Read before loading, so a file that is no InSwapper model is named as such.
      const swapper = await open(swapperId, (model) => {
        emap = readEmap(model.bytes, model.label);
        swapperLabel = model.label;
      });
      const landmarks = spec.models['2d106det'] !== undefined ? await open('2d106det') : undefined;
      inswapper = { detector, detectorLabel: labels.det_10g, recogniser, swapper, landmarks, emap, swapperLabel, swapperSpec: MODEL_SPECS[swapperId] };
    }
    // XSeg and BiSeNet, when the spec names their files: loaded on the first paint that asks.
    const maskModels = maskModelLoader(spec.models, (row, location) => loadModel(row, location, fetchBytes, runtime), sessions, notices);
    const enhancers = enhancerLoader(spec, fetchBytes, runtime, sessions, notices, maskModels);
    const assemble = (meshTuning: MeshTuning | undefined): AssembledEngine => assembleEngine(mesh, inswapper, { meshTuning, swapper, enhancers, maskModels });
    let closing: Promise<void> | undefined;
    return {
      ...assemble(spec.meshTuning),
      models: rows,
      notices,
      withMeshTuning: (tuning) => assemble(tuning),
      close: () => (closing ??= Promise.all(sessions.map((s) => s.close())).then(() => undefined)),
    };
  } catch (error) {
    await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
    throw error;
  }
}

/** Opens a FaceFusion swapper's models in the order the row needs them (swapperEngineModels). */
async function openModelSwapper(id: ModelSpecId, open: (id: ModelSpecId) => Promise<InferenceSession>, labels: Partial<Record<ModelSpecId, string>>): Promise<ModelSwapSessions> {
  const row: ModelSpec = MODEL_SPECS[id];
  const traits = row.origin === 'download' ? row.swap : undefined;
  if (!traits || traits.source.kind === 'emap') throw new LiveswapError('usage', `${id} is not an engine: one of ${ENGINE_NAMES.join(', ')}.`);
  const detector = await open('det_10g');
  const recogniser = traits.source.kind === 'embedding' ? await open('w600k_r50') : undefined;
  const converterId = traits.source.kind === 'embedding' ? (traits.source.converter as ModelSpecId | null) : null;
  const converter = converterId ? { session: await open(converterId), row: MODEL_SPECS[converterId], label: '' } : undefined;
  const session = await open(id);
  return {
    detector,
    detectorLabel: labels.det_10g,
    recogniser,
    converter: converter && converterId ? { ...converter, label: labels[converterId] ?? converterId } : undefined,
    swapper: { session, row, label: labels[id] ?? id },
  };
}

/**
 * Loads a face enhancer when a paint first asks for it, from the file `spec.models` names for its
 * row; its session joins the engine's (closed with it). Concurrent asks share one load. The
 * enhancer runs XSeg from `maskModels` when a paint asks for occlusion.
 */
function enhancerLoader(
  spec: EngineSpec,
  fetchBytes: FetchBytes,
  runtime: InferenceRuntime,
  sessions: InferenceSession[],
  notices: string[],
  maskModels?: MaskModels,
): EnhancerSource {
  const loaded = new Map<string, Promise<FaceEnhancer>>();
  return (id) => {
    let enhancer = loaded.get(id);
    if (!enhancer) {
      const row = (MODEL_SPECS as Readonly<Record<string, ModelSpec | undefined>>)[id];
      const location = spec.models[id as ModelSpecId];
      if (!row || row.role !== 'enhancer') return Promise.reject(new LiveswapError('usage', `${id} is not a face enhancer.`));
      if (location === undefined) {
        return Promise.reject(
          new LiveswapError('model', `The face enhancer ${id} is not installed (or does not verify). Run \`liveswap models pull ${id}\` (or \`--for enhancer\`).`),
        );
      }
      enhancer = loadModel(row, location, fetchBytes, runtime).then((model) => {
        sessions.push(model.session);
        notices.push(...model.notices);
        return FaceEnhancer.create(model.session, row, model.label, maskModels);
      });
      enhancer.catch(() => loaded.delete(id));
      loaded.set(id, enhancer);
    }
    return enhancer;
  };
}

/** One model loaded: its session, what names it, and any lines the byte reader had for the user. */
export interface LoadedModel {
  readonly session: InferenceSession;
  readonly label: string;
  readonly notices: readonly string[];
}

/**
 * Reads one model's bytes with `fetchBytes` and loads them on `runtime`; bytes that will not load
 * are fetched once more (a cache converts them afresh). `openEngine` loads every model this way,
 * and so does anything else that loads a converted model (the recognisers), so each heals alike.
 */
export async function loadModel(row: ModelSpec, location: string, fetchBytes: FetchBytes, runtime: InferenceRuntime, inspect?: (model: ModelBytes) => void): Promise<LoadedModel> {
  const model = await fetchBytes(location, row, false);
  if (!model) throw new LiveswapError('model', `Could not read the ${row.id} model from ${location}.`, { file: location });
  inspect?.(model);
  try {
    const session = await runtime.load(model.bytes, model.label);
    return { session, label: model.label, notices: model.notice ? [model.notice] : [] };
  } catch (error) {
    const again = await fetchBytes(location, row, true);
    if (!again) throw error;
    inspect?.(again);
    const session = await runtime.load(again.bytes, again.label);
    return { session, label: again.label, notices: [model.notice, again.notice].filter((n): n is string => n !== undefined) };
  }
}
