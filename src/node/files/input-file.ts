/**
 * The one way liveswap reads a file the user named (photos, videos, face maps, keys, certificates):
 * `stat` first, never `open`, so a FIFO, a socket, a device (/dev/zero) or a folder is refused at
 * once instead of blocking in open() or reading without end; then a size cap from that stat; then
 * reads bounded by the size the stat gave, never "until EOF", so a file that grows meanwhile
 * cannot make a read run on.
 *
 * Errors: `input-missing` (no such file), `input-unreadable` (not a regular file, no permission,
 * empty), `input-too-large` (over the caller's cap).
 */

import { constants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { LiveswapError } from '../../core/errors.js';

export const KIB = 1024;
export const MIB = 1024 * KIB;
export const GIB = 1024 * MIB;

export interface InputFileOptions {
  /** Refuse a file larger than this many bytes (`input-too-large`), checked from the stat before any read. */
  maxBytes?: number;
  /** Added to the too-large message: what to do about it. */
  tooLargeHint?: string;
  /** Added to the not-found message instead of "Check the path." */
  missingHint?: string;
  /** Accept an empty file (default: refused as `input-unreadable`). */
  allowEmpty?: boolean;
}

/**
 * What the file is to the user, for messages: "image" and "video" name the path alone (as every
 * message about a target always has); other roles name it ("the face map map.json").
 */
export type InputRole = 'image' | 'video' | (string & {});

function label(path: string, role: InputRole): string {
  return role === 'image' || role === 'video' ? path : `the ${role} ${path}`;
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}

/** What a non-regular file is, in words ("a FIFO (named pipe)"). */
export function fileTypeOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return stats.isFile() ? 'a regular file' : 'not a regular file';
}

/** A byte count for people: "3.0 GiB", "64 MiB", "812 bytes". */
export function formatBytes(bytes: number): string {
  if (bytes >= GIB) return `${(bytes / GIB).toFixed(1)} GiB`;
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(bytes >= 10 * MIB ? 0 : 1)} MiB`;
  if (bytes >= KIB) return `${(bytes / KIB).toFixed(bytes >= 10 * KIB ? 0 : 1)} KiB`;
  return `${bytes} bytes`;
}

/** Turns a failed stat/open/read into an error naming the file; LiveswapErrors pass through. */
export function inputError(path: string, role: InputRole, cause: unknown, options: Pick<InputFileOptions, 'missingHint'> = {}): LiveswapError {
  if (cause instanceof LiveswapError) return cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const name = label(path, role);
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new LiveswapError('input-missing', `Cannot find ${name}: no such file. ${options.missingHint ?? 'Check the path.'}`, { file: path, cause });
  }
  if (code === 'EISDIR') {
    return new LiveswapError('input-unreadable', `Cannot read ${name}: it is a folder, not ${article(role)} file.`, { file: path, cause });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new LiveswapError('input-unreadable', `Cannot read ${name}: permission denied.`, { file: path, cause });
  }
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new LiveswapError('input-unreadable', `Cannot read ${name}: ${detail}`, { file: path, cause });
}

function checkStats(path: string, role: InputRole, stats: Stats, options: InputFileOptions): void {
  const name = label(path, role);
  if (stats.isDirectory()) {
    throw new LiveswapError('input-unreadable', `Cannot read ${name}: it is a folder, not ${article(role)} file.`, { file: path });
  }
  if (!stats.isFile()) {
    throw new LiveswapError(
      'input-unreadable',
      `Cannot read ${name}: it is ${fileTypeOf(stats)}, not a regular file. liveswap reads ${role === 'image' || role === 'video' ? `${role}s` : 'inputs'} only from regular files; save the data to a file first.`,
      { file: path },
    );
  }
  if (stats.size === 0 && !options.allowEmpty) {
    throw new LiveswapError('input-unreadable', `Cannot read ${name}: the file is empty.`, { file: path });
  }
  const max = options.maxBytes;
  if (max !== undefined && stats.size > max) {
    const hint = options.tooLargeHint === undefined ? '' : ` ${options.tooLargeHint}`;
    throw new LiveswapError('input-too-large', `${name} is ${formatBytes(stats.size)}, over the limit of ${formatBytes(max)} for ${article(role)} file.${hint}`, {
      file: path,
    });
  }
}

/**
 * Checks a file without opening it: it exists, is a regular file (not a FIFO, socket, device or
 * folder), is not empty and is within `maxBytes`. For files another program opens (ffmpeg blocks
 * on a FIFO too), call this first. Returns the stat.
 */
export async function checkInputFile(path: string, role: InputRole, options: InputFileOptions = {}): Promise<Stats> {
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (cause) {
    throw inputError(path, role, cause, options);
  }
  checkStats(path, role, stats, options);
  return stats;
}

/** An input opened after {@link checkInputFile}; every read stays within `size`, the size when opened. */
export class InputFile {
  private constructor(
    readonly path: string,
    readonly role: InputRole,
    private readonly handle: FileHandle,
    /** The file's size when it was opened: no read goes past it, even if the file grows. */
    readonly size: number,
  ) {}

  /** Checks, then opens without blocking and checks again what was opened (the path may have changed in between). */
  static async open(path: string, role: InputRole, options: InputFileOptions = {}): Promise<InputFile> {
    await checkInputFile(path, role, options);
    let handle: FileHandle;
    try {
      // O_NONBLOCK: should the path have become a FIFO since the stat, open() returns at once
      // (and the fstat below refuses it) instead of waiting for a writer. No effect on regular files.
      handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    } catch (cause) {
      throw inputError(path, role, cause, options);
    }
    try {
      const stats = await handle.stat();
      checkStats(path, role, stats, options);
      return new InputFile(path, role, handle, stats.size);
    } catch (cause) {
      await handle.close().catch(() => undefined);
      throw inputError(path, role, cause, options);
    }
  }

  /** Up to `length` bytes from `position`, never past {@link size}; shorter only if the file shrank. */
  async read(position: number, length: number): Promise<Buffer> {
    const wanted = Math.max(0, Math.min(length, this.size - position));
    const buffer = Buffer.allocUnsafe(wanted);
    let filled = 0;
    try {
      while (filled < wanted) {
        const { bytesRead } = await this.handle.read(buffer, filled, wanted - filled, position + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
    } catch (cause) {
      throw inputError(this.path, this.role, cause);
    }
    return filled === wanted ? buffer : buffer.subarray(0, filled);
  }

  /** The whole file as it was when opened: exactly {@link size} bytes at most. */
  async readAll(): Promise<Buffer> {
    return this.read(0, this.size);
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/** Opens a user's file for bounded reads (see {@link InputFile.open}); close it when done. */
export function openInput(path: string, role: InputRole, options: InputFileOptions = {}): Promise<InputFile> {
  return InputFile.open(path, role, options);
}

/** Reads a whole user file after the checks of {@link checkInputFile}; `maxBytes` caps it. */
export async function readInputFile(path: string, role: InputRole, options: InputFileOptions = {}): Promise<Buffer> {
  const file = await InputFile.open(path, role, options);
  try {
    return await file.readAll();
  } finally {
    await file.close();
  }
}
