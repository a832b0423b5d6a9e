/**
 * Short test videos made at test time from the fixture photos with ffmpeg (no clip is committed):
 * the photo held still (optionally with per-frame noise), a slow zoom and pan, an optional sine
 * audio track and rotation metadata. Made independently of src/node/media/ffmpeg-write.ts on purpose, so
 * the reader is not tested only against our own writer.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import sharp from 'sharp';
import type { Image } from '../../src/core/image.js';
import { type FfmpegRun, fileUrlArg, lastLines, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { probeVideo } from '../../src/node/media/ffmpeg-probe.js';
import { decodeRgb, FIXTURES } from './fixtures.js';

export interface ClipOptions {
  /** A file in test/fixtures/faces, or a path. Default grace_hopper.jpg. */
  photo?: string;
  /** 'static': the photo held still; 'zoom': a slow zoom in (to 1.25×) drifting right. Default static. */
  motion?: 'static' | 'zoom';
  /** Frame size; the photo is scaled to cover it and centre-cropped. Default 320×240. */
  width?: number;
  height?: number;
  /** Default 25. Rates like 29.97 are written as n×1000/1001. */
  fps?: number;
  /** Number of frames. Default one second's worth. */
  frames?: number;
  /** Strength of per-frame random noise (ffmpeg's noise filter, 0–100), so frames differ. Default 0. */
  noise?: number;
  /** Add a sine tone (Hz) as an audio track as long as the video. */
  audioHz?: number;
  /** Tag the video stream to be shown turned clockwise by this much (stored frames unchanged); mp4/mov only. */
  rotation?: 0 | 90 | 180 | 270;
  /** Container extension: mp4 (default), mov, mkv or webm (which gets VP9 and Opus). */
  format?: 'mp4' | 'mov' | 'mkv' | 'webm';
  /** Constant quality of the encode. Default 12 (x264) / 30 (VP9). */
  crf?: number;
  /** A keyframe every this many frames (so a seek has somewhere to land). Default: the encoder's (250 for x264). */
  keyframeEvery?: number;
  /** Folder to write into; default a new temporary folder. */
  dir?: string;
  /** File name without extension. Default "clip". */
  name?: string;
}

/** The exact picture a static clip holds: the photo scaled to cover width×height, centre-cropped. */
export async function clipFrame(photo = 'grace_hopper.jpg', width = 320, height = 240): Promise<Image> {
  return decodeRgb(await fittedPhoto(photo, width, height));
}

/** A photo as a webcam might show it: the whole photo fitted into width×height on a grey background. */
export async function framedPhoto(photo: string, width: number, height: number): Promise<Image> {
  return decodeRgb(await sharp(photoPath(photo)).rotate().removeAlpha().resize(width, height, { fit: 'contain', background: '#3c3c3c' }).png().toBuffer());
}

/** A file in test/fixtures/faces, or a path. */
function photoPath(photo: string): string {
  return isAbsolute(photo) ? photo : join(FIXTURES, photo);
}

async function fittedPhoto(photo: string, width: number, height: number): Promise<Buffer> {
  return sharp(photoPath(photo)).rotate().removeAlpha().resize(width, height, { fit: 'cover', position: 'centre' }).png().toBuffer();
}

function rate(fps: number): string {
  const ntsc = Math.round((fps * 1001) / 1000);
  return Math.abs((ntsc * 1000) / 1001 - fps) < 0.005 && ntsc !== fps ? `${ntsc * 1000}/1001` : String(fps);
}

async function ffmpeg(args: string[], what: string): Promise<FfmpegRun> {
  const run = await runFfmpeg(['-loglevel', 'error', ...args]);
  if (run.code !== 0) throw new Error(`makeClip: ffmpeg failed making ${what}: ${lastLines(run.stderr, 6)}`);
  return run;
}

/** Makes a clip and returns its path (in `dir`, or in a new temporary folder the caller removes). */
export async function makeClip(options: ClipOptions = {}): Promise<string> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'liveswap-clip-')));
  await mkdir(dir, { recursive: true });
  const format = options.format ?? 'mp4';
  const output = join(dir, `${options.name ?? 'clip'}.${format}`);
  await writeClip(output, options);
  return output;
}

/** Makes a clip at `output`; the container follows its extension. */
export async function writeClip(output: string, options: ClipOptions = {}): Promise<void> {
  const width = options.width ?? 320;
  const height = options.height ?? 240;
  const fps = options.fps ?? 25;
  const frames = options.frames ?? Math.round(fps);
  const motion = options.motion ?? 'static';
  const webm = output.toLowerCase().endsWith('.webm');
  if (options.rotation && !/\.(mp4|mov)$/i.test(output)) throw new Error('makeClip: rotation tags need an .mp4 or .mov clip');
  const work = await mkdtemp(join(tmpdir(), 'liveswap-clip-work-'));
  try {
    // Zoom works from a picture twice the size, so zoomed frames keep their detail.
    const scale = motion === 'zoom' ? 2 : 1;
    const still = join(work, 'still.png');
    await sharp(await fittedPhoto(options.photo ?? 'grace_hopper.jpg', width * scale, height * scale)).toFile(still);

    const filters: string[] = [];
    const input: string[] = [];
    if (motion === 'zoom') {
      const last = Math.max(1, frames - 1);
      input.push('-i', fileUrlArg(still));
      filters.push(`zoompan=z='1+0.25*on/${last}':x='(iw-iw/zoom)*(0.3+0.4*on/${last})':y='(ih-ih/zoom)/2':d=${frames}:s=${width}x${height}:fps=${rate(fps)}`);
    } else {
      input.push('-loop', '1', '-framerate', rate(fps), '-i', fileUrlArg(still));
    }
    if (options.noise) filters.push(`noise=alls=${options.noise}:allf=t+u`);
    // Tagged BT.709 like camera footage, converted with exact rounding so the clip holds the photo's colours.
    filters.push('setsar=1', 'scale=out_color_matrix=bt709:out_range=tv:flags=bicubic+accurate_rnd+full_chroma_int', 'format=yuv420p');

    const audio: string[] = [];
    if (options.audioHz !== undefined) {
      input.push('-f', 'lavfi', '-i', `sine=frequency=${options.audioHz}:sample_rate=48000:duration=${frames / fps}`);
      audio.push('-c:a', webm ? 'libopus' : 'aac', '-shortest');
    }
    const video = [
      ...(webm
        ? ['-c:v', 'libvpx-vp9', '-crf', String(options.crf ?? 30), '-b:v', '0', '-deadline', 'realtime', '-cpu-used', '8']
        : ['-c:v', 'libx264', '-crf', String(options.crf ?? 12), '-preset', 'veryfast']),
      ...(options.keyframeEvery !== undefined ? ['-g', String(options.keyframeEvery)] : []),
    ];
    const tags = ['-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709'];
    const plain = options.rotation ? join(work, `plain${output.slice(output.lastIndexOf('.'))}`) : output;
    await ffmpeg(['-y', ...input, '-vf', filters.join(','), '-frames:v', String(frames), '-r', rate(fps), ...video, ...tags, ...audio, fileUrlArg(plain)], `${output}`);
    if (options.rotation) await tagRotation(plain, output, options.rotation, work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Copies the streams with a rotation tag. ffmpeg versions disagree on the sign of the tag they
 * write, so the result is checked and the other sign used when needed.
 */
async function tagRotation(plain: string, output: string, rotation: number, work: string): Promise<void> {
  for (const tag of [rotation, (360 - rotation) % 360]) {
    const candidate = join(work, `tagged-${tag}${output.slice(output.lastIndexOf('.'))}`);
    await ffmpeg(['-y', '-i', fileUrlArg(plain), '-map', '0', '-c', 'copy', '-metadata:s:v:0', `rotate=${tag}`, fileUrlArg(candidate)], `${output} (rotation)`);
    if ((await probeVideo(candidate)).rotation === rotation) {
      await copyFile(candidate, output); // work may be on another file system than output
      return;
    }
    await rm(candidate, { force: true });
  }
  throw new Error(`makeClip: this ffmpeg cannot tag a rotation of ${rotation}° with -metadata rotate`);
}

/** A short audio-only file (AAC in .m4a), for "no video stream" tests. */
export async function makeAudioFile(options: { dir?: string; seconds?: number } = {}): Promise<string> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'liveswap-clip-')));
  const output = join(dir, 'tone.m4a');
  await ffmpeg(['-y', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${options.seconds ?? 1}`, '-c:a', 'aac', fileUrlArg(output)], output);
  return output;
}

/**
 * Process ids of this process's ffmpeg children, from /proc (Linux only; undefined elsewhere), to
 * check that readers and writers leave no process behind. A zombie still has a /proc entry.
 */
export function ffmpegChildren(): number[] | undefined {
  if (process.platform !== 'linux') return undefined;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid …"; comm may hold spaces or parentheses, so split after the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    if (ppid === process.pid && comm.startsWith('ffmpeg')) pids.push(Number(entry));
  }
  return pids;
}

/** Whether a process id still exists, zombies included (Linux /proc). */
export function processExists(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}
