/**
 * What the invisible watermark costs in file size: one face swap of a real clip, encoded side by
 * side with the visible label only and with label + watermark (FrameMarker, as every output gets),
 * by x264 at CRF 18 and CRF 23 (preset medium, yuv420p), from the same decoded frames. Reports the
 * bitrates, the watermark's extra in per cent, the watermark's PSNR-Y on the clip, and whether the
 * watermark is read back from each marked encode.
 * The clip is not part of the repository: pass any video with a face.
 * Run: node --import tsx bench/watermark-bitrate.ts --clip FILE [--scale 2] [--json]
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloneImage, type Image } from '../src/core/image.js';
import { DEFAULT_ONE_EURO } from '../src/core/one-euro.js';
import { childExit, ffmpegPath, fileUrlArg, lastLines, runFfmpeg, StderrTail } from '../src/node/media/ffmpeg-binary.js';
import { readFrames } from '../src/node/media/ffmpeg-read.js';
import { createNodeSwapper } from '../src/node/jobs/swapper.js';
import { swapVideo } from '../src/node/jobs/video-swap.js';
import { drawLabel } from '../src/provenance/label.js';
import { FrameMarker } from '../src/provenance/marks.js';
import { randomAssetId, WATERMARK_VERSION } from '../src/provenance/payload.js';
import { decideWatermark, psnrLuma, WatermarkDetector } from '../src/provenance/watermark.js';
import { resolveSwapOptions } from '../src/pipeline/options.js';
import { DEFAULT_VIDEO_FACE_OPTIONS } from '../src/pipeline/video.js';
import { loadFixture } from '../test/helpers/fixtures.js';
import { option } from './flags.js';

const args = process.argv.slice(2);
const clipArg = option('--clip');
if (!clipArg) {
  console.error('usage: node --import tsx bench/watermark-bitrate.ts --clip FILE [--scale 2] [--json]');
  process.exit(2);
}
const clip: string = clipArg;
const scale = Number(option('--scale') ?? 1);
const json = args.includes('--json');
const CRFS = [18, 23] as const;
const log = (line: string): void => void (json ? process.stderr.write(`${line}\n`) : console.log(line));

interface Encoder {
  write(frame: Image): Promise<void>;
  finish(): Promise<number>;
}

/** x264 from raw RGB/RGBA frames on a pipe (preset medium, yuv420p); finish() answers the file's size in bytes. */
function encoder(file: string, width: number, height: number, channels: number, fps: number, crf: number): Encoder {
  const binary = ffmpegPath();
  const pixFmt = channels === 4 ? 'rgba' : 'rgb24';
  const child = spawn(
    binary,
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', pixFmt, '-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0'],
      ...['-c:v', 'libx264', '-preset', 'medium', '-crf', String(crf), '-pix_fmt', 'yuv420p', file],
    ],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  const tail = new StderrTail();
  child.stderr!.on('data', (chunk: Buffer) => tail.push(chunk));
  const exited = childExit(child, binary);
  const stdin = child.stdin!;
  stdin.on('error', () => undefined);
  return {
    async write(frame) {
      if (!stdin.write(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.length))) await Promise.race([once(stdin, 'drain'), exited]);
    },
    async finish() {
      stdin.end();
      const status = await exited;
      if (status.code !== 0) throw new Error(`x264 CRF ${crf} failed (${status.code}): ${tail.lastLines()}`);
      return (await stat(file)).size;
    },
  };
}

const work = await mkdtemp(join(tmpdir(), 'liveswap-bench-wm-bitrate-'));
try {
  // 1. The input at the size asked for, then one swap of it, kept near-lossless (x264 CRF 0) and unmarked:
  //    the frames both variants start from.
  let input = clip;
  if (scale !== 1) {
    input = join(work, 'scaled.mp4');
    const made = await runFfmpeg([
      ...['-loglevel', 'error', '-y', '-i', fileUrlArg(clip), '-vf', `scale=trunc(iw*${scale}/2)*2:trunc(ih*${scale}/2)*2:flags=lanczos`],
      ...['-an', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '0', fileUrlArg(input)],
    ]);
    if (made.code !== 0) throw new Error(`could not scale the clip: ${lastLines(made.stderr, 6)}`);
  }
  const swapper = await createNodeSwapper({ engine: 'mesh' });
  const swap = resolveSwapOptions({ engine: 'mesh' });
  const source = await swapper.prepareSource(await loadFixture('astronaut.png'), swap);
  const swapped = join(work, 'swapped.mp4');
  const summary = await swapVideo(swapper, {
    input,
    output: swapped,
    identities: [source],
    swap,
    faces: { ...DEFAULT_VIDEO_FACE_OPTIONS, smoothing: DEFAULT_ONE_EURO, selection: { kind: 'primary' } },
    marks: false,
    encoding: { quality: 0, preset: 'veryfast', audio: false },
  });
  await swapper.close();
  const { width, height, fps } = summary.input;
  log(`clip ${width}×${height} at ${fps.toFixed(2)} fps, ${summary.frames} frames, ${summary.framesSwapped} swapped`);

  // 2. The same decoded frames into four encoders: {label only, label + watermark} × {CRF 18, CRF 23}.
  const key = new Uint8Array(randomBytes(32));
  const assetId = randomAssetId((b) => b.set(randomBytes(b.length)));
  const marker = new FrameMarker({ label: {}, watermark: { key, payload: { assetId, version: WATERMARK_VERSION } }, media: 'video' });
  const files = { label: CRFS.map((crf) => join(work, `label-${crf}.mp4`)), marked: CRFS.map((crf) => join(work, `marked-${crf}.mp4`)) };
  let encoders: { label: Encoder[]; marked: Encoder[] } | undefined;
  let squaredError = 0;
  let frames = 0;
  let markMs = 0;
  for await (const frame of readFrames(swapped, { ffmpegPath: ffmpegPath() })) {
    encoders ??= {
      label: CRFS.map((crf, i) => encoder(files.label[i], frame.width, frame.height, frame.channels, fps, crf)),
      marked: CRFS.map((crf, i) => encoder(files.marked[i], frame.width, frame.height, frame.channels, fps, crf)),
    };
    drawLabel(frame);
    const marked = cloneImage(frame);
    const t0 = performance.now();
    marker.mark(marked); // the label again (same pixels) and the watermark
    markMs += performance.now() - t0;
    squaredError += 10 ** (-psnrLuma(frame, marked) / 10);
    frames++;
    await Promise.all([...encoders.label.map((e) => e.write(frame)), ...encoders.marked.map((e) => e.write(marked))]);
  }
  if (!encoders) throw new Error('the swapped clip has no frames');
  const sizes = { label: await Promise.all(encoders.label.map((e) => e.finish())), marked: await Promise.all(encoders.marked.map((e) => e.finish())) };
  const seconds = frames / fps;
  const kbps = (bytes: number): number => Math.round((bytes * 8) / seconds / 100) / 10;

  // 3. Is the watermark read back from each marked encode (the whole clip, then 1-s windows)?
  const found: boolean[] = [];
  const everySecond: boolean[] = [];
  for (const file of files.marked) {
    const detector = new WatermarkDetector(key);
    const perFrame: Float32Array[] = [];
    for await (const image of readFrames(file, { ffmpegPath: ffmpegPath() })) perFrame.push(detector.add(image));
    const detection = detector.detection(fps);
    found.push(detection.found && detection.payload?.assetId === assetId);
    const window = Math.round(fps);
    let all = true;
    for (let first = 0; first + window <= perFrame.length; first += window) {
      const d = decideWatermark(perFrame.slice(first, first + window), { fps, windowFrames: window });
      if (!(d.found && d.payload?.assetId === assetId)) all = false;
    }
    everySecond.push(all);
  }

  const rows = CRFS.map((crf, i) => ({
    crf,
    labelOnlyKbps: kbps(sizes.label[i]),
    withWatermarkKbps: kbps(sizes.marked[i]),
    extra: Math.round((sizes.marked[i] / sizes.label[i] - 1) * 1000) / 10,
    found: found[i],
    every1sWindowFound: everySecond[i],
  }));
  const psnr = -10 * Math.log10(squaredError / frames);
  const result = { bench: 'watermark-bitrate', width, height, fps, frames, psnrY: Math.round(psnr * 100) / 100, markMsPerFrame: Math.round((markMs / frames) * 100) / 100, rows };
  if (json) console.log(JSON.stringify(result));
  else {
    log(`watermark PSNR-Y over the clip ${psnr.toFixed(2)} dB; mark ${(markMs / frames).toFixed(2)} ms per frame`);
    log(`${'x264'.padEnd(10)}${'label only'.padStart(14)}${'+ watermark'.padStart(14)}${'extra'.padStart(9)}   read back (clip / every 1-s window)`);
    for (const r of rows) {
      log(
        `${`CRF ${r.crf}`.padEnd(10)}${`${r.labelOnlyKbps} kb/s`.padStart(14)}${`${r.withWatermarkKbps} kb/s`.padStart(14)}${`${r.extra.toFixed(1)} %`.padStart(9)}   ${r.found ? 'yes' : 'NO'} / ${r.every1sWindowFound ? 'yes' : 'NO'}`,
      );
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
