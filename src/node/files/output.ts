/**
 * Output files that are never seen half-written: everything is written under a temporary name in
 * the destination folder and renamed over the real name only once complete. Temporary names carry
 * a fixed prefix and the writer's pid, so a later run can tell a stale one (its writer is dead, e.g.
 * killed with SIGKILL) from one still being written, and a dying run can remove its own.
 */

import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { access, constants, mkdtemp, open, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { LiveswapError } from '../../core/errors.js';

type ErrnoError = NodeJS.ErrnoException;

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as ErrnoError).code : undefined;
}

/** `.liveswap.partial-<pid>-<8 hex>.<output name>`: hidden, in the output's folder, ending in the output's extension. */
const TEMPORARY_FILE = /^\.liveswap\.partial-(\d+)-[0-9a-f]{8}\.(.+)$/;
/** `liveswap-<pid>-<purpose>-XXXXXX` in the temp folder (mkdtemp adds the six characters). */
const TEMPORARY_FOLDER = /^liveswap-(\d+)-[a-z]+-[A-Za-z0-9]{6}$/;

/** Folders this process has made temporaries in, for {@link removeOwnTemporaries}. */
const foldersInUse = new Set<string>();

/**
 * The file the user asked for, given either it or one of its temporaries: what every message
 * names, since the hidden temporary means nothing to the user.
 */
export function outputPathOf(path: string): string {
  const match = TEMPORARY_FILE.exec(basename(path));
  return match ? join(dirname(path), match[2]!) : path;
}

function isTemporaryPath(path: string): boolean {
  return TEMPORARY_FILE.test(basename(path));
}

/** Turns a failed write into an `output` error that says what went wrong and what to do. */
export function outputError(written: string, cause: unknown): LiveswapError {
  if (cause instanceof LiveswapError) return cause;
  const path = outputPathOf(written);
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

/**
 * Same temporary-name scheme everywhere: hidden, in the same folder, keeping the extension. Given a
 * temporary name, it makes another one for the same output, never a temporary of a temporary.
 */
export function temporaryPathFor(path: string): string {
  const output = outputPathOf(path);
  const folder = dirname(output);
  foldersInUse.add(resolve(folder));
  return join(folder, `.liveswap.partial-${process.pid}-${randomBytes(4).toString('hex')}.${basename(output)}`);
}

/**
 * Runs `write(temporaryPath)` and renames its result onto `path`. On any failure the temporary
 * file is removed and an existing file at `path` is left untouched. Video writers (ffmpeg) can use
 * this directly: the temporary name keeps the extension, so the container is chosen from it. When
 * `path` is itself a temporary (a caller that publishes it later), it is written in place: the
 * caller's rename is the atomic step, and a second temporary would only be one more file to leave.
 */
export async function writeAtomically(path: string, write: (temporaryPath: string) => Promise<void>): Promise<void> {
  const inPlace = isTemporaryPath(path);
  const temporary = inPlace ? path : temporaryPathFor(path);
  try {
    await write(temporary);
    if (!inPlace) await rename(temporary, path);
  } catch (cause) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw outputError(path, cause);
  }
}

/** Whether `pid` names a running process (one of another user's counts as running). */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

function pidOfTemporary(name: string): number | undefined {
  const match = TEMPORARY_FILE.exec(name) ?? TEMPORARY_FOLDER.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * Removes liveswap temporaries in `folder` (default: the temp folder) whose writer is no longer
 * running: what a run killed with SIGKILL, or a machine that lost power, left behind. Only names of
 * the scheme above are touched, and never one whose pid is alive. Never throws: this is tidying.
 */
export async function removeStaleTemporaries(folder: string = tmpdir()): Promise<string[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const pid = pidOfTemporary(name);
    if (pid === undefined || processAlive(pid)) continue;
    const path = join(folder, name);
    try {
      await rm(path, { recursive: TEMPORARY_FOLDER.test(name), force: true });
      removed.push(path);
    } catch {
      // Another run removing it at the same moment, or no permission: leave it.
    }
  }
  return removed;
}

/**
 * Removes, synchronously, every temporary this process made that is still there: for a process
 * about to exit without unwinding (a second Ctrl-C), where no `finally` will run.
 */
export function removeOwnTemporaries(): void {
  const mine = (name: string): boolean => pidOfTemporary(name) === process.pid;
  for (const folder of [...foldersInUse, tmpdir()]) {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names.filter(mine)) {
      try {
        rmSync(join(folder, name), { recursive: true, force: true });
      } catch {
        // Best effort: the process is on its way out.
      }
    }
  }
}

/** A private folder in the temp folder for `purpose` (letters only), named so stale ones can be told apart. */
export async function createTemporaryFolder(purpose: string): Promise<string> {
  await removeStaleTemporaries();
  return mkdtemp(join(tmpdir(), `liveswap-${process.pid}-${purpose}-`));
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
export async function checkOutputPath(written: string, options: { inputs?: readonly string[] } = {}): Promise<void> {
  const path = outputPathOf(written);
  const folder = dirname(resolve(path));
  const folderStat = await stat(folder).catch((cause: unknown) => {
    throw outputError(path, cause);
  });
  if (!folderStat.isDirectory()) {
    throw new LiveswapError('output', `Cannot write ${path}: ${folder} is not a folder.`, { file: path });
  }
  await removeStaleTemporaries(folder);
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
