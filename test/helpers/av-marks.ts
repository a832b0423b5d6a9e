/**
 * Sound-and-picture sync, measured: clips carry a white square in the top-left corner and a 1 kHz
 * beep at the same moments, every `every` seconds for `length` seconds; `avDrift` finds each beep
 * in a file's sound and the square nearest it in its picture, and gives the square's time minus the
 * beep's (positive: the picture is late). Used by the live tests and `npm run bench:live-cli`.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileUrlArg, lastLines, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';

/** When the marks come: a square and a beep together every `every` seconds, lasting `length`. */
export interface AvMarks {
  every: number;
  length: number;
}

async function ffmpeg(argv: string[], what: string): Promise<void> {
  const run = await runFfmpeg(['-loglevel', 'error', ...argv]);
  if (run.code !== 0) throw new Error(`${what}: ${lastLines(run.stderr, 4)}`);
}

/** ffmpeg's `enable=` expression that is true while a mark shows. */
export function markEnable(marks: AvMarks): string {
  return `enable='lt(mod(t,${marks.every}),${marks.length})'`;
}

/** A lavfi source of the marks' beeps (48 kHz stereo), silent between them. */
export function beepSource(marks: AvMarks): string {
  return `aevalsrc='if(lt(mod(t,${marks.every}),${marks.length}),0.8*sin(2*PI*1000*t),0)':s=48000:c=stereo`;
}

/** The drawbox filter of the marks' square, `side` pixels in the top-left corner. */
export function squareFilter(marks: AvMarks, side: number): string {
  return `drawbox=x=0:y=0:w=${side}:h=${side}:color=white:t=fill:${markEnable(marks)}`;
}

/** What a marked clip is made from. */
export interface MarkedClipOptions {
  /** ffmpeg's input arguments for the picture (a looped photo, or a clip). */
  picture: readonly string[];
  /** Filters run on the picture before it is sized (each with a leading comma), e.g. a slow sway. */
  motion?: string;
  width: number;
  height: number;
  fps: number;
  seconds: number;
}

/** Writes an H.264/AAC MP4 of the picture at width×height, fps, with the marks' squares and beeps, both from 0. */
export async function writeMarkedClip(out: string, marks: AvMarks, options: MarkedClipOptions): Promise<void> {
  const { width, height, fps } = options;
  const video = `[0:v]fps=${fps}${options.motion ?? ''},scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height},${squareFilter(marks, Math.round(width / 8))},format=yuv420p[v]`;
  await ffmpeg(
    [
      '-y',
      ...options.picture,
      ...['-f', 'lavfi', '-i', beepSource(marks), '-t', String(options.seconds), '-filter_complex', video],
      ...['-map', '[v]', '-map', '1:a', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-g', String(fps), '-c:a', 'aac', '-shortest', fileUrlArg(out)],
    ],
    'making the marked clip',
  );
}

/** Times (s) where a signal rises over its threshold, at least `gap` apart. */
function rises(values: readonly number[], step: number, threshold: number, gap: number): number[] {
  const times: number[] = [];
  for (let i = 1; i < values.length; i++) {
    if (values[i]! > threshold && values[i - 1]! <= threshold && (times.length === 0 || i * step - times.at(-1)! > gap)) times.push(i * step);
  }
  return times;
}

/** The drift of each beep to its square in a file (s): positive when the picture is late. `dir` takes two working files. */
export async function avDrift(file: string, dir: string, fps: number, marks: AvMarks): Promise<number[]> {
  const video = join(dir, 'corner.gray');
  const audio = join(dir, 'sound.pcm');
  // Both from the file's start: frames at a constant rate, the sound padded to start at 0 as well.
  await ffmpeg(
    ['-y', '-i', fileUrlArg(file), '-map', '0:v:0', '-vsync', 'cfr', '-r', String(fps), '-vf', 'scale=16:9,format=gray', '-f', 'rawvideo', fileUrlArg(video)],
    'reading the frames',
  );
  await ffmpeg(
    ['-y', '-i', fileUrlArg(file), '-map', '0:a:0', '-af', 'aresample=async=1:first_pts=0', '-ac', '1', '-ar', '8000', '-f', 's16le', fileUrlArg(audio)],
    'reading the sound',
  );
  const frames = await readFile(video);
  const corner: number[] = [];
  for (let i = 0; i + 144 <= frames.length; i += 144) corner.push(frames[i]!); // the top-left pixel of each 16×9 frame
  const pcm = await readFile(audio);
  const windows: number[] = [];
  for (let i = 0; i + 160 <= pcm.length; i += 160) {
    let sum = 0;
    for (let j = i; j < i + 160; j += 2) sum += Math.abs(pcm.readInt16LE(j));
    windows.push(sum / 80);
  }
  const squares = rises(corner, 1 / fps, 200, marks.every / 2);
  const beeps = rises(windows, 0.01, 3000, marks.every / 2);
  return beeps.flatMap((beep) => {
    const square = squares.find((t) => Math.abs(t - beep) < marks.every / 2);
    return square === undefined ? [] : [square - beep];
  });
}
