/**
 * The model files the server may hand out, and nothing else: the three converted built-in models
 * (named by content hash) and, when installed and verified, the inswapper engine's files with the
 * swapper's emap as raw float32. URLs name files by basename; requests are looked up, never joined.
 */

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { readEmap } from '../models/emap.js';
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
  private emapName: string | undefined;
  private swapperPath: string | undefined;
  private emap: { name: string; bytes: Promise<Buffer> } | undefined;
  /** The resolution in progress: concurrent requests share it rather than hash the same files twice. */
  private pending: Promise<InswapperState> | undefined;

  private constructor(private readonly store: ModelStore, builtin: Map<string, string>, urls: ModelFiles['builtinUrls']) {
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
    const resolution = await resolveEngine('auto', this.store);
    const models = resolution.engine === 'inswapper' ? resolution.models : undefined;
    if (!models) {
      this.inswapperPaths = new Map();
      this.emapName = undefined;
      this.swapperPath = undefined;
      return { notice: resolution.notice ?? 'The inswapper models are not installed; `liveswap models pull` adds them.' };
    }
    const listed = [models.detector, models.recogniser, models.swapper, ...(models.landmarks ? [models.landmarks] : [])];
    const sizes = await Promise.all(listed.map((path) => stat(path)));
    const swapperInfo = sizes[2]!;
    const key = createHash('sha256').update(`${models.swapper}\0${swapperInfo.size}\0${swapperInfo.mtimeMs}`).digest('hex').slice(0, 16);
    this.inswapperPaths = new Map(listed.map((path) => [basename(path), path]));
    this.emapName = `emap-${key}.bin`;
    this.swapperPath = models.swapper;
    const url = (path: string): string => `${INSWAPPER_PREFIX}${basename(path)}`;
    return {
      urls: {
        detector: url(models.detector),
        recogniser: url(models.recogniser),
        swapper: url(models.swapper),
        emap: `${INSWAPPER_PREFIX}${this.emapName}`,
        ...(models.landmarks ? { landmarks: url(models.landmarks) } : {}),
        bytes: sizes.reduce((sum, info) => sum + info.size, 0),
      },
    };
  }

  /** The installed file a `/models/inswapper/<name>` URL names, if the latest resolution lists it. */
  inswapperPath(name: string): string | undefined {
    return this.inswapperPaths.get(name);
  }

  isEmap(name: string): boolean {
    return name === this.emapName;
  }

  /**
   * The swapper's emap as little-endian float32 bytes (1 MiB). Reading it parses the whole model
   * file, so it is done once per swapper file; a failure is not remembered, so a retry reads again.
   */
  emapBytes(): Promise<Buffer> {
    const name = this.emapName;
    const path = this.swapperPath;
    if (!name || !path) return Promise.reject(new Error('No inswapper model is installed.'));
    if (this.emap?.name !== name) {
      const bytes = readFile(path).then((file) => littleEndian(readEmap(new Uint8Array(file.buffer, file.byteOffset, file.length), path)));
      this.emap = { name, bytes };
      bytes.catch(() => {
        if (this.emap?.bytes === bytes) this.emap = undefined;
      });
    }
    return this.emap.bytes;
  }
}

function littleEndian(values: Float32Array): Buffer {
  const out = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i]!, i * 4);
  return out;
}
