/**
 * The downloadable models: the `download` rows of the one model table (model-spec.ts), under the
 * names `liveswap models`, the model store and engine selection use, and which of them each feature
 * needs (`liveswap models pull --for FEATURE`).
 */

import { LiveswapError } from '../core/errors.js';
import { DOWNLOAD_MODEL_IDS, MODEL_SPECS, type DownloadModelId, type DownloadModelSpec } from './model-spec.js';

export { MODEL_ROLES, TENSOR_DTYPES } from './model-spec.js';
export type { ModelRole, ModelSource, TensorDtype, TensorSpec } from './model-spec.js';

export const MODEL_IDS = DOWNLOAD_MODEL_IDS;
export type ModelId = DownloadModelId;

/** What the inswapper engine needs; the default of `liveswap models pull`. */
export const INSWAPPER_ENGINE_MODELS = ['det_10g', 'w600k_r50', 'inswapper_128'] as const satisfies readonly ModelId[];

/** One downloadable model: file, size, hash, sources, licence and its input/output contract. */
export type ModelEntry = DownloadModelSpec;

/** Any table of entries keyed by id; tests pass their own, pointing at a local server. */
export type ModelRegistry = Readonly<Record<string, ModelEntry>>;

/** In MODEL_IDS order, which `liveswap models` lists them in. */
export const MODEL_REGISTRY: Readonly<Record<ModelId, ModelEntry>> = Object.fromEntries(DOWNLOAD_MODEL_IDS.map((id) => [id, MODEL_SPECS[id]])) as Record<ModelId, ModelEntry>;

/** The swapper rows the generic swapper runs (InSwapper's included), in table order. */
export const SWAPPER_MODEL_IDS = DOWNLOAD_MODEL_IDS.filter((id) => MODEL_SPECS[id].role === 'swapper' && MODEL_SPECS[id].swap !== undefined);

/** The enhancer rows, in table order; `--face-enhancer` takes one of these. */
export const ENHANCER_MODEL_IDS = DOWNLOAD_MODEL_IDS.filter((id) => MODEL_SPECS[id].role === 'enhancer');

/** FaceFusion's defaults: the enhancer, parser and occluder `pull --for` fetches (spec §8.1, §9). */
export const DEFAULT_FEATURE_MODELS = { enhancer: 'gfpgan_1.4', parser: 'bisenet_resnet_34', occluder: 'xseg_1' } as const satisfies Record<string, ModelId>;

/** Features `pull --for` knows besides the swapper ids themselves. */
export const MODEL_FEATURES = ['inswapper', 'enhancer', 'regions', 'occlusion', 'mouth-mask'] as const;

/**
 * Every file a swapper engine needs: SCRFD to find faces, ArcFace where the identity is an
 * embedding, the row's embedding converter, and the swapper itself.
 */
export function swapperEngineModels(swapperId: string): ModelId[] {
  const row = (MODEL_REGISTRY as Readonly<Record<string, DownloadModelSpec | undefined>>)[swapperId];
  if (!row?.swap) throw new LiveswapError('usage', `${swapperId} is not a swapper; swappers: ${SWAPPER_MODEL_IDS.join(', ')}.`);
  const source = row.swap.source;
  const ids: string[] = ['det_10g'];
  if (source.kind !== 'image') ids.push('w600k_r50');
  if (source.kind === 'embedding' && source.converter) ids.push(source.converter);
  ids.push(swapperId);
  return ids as ModelId[];
}

/**
 * The models `liveswap models pull --for FEATURE` fetches: a swapper id (or `inswapper`) gives its
 * engine's files, `enhancer`, `regions` and `occlusion` FaceFusion's default model of that kind,
 * `mouth-mask` 2d106det; any row id or role name is accepted as well (a role gives its default).
 */
export function modelsForFeature(feature: string): ModelId[] {
  switch (feature) {
    case 'inswapper':
      return [...INSWAPPER_ENGINE_MODELS];
    case 'enhancer':
      return [DEFAULT_FEATURE_MODELS.enhancer];
    case 'regions':
    case 'parser':
      return [DEFAULT_FEATURE_MODELS.parser];
    case 'occlusion':
    case 'occluder':
      return [DEFAULT_FEATURE_MODELS.occluder];
    case 'mouth-mask':
      return ['2d106det'];
    default:
      if ((SWAPPER_MODEL_IDS as readonly string[]).includes(feature)) return swapperEngineModels(feature);
      if ((MODEL_IDS as readonly string[]).includes(feature)) return [feature as ModelId];
      throw new LiveswapError('usage', `Unknown feature '${feature}' for --for: one of ${[...MODEL_FEATURES, ...SWAPPER_MODEL_IDS].join(', ')}.`);
  }
}
