/**
 * The downloadable models of the InSwapper pipeline: the `download` rows of the one model table
 * (model-spec.ts), under the names `liveswap models`, the model store and engine selection use.
 */

import { DOWNLOAD_MODEL_IDS, MODEL_SPECS, type DownloadModelId, type DownloadModelSpec } from './model-spec.js';

export { MODEL_ROLES, TENSOR_DTYPES } from './model-spec.js';
export type { ModelRole, ModelSource, TensorDtype, TensorSpec } from './model-spec.js';

export const MODEL_IDS = DOWNLOAD_MODEL_IDS;
export type ModelId = DownloadModelId;

/** What the inswapper engine needs; the default of `liveswap models pull`. */
export const INSWAPPER_ENGINE_MODELS = ['det_10g', 'w600k_r50', 'inswapper_128'] as const satisfies readonly ModelId[];

/** One downloadable model: file, size, SHA-256, sources, licence and its input/output contract. */
export type ModelEntry = DownloadModelSpec;

/** Any table of entries keyed by id; tests pass their own, pointing at a local server. */
export type ModelRegistry = Readonly<Record<string, ModelEntry>>;

/** In MODEL_IDS order, which `liveswap models` lists them in. */
export const MODEL_REGISTRY: Readonly<Record<ModelId, ModelEntry>> = {
  det_10g: MODEL_SPECS.det_10g,
  w600k_r50: MODEL_SPECS.w600k_r50,
  '2d106det': MODEL_SPECS['2d106det'],
  inswapper_128: MODEL_SPECS.inswapper_128,
  inswapper_128_fp16: MODEL_SPECS.inswapper_128_fp16,
};
