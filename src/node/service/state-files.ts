/**
 * Where the service keeps its state under LIVESWAP_HOME, and how it writes it: private files
 * (mode 0600 in a 0700 folder) replaced atomically (a temporary beside the file, flushed, then
 * renamed), so a crash leaves the old file or the new one, never half of one.
 */

import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LiveswapError } from '../../core/errors.js';

/** `<home>/service`: tokens, usage, consents, identities and protected faces. */
export function serviceDir(home: string): string {
  return join(home, 'service');
}

/** Makes the folder (and its parents) private to the user. */
export async function ensurePrivateDir(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new LiveswapError('output', `Cannot make the folder ${path}: ${(cause as Error).message}. Set LIVESWAP_HOME to a writable folder.`, { file: path, cause });
  }
}

/** Writes `bytes` to `path` atomically with mode 0600; the folder must exist. */
export async function writePrivateFile(path: string, bytes: string | Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new LiveswapError('output', `Cannot write ${path}: ${(cause as Error).message}. Set LIVESWAP_HOME to a writable folder.`, { file: path, cause });
  }
}

/** Writes a value as pretty JSON, atomically, mode 0600. */
export async function writePrivateJson(path: string, value: unknown): Promise<void> {
  await writePrivateFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Reads a JSON file; undefined when there is none. A file that is not JSON is damage the user must
 * look at (`input-unreadable`, naming it): replacing it silently could lose tokens or counters.
 */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LiveswapError('input-unreadable', `Cannot read ${path}: ${(cause as Error).message}.`, { file: path, cause });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new LiveswapError('input-unreadable', `${path} is damaged (not JSON: ${(cause as Error).message}). Move it away to start afresh, or restore it from a backup.`, {
      file: path,
      cause,
    });
  }
}

/** What changes when another process rewrites a file (inode, size, mtime), or 'none' when it is missing: stores re-read on a change. */
export function fileSignature(path: string): string {
  try {
    const info = statSync(path);
    return `${info.ino}:${info.size}:${info.mtimeMs}`;
  } catch {
    return 'none';
  }
}
