/**
 * Finding the ffmpeg executable and running it: the bundled binary from `@ffmpeg-installer/ffmpeg`
 * unless an option or LIVESWAP_FFMPEG names another, plus the process plumbing the video reader,
 * writer and prober share (exit promises, a bounded stderr tail).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { LiveswapError } from '../../core/errors.js';

export interface FfmpegOptions {
  /** The ffmpeg executable to run: a path, or a bare name looked up on PATH. Overrides LIVESWAP_FFMPEG. */
  ffmpegPath?: string | undefined;
}

const require = createRequire(import.meta.url);
const BUNDLED_PACKAGE = '@ffmpeg-installer/ffmpeg';
const UNSET_HINT = 'or unset it to use the ffmpeg bundled with liveswap';

/**
 * The ffmpeg executable to run: `options.ffmpegPath`, else `$LIVESWAP_FFMPEG`, else the binary in
 * the `@ffmpeg-installer/ffmpeg` package. Throws a `usage` error naming the path and the fix when
 * that file is missing, a folder, or not executable.
 */
export function ffmpegPath(options: FfmpegOptions = {}): string {
  if (options.ffmpegPath !== undefined) return checkExecutable(options.ffmpegPath, 'the ffmpegPath option', `Give the path of an ffmpeg executable, ${UNSET_HINT}.`);
  const fromEnv = process.env.LIVESWAP_FFMPEG;
  if (fromEnv !== undefined && fromEnv !== '') {
    return checkExecutable(fromEnv, 'LIVESWAP_FFMPEG', `Point LIVESWAP_FFMPEG at an ffmpeg executable, ${UNSET_HINT}.`);
  }
  let bundled: string;
  try {
    bundled = (require(BUNDLED_PACKAGE) as { path: string }).path;
  } catch (cause) {
    // The package throws plain strings (unsupported platform, binary not found).
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new LiveswapError(
      'usage',
      `The ffmpeg bundled with liveswap (npm package ${BUNDLED_PACKAGE}) is not available: ${detail}. ` +
        'Run `npm install` in the liveswap folder, or set LIVESWAP_FFMPEG to an ffmpeg executable.',
      { cause },
    );
  }
  const fix = `Reinstall it with \`npm install\` (or \`chmod +x ${bundled}\`), or set LIVESWAP_FFMPEG to another ffmpeg.`;
  return checkExecutable(bundled, `the ${BUNDLED_PACKAGE} package`, fix);
}

/**
 * The executable settled once, for a job: pass the result as the options of every probe, reader
 * and writer the job runs, so they all run the same file and the environment is read only here
 * (an absolute path is only checked again, never looked up).
 */
export function resolveFfmpeg(options: FfmpegOptions = {}): { ffmpegPath: string } {
  return { ffmpegPath: ffmpegPath(options) };
}

function checkExecutable(value: string, origin: string, fix: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new LiveswapError('usage', `The ffmpeg path from ${origin} is empty. ${fix}`);
  }
  const isBareName = !value.includes('/') && !value.includes('\\');
  const path = isBareName ? findOnPath(value) : resolve(value);
  if (path === undefined) {
    throw new LiveswapError('usage', `Cannot find the ffmpeg executable "${value}" (from ${origin}) on the PATH. ${fix}`, { file: value });
  }
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (cause) {
    throw new LiveswapError('usage', `Cannot find ffmpeg at ${path} (from ${origin}): no such file. ${fix}`, { file: path, cause });
  }
  if (!isFile) throw new LiveswapError('usage', `ffmpeg at ${path} (from ${origin}) is a folder, not an executable. ${fix}`, { file: path });
  try {
    accessSync(path, constants.X_OK);
  } catch (cause) {
    throw new LiveswapError('usage', `ffmpeg at ${path} (from ${origin}) is not executable. ${fix}`, { file: path, cause });
  }
  return path;
}

function findOnPath(name: string): string | undefined {
  const names = process.platform === 'win32' && !/\.exe$/i.test(name) ? [name, `${name}.exe`] : [name];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    for (const candidate of names) {
      const full = join(dir, candidate);
      try {
        if (statSync(full).isFile()) return full;
      } catch {
        // not in this folder
      }
    }
  }
  return undefined;
}

/**
 * ffmpeg reads `a:b.mp4` as protocol `a`; naming the file protocol explicitly keeps any local
 * path a path (colons, leading dashes).
 */
export function fileUrlArg(path: string): string {
  return `file:${resolve(path)}`;
}

/** Keeps the last `maxBytes` of a stream (ffmpeg's stderr), for error messages. */
export class StderrTail {
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes = 16_384) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes - (this.chunks[0]?.length ?? 0) >= this.maxBytes && this.chunks.length > 1) {
      this.bytes -= this.chunks.shift()!.length;
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** The last `count` non-empty lines, for messages. */
  lastLines(count = 6): string {
    return lastLines(this.text(), count);
  }
}

/**
 * The last `count` non-empty lines of ffmpeg's output joined with " | ", progress lines (split on
 * \r) included and the "[h264 @ 0x55d0…]" prefixes, which only name memory addresses, shortened.
 */
export function lastLines(text: string, count = 6): string {
  return text
    .split(/[\r\n]+/)
    .map((line) => line.replace(/^\[([^\]@]+?) @ 0x[0-9a-f]+\]\s*/i, '[$1] ').trim())
    .filter((line) => line !== '')
    .slice(-count)
    .join(' | ');
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Resolves when the child has exited and its pipes are closed (so the stderr tail is complete);
 * rejects when it could not be started. Never left unhandled: callers await it or it is silenced.
 */
export function childExit(child: ChildProcess, binary: string): Promise<ExitStatus> {
  const exit = new Promise<ExitStatus>((resolvePromise, reject) => {
    child.once('error', (cause) => reject(new LiveswapError('usage', `Cannot run ffmpeg at ${binary}: ${cause.message}`, { file: binary, cause })));
    child.once('close', (code, signal) => resolvePromise({ code, signal }));
  });
  exit.catch(() => undefined);
  return exit;
}

/** "exit code 1" or "killed by SIGKILL", for messages. */
export function describeExit({ code, signal }: ExitStatus): string {
  return signal !== null ? `killed by ${signal}` : `exit code ${code}`;
}

export interface FfmpegRun extends ExitStatus {
  stdout: string;
  stderr: string;
}

/** Runs ffmpeg to completion with no stdin, collecting its (small) stdout and stderr. */
export async function runFfmpeg(args: readonly string[], options: FfmpegOptions = {}): Promise<FfmpegRun> {
  const binary = ffmpegPath(options);
  const child = spawn(binary, ['-hide_banner', '-nostdin', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = new StderrTail(1 << 20);
  const stderr = new StderrTail(1 << 20);
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  const status = await childExit(child, binary);
  return { ...status, stdout: stdout.text(), stderr: stderr.text() };
}

/**
 * Runs ffmpeg to completion, handing each line of `stream` to `onLine` as it arrives (listings too
 * long to keep whole); the other stream's tail is kept for error messages.
 */
export async function runFfmpegLines(
  args: readonly string[],
  stream: 'stdout' | 'stderr',
  onLine: (line: string) => void,
  options: FfmpegOptions = {},
): Promise<ExitStatus & { tail: string }> {
  const binary = ffmpegPath(options);
  const child = spawn(binary, ['-hide_banner', '-nostdin', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = new StderrTail();
  let pending = '';
  const lines = stream === 'stdout' ? child.stdout! : child.stderr!;
  lines.setEncoding('utf8');
  lines.on('data', (chunk: string) => {
    tail.push(Buffer.from(chunk));
    const parts = (pending + chunk).split(/\r?\n/);
    pending = parts.pop()!;
    for (const line of parts) onLine(line);
  });
  if (stream === 'stdout') child.stderr!.on('data', (chunk: Buffer) => tail.push(chunk));
  else child.stdout!.resume();
  const status = await childExit(child, binary);
  if (pending) onLine(pending);
  return { ...status, tail: tail.text() };
}

/**
 * Throws a `usage` error naming the executable when it does not answer `-version` the way ffmpeg
 * does ("ffmpeg version …" on stdout, exit 0): a path that exists and runs but is another program.
 * For when a run gave nothing ffmpeg would have printed, so that the input is not blamed for it.
 */
export async function checkIsFfmpeg(options: FfmpegOptions = {}): Promise<void> {
  const binary = ffmpegPath(options);
  const run = await runFfmpeg(['-version'], { ffmpegPath: binary });
  if (run.code === 0 && run.signal === null && /^ffmpeg version /m.test(run.stdout)) return;
  const printed = lastLines(run.stdout + run.stderr, 2);
  throw new LiveswapError(
    'usage',
    `${binary} does not run as ffmpeg: asked for its version (\`${binary} -version\`) it stopped with ${describeExit(run)}` +
      `${printed ? ` and printed "${printed}"` : ' and printed nothing'}, not "ffmpeg version …". ` +
      'Point --ffmpeg (or LIVESWAP_FFMPEG) at an ffmpeg executable, or leave both out to use the ffmpeg bundled with liveswap.',
    { file: binary },
  );
}

/** Names of the encoders this ffmpeg build has (`ffmpeg -encoders`), e.g. libx264, libvpx-vp9. */
export async function ffmpegEncoders(options: FfmpegOptions = {}): Promise<Set<string>> {
  const run = await runFfmpeg(['-encoders'], options);
  const names = new Set<string>();
  for (const line of run.stdout.split('\n')) {
    const match = /^\s*[VAS][A-Z.]{5}\s+(\S+)/.exec(line);
    if (match && match[1] !== '=') names.add(match[1]!);
  }
  return names;
}
