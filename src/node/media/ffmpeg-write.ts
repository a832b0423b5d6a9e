/**
 * Encoding Images into a video file through an ffmpeg pipe. The file is written under a temporary
 * name and renamed only after ffmpeg finished cleanly, so a failed or aborted encode leaves nothing.
 */

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { invalidOption, LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { childExit, describeExit, type ExitStatus, type FfmpegOptions, ffmpegPath, fileUrlArg, lastLines, StderrTail } from './ffmpeg-binary.js';
import { setptsExpression } from './ffmpeg-timing.js';
import { checkOutputPath, outputError, writeAtomically } from '../files/output.js';

export const VIDEO_CODECS = ['libx264', 'libx265', 'libvpx-vp9'] as const;
export type VideoCodec = (typeof VIDEO_CODECS)[number];

/** Speed/size trade-off, x264's names; VP9 gets the matching -cpu-used. */
export const VIDEO_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'] as const;
export type VideoPreset = (typeof VIDEO_PRESETS)[number];
const VP9_CPU_USED: Readonly<Record<VideoPreset, number>> = { ultrafast: 8, superfast: 8, veryfast: 7, faster: 6, fast: 5, medium: 4, slow: 3, slower: 2, veryslow: 1 };

export const VIDEO_PIXEL_FORMATS = ['yuv420p', 'yuv422p', 'yuv444p'] as const;
export type VideoPixelFormat = (typeof VIDEO_PIXEL_FORMATS)[number];

/** Output extensions, the codecs each container takes (first = default). */
export const VIDEO_CONTAINERS: Readonly<Record<string, readonly VideoCodec[]>> = {
  '.mp4': ['libx264', 'libx265', 'libvpx-vp9'],
  '.mov': ['libx264', 'libx265'],
  '.mkv': ['libx264', 'libx265', 'libvpx-vp9'],
  '.webm': ['libvpx-vp9'],
};

/** Constant-quality defaults (lower is better) and each codec's range. */
const CRF: Readonly<Record<VideoCodec, { default: number; max: number }>> = {
  libx264: { default: 18, max: 51 },
  libx265: { default: 22, max: 51 },
  'libvpx-vp9': { default: 31, max: 63 },
};

export interface VideoWriterOptions extends FfmpegOptions {
  width: number;
  height: number;
  /** Frames per second; 29.97, 23.976 and 59.94 are written as exact n×1000/1001 rates. */
  fps: number;
  /** Default: libvpx-vp9 for .webm, libx264 otherwise. */
  codec?: VideoCodec;
  /** Constant quality, lower is better: 0–51 for x264/x265 (defaults 18/22), 0–63 for VP9 (default 31). */
  crf?: number;
  /** Encoding speed against file size at the same quality; default medium (the codecs' own default). */
  preset?: VideoPreset;
  /**
   * Default yuv420p, which players expect. 4:2:0 needs an even width and height and 4:2:2 an even
   * width: an odd size is padded by one column/row that repeats the edge pixels.
   */
  pixelFormat?: VideoPixelFormat;
  /** Layout of the Images given to write(): 3 (RGB, default) or 4 (RGBA, alpha ignored). */
  channels?: 3 | 4;
  /**
   * Each frame's presentation time (ticks of `timeBase`), e.g. a source's, variable rates included;
   * frames past the list continue at its last spacing. Default: evenly spaced at `fps`.
   */
  timing?: { timeBase: readonly [number, number]; pts: readonly number[] };
  /**
   * Audio to add: every audio stream of `path` (all of them when `streams` is left out), from
   * `startSeconds` for `durationSeconds`, copied as they are where the container takes their codec
   * and re-encoded otherwise (AAC; Opus in WebM).
   */
  audio?: { path: string; streams: readonly { index: number; codec: string }[]; startSeconds?: number; durationSeconds?: number };
  /**
   * How RGB becomes YUV, and the tags written: `matrix` as ffmpeg names it (bt709, smpte170m,
   * bt470bg, bt2020nc…, or 'unknown': BT.601 untagged, which is how an untagged source decodes) and
   * the range. Default: BT.709, limited range, tagged.
   */
  color?: { matrix: string; range: 'tv' | 'pc' | 'unknown' };
}

/** Audio codecs each container holds as they are; anything else is re-encoded. */
const AUDIO_COPY: Readonly<Record<string, (codec: string) => boolean>> = {
  '.mp4': (c) => ['aac', 'mp3', 'ac3', 'eac3', 'alac'].includes(c),
  '.mov': (c) => ['aac', 'mp3', 'ac3', 'eac3', 'alac'].includes(c) || c.startsWith('pcm_'),
  '.mkv': (c) => ['aac', 'mp3', 'ac3', 'eac3', 'alac', 'opus', 'vorbis', 'flac', 'dts', 'truehd', 'mp2'].includes(c) || c.startsWith('pcm_'),
  '.webm': (c) => c === 'opus' || c === 'vorbis',
};

/** Whether a container (by extension) holds an audio codec as it is. */
export function audioCopies(ext: string, codec: string): boolean {
  return (AUDIO_COPY[ext.toLowerCase()] ?? (() => false))(codec);
}

/** Per audio output stream: copy, or the encoder and bit rate that replace the codec. */
function audioCodecArgs(ext: string, codecs: readonly string[]): string[] {
  return codecs.flatMap((codec, k) => {
    if (audioCopies(ext, codec)) return [`-c:a:${k}`, 'copy'];
    return ext === '.webm' ? [`-c:a:${k}`, 'libopus', `-b:a:${k}`, '128k'] : [`-c:a:${k}`, 'aac', `-b:a:${k}`, '192k'];
  });
}

/**
 * Maps and codecs for the audio streams: copied whole, or, for a part of the file, cut exactly
 * with atrim (a copied stream can only be cut at packet boundaries) and re-encoded.
 */
function audioArgs(ext: string, audio: NonNullable<VideoWriterOptions['audio']>): string[] {
  const args = audio.streams.flatMap((a) => ['-map', `1:${a.index}`]);
  const cut = audio.startSeconds !== undefined || audio.durationSeconds !== undefined;
  if (!cut) return [...args, ...audioCodecArgs(ext, audio.streams.map((a) => a.codec))];
  const start = audio.startSeconds ?? 0;
  const end = audio.durationSeconds !== undefined ? `:end=${start + audio.durationSeconds}` : '';
  const trim = `atrim=start=${start}${end},asetpts=PTS-STARTPTS`;
  return [...args, ...audio.streams.flatMap((_, k) => [`-filter:a:${k}`, trim]), ...audioCodecArgs(ext, audio.streams.map(() => 're-encode'))];
}

/** The scale filter's name for a matrix tag; untagged video decodes (and so re-encodes) as BT.601. */
function scaleMatrix(matrix: string): string {
  const names: Record<string, string> = { bt709: 'bt709', smpte170m: 'smpte170m', bt470bg: 'bt470', bt2020nc: 'bt2020', bt2020c: 'bt2020', fcc: 'fcc', smpte240m: 'smpte240m' };
  return names[matrix] ?? 'bt601';
}

/** The colour conversion and the tags for `color` (see VideoWriterOptions.color). */
function colorArgs(color: { matrix: string; range: 'tv' | 'pc' | 'unknown' }): { filter: string; tags: string[] } {
  const range = color.range === 'pc' ? 'pc' : 'tv';
  const tags: string[] = [];
  if (color.range !== 'unknown') tags.push('-color_range', color.range === 'pc' ? 'pc' : 'tv');
  if (color.matrix !== 'unknown') {
    tags.push('-colorspace', color.matrix);
    if (color.matrix === 'bt709' || color.matrix === 'smpte170m') tags.push('-color_primaries', color.matrix, '-color_trc', color.matrix);
  }
  return { filter: `scale=out_color_matrix=${scaleMatrix(color.matrix)}:out_range=${range}:flags=bicubic+accurate_rnd+full_chroma_int`, tags };
}

export interface VideoWriter {
  readonly path: string;
  /** Size of the encoded video: the frame size, padded to even where the pixel format needs it. */
  readonly outputWidth: number;
  readonly outputHeight: number;
  /**
   * Sends one frame; resolves once it is in the pipe to ffmpeg (so the caller may reuse
   * `image.data`), which waits while ffmpeg is busy: await each write and memory stays flat.
   */
  write(image: Image): Promise<void>;
  /** Finishes the file and moves it to `path`; rejects (and leaves nothing) when encoding failed. */
  close(): Promise<void>;
  /**
   * Stops ffmpeg and deletes the partial file; `path` is left as it was. Safe to call twice, and
   * the thing to call in a `catch`: a writer neither closed nor aborted leaves ffmpeg waiting.
   */
  abort(): Promise<void>;
}

/** n×1000/1001 rates as ffmpeg rationals, so 29.97 does not drift. */
function rateArg(fps: number): string {
  const ntsc = Math.round((fps * 1001) / 1000);
  if (Math.abs((ntsc * 1000) / 1001 - fps) < 0.005 && Math.abs(ntsc - fps) > 0.005) return `${ntsc * 1000}/1001`;
  return String(fps);
}

interface Encoding {
  codec: VideoCodec;
  crf: number;
  preset: VideoPreset;
  pixelFormat: VideoPixelFormat;
  channels: 3 | 4;
}

function validate(path: string, options: VideoWriterOptions): Encoding {
  const { width, height, fps } = options;
  if (!(Number.isInteger(width) && width >= 2)) throw invalidOption('width', 'a whole number ≥ 2', width);
  if (!(Number.isInteger(height) && height >= 2)) throw invalidOption('height', 'a whole number ≥ 2', height);
  if (!(Number.isFinite(fps) && fps > 0 && fps <= 1000)) throw invalidOption('fps', 'a frame rate in (0, 1000]', fps);
  const ext = extname(path).toLowerCase();
  const allowed = VIDEO_CONTAINERS[ext];
  if (!allowed) throw new LiveswapError('usage', `Cannot write video to ${path}: use one of ${Object.keys(VIDEO_CONTAINERS).join(', ')} as the extension.`, { file: path });
  const codec = options.codec ?? allowed[0]!;
  if (!(VIDEO_CODECS as readonly string[]).includes(codec)) throw invalidOption('codec', `one of ${VIDEO_CODECS.join(', ')}`, codec);
  if (!allowed.includes(codec)) {
    throw new LiveswapError('usage', `A ${ext} file cannot hold ${codec} video; use ${allowed.join(' or ')}, or another extension.`, { file: path });
  }
  const crf = options.crf ?? CRF[codec].default;
  if (!(Number.isInteger(crf) && crf >= 0 && crf <= CRF[codec].max)) throw invalidOption('crf', `a whole number 0–${CRF[codec].max} for ${codec}`, crf);
  const preset = options.preset ?? 'medium';
  if (!(VIDEO_PRESETS as readonly string[]).includes(preset)) throw invalidOption('preset', `one of ${VIDEO_PRESETS.join(', ')}`, preset);
  const pixelFormat = options.pixelFormat ?? 'yuv420p';
  if (!(VIDEO_PIXEL_FORMATS as readonly string[]).includes(pixelFormat)) throw invalidOption('pixelFormat', `one of ${VIDEO_PIXEL_FORMATS.join(', ')}`, pixelFormat);
  const channels = options.channels ?? 3;
  if (channels !== 3 && channels !== 4) throw invalidOption('channels', '3 or 4', channels);
  return { codec, crf, preset, pixelFormat, channels };
}

function codecArgs({ codec, crf, preset }: Encoding, ext: string): string[] {
  switch (codec) {
    case 'libx264':
      return ['-c:v', 'libx264', '-preset', preset, '-crf', String(crf)];
    case 'libx265':
      // hvc1 is the tag Apple players require in MP4/MOV; x265 logs on its own unless told not to.
      return ['-c:v', 'libx265', '-preset', preset, '-crf', String(crf), '-x265-params', 'log-level=error', ...(ext === '.mkv' ? [] : ['-tag:v', 'hvc1'])];
    case 'libvpx-vp9':
      // -b:v 0 makes the CRF a pure quality target; row-mt spreads one stream over the cores.
      return ['-c:v', 'libvpx-vp9', '-crf', String(crf), '-b:v', '0', '-deadline', 'good', '-cpu-used', String(VP9_CPU_USED[preset]), '-row-mt', '1'];
  }
}

/** Maps a failed encode to an error saying what to do: disk full, no such encoder, or ffmpeg's own words. */
export function encodeError(path: string, status: ExitStatus, stderr: string): LiveswapError {
  if (/No space left on device/i.test(stderr)) return outputError(path, Object.assign(new Error('No space left on device'), { code: 'ENOSPC' }));
  if (/Disk quota exceeded/i.test(stderr)) return outputError(path, Object.assign(new Error('Disk quota exceeded'), { code: 'EDQUOT' }));
  if (/Permission denied/i.test(stderr)) return outputError(path, Object.assign(new Error('Permission denied'), { code: 'EACCES' }));
  const encoder = /Unknown encoder '([^']+)'/.exec(stderr);
  if (encoder) {
    const fix = 'Choose another codec, or point LIVESWAP_FFMPEG at an ffmpeg built with it.';
    return new LiveswapError('usage', `This ffmpeg has no ${encoder[1]} encoder, so ${path} cannot be written with it. ${fix}`, { file: path });
  }
  if (status.signal !== null) {
    return new LiveswapError('output', `Cannot write ${path}: ffmpeg was ${describeExit(status)} before the video was complete; nothing was saved.`, { file: path });
  }
  const log = lastLines(stderr, 4) || 'no message';
  return new LiveswapError('output', `Cannot write ${path}: ffmpeg stopped with ${describeExit(status)} (${log}); nothing was saved.`, { file: path });
}

/**
 * Opens an ffmpeg encoder for `path` (the container follows the extension: .mp4, .mov, .mkv,
 * .webm). Colours are converted with the BT.709 matrix (limited range) and tagged as such, which is
 * what players assume for untagged HD video, unless `color` says otherwise. Checks the output folder
 * before starting.
 */
export async function createVideoWriter(path: string, options: VideoWriterOptions): Promise<VideoWriter> {
  const encoding = validate(path, options);
  const { pixelFormat, channels } = encoding;
  const binary = ffmpegPath(options);
  await checkOutputPath(path);
  const { width, height } = options;
  const padWidth = pixelFormat !== 'yuv444p' && width % 2 === 1 ? 1 : 0;
  const padHeight = pixelFormat === 'yuv420p' && height % 2 === 1 ? 1 : 0;
  const outputWidth = width + padWidth;
  const outputHeight = height + padHeight;
  const ext = extname(path).toLowerCase();

  const filters: string[] = [];
  const { timing, audio } = options;
  // Evenly spaced from 0: an exact rational rate says it all (and gives the last frame its length).
  const step = timing && timing.pts.length > 1 ? timing.pts[1]! - timing.pts[0]! : 0;
  const evenRate = timing && timing.pts[0] === 0 && step > 0 && timing.pts.every((t, i) => t === i * step) ? `${timing.timeBase[1]}/${timing.timeBase[0] * step}` : undefined;
  const listed = timing && !evenRate ? timing : undefined;
  if (listed) {
    // The source's own tick, and each frame's time from the list (passthrough: none added or dropped).
    filters.push(`settb=${listed.timeBase[0]}/${listed.timeBase[1]}`, `setpts='${setptsExpression(listed.pts)}'`);
  }
  if (padWidth || padHeight) filters.push(`pad=${outputWidth}:${outputHeight}:0:0`, `fillborders=right=${padWidth}:bottom=${padHeight}:mode=smear`);
  const color = colorArgs(options.color ?? { matrix: 'bt709', range: 'tv' });
  filters.push(color.filter, `format=${pixelFormat}`);
  const audioInput = audio && audio.streams.length > 0 ? ['-i', fileUrlArg(audio.path)] : [];
  const audioOutput = audioInput.length > 0 ? audioArgs(ext, audio!) : ['-an'];
  // A long variable-rate list makes a long expression: it goes to ffmpeg in a file.
  const script = await writeFilterScript(filters.join(','));
  const args = (target: string): string[] => [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
    ...['-f', 'rawvideo', '-pix_fmt', channels === 4 ? 'rgba' : 'rgb24', '-video_size', `${width}x${height}`, '-framerate', evenRate ?? rateArg(options.fps), '-i', 'pipe:0'],
    ...audioInput,
    ...['-map', '0:v:0', '-filter_script:v', script.path, ...codecArgs(encoding, ext)],
    // One output frame per frame given, at the time given: never duplicated or dropped.
    '-vsync', 'passthrough',
    ...(listed ? ['-enc_time_base', `${listed.timeBase[0]}/${listed.timeBase[1]}`] : []),
    ...audioOutput,
    ...color.tags,
    // MP4/MOV hide an audio codec's priming samples in an edit list; Matroska cannot, so the whole
    // file moves by them (a few ms) rather than only the first video frame.
    ...(ext === '.mp4' || ext === '.mov' ? ['-movflags', '+faststart'] : ['-avoid_negative_ts', 'make_zero']),
    ...['-y', fileUrlArg(target)],
  ];

  let encoder: ReturnType<typeof spawnEncoder> | undefined;
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  let state: 'open' | 'closing' | 'aborted' = 'open';
  let frames = 0;
  const done = writeAtomically(path, async (temporary) => {
    encoder = spawnEncoder(binary, args(temporary));
    started();
    const status = await encoder.exit;
    if (state === 'aborted') throw new LiveswapError('output', `Writing ${path} was aborted; nothing was saved.`, { file: path });
    if (status.code !== 0 || status.signal !== null) throw encodeError(path, status, encoder.stderr.text());
  });
  done.catch(() => undefined);
  void done.finally(() => script.remove()).catch(() => undefined);
  await Promise.race([running, done]);
  const child = encoder!;
  // One promise for the whole stream: a fresh one per frame would hold each frame's bytes (through
  // the closure it shares with them) until ffmpeg exits, gigabytes over a long video.
  const stopped = child.exit.then(() => Promise.reject(new Error('ffmpeg exited')));
  stopped.catch(() => undefined);
  const frameBytes = width * height * channels;
  // A function, so TypeScript does not narrow `state` across the awaits in write().
  const isAborted = (): boolean => state === 'aborted';
  const abortedError = (): LiveswapError => new LiveswapError('output', `Writing ${path} was aborted; nothing was saved.`, { file: path });

  return {
    path,
    outputWidth,
    outputHeight,
    async write(image: Image): Promise<void> {
      if (state !== 'open') throw new LiveswapError('internal', `The video writer for ${path} is already ${state === 'aborted' ? 'aborted' : 'closed'}.`, { file: path });
      if (image.width !== width || image.height !== height || image.channels !== channels || image.data.length !== frameBytes) {
        throw invalidOption('frame', `a ${width}×${height} image with ${channels} channels`, `${image.width}×${image.height} with ${image.channels} channels`);
      }
      const bytes = Buffer.from(image.data.buffer, image.data.byteOffset, frameBytes);
      const taken = new Promise<void>((resolve, reject) => child.stdin.write(bytes, (error) => (error ? reject(error) : resolve())));
      taken.catch(() => undefined);
      try {
        await Promise.race([taken, stopped]);
      } catch {
        if (isAborted()) throw abortedError();
        await done; // rejects with the reason ffmpeg stopped (killed, disk full, …)
        throw new LiveswapError('output', `Cannot write ${path}: ffmpeg exited before the video was finished.`, { file: path });
      }
      frames++;
    },
    async close(): Promise<void> {
      if (state === 'aborted') throw abortedError();
      if (state === 'open') {
        state = 'closing';
        if (frames === 0) {
          state = 'aborted';
          child.process.kill('SIGKILL');
          await done.catch(() => undefined);
          throw new LiveswapError('output', `Cannot write ${path}: no frames were given, so there is no video to save.`, { file: path });
        }
        child.stdin.end();
      }
      await done;
    },
    async abort(): Promise<void> {
      state = 'aborted';
      if (!child.exited) child.process.kill('SIGKILL');
      await done.catch(() => undefined);
    },
  };
}

/** A filter graph in a temporary file (ffmpeg's -filter_script), removed once the encode ends. */
async function writeFilterScript(graph: string): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'liveswap-filter-'));
  const path = join(dir, 'graph.txt');
  await writeFile(path, graph);
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

function spawnEncoder(binary: string, args: string[]) {
  const child = spawn(binary, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  const stderr = new StderrTail();
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  // EPIPE when ffmpeg dies mid-frame: the write callback and the exit status report it.
  child.stdin.on('error', () => undefined);
  const handle = { process: child, stdin: child.stdin, stderr, exit: childExit(child, binary), exited: false };
  void handle.exit.then(() => (handle.exited = true), () => (handle.exited = true));
  return handle;
}
