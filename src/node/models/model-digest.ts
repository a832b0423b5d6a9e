/**
 * What pins a downloaded model: FaceFusion's CRC-32 (`.hash` sidecars hold the zlib CRC-32 of the
 * whole file as 8 lowercase hex digits, spec §11.3) and the SHA-256, both from one streamed read,
 * and the record of SHA-256s taken at a CRC-32 row's first verified download
 * (`models/.recorded.json`), which later checks use in place of a SHA-256 the table cannot hold.
 */

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DownloadModelSpec } from '../../models/model-spec.js';
import { writeFileAtomically } from '../files/output.js';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** zlib's CRC-32 continued over `bytes` (start with 0). */
export function crc32Update(crc: number, bytes: Uint8Array): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** 8 lowercase hex digits, as FaceFusion's `.hash` files hold a CRC-32. */
export function crc32Hex(crc: number): string {
  return crc.toString(16).padStart(8, '0');
}

export interface FileDigest {
  bytes: number;
  sha256: string;
  crc32: string;
}

/** SHA-256 and CRC-32 of a file in one streamed read; `onBytes` hears the running byte count. */
export async function digestFile(path: string, onBytes?: (bytes: number) => void): Promise<FileDigest> {
  const hash = createHash('sha256');
  let crc = 0;
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buffer = chunk as Buffer;
    hash.update(buffer);
    crc = crc32Update(crc, buffer);
    bytes += buffer.length;
    onBytes?.(bytes);
  }
  return { bytes, sha256: hash.digest('hex'), crc32: crc32Hex(crc) };
}

/** The contents of a `.hash` sidecar, or undefined when it is not 8 hex digits. */
export function parseCrc32Sidecar(text: string): string | undefined {
  const value = text.trim().toLowerCase();
  return /^[0-9a-f]{8}$/.test(value) ? value : undefined;
}

/** One CRC-32 row's first verified download. */
export interface RecordedModel {
  id: string;
  bytes: number;
  sha256: string;
  crc32: string;
  /** The URL it came from, or the file it was imported from. */
  source: string;
  /** ISO 8601. */
  recordedAt: string;
}

/** Recorded models by installed file name. */
export type RecordedModels = Record<string, RecordedModel>;

const RECORD_FILE = '.recorded.json';

export function recordPath(folder: string): string {
  return join(folder, RECORD_FILE);
}

/** The records in the models folder; an unreadable file counts as none (CRC-32 rows then read as unverified). */
export async function readRecorded(folder: string): Promise<RecordedModels> {
  const text = await readFile(recordPath(folder), 'utf8').catch(() => undefined);
  if (text === undefined) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return {};
    const out: RecordedModels = {};
    for (const [file, r] of Object.entries(parsed as Record<string, Partial<RecordedModel>>)) {
      if (typeof r?.sha256 === 'string' && typeof r.bytes === 'number' && typeof r.id === 'string') out[file] = r as RecordedModel;
    }
    return out;
  } catch {
    return {};
  }
}

/** Adds (or replaces) the record of `file`. */
export async function writeRecorded(folder: string, file: string, record: RecordedModel): Promise<void> {
  const all = await readRecorded(folder);
  all[file] = record;
  await writeFileAtomically(recordPath(folder), new TextEncoder().encode(`${JSON.stringify(all, null, 2)}\n`));
}

/** What the installed file must be: the row's SHA-256 and size, else those recorded at its first verified download. */
export interface ExpectedFile {
  sha256: string | undefined;
  bytes: number | undefined;
}

export function expectedFile(entry: DownloadModelSpec, recorded: RecordedModels): ExpectedFile {
  const record = recorded[entry.file];
  const fromRecord = record && record.id === entry.id ? record : undefined;
  return { sha256: entry.sha256 ?? fromRecord?.sha256, bytes: entry.bytes ?? fromRecord?.bytes };
}
