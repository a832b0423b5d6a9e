/**
 * Stream facts of a video file, read from what `ffmpeg -i FILE` prints (the installer package has
 * no ffprobe), and optionally an exact frame count from a decoding pass.
 */

import { checkInputFile } from '../files/input-file.js';
import { LiveswapError } from '../../core/errors.js';
import { frameCountArgs, probeArgs } from './ffmpeg-args.js';
import { checkIsFfmpeg, type FfmpegOptions, lastLines, runFfmpeg } from './ffmpeg-binary.js';

export interface VideoInfo {
  /**
   * Size of the frames as shown, which is how {@link readFrames} yields them: the stored size turned
   * by `rotation` (a 1920×1080 stream tagged 90° is 1080×1920 here).
   */
  width: number;
  height: number;
  /** Size of the frames as stored in the stream, before rotation. */
  codedWidth: number;
  codedHeight: number;
  /** Frames per second: the stream's average rate, else its base rate; 29.97 and the like are exact (30000/1001). */
  fps: number;
  /** Container duration in seconds (centisecond precision); with no duration in the file, frameCount / fps. */
  durationSeconds: number;
  /** durationSeconds × fps, rounded, unless `frameCountExact`. */
  frameCount: number;
  /** True when frameCount was counted by decoding every frame (`countFrames`, or a file with no duration). */
  frameCountExact: boolean;
  /**
   * Clockwise degrees the stored frames are turned for display: 0, 90, 180 or 270. Read from the
   * display matrix (MP4/MOV write it together with their `rotate` tag), which is what ffmpeg applies.
   */
  rotation: number;
  hasAudio: boolean;
  /** The audio streams: their index among the file's streams and ffmpeg's codec name (aac, opus, pcm_s16le…). */
  audioStreams: { index: number; codec: string }[];
  /** Where the file's timeline starts (seconds); ffmpeg shifts every stream by it when it reads the file. */
  startSeconds: number;
  /** Colour range and matrix as the stream is tagged ('unknown' when untagged). */
  colorRange: 'tv' | 'pc' | 'unknown';
  colorMatrix: string;
  /** ffmpeg's codec name, e.g. h264, hevc, vp9. */
  videoCodec: string;
  /** ffmpeg's pixel format name, e.g. yuv420p; 'unknown' when ffmpeg does not say. */
  pixelFormat: string;
  /** ffmpeg's demuxer name, e.g. 'mov,mp4,m4a,3gp,3g2,mj2', 'matroska,webm'. */
  container: string;
  /** Index of the video stream used (the first that is not cover art) among the file's streams. */
  streamIndex: number;
}

export interface ProbeOptions extends FfmpegOptions {
  /** Decode the whole stream to count frames exactly (slower: a full decoding pass). */
  countFrames?: boolean;
}

/** One stream line of `ffmpeg -i` with the metadata and side data printed under it. */
export interface ParsedStream {
  index: number;
  type: string;
  description: string;
  /** Clockwise display rotation from the stream's display matrix, when it has one. */
  rotation: number | undefined;
}

export interface ParsedInput {
  container: string | undefined;
  durationSeconds: number | undefined;
  startSeconds: number | undefined;
  streams: ParsedStream[];
}

const USE_A_VIDEO = 'Use a video file such as MP4, MOV, MKV or WebM.';

/** Demuxers that accept almost any bytes, so a text file "opens" as a video. */
const TEXT_DEMUXERS = new Set(['tty']);

/** Parses the input description ffmpeg prints to stderr for `-i FILE`. Exported for tests. */
export function parseInputInfo(stderr: string): ParsedInput {
  const result: ParsedInput = { container: undefined, durationSeconds: undefined, startSeconds: undefined, streams: [] };
  let current: ParsedStream | undefined;
  let inInput = false;
  for (const line of stderr.split(/\r?\n/)) {
    const input = /^Input #0, (.+), from '/.exec(line);
    if (input) {
      result.container = input[1];
      inInput = true;
      continue;
    }
    if (!inInput) continue;
    if (/^(Input|Output) #\d+|^Stream mapping|^At least one output/.test(line)) break;
    const duration = /^\s+Duration: (?:(\d+):(\d{2}):(\d{2}(?:\.\d+)?)|N\/A)/.exec(line);
    if (duration) {
      if (duration[1] !== undefined) result.durationSeconds = Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]);
      // Digits only, one point at most: "[\d.]+" took ".1." and gave a NaN start (found by fuzzing).
      const start = /, start: (-?\d*\.?\d+)\b/.exec(line);
      if (start) result.startSeconds = Number(start[1]);
      continue;
    }
    const stream = /^\s+Stream #0:(\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: (\w+): (.*)$/.exec(line);
    if (stream) {
      current = { index: Number(stream[1]), type: stream[2]!, description: stream[3]!, rotation: undefined };
      result.streams.push(current);
      continue;
    }
    if (!current) continue;
    // ffmpeg turns frames by the display matrix (angle counter-clockwise), never by a bare `rotate`
    // tag (which MP4/MOV files carry alongside the matrix and newer ffmpeg no longer prints); so
    // the matrix alone decides, and the reported rotation is always the one applied to the frames.
    const matrix = /displaymatrix: rotation of (-?[\d.]+) degrees/i.exec(line);
    if (matrix) current.rotation = normaliseRotation(-Number(matrix[1]));
  }
  return result;
}

/** A quarter turn in 0..270; ffmpeg autorotates only within a degree of one, so other angles are 0. */
function normaliseRotation(degrees: number): number {
  if (!Number.isFinite(degrees)) return 0;
  const quarter = Math.round(degrees / 90) * 90;
  if (Math.abs(degrees - quarter) > 1) return 0;
  return ((quarter % 360) + 360) % 360;
}

/** Splits on top-level commas: "yuv420p(tv, bt709), 320x240 [SAR 1:1 DAR 4:3]" has two parts. */
function topLevelParts(description: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < description.length; i++) {
    const ch = description[i];
    if (ch === '(' || ch === '[') depth++;
    else if ((ch === ')' || ch === ']') && depth > 0) depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(description.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(description.slice(start).trim());
  return parts;
}

/** ffmpeg prints rates as "25", "29.97", "1k"; rates within 0.005 of n×1000/1001 are NTSC-style. */
function parseRate(value: string, suffix: string | undefined): number {
  const rate = Number(value) * (suffix === 'k' ? 1000 : 1);
  const ntsc = Math.round((rate * 1001) / 1000);
  return Math.abs((ntsc * 1000) / 1001 - rate) < 0.005 && Math.abs(ntsc - rate) > 0.005 ? (ntsc * 1000) / 1001 : rate;
}

interface VideoStreamFacts {
  codec: string;
  pixelFormat: string;
  /** From "yuv420p(tv, bt709)": the range and the matrix, when the stream is tagged. */
  colorRange: 'tv' | 'pc' | 'unknown';
  colorMatrix: string;
  width: number;
  height: number;
  fps: number | undefined;
}

/** Reads codec, pixel format, size and rate from a video stream's description. Exported for tests. */
export function parseVideoStream(description: string): VideoStreamFacts | undefined {
  const parts = topLevelParts(description);
  const codec = /^([\w-]+)/.exec(parts[0] ?? '')?.[1] ?? 'unknown';
  let width = 0;
  let height = 0;
  let pixelFormat = 'unknown';
  let colorRange: VideoStreamFacts['colorRange'] = 'unknown';
  let colorMatrix = 'unknown';
  let avgFps: number | undefined;
  let baseFps: number | undefined;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    const size = /^(\d+)x(\d+)\b/.exec(part);
    if (size && width === 0) {
      width = Number(size[1]);
      height = Number(size[2]);
      const previous = parts[i - 1]!;
      if (i - 1 >= 1 && /^[a-z][a-z0-9_]*(\(.*\))?$/i.test(previous)) {
        pixelFormat = /^[a-z0-9_]+/i.exec(previous)![0];
        const tags =
          /\(([^)]*)\)/
            .exec(previous)?.[1]
            ?.split(',')
            .map((t) => t.trim()) ?? [];
        if (tags.includes('tv')) colorRange = 'tv';
        else if (tags.includes('pc')) colorRange = 'pc';
        const matrix = tags.find((t) => t !== 'tv' && t !== 'pc' && !/progressive|top first|bottom first|left|center|topleft/.test(t));
        if (matrix) colorMatrix = matrix.split('/')[0]!;
      }
      if (/^yuvj/.test(pixelFormat)) colorRange = 'pc';
      continue;
    }
    const rate = /^([\d.]+)(k?) (fps|tbr)$/.exec(part);
    if (rate) {
      const value = parseRate(rate[1]!, rate[2]);
      if (rate[3] === 'fps') avgFps = value;
      else baseFps = value;
    }
  }
  if (width === 0 || height === 0) return undefined;
  const fps = avgFps !== undefined && avgFps > 0 ? avgFps : baseFps !== undefined && baseFps > 0 ? baseFps : undefined;
  return { codec, pixelFormat, colorRange, colorMatrix, width, height, fps };
}

/** Turns the failure of `ffmpeg -i` into an error naming the file and the likely cause. */
function openError(path: string, stderr: string): LiveswapError {
  const last = lastLines(stderr, 3);
  if (/Permission denied/i.test(stderr)) return new LiveswapError('input-unreadable', `Cannot read ${path}: permission denied.`, { file: path });
  if (/No such file or directory/i.test(stderr)) return new LiveswapError('input-missing', `Cannot find ${path}: no such file. Check the path.`, { file: path });
  // "misdetection possible": the bytes only faintly resemble the format its extension names.
  const notThatFormat = /misdetection possible/i.test(stderr);
  const damaged = /moov atom not found|EBML header parsing failed|truncated|corrupt/i.test(stderr);
  if (notThatFormat || (/Invalid data found when processing input/i.test(stderr) && !damaged)) {
    return new LiveswapError('input-unsupported', `${path} is not a video liveswap can read (ffmpeg: ${last}). ${USE_A_VIDEO}`, { file: path });
  }
  return new LiveswapError('input-unreadable', `Cannot read the video ${path}: it is damaged or truncated (ffmpeg: ${last}).`, { file: path });
}

/**
 * Reads a video's size, rate, duration, rotation, codecs and whether it has sound. Errors:
 * `input-missing`, `input-unreadable` (folder, empty, damaged), `input-unsupported` (not a video,
 * or no video stream).
 */
export async function probeVideo(path: string, options: ProbeOptions = {}): Promise<VideoInfo> {
  // Before ffmpeg opens it: ffmpeg would block on a FIFO and read a device without end.
  await checkInputFile(path, 'video');
  const run = await runFfmpeg(probeArgs(path), options);
  const parsed = parseInputInfo(run.stderr);
  if (parsed.container === undefined) {
    // Before blaming the file: a program that is not ffmpeg (--ffmpeg /bin/false) prints no input description either.
    await checkIsFfmpeg(options);
    throw openError(path, run.stderr);
  }
  if (TEXT_DEMUXERS.has(parsed.container)) {
    throw new LiveswapError('input-unsupported', `${path} is not a video liveswap can read (it looks like text). ${USE_A_VIDEO}`, { file: path });
  }
  const video = parsed.streams.find((s) => s.type === 'Video' && !/\(attached pic\)/.test(s.description));
  const hasAudio = parsed.streams.some((s) => s.type === 'Audio');
  if (!video) {
    const what = hasAudio ? 'only audio, no video stream' : 'no video stream';
    throw new LiveswapError('input-unsupported', `${path} has ${what}. Give a video file.`, { file: path });
  }
  const facts = parseVideoStream(video.description);
  if (!facts) {
    throw new LiveswapError('input-unreadable', `Cannot read the video ${path}: ffmpeg reports no frame size for its video stream ("${video.description}").`, { file: path });
  }
  const rotation = video.rotation ?? 0;
  const quarter = rotation === 90 || rotation === 270;
  let fps = facts.fps ?? 25;
  let durationSeconds = parsed.durationSeconds;
  let frameCount: number;
  let frameCountExact = false;
  if (options.countFrames || durationSeconds === undefined) {
    frameCount = await countFrames(path, video.index, options);
    frameCountExact = true;
    durationSeconds ??= frameCount / fps;
  } else {
    frameCount = Math.round(durationSeconds * fps);
  }
  if (facts.fps === undefined && durationSeconds > 0 && frameCountExact) fps = frameCount / durationSeconds;
  return {
    width: quarter ? facts.height : facts.width,
    height: quarter ? facts.width : facts.height,
    codedWidth: facts.width,
    codedHeight: facts.height,
    fps,
    durationSeconds,
    frameCount,
    frameCountExact,
    rotation,
    hasAudio,
    audioStreams: parsed.streams.filter((s) => s.type === 'Audio').map((s) => ({ index: s.index, codec: /^([\w-]+)/.exec(s.description)?.[1] ?? 'unknown' })),
    startSeconds: parsed.startSeconds ?? 0,
    colorRange: facts.colorRange,
    colorMatrix: facts.colorMatrix,
    videoCodec: facts.codec,
    pixelFormat: facts.pixelFormat,
    container: parsed.container,
    streamIndex: video.index,
  };
}

/** Decodes every frame of one stream into ffmpeg's null muxer and reads the final frame count. */
async function countFrames(path: string, streamIndex: number, options: FfmpegOptions): Promise<number> {
  const run = await runFfmpeg(frameCountArgs(path, streamIndex), options);
  const counts = [...run.stdout.matchAll(/^frame=\s*(\d+)\s*$/gm)];
  if (run.code !== 0 || counts.length === 0) {
    const last = lastLines(run.stderr, 3);
    throw new LiveswapError('input-unreadable', `Cannot decode the video ${path} to count its frames (ffmpeg: ${last || `exit code ${run.code}`}).`, { file: path });
  }
  return Number(counts[counts.length - 1]![1]);
}
