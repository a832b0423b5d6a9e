/**
 * The model files the server may hand out, and nothing else: the three converted built-in models
 * (named by content hash) and, when installed and verified, the inswapper engine's files (the
 * browser reads the emap from the swapper file itself). URLs name files by basename; requests are
 * looked up, never joined.
 */

import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { BuiltinModelId } from '../models/builtin.js';
import type { ServerInfo } from '../pipeline/live-options.js';
import { resolveEngine } from '../node/models/engine-select.js';
import { builtinModel } from '../node/models/model-cache.js';
import type { ModelStore } from '../node/models/model-store.js';

export const BUILTIN_PREFIX = '/models/builtin/';
export const INSWAPPER_PREFIX = '/models/inswapper/';

const BUILTIN_IDS = ['blazeface', 'facemesh', 'faceres'] as const satisfies readonly BuiltinModelId[];

type InswapperUrls = NonNullable<ServerInfo['models']['inswapper']>;

export interface InswapperState {
  urls?: InswapperUrls;
  notice?: string;
}

export class ModelFiles {
  /** Cache basename → path of the converted built-in models. */
  private readonly builtin: ReadonlyMap<string, string>;
  readonly builtinUrls: Readonly<Record<(typeof BUILTIN_IDS)[number], string>>;
  /** Basename → path of the inswapper files of the latest resolution. */
  private inswapperPaths = new Map<string, string>();
  /** The resolution in progress: concurrent requests share it rather than hash the same files twice. */
  private pending: Promise<InswapperState> | undefined;

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
    await files.inswapper();
    return files;
  }

  builtinPath(name: string): string | undefined {
    return this.builtin.get(name);
  }

  /**
   * Resolves the engine again, so models pulled while the server runs show up on the next
   * `/api/info`; verification is remembered per file, so an unchanged install costs a few stats.
   */
  inswapper(): Promise<InswapperState> {
    this.pending ??= this.resolveInswapper().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
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
}
