/**
 * The mask models of an opened engine (XSeg occluders, BiSeNet parsers): which of them the engine
 * spec names files for, each loaded on the first paint that asks for it through the one model
 * loader (`loadModel`), its session then closed with the engine's.
 */

import type { MaskModels, OccluderId, ParserId } from '../compose/occlusion-mask.js';
import { OCCLUDER_IDS, PARSER_IDS } from '../compose/region-mask.js';
import { FaceParser, Occluder } from '../face/mask-models.js';
import { MODEL_SPECS, type ModelSpec, type ModelSpecId } from '../models/model-spec.js';
import type { InferenceSession } from '../models/runtime.js';

/** Loads one model's file (engines.ts `loadModel` over the engine's byte reader and runtime). */
export type LoadModel = (row: ModelSpec, location: string) => Promise<{ session: InferenceSession; label: string; notices: readonly string[] }>;

/** The ids of the mask models, for the byte readers that list what is installed. */
export const MASK_MODEL_IDS: readonly (ParserId | OccluderId)[] = [...PARSER_IDS, ...OCCLUDER_IDS];

/**
 * MaskModels over the files `models` names (by row id), loaded with `loadModel`; sessions join `sessions` (closed
 * with the engine) and the reader's lines join `notices`. Concurrent asks share one load; a load
 * that fails is tried again on the next ask.
 */
export function maskModelLoader(models: Readonly<Partial<Record<ModelSpecId, string>>>, loadModel: LoadModel, sessions: InferenceSession[], notices: string[]): MaskModels {
  const installed = new Set(MASK_MODEL_IDS.filter((id) => models[id] !== undefined));
  const loaded = new Map<string, Promise<FaceParser | Occluder>>();
  const load = (id: ParserId | OccluderId): Promise<FaceParser | Occluder> => {
    let model = loaded.get(id);
    if (!model) {
      const row = MODEL_SPECS[id];
      const location = models[id];
      if (location === undefined) return Promise.reject(new RangeError(`maskModelLoader: no file for ${id}`));
      model = loadModel(row, location).then((m) => {
        sessions.push(m.session);
        notices.push(...m.notices);
        return row.role === 'parser' ? FaceParser.create(m.session, row, m.label) : Occluder.create(m.session, row, m.label);
      });
      model.catch(() => loaded.delete(id));
      loaded.set(id, model);
    }
    return model;
  };
  return {
    installed,
    parser: async (id) => (await load(id)) as FaceParser,
    occluder: async (id) => (await load(id)) as Occluder,
  };
}
