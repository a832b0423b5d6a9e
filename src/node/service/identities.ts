/**
 * Source identities of the HTTP API: the photos a caller uploaded (already checked and analysed by
 * the API) and a `record.json`, under `<home>/service/identities/<id>/`. An identity is written in
 * a hidden folder and renamed into place whole; deleting one removes its photos and record (the
 * consent record, hashes only, stays). A damaged record is skipped and reported, never a crash.
 */

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import { ensurePrivateDir, serviceDir, writePrivateJson } from './state-files.js';
import type { IdentityRecord, IdentityStore } from './types.js';

/** `i_` and 22 URL-safe characters (128 random bits). */
const IDENTITY_ID = /^i_[A-Za-z0-9_-]{22}$/;
const PHOTO_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp'] as const;

export function identitiesDir(home: string): string {
  return join(serviceDir(home), 'identities');
}

export function newIdentityId(): string {
  return `i_${randomBytes(16).toString('base64url')}`;
}

/** Whether `id` has the form of an identity id (anything else never reaches the file system). */
export function isIdentityId(id: string): boolean {
  return IDENTITY_ID.test(id);
}

/** A record that is not readable, with why. */
export interface DamagedIdentity {
  path: string;
  reason: string;
}

function checkRecord(value: unknown, id: string, dir: string): IdentityRecord {
  const r = value as Partial<IdentityRecord> | null;
  if (typeof r !== 'object' || r === null) throw new Error('not a JSON object');
  if (r.id !== id) throw new Error(`its id ${JSON.stringify(r.id)} is not the folder's name`);
  if (typeof r.tokenId !== 'string' || typeof r.consentId !== 'string' || typeof r.createdAt !== 'string') throw new Error('tokenId, consentId or createdAt is missing');
  if (!Array.isArray(r.faces) || !Array.isArray(r.sourceSha256) || !Array.isArray(r.photos)) throw new Error('faces, sourceSha256 or photos is missing');
  if (r.photos.length !== r.sourceSha256.length) throw new Error('photos and sourceSha256 differ in length');
  // The photos are always in the identity's own folder, wherever LIVESWAP_HOME has moved since.
  return {
    id,
    tokenId: r.tokenId,
    consentId: r.consentId,
    createdAt: r.createdAt,
    faces: r.faces.map(Number),
    sourceSha256: r.sourceSha256.map(String),
    photos: r.photos.map((p) => join(dir, basename(String(p)))),
  };
}

/** Identities under one home. `onDamaged` hears of each record that could not be read (default: ignored). */
export class FileIdentityStore implements IdentityStore {
  private constructor(
    readonly root: string,
    private readonly onDamaged: (damaged: DamagedIdentity) => void,
  ) {}

  static async open(home: string, options: { onDamaged?: (damaged: DamagedIdentity) => void } = {}): Promise<FileIdentityStore> {
    const root = identitiesDir(home);
    await ensurePrivateDir(root);
    return new FileIdentityStore(root, options.onDamaged ?? (() => undefined));
  }

  async create(fields: {
    tokenId: string;
    consentId: string;
    faces: number[];
    photos: readonly { bytes: Uint8Array; sha256: string; extension: string }[];
  }): Promise<IdentityRecord> {
    if (fields.photos.length === 0) throw new LiveswapError('usage', 'An identity needs at least one photo.');
    const id = newIdentityId();
    const dir = join(this.root, id);
    const staging = join(this.root, `.${id}.partial`);
    const names = fields.photos.map((photo, i) => {
      const extension = photo.extension.replace(/^\./, '').toLowerCase();
      if (!(PHOTO_EXTENSIONS as readonly string[]).includes(extension))
        throw new LiveswapError('input-unsupported', `A source photo must be ${PHOTO_EXTENSIONS.join(', ')}, not .${extension}.`);
      if (!/^[0-9a-f]{64}$/.test(photo.sha256)) throw new LiveswapError('internal', `A source photo's SHA-256 must be hex, not ${JSON.stringify(photo.sha256)}.`);
      return `photo-${i + 1}.${extension}`;
    });
    const record: IdentityRecord = {
      id,
      tokenId: fields.tokenId,
      consentId: fields.consentId,
      createdAt: new Date().toISOString(),
      faces: [...fields.faces],
      sourceSha256: fields.photos.map((p) => p.sha256),
      photos: names.map((name) => join(dir, name)),
    };
    try {
      await mkdir(staging, { mode: 0o700 });
      for (const [i, photo] of fields.photos.entries()) await writeFile(join(staging, names[i]!), photo.bytes, { mode: 0o600, flag: 'wx' });
      await writePrivateJson(join(staging, 'record.json'), record);
      await rename(staging, dir);
    } catch (cause) {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      if (cause instanceof LiveswapError) throw cause;
      throw new LiveswapError('output', `Cannot store the identity under ${this.root}: ${(cause as Error).message}.`, { file: dir, cause });
    }
    return record;
  }

  /** Reads one record; damaged → reported and undefined. */
  private async read(id: string): Promise<IdentityRecord | undefined> {
    const dir = join(this.root, id);
    const path = join(dir, 'record.json');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      this.onDamaged({ path, reason: (cause as Error).message });
      return undefined;
    }
    try {
      return checkRecord(JSON.parse(text), id, dir);
    } catch (cause) {
      this.onDamaged({ path, reason: (cause as Error).message });
      return undefined;
    }
  }

  async get(id: string): Promise<IdentityRecord | undefined> {
    return isIdentityId(id) ? this.read(id) : undefined;
  }

  /** Every readable identity (of `tokenId` when given), oldest first; damaged ones are reported and left out. */
  async list(tokenId?: string): Promise<IdentityRecord[]> {
    return (await this.scan(tokenId)).identities;
  }

  /** Like {@link list}, with the damaged records named. */
  async scan(tokenId?: string): Promise<{ identities: IdentityRecord[]; damaged: DamagedIdentity[] }> {
    const names = await readdir(this.root).catch((cause: NodeJS.ErrnoException) => {
      if (cause.code === 'ENOENT') return [] as string[];
      throw new LiveswapError('input-unreadable', `Cannot read ${this.root}: ${cause.message}.`, { file: this.root, cause });
    });
    const damaged: DamagedIdentity[] = [];
    const report = this.onDamaged;
    const collecting = new FileIdentityStore(this.root, (d) => {
      damaged.push(d);
      report(d);
    });
    const identities: IdentityRecord[] = [];
    for (const name of names.filter(isIdentityId)) {
      const record = await collecting.read(name);
      if (record && (tokenId === undefined || record.tokenId === tokenId)) identities.push(record);
    }
    identities.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    return { identities, damaged };
  }

  async delete(id: string): Promise<boolean> {
    if (!isIdentityId(id)) return false;
    const dir = join(this.root, id);
    const doomed = join(this.root, `.${id}.deleting-${randomBytes(4).toString('hex')}`);
    try {
      await rename(dir, doomed);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new LiveswapError('output', `Cannot delete the identity ${id}: ${(cause as Error).message}.`, { file: dir, cause });
    }
    await rm(doomed, { recursive: true, force: true });
    return true;
  }
}
