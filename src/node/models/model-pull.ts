/**
 * `models pull`: fetches each missing model from its sources in priority order, a plain file or
 * one member of a zip pack, checks it and only then renames the file into place. A row pinned by
 * SHA-256 is checked against it; a row pinned by FaceFusion's CRC-32 against the table's CRC-32 or
 * the source's `.hash` sidecar, and its SHA-256 is then recorded for every later check.
 */

import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import type { ModelEntry, ModelSource } from '../../models/registry.js';
import { downloadResumable, DownloadFailure, type DownloadOptions } from './model-download.js';
import { ensureLicencesAccepted, type LicenceGateOptions } from './model-licence.js';
import { digestFile, expectedFile, parseCrc32Sidecar } from './model-digest.js';
import type { ModelStore } from './model-store.js';
import { extractZipMember } from './model-zip.js';

export const PULL_PHASES = ['download', 'extract', 'verify'] as const;
export type PullPhase = (typeof PULL_PHASES)[number];

export interface PullProgress {
  id: string;
  phase: PullPhase;
  /** The URL being fetched (or whose file is being extracted or hashed). */
  url: string;
  receivedBytes: number;
  totalBytes: number | undefined;
}

export interface PullOptions extends LicenceGateOptions, Pick<DownloadOptions, 'attempts' | 'backoffMs' | 'stallTimeoutMs'> {
  onProgress?: (progress: PullProgress) => void;
}

export interface PullResult {
  id: string;
  file: string;
  path: string;
  bytes: number;
  /** The URL it came from; null when it was already installed. */
  source: string | null;
  alreadyInstalled: boolean;
}

interface Attempt {
  url: string;
  what: string;
}

/** In-flight names depend on the URL, so a partial file is only ever resumed from where it began. */
function partialName(url: string, suffix: string): string {
  const tag = createHash('sha256').update(url).digest('hex').slice(0, 8);
  const name = basename(new URL(url).pathname) || 'download';
  return `${name}-${tag}${suffix}`;
}

class Puller {
  /** Zip packs downloaded completely during this pull, by URL, shared by the entries they hold. */
  private readonly packs = new Map<string, string>();
  private readonly downloads: string;

  constructor(
    private readonly store: ModelStore,
    private readonly options: PullOptions,
  ) {
    this.downloads = join(store.folder, '.downloads');
  }

  private downloadOptions(id: string, phase: PullPhase, expectedBytes?: number): DownloadOptions {
    const { attempts, backoffMs, stallTimeoutMs, onProgress } = this.options;
    return {
      attempts,
      backoffMs,
      stallTimeoutMs,
      expectedBytes,
      onProgress: onProgress && ((p) => onProgress({ id, phase, ...p })),
    };
  }

  /**
   * Hashes `candidate` and renames it onto the entry's path, or deletes it and throws. `crc32`: the
   * CRC-32 a CRC-32 row's file must have (the table's, else the source's sidecar).
   */
  private async install(entry: ModelEntry, candidate: string, url: string, crc32?: string): Promise<void> {
    const report = this.options.onProgress;
    const totalBytes = entry.bytes ?? entry.approxBytes;
    const digest = await digestFile(candidate, report && ((n) => report({ id: entry.id, phase: 'verify', url, receivedBytes: n, totalBytes })));
    const refuse = async (what: string): Promise<never> => {
      await rm(candidate, { force: true });
      throw new DownloadFailure(what, false);
    };
    if (entry.sha256 !== null) {
      if (digest.sha256 !== entry.sha256) await refuse(`SHA-256 mismatch: got ${digest.sha256}, expected ${entry.sha256}`);
    } else {
      if (crc32 === undefined) await refuse('no CRC-32 to check it against (the table holds none and the source has no .hash file)');
      if (digest.crc32 !== crc32) await refuse(`CRC-32 mismatch: got ${digest.crc32}, expected ${crc32}`);
      // A SHA-256 recorded at an earlier download (the file since deleted) still holds.
      const earlier = expectedFile(entry, await this.store.recorded());
      if (earlier.sha256 !== undefined && earlier.sha256 !== digest.sha256) {
        await refuse(`SHA-256 ${digest.sha256} differs from the ${earlier.sha256} recorded at this model's first download; the file changed upstream`);
      }
    }
    await rename(candidate, this.store.pathOf(entry));
    if (entry.hash === 'crc32') await this.store.record(entry, digest, url);
  }

  /** The CRC-32 a CRC-32 row's download must have: the table's, else the source's `.hash` file (fetched, 8 hex digits). */
  private async expectedCrc32(entry: ModelEntry, source: ModelSource): Promise<string | undefined> {
    if (entry.sha256 !== null) return undefined;
    if (entry.crc32 !== undefined) return entry.crc32;
    if (source.kind !== 'file' || source.hashUrl === undefined) return undefined;
    const sidecar = join(this.downloads, partialName(source.hashUrl, '.partial'));
    await rm(sidecar, { force: true });
    await downloadResumable(source.hashUrl, sidecar, this.downloadOptions(entry.id, 'download'));
    const text = await readFile(sidecar, 'utf8');
    await rm(sidecar, { force: true });
    const crc = parseCrc32Sidecar(text);
    if (crc === undefined) throw new DownloadFailure(`${source.hashUrl} is not a CRC-32 .hash file (8 hex digits)`, false);
    return crc;
  }

  private async fromFile(entry: ModelEntry, source: ModelSource & { kind: 'file' }): Promise<void> {
    // The sidecar first: a source without one is not worth a large download.
    const crc32 = await this.expectedCrc32(entry, source);
    const partial = join(this.downloads, partialName(source.url, '.partial'));
    await downloadResumable(source.url, partial, this.downloadOptions(entry.id, 'download', entry.bytes ?? undefined));
    await this.install(entry, partial, source.url, crc32);
  }

  private async pack(id: string, url: string): Promise<string> {
    const done = this.packs.get(url);
    if (done) return done;
    const partial = join(this.downloads, partialName(url, '.partial'));
    await downloadResumable(url, partial, this.downloadOptions(id, 'download'));
    const complete = join(this.downloads, partialName(url, ''));
    await rename(partial, complete);
    this.packs.set(url, complete);
    return complete;
  }

  private async fromZip(entry: ModelEntry, url: string, member: string): Promise<void> {
    const pack = await this.pack(entry.id, url);
    const extracted = join(this.downloads, `${entry.file}.extract-${process.pid}`);
    this.options.onProgress?.({ id: entry.id, phase: 'extract', url, receivedBytes: 0, totalBytes: entry.bytes ?? entry.approxBytes });
    try {
      await extractZipMember(pack, member, extracted);
    } catch (error) {
      await rm(extracted, { force: true });
      throw new DownloadFailure(`cannot extract ${member}: ${(error as Error).message}`, false, error);
    }
    try {
      await this.install(entry, extracted, url);
    } catch (error) {
      // A pack whose member has the wrong bytes is the wrong pack: do not extract from it again.
      this.packs.delete(url);
      await rm(pack, { force: true });
      throw error;
    }
  }

  private async fetchFrom(entry: ModelEntry, source: ModelSource): Promise<void> {
    if (source.kind === 'zip') await this.fromZip(entry, source.url, source.member);
    else await this.fromFile(entry, source);
  }

  /** Tries each usable source in order; returns the URL that worked, or the list of what failed. */
  async pullOne(entry: ModelEntry): Promise<{ url: string } | { failed: Attempt[] }> {
    const failed: Attempt[] = [];
    for (const source of entry.sources.filter((s) => s.usable)) {
      try {
        await this.fetchFrom(entry, source);
        return { url: source.url };
      } catch (error) {
        if (!(error instanceof DownloadFailure)) throw error;
        failed.push({ url: source.url, what: error.detail });
      }
    }
    return { failed };
  }

  /** Complete packs are deleted once the pull is over; only unfinished downloads are kept, to resume. */
  async cleanUp(): Promise<void> {
    await Promise.all([...this.packs.values()].map((p) => rm(p, { force: true })));
  }

  async prepare(): Promise<void> {
    await mkdir(this.downloads, { recursive: true });
  }
}

function failureMessage(entry: ModelEntry, failed: readonly Attempt[]): string {
  const tried = failed.length > 0 ? failed.map((f) => `\n  ${f.url}: ${f.what}`).join('') : '\n  (no usable download source)';
  return `Could not download ${entry.id} (${entry.file}); tried:${tried}`;
}

/**
 * Installs `entries` that are not installed yet (a present, valid file is kept). Licences are
 * checked first. Every entry is tried even when one fails; the error then names each failure.
 */
export async function pullModels(store: ModelStore, entries: readonly ModelEntry[], options: PullOptions): Promise<PullResult[]> {
  const current = await store.verify(entries.map((e) => e.id));
  const wanted = entries.filter((_, i) => current[i]!.state !== 'installed');
  await ensureLicencesAccepted(store.home, wanted, options);
  const puller = new Puller(store, options);
  const results: PullResult[] = [];
  const problems: string[] = [];
  try {
    if (wanted.length > 0) await puller.prepare();
    for (const entry of entries) {
      const path = store.pathOf(entry);
      if (!wanted.includes(entry)) {
        const bytes = current[entries.indexOf(entry)]!.bytes ?? 0;
        results.push({ id: entry.id, file: entry.file, path, bytes, source: null, alreadyInstalled: true });
        continue;
      }
      const outcome = await puller.pullOne(entry);
      if ('url' in outcome) {
        const bytes = (await stat(path)).size;
        results.push({ id: entry.id, file: entry.file, path, bytes, source: outcome.url, alreadyInstalled: false });
      } else problems.push(failureMessage(entry, outcome.failed));
    }
  } finally {
    await puller.cleanUp();
  }
  if (problems.length > 0) {
    const files = entries
      .filter((e) => !results.some((r) => r.id === e.id))
      .map((e) => e.file)
      .join(', ');
    throw new LiveswapError(
      'model',
      `${problems.join('\n')}\nIf you have the file (${files}) from elsewhere, install it with \`liveswap models import FILE\`; it is recognised by its SHA-256 (or the CRC-32 the table holds).`,
    );
  }
  return results;
}
