/**
 * Output files that are never seen half-written: everything is written under a temporary name in
 * the destination folder and renamed over the real name only once complete.
 */

import { randomBytes } from 'node:crypto';
import { access, constants, open, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { LiveswapError } from '../../core/errors.js';

type ErrnoError = NodeJS.ErrnoException;

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as ErrnoError).code : undefined;
}

/** Turns a failed write into an `output` error that says what went wrong and what to do. */
export function outputError(path: string, cause: unknown): LiveswapError {
  if (cause instanceof LiveswapError) return cause;
  const where = dirname(resolve(path));
  const code = errnoCode(cause);
  let message: string;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      message = `Cannot write ${path}: the folder ${where} does not exist. Create it first or choose another output path.`;
      break;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      message = `Cannot write ${path}: the folder ${where} is not writable. Choose another output folder.`;
      break;
    case 'ENOSPC':
      message = `Cannot write ${path}: the disk is full. Free some space or write elsewhere.`;
      break;
    case 'EDQUOT':
      message = `Cannot write ${path}: the disk quota is used up. Free some space or write elsewhere.`;
      break;
    case 'EISDIR':
      message = `Cannot write ${path}: it is a folder. Give a file name such as ${join(path, 'out.jpg')}.`;
      break;
    default: {
      const detail = cause instanceof Error ? cause.message : String(cause);
      message = `Cannot write ${path}: ${detail}`;
    }
  }
  return new LiveswapError('output', message, { file: path, cause });
}

/** Same temporary-name scheme everywhere: hidden, in the same folder, keeping the extension. */
export function temporaryPathFor(path: string): string {
  const ext = extname(path);
  const stem = basename(path, ext);
  return join(dirname(path), `.${stem}.partial-${process.pid}-${randomBytes(4).toString('hex')}${ext}`);
}

/**
 * Runs `write(temporaryPath)` and renames its result onto `path`. On any failure the temporary
 * file is removed and an existing file at `path` is left untouched. Video writers (ffmpeg) can use
 * this directly: the temporary name keeps the extension, so the container is chosen from it.
 */
export async function writeAtomically(path: string, write: (temporaryPath: string) => Promise<void>): Promise<void> {
  const temporary = temporaryPathFor(path);
  try {
    await write(temporary);
    await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw outputError(path, cause);
  }
}

/** Writes bytes atomically; the data is flushed to disk before the rename. */
export async function writeFileAtomically(path: string, bytes: Uint8Array): Promise<void> {
  await writeAtomically(path, async (temporary) => {
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

/** Real path of a file that may not exist yet: its folder's real path plus its name. */
async function realPathOfTarget(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    return await realpath(absolute);
  } catch {
    try {
      return join(await realpath(dirname(absolute)), basename(absolute));
    } catch {
      return absolute;
    }
  }
}

async function sameFile(a: string, b: string): Promise<boolean> {
  if ((await realPathOfTarget(a)) === (await realPathOfTarget(b))) return true;
  // Hard links have different paths but one inode.
  const [sa, sb] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
  return sa !== undefined && sb !== undefined && sa.dev === sb.dev && sa.ino === sb.ino;
}

/**
 * Checks, before any expensive work, that `path` can be written: its folder exists and is
 * writable, it is not a folder itself, and it is not one of the inputs (which it would overwrite).
 */
export async function checkOutputPath(path: string, options: { inputs?: readonly string[] } = {}): Promise<void> {
  const folder = dirname(resolve(path));
  const folderStat = await stat(folder).catch((cause: unknown) => {
    throw outputError(path, cause);
  });
  if (!folderStat.isDirectory()) {
    throw new LiveswapError('output', `Cannot write ${path}: ${folder} is not a folder.`, { file: path });
  }
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw outputError(path, Object.assign(new Error('is a folder'), { code: 'EISDIR' }));
  try {
    await access(folder, constants.W_OK);
    if (existing) await access(path, constants.W_OK);
  } catch (cause) {
    const code = errnoCode(cause);
    if (existing && code !== 'ENOENT') {
      throw new LiveswapError('output', `Cannot write ${path}: the file exists and is read-only. Choose another output path.`, { file: path, cause });
    }
    throw outputError(path, cause);
  }
  for (const input of options.inputs ?? []) {
    if (await sameFile(path, input)) {
      throw new LiveswapError('output', `The output ${path} is the same file as the input ${input}; writing it would destroy the input. Choose another output path.`, {
        file: path,
      });
    }
  }
}
