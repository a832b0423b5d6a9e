/**
 * The installed downloadable models: one file per registry entry in `$LIVESWAP_HOME/models/`
 * (downloads in flight in `models/.downloads/`), with status, re-hashing and import by hash.
 */

import { copyFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LiveswapError, invalidOption } from '../../core/errors.js';
import { MODEL_REGISTRY, type ModelEntry, type ModelRegistry } from '../../models/registry.js';
import { defaultHome } from './model-cache.js';
import { sha256File } from '../files/hash.js';
import { writeAtomically } from '../files/output.js';

export const MODEL_STATES = ['installed', 'missing', 'damaged'] as const;
export type ModelState = (typeof MODEL_STATES)[number];

export interface ModelStatus {
  id: string;
  file: string;
  /** Where the file is, or would be once installed. */
  path: string;
  state: ModelState;
  /** Size on disk; null when missing. */
  bytes: number | null;
  expectedBytes: number;
  /** SHA-256 on disk, only after `verify`. */
  sha256?: string;
  /** Why a file counts as damaged. */
  problem?: string;
  licence: string;
  nonCommercial: boolean;
}

export interface ImportResult {
  id: string;
  file: string;
  /** The file that was copied. */
  from: string;
  path: string;
  bytes: number;
}

export interface ModelStoreOptions {
  /** Root folder (default: LIVESWAP_HOME or the user's cache folder, as for the built-in models). */
  home?: string;
  /** The model table (default: MODEL_REGISTRY); tests pass entries served by a local server. */
  registry?: ModelRegistry;
}

export function formatBytes(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

export class ModelStore {
  readonly home: string;
  /** The folder holding the installed files. */
  readonly folder: string;
  readonly registry: ModelRegistry;

  constructor(options: ModelStoreOptions = {}) {
    this.home = options.home ?? defaultHome();
    this.folder = join(this.home, 'models');
    this.registry = options.registry ?? MODEL_REGISTRY;
  }

  /** The entries for `ids` (all when empty), or a usage error naming the known ids. */
  entries(ids: readonly string[] = []): ModelEntry[] {
    if (ids.length === 0) return Object.values(this.registry);
    return [...new Set(ids)].map((id) => {
      const entry = Object.hasOwn(this.registry, id) ? this.registry[id] : undefined;
      if (!entry) throw invalidOption('model id', `one of ${Object.keys(this.registry).join(', ')}`, id);
      return entry;
    });
  }

  pathOf(entry: ModelEntry): string {
    return join(this.folder, entry.file);
  }

  private async statusOf(entry: ModelEntry, rehash: boolean): Promise<ModelStatus> {
    const path = this.pathOf(entry);
    const base = { id: entry.id, file: entry.file, path, expectedBytes: entry.bytes, licence: entry.licence, nonCommercial: entry.nonCommercial };
    const info = await stat(path).catch(() => undefined);
    if (!info) return { ...base, state: 'missing', bytes: null };
    if (!info.isFile()) return { ...base, state: 'damaged', bytes: null, problem: 'not a file' };
    if (info.size !== entry.bytes) return { ...base, state: 'damaged', bytes: info.size, problem: `${info.size} bytes, expected ${entry.bytes}` };
    if (!rehash) return { ...base, state: 'installed', bytes: info.size };
    const sha256 = await sha256File(path);
    if (sha256 !== entry.sha256) return { ...base, state: 'damaged', bytes: info.size, sha256, problem: `SHA-256 ${sha256}, expected ${entry.sha256}` };
    return { ...base, state: 'installed', bytes: info.size, sha256 };
  }

  /** Quick status from file sizes (no hashing): installed, missing, or damaged (wrong size). */
  async status(ids: readonly string[] = []): Promise<ModelStatus[]> {
    return Promise.all(this.entries(ids).map((e) => this.statusOf(e, false)));
  }

  /** Status after re-hashing every present file: a file with the right size but other bytes is damaged. */
  async verify(ids: readonly string[] = []): Promise<ModelStatus[]> {
    const results: ModelStatus[] = [];
    for (const entry of this.entries(ids)) results.push(await this.statusOf(entry, true));
    return results;
  }

  /**
   * Installs files the user already has, recognised by SHA-256 whatever their names. Every file is
   * identified before any is copied; an unknown file is an error that lists the expected files.
   */
  async importFiles(paths: readonly string[]): Promise<ImportResult[]> {
    const found: { entry: ModelEntry; from: string; bytes: number }[] = [];
    for (const from of paths) {
      const info = await stat(from).catch((cause: unknown) => {
        throw new LiveswapError('input-missing', `Cannot import ${from}: no such file.`, { file: from, cause });
      });
      if (!info.isFile()) throw new LiveswapError('input-unreadable', `Cannot import ${from}: it is not a file.`, { file: from });
      const candidates = Object.values(this.registry).filter((e) => e.bytes === info.size);
      const sha256 = candidates.length > 0 ? await sha256File(from) : undefined;
      const entry = candidates.find((e) => e.sha256 === sha256);
      if (!entry) {
        const expected = Object.values(this.registry).map((e) => `${e.file} (${e.id}, ${e.bytes} bytes, SHA-256 ${e.sha256})`);
        const what = sha256 ? `SHA-256 ${sha256}` : `${info.size} bytes`;
        throw new LiveswapError('input-unsupported', `Cannot import ${from}: it is not a known model file (${what}). Expected one of: ${expected.join('; ')}.`, { file: from });
      }
      found.push({ entry, from, bytes: info.size });
    }
    await mkdir(this.folder, { recursive: true });
    const results: ImportResult[] = [];
    for (const { entry, from, bytes } of found) {
      const path = this.pathOf(entry);
      await writeAtomically(path, (temporary) => copyFile(from, temporary));
      results.push({ id: entry.id, file: entry.file, from, path, bytes });
    }
    return results;
  }
}
