/**
 * A lock file that serialises a short critical section across processes: created with O_EXCL
 * beside what it guards, holding the owner's pid and time, removed when done. A lock older than
 * its stale age (a process killed while holding it) is taken over; waiting is bounded and ends
 * in an error that names the lock file.
 */

import { open, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LiveswapError } from '../../core/errors.js';

export interface LockOptions {
  /** A lock file older than this is taken to be left by a dead process; default 10 s. */
  staleMs?: number;
  /** How long to wait for the lock before giving up; default 15 s. */
  timeoutMs?: number;
  /** Words for the error message: what the lock guards (e.g. "the audit log"). */
  what?: string;
}

export const DEFAULT_LOCK_STALE_MS = 10_000;
export const DEFAULT_LOCK_TIMEOUT_MS = 15_000;

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Tries once to create the lock; true when this process now holds it. */
async function tryCreate(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(`${process.pid} ${new Date().toISOString()}\n`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  }
}

/** Removes the lock when it is older than `staleMs`; true when it was (or is already) gone. */
async function removeIfStale(path: string, staleMs: number): Promise<boolean> {
  const info = await stat(path).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  });
  if (info === undefined) return true;
  if (Date.now() - info.mtimeMs < staleMs) return false;
  await rm(path, { force: true });
  return true;
}

/**
 * Runs `work` while holding the lock file `path`. Waits (with growing pauses, at most
 * `timeoutMs`) while another process holds it; takes over a lock older than `staleMs`.
 */
export async function withLockFile<T>(path: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const staleMs = options.staleMs ?? DEFAULT_LOCK_STALE_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let pause = 2;
  for (;;) {
    let held: boolean;
    try {
      held = await tryCreate(path);
    } catch (cause) {
      throw new LiveswapError('output', `Cannot create the lock file ${path}${options.what ? ` for ${options.what}` : ''}: ${(cause as Error).message}.`, { file: path, cause });
    }
    if (held) break;
    if (await removeIfStale(path, staleMs)) continue;
    if (Date.now() >= deadline) {
      throw new LiveswapError(
        'output',
        `Gave up waiting ${Math.round(timeoutMs / 1000)} s for the lock file ${path}${options.what ? ` (${options.what})` : ''}: another liveswap process holds it. If none is running, remove the file.`,
        { file: path },
      );
    }
    await sleep(pause + Math.random() * pause);
    pause = Math.min(50, pause * 2);
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true }).catch(() => undefined);
  }
}
