/**
 * The Node side of the one model loader (pipeline/engines.ts `openEngine`): which files an engine
 * resolution names, and a byte reader over them and the converted-model cache.
 */

import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { BUILTIN_MODELS, type BuiltinModelId } from '../../models/builtin.js';
import { downloadIdForFile, type ModelSpecId } from '../../models/model-spec.js';
import type { EngineSpec, FetchBytes } from '../../pipeline/engines.js';
import type { MeshTuning } from '../../swap/mesh-tuning.js';
import type { EngineResolution } from './engine-select.js';
import { builtinModel } from './model-cache.js';

/**
 * The engine spec for a resolution: the converted models by id (the cache finds them), the
 * inswapper files by path, each under the row its file name belongs to, a FaceFusion swapper's
 * files and the installed enhancers under their row ids.
 */
export function nodeEngineSpec(resolution: EngineResolution, meshTuning?: MeshTuning): EngineSpec {
  const models: Partial<Record<ModelSpecId, string>> = { blazeface: 'blazeface', facemesh: 'facemesh' };
  const files = resolution.engine === 'inswapper' ? resolution.models : undefined;
  if (files) {
    models.det_10g = files.detector;
    models.w600k_r50 = files.recogniser;
    // The fp16 file has its own row; any other name is taken for the original's.
    const swapperId = downloadIdForFile(basename(files.swapper)) === 'inswapper_128_fp16' ? 'inswapper_128_fp16' : 'inswapper_128';
    models[swapperId] = files.swapper;
    if (files.landmarks) models['2d106det'] = files.landmarks;
  }
  // A FaceFusion swapper's files, the installed enhancers and mask models go by their row ids.
  Object.assign(models, resolution.swapperFiles ?? {}, resolution.enhancers ?? {}, resolution.maskModels ?? {});
  const engine = files ? 'inswapper' : resolution.swapperFiles ? resolution.engine : 'mesh';
  return { engine, models, ...(meshTuning ? { meshTuning } : {}) };
}

function isBuiltin(id: string): id is BuiltinModelId {
  return Object.hasOwn(BUILTIN_MODELS, id);
}

/**
 * Reads model bytes: converted rows from the cache under `home` (converted on first use, when the
 * cached file does not match its recorded hash, and once more when it will not load unless this
 * reader has just converted it; a repair comes back as a notice naming the file), downloaded rows
 * from their installed files, named by path in messages.
 */
export function nodeModelReader(home: string): FetchBytes {
  const converted = new Set<string>();
  return async (location, spec, again) => {
    if (spec.origin === 'converted' && isBuiltin(spec.id)) {
      if (again && converted.has(spec.id)) return undefined;
      const cached = await builtinModel(spec.id, home, { rebuild: again });
      if (cached.converted) converted.add(spec.id);
      return { bytes: cached.bytes, label: cached.path, ...(cached.repaired ? { notice: cached.repaired } : {}) };
    }
    if (again) return undefined;
    return { bytes: new Uint8Array(await readFile(location)), label: location };
  };
}
