/**
 * The installed downloadable models: one file per registry entry in `$LIVESWAP_HOME/models/`
 * (downloads in flight in `models/.downloads/`), with status, re-hashing and import by hash. A row
 * pinned by SHA-256 is checked against it; a row pinned by FaceFusion's CRC-32 against the SHA-256
 * recorded at its first verified download (model-digest.ts), and is `unverified` until then.
 */

import { copyFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LiveswapError, invalidOption } from '../../core/errors.js';
import { MODEL_REGISTRY, type ModelEntry, type ModelRegistry } from '../../models/registry.js';
import { defaultHome } from './model-cache.js';
import { digestFile, expectedFile, readRecorded, writeRecorded, type RecordedModels } from './model-digest.js';
import type { ModelHashKind, ModelRole } from '../../models/model-spec.js';
import { writeAtomically } from '../files/output.js';

/** `unverified`: a CRC-32 row's file with no SHA-256 recorded for it (not pulled nor imported by liveswap). */
export const MODEL_STATES = ['installed', 'missing', 'damaged', 'unverified'] as const;
export type ModelState = (typeof MODEL_STATES)[number];

export interface ModelStatus {
  id: string;
  file: string;
  /** Where the file is, or would be once installed. */
  path: string;
  role: ModelRole;
  state: ModelState;
  /** Size on disk; null when missing. */
  bytes: number | null;
  /** The exact size: the row's, or the one recorded at a CRC-32 row's first download; null when neither is known. */
  expectedBytes: number | null;
  /** The size from listings, for a row whose exact size is not known. */
  approxBytes: number | null;
  /** How the row pins its file: its SHA-256, or FaceFusion's CRC-32 then the SHA-256 recorded at the first download. */
  hash: ModelHashKind;
  /** For a CRC-32 row: the SHA-256 recorded at its first verified download, if any. */
  recordedSha256: string | null;
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

/** How a row's file is recognised, for messages. */
export function describePin(entry: ModelEntry): string {
  if (entry.sha256 !== null) return `${entry.bytes ?? '?'} bytes, SHA-256 ${entry.sha256}`;
  return entry.crc32 ? `CRC-32 ${entry.crc32}` : "CRC-32 from FaceFusion's .hash file";
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

  /** The SHA-256s recorded at CRC-32 rows' first verified downloads, by file name. */
  recorded(): Promise<RecordedModels> {
    return readRecorded(this.folder);
  }

  private async statusOf(entry: ModelEntry, rehash: boolean, recorded: RecordedModels): Promise<ModelStatus> {
    const path = this.pathOf(entry);
    const expected = expectedFile(entry, recorded);
    const base = {
      id: entry.id,
      file: entry.file,
      path,
      role: entry.role,
      expectedBytes: expected.bytes ?? null,
      approxBytes: entry.approxBytes ?? null,
      hash: entry.hash,
      recordedSha256: entry.hash === 'crc32' ? (expected.sha256 ?? null) : null,
      licence: entry.licence,
      nonCommercial: entry.nonCommercial,
    };
    const info = await stat(path).catch(() => undefined);
    if (!info) return { ...base, state: 'missing', bytes: null };
    if (!info.isFile()) return { ...base, state: 'damaged', bytes: null, problem: 'not a file' };
    if (expected.sha256 === undefined) {
      return { ...base, state: 'unverified', bytes: info.size, problem: 'no SHA-256 recorded: not pulled by liveswap; pull it (checked by CRC-32) or import it' };
    }
    if (expected.bytes !== undefined && info.size !== expected.bytes) {
      return { ...base, state: 'damaged', bytes: info.size, problem: `${info.size} bytes, expected ${expected.bytes}` };
    }
    if (!rehash) return { ...base, state: 'installed', bytes: info.size };
    const { sha256 } = await digestFile(path);
    if (sha256 !== expected.sha256) return { ...base, state: 'damaged', bytes: info.size, sha256, problem: `SHA-256 ${sha256}, expected ${expected.sha256}` };
    return { ...base, state: 'installed', bytes: info.size, sha256 };
  }

  /** Quick status from file sizes (no hashing): installed, missing, unverified, or damaged (wrong size). */
  async status(ids: readonly string[] = []): Promise<ModelStatus[]> {
    const recorded = await this.recorded();
    return Promise.all(this.entries(ids).map((e) => this.statusOf(e, false, recorded)));
  }

  /** Status after re-hashing every present file: a file with the right size but other bytes is damaged. */
  async verify(ids: readonly string[] = []): Promise<ModelStatus[]> {
    const recorded = await this.recorded();
    const results: ModelStatus[] = [];
    for (const entry of this.entries(ids)) results.push(await this.statusOf(entry, true, recorded));
    return results;
  }

  /** Records the SHA-256 of a CRC-32 row's file, verified by its CRC-32, at its first download or import. */
  async record(entry: ModelEntry, digest: { bytes: number; sha256: string; crc32: string }, source: string): Promise<void> {
    await mkdir(this.folder, { recursive: true });
    await writeRecorded(this.folder, entry.file, { id: entry.id, ...digest, source, recordedAt: new Date().toISOString() });
  }

  /**
   * Installs files the user already has, recognised whatever their names: by SHA-256 (the row's, or
   * one recorded earlier), or, for a CRC-32 row whose CRC-32 the table holds, by that CRC-32 (its
   * SHA-256 is then recorded). Every file is identified before any is copied; an unknown file is an
   * error that lists the expected files.
   */
  async importFiles(paths: readonly string[]): Promise<ImportResult[]> {
    const recorded = await this.recorded();
    const found: { entry: ModelEntry; from: string; bytes: number; digest: { bytes: number; sha256: string; crc32: string } }[] = [];
    const entries = Object.values(this.registry);
    for (const from of paths) {
      const info = await stat(from).catch((cause: unknown) => {
        throw new LiveswapError('input-missing', `Cannot import ${from}: no such file.`, { file: from, cause });
      });
      if (!info.isFile()) throw new LiveswapError('input-unreadable', `Cannot import ${from}: it is not a file.`, { file: from });
      const sizeFits = (e: ModelEntry): boolean => {
        const bytes = expectedFile(e, recorded).bytes;
        return bytes === undefined || bytes === info.size;
      };
      const candidates = entries.filter(sizeFits);
      const digest = candidates.length > 0 ? await digestFile(from) : undefined;
      const entry =
        candidates.find((e) => digest !== undefined && expectedFile(e, recorded).sha256 === digest.sha256) ??
        candidates.find((e) => digest !== undefined && e.hash === 'crc32' && e.crc32 === digest.crc32);
      if (!entry || !digest) {
        const expected = entries.map((e) => `${e.file} (${e.id}, ${describePin(e)})`);
        const what = digest ? `SHA-256 ${digest.sha256}` : `${info.size} bytes`;
        const crc = digest ? ` Its CRC-32 is ${digest.crc32}.` : '';
        throw new LiveswapError(
          'input-unsupported',
          `Cannot import ${from}: it is not a known model file (${what}).${crc} Expected one of: ${expected.join('; ')}. ` +
            'A file pinned by CRC-32 whose CRC-32 the table does not hold can only be pulled (the CRC-32 comes with the download).',
          { file: from },
        );
      }
      found.push({ entry, from, bytes: info.size, digest });
    }
    await mkdir(this.folder, { recursive: true });
    const results: ImportResult[] = [];
    for (const { entry, from, bytes, digest } of found) {
      const path = this.pathOf(entry);
      await writeAtomically(path, (temporary) => copyFile(from, temporary));
      if (entry.hash === 'crc32') await this.record(entry, digest, from);
      results.push({ id: entry.id, file: entry.file, from, path, bytes });
    }
    return results;
  }
}
