/**
 * Broken and awkward video inputs made at test time (truncated, bytes overwritten, a faststart MP4
 * to cut short, random bytes, no frames, no face),
 * and a way to run the CLI in the background so a test can interrupt it or kill its ffmpeg.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { fileUrlArg, lastLines, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { REPO_ROOT } from '../cli/run-cli.js';
import { TEST_HOME } from './fixtures.js';

/** The first half of `source`'s bytes: for an MP4 written by ffmpeg, the index (moov) is lost. */
export async function truncatedCopy(source: string, output: string): Promise<string> {
  const bytes = await readFile(source);
  await writeFile(output, bytes.subarray(0, bytes.length >> 1));
  return output;
}

/** `length` bytes from a seeded generator (xorshift32), so a failure reproduces byte for byte. */
export async function noiseFile(output: string, length: number, seed = 0x9e3779b9): Promise<string> {
  await writeFile(output, noiseBytes(length, seed));
  return output;
}

function noiseBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/**
 * `source` with `length` bytes in the middle overwritten by seeded noise: the container's index
 * still lists every packet, but the packets there no longer decode (as on a bad sector or a
 * damaged download). The file keeps its size.
 */
export async function overwrittenCopy(source: string, output: string, length = 64 * 1024, seed = 0x2545f491): Promise<string> {
  const bytes = await readFile(source);
  if (bytes.length < 2 * length) throw new Error(`overwrittenCopy: ${source} is only ${bytes.length} bytes`);
  noiseBytes(length, seed).copy(bytes, (bytes.length - length) >> 1);
  await writeFile(output, bytes);
  return output;
}

/** `clip`'s streams copied into an MP4 with its index (moov) before the data, as a web upload has it: cut short, it still opens. */
export async function faststartCopy(clip: string, output: string): Promise<string> {
  const run = await runFfmpeg(['-loglevel', 'error', '-y', '-i', fileUrlArg(clip), '-map', '0', '-c', 'copy', '-movflags', '+faststart', fileUrlArg(output)]);
  if (run.code !== 0) throw new Error(`faststartCopy: ffmpeg failed: ${lastLines(run.stderr, 4)}`);
  return output;
}

/**
 * A file with a video stream (size, codec, rate) but not one frame: `clip`'s stream copied into
 * AVI with `-frames:v 0`. MP4 and MOV drop a track without samples entirely, and this ffmpeg's
 * Matroska muxer writes a header its own demuxer rejects, so AVI is the container that keeps it.
 */
export async function zeroFrameVideo(clip: string, output: string): Promise<string> {
  const run = await runFfmpeg(['-loglevel', 'error', '-y', '-i', fileUrlArg(clip), '-map', '0:v:0', '-c', 'copy', '-frames:v', '0', fileUrlArg(output)]);
  if (run.code !== 0) throw new Error(`zeroFrameVideo: ffmpeg failed: ${lastLines(run.stderr, 4)}`);
  return output;
}

/** A picture with no face in it: smooth gradients and a few hard edges, so the encoder has work. */
export async function facelessPhoto(output: string, width = 320, height = 240): Promise<string> {
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const stripe = Math.floor(x / 40) % 2 === 0 ? 40 : 0;
      rgb[i] = Math.round((200 * x) / width) + 20;
      rgb[i + 1] = Math.round((180 * y) / height) + 30 + stripe;
      rgb[i + 2] = 120 + (Math.floor(y / 30) % 2 === 0 ? 60 : 0);
    }
  }
  await sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(output);
  return output;
}

const MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface BackgroundCli {
  child: ChildProcess;
  /** Everything printed on stderr so far. */
  stderr(): string;
  stdout(): string;
  /** Resolves when the command has exited. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `liveswap ARGS` like runCli does, but without waiting. `tmp` becomes the child's TMPDIR,
 * so a test can see whether it left temporary files behind.
 */
export function startCli(args: readonly string[], options: { tmp?: string; home?: string } = {}): BackgroundCli {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      LIVESWAP_HOME: options.home ?? TEST_HOME,
      LIVESWAP_DEBUG: '',
      NO_COLOR: '1',
      ...(options.tmp ? { TMPDIR: options.tmp } : {}),
    },
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (out += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (err += text));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, stderr: () => err, stdout: () => out, exit };
}

/** Polls until `ready()` holds; throws with `what` after `timeoutMs`. */
export async function waitUntil(ready: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export interface FfmpegProcess {
  pid: number;
  /** The command line, arguments joined by spaces. */
  command: string;
  /** 'decoder' reads a file into raw frames on stdout; 'encoder' reads raw frames from stdin. */
  role: 'decoder' | 'encoder' | 'other';
}

/** The ffmpeg processes whose parent is `parent` (Linux /proc; undefined elsewhere). */
export function ffmpegChildrenOf(parent: number): FfmpegProcess[] | undefined {
  if (process.platform !== 'linux') return undefined;
  const found: FfmpegProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    let command: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      continue; // exited meanwhile
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    if (ppid !== parent || !comm.startsWith('ffmpeg')) continue;
    const role = / -i pipe:0\b/.test(command) ? 'encoder' : / rawvideo pipe:1\b/.test(command) ? 'decoder' : 'other';
    found.push({ pid: Number(entry), command, role });
  }
  return found;
}
