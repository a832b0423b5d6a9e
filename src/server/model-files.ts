/**
 * The model files the server may hand out, and nothing else: the three converted built-in models
 * (named by content hash), when installed and verified the inswapper engine's files (the browser
 * reads the emap from the swapper file itself), and the installed, verified files of FaceFusion's
 * swappers (with what each needs), enhancers, occluders and parsers. URLs name files by basename;
 * requests are looked up, never joined.
 */

import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { occluderIdsOf } from '../compose/region-mask.js';
import type { BuiltinModelId } from '../models/builtin.js';
import { FACEFUSION_SWAPPER_IDS } from '../models/model-spec-facefusion.js';
import { ENHANCER_MODEL_IDS, swapperEngineModels, type ModelEntry } from '../models/registry.js';
import type { ModelChoice, ModelChoices, ServerInfo } from '../pipeline/live-options.js';
import { OCCLUSION_MASKS, FACE_PARSERS } from '../pipeline/options.js';
import { resolveEngine, verificationState, verified } from '../node/models/engine-select.js';
import { builtinModel } from '../node/models/model-cache.js';
import type { ModelStore } from '../node/models/model-store.js';

export const BUILTIN_PREFIX = '/models/builtin/';
export const INSWAPPER_PREFIX = '/models/inswapper/';
/** FaceFusion's rows (and the detector, recogniser and converters their swappers need). */
export const STORE_PREFIX = '/models/store/';

/** The optional rows the page offers, by what they are for; each choice needs the rows listed. */
const CHOICE_ROWS: Readonly<Record<keyof ModelChoices, readonly { id: string; needs: readonly string[] }[]>> = {
  swappers: FACEFUSION_SWAPPER_IDS.map((id) => ({ id, needs: swapperEngineModels(id) })),
  enhancers: ENHANCER_MODEL_IDS.map((id) => ({ id, needs: [id] })),
  occluders: OCCLUSION_MASKS.map((id) => ({ id, needs: occluderIdsOf(id) })),
  parsers: FACE_PARSERS.filter((id) => id !== 'landmarks').map((id) => ({ id, needs: [id] })),
};

/** The installed model rows the page may load, and the page's choices over them. */
export interface StoreState {
  /** Row id → URL. */
  files: Partial<Record<string, string>>;
  choices: ModelChoices;
}

const BUILTIN_IDS = ['blazeface', 'facemesh', 'faceres'] as const satisfies readonly BuiltinModelId[];

type InswapperUrls = NonNullable<ServerInfo['models']['inswapper']>;

export interface InswapperState {
  urls?: InswapperUrls;
  notice?: string;
}

/** A resolution that concurrent callers share while it runs, rather than hash the same files twice; the next call after it ends starts afresh. */
function coalesced<T>(resolve: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= resolve().finally(() => {
      pending = undefined;
    }));
}

export class ModelFiles {
  /** Cache basename → path of the converted built-in models. */
  private readonly builtin: ReadonlyMap<string, string>;
  readonly builtinUrls: Readonly<Record<(typeof BUILTIN_IDS)[number], string>>;
  /** Basename → path of the inswapper files of the latest resolution. */
  private inswapperPaths = new Map<string, string>();
  /** Basename → path of the FaceFusion files of the latest store resolution. */
  private storePaths = new Map<string, string>();

  /**
   * Resolves the engine again, so models pulled while the server runs show up on the next
   * `/api/info`; verification is remembered per file, so an unchanged install costs a few stats.
   */
  readonly inswapper = coalesced(() => this.resolveInswapper());

  /**
   * FaceFusion's installed rows and the page's choices over them, resolved afresh on every call
   * (models pulled while the server runs show up on the next `/api/info`; hashes are remembered per file).
   */
  readonly storeState = coalesced(() => this.resolveStore());

  private constructor(
    private readonly store: ModelStore,
    builtin: Map<string, string>,
    urls: ModelFiles['builtinUrls'],
  ) {
    this.builtin = builtin;
    this.builtinUrls = urls;
  }

  /** Converts the built-in models on first use (seconds), so their names are known before serving. */
  static async load(home: string, store: ModelStore): Promise<ModelFiles> {
    const models = await Promise.all(BUILTIN_IDS.map((id) => builtinModel(id, home)));
    const paths = new Map(models.map((m) => [basename(m.path), m.path]));
    const urlOf = (id: BuiltinModelId): string => `${BUILTIN_PREFIX}${basename(models.find((m) => m.id === id)!.path)}`;
    const files = new ModelFiles(store, paths, { blazeface: urlOf('blazeface'), facemesh: urlOf('facemesh'), faceres: urlOf('faceres') });
    await Promise.all([files.inswapper(), files.storeState()]);
    return files;
  }

  builtinPath(name: string): string | undefined {
    return this.builtin.get(name);
  }

  private async resolveInswapper(): Promise<InswapperState> {
    // The page asks about inswapper itself: the user's default engine (LIVESWAP_ENGINE) does not apply.
    const resolution = await resolveEngine('auto', this.store, {});
    const models = resolution.engine === 'inswapper' ? resolution.models : undefined;
    if (!models) {
      this.inswapperPaths = new Map();
      return { notice: resolution.notice ?? 'The inswapper models are not installed; `liveswap models pull` adds them.' };
    }
    const listed = [models.detector, models.recogniser, models.swapper, ...(models.landmarks ? [models.landmarks] : [])];
    const sizes = await Promise.all(listed.map((path) => stat(path)));
    this.inswapperPaths = new Map(listed.map((path) => [basename(path), path]));
    const url = (path: string): string => `${INSWAPPER_PREFIX}${basename(path)}`;
    return {
      urls: {
        detector: url(models.detector),
        recogniser: url(models.recogniser),
        swapper: url(models.swapper),
        ...(models.landmarks ? { landmarks: url(models.landmarks) } : {}),
        bytes: sizes.reduce((sum, info) => sum + info.size, 0),
      },
    };
  }

  /** The installed file a `/models/inswapper/<name>` URL names, if the latest resolution lists it. */
  inswapperPath(name: string): string | undefined {
    return this.inswapperPaths.get(name);
  }

  private async resolveStore(): Promise<StoreState> {
    const state = await verificationState(this.store);
    const ids = [...new Set(Object.values(CHOICE_ROWS).flatMap((rows) => rows.flatMap((row) => row.needs)))].filter((id) => Object.hasOwn(this.store.registry, id));
    const installed = new Map<string, { entry: ModelEntry; path: string; bytes: number }>();
    for (const entry of this.store.entries(ids)) {
      if (!(await verified(this.store, entry, state.stamps, state.recorded))) continue;
      const path = this.store.pathOf(entry);
      installed.set(entry.id, { entry, path, bytes: (await stat(path)).size });
    }
    const choice = (id: string, needs: readonly string[]): ModelChoice => {
      const missing = needs.filter((need) => !installed.has(need));
      if (missing.length > 0) return { id, installed: false, pull: id === 'all' ? `liveswap models pull ${missing.join(' ')}` : `liveswap models pull --for ${id}`, missing };
      return { id, installed: true, bytes: needs.reduce((sum, need) => sum + installed.get(need)!.bytes, 0) };
    };
    const choices = Object.fromEntries(Object.entries(CHOICE_ROWS).map(([kind, rows]) => [kind, rows.map((row) => choice(row.id, row.needs))])) as unknown as ModelChoices;
    this.storePaths = new Map([...installed.values()].map(({ path }) => [basename(path), path]));
    const files = Object.fromEntries([...installed].map(([id, { path }]) => [id, `${STORE_PREFIX}${basename(path)}`]));
    return { files, choices };
  }

  /** The installed file a `/models/store/<name>` URL names, if the latest store resolution lists it. */
  storePath(name: string): string | undefined {
    return this.storePaths.get(name);
  }
}
