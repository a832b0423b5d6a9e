/**
 * Pose and expression kept on a real clip: the video path (`swapVideo`, built-in mesh engine, the
 * main face) swaps a clip with a source photo, then FaceMesh measures the largest face of each
 * input frame in a range and the face at the same place on the output frame: |Δ yaw|, |Δ pitch|
 * (degrees) and the relative mouth and eye openness difference |O − T| / max(T, 0.1), as
 * `liveswap eval` does for stills. Frames where either has no face are counted apart.
 * Run: node --import tsx bench/clip-expression.ts VIDEO [--source PHOTO] [--from N] [--to N] [--json]
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ONE_EURO } from '../src/core/one-euro.js';
import { attributeDifference } from '../src/eval/attributes.js';
import { faceAt } from '../src/face/select.js';
import { readFrames } from '../src/node/media/ffmpeg-read.js';
import { readImage } from '../src/node/media/image-io.js';
import { createNodeSwapper } from '../src/node/jobs/swapper.js';
import { swapVideo } from '../src/node/jobs/video-swap.js';
import { clipArgs } from './clip-args.js';
import { resolveSwapOptions } from '../src/pipeline/options.js';
import { DEFAULT_VIDEO_FACE_OPTIONS } from '../src/pipeline/video.js';

const args = clipArgs('node --import tsx bench/clip-expression.ts VIDEO [--source PHOTO] [--from N] [--to N] [--json]', ['--from', '--to']);
const input = args.video;
const sourcePath = args.source;
const from = Number(args.option('--from') ?? 0);
const to = Number(args.option('--to') ?? Infinity);
const json = args.has('--json');

const work = await mkdtemp(join(tmpdir(), 'liveswap-bench-expression-'));
const swapper = await createNodeSwapper({ engine: 'mesh' });
try {
  const swap = resolveSwapOptions({ engine: 'mesh' });
  const source = await swapper.prepareSource(await readImage(sourcePath, { maxPixels: swap.maxPixels }), swap, sourcePath);
  const output = join(work, 'out.mp4');
  await swapVideo(swapper, { input, output, identities: [source], swap, faces: { ...DEFAULT_VIDEO_FACE_OPTIONS, smoothing: DEFAULT_ONE_EURO, selection: { kind: 'primary' } } });

  const measured: ReturnType<typeof attributeDifference>[] = [];
  let noFaceIn = 0;
  let noFaceOut = 0;
  const outFrames = readFrames(output);
  let index = 0;
  for await (const frame of readFrames(input)) {
    const swapped = (await outFrames.next()).value;
    if (!swapped) break;
    if (index >= from && index < to) {
      const [face] = await swapper.analyze(frame);
      const out = face ? faceAt(await swapper.analyze(swapped), face) : undefined;
      if (!face) noFaceIn++;
      else if (!out) noFaceOut++;
      else measured.push(attributeDifference(out, face));
    }
    index++;
  }
  await outFrames.return(undefined);

  const stats = (values: number[]) => ({ mean: values.reduce((s, v) => s + v, 0) / Math.max(1, values.length), max: Math.max(0, ...values) });
  const over = (values: number[], bar: number) => values.filter((v) => v > bar).length;
  const yaw = measured.map((m) => m.yaw);
  const pitch = measured.map((m) => m.pitch);
  const mouth = measured.map((m) => m.mouthOpenRelative);
  const eyes = measured.map((m) => m.eyesOpenRelative);
  const summary = {
    bench: 'clip-expression',
    frames: { from, to: Math.min(to, index), measured: measured.length, noFaceInInput: noFaceIn, noFaceOnOutput: noFaceOut },
    yawDeg: { ...stats(yaw), over3: over(yaw, 3) },
    pitchDeg: { ...stats(pitch), over3: over(pitch, 3) },
    mouthOpenRelative: { ...stats(mouth), over15: over(mouth, 0.15) },
    eyesOpenRelative: { ...stats(eyes), over15: over(eyes, 0.15) },
  };
  if (json) console.log(JSON.stringify(summary));
  else {
    const f = (v: number, d = 2) => v.toFixed(d);
    const p = (v: number) => `${(v * 100).toFixed(1)} %`;
    console.log(
      `pose and expression kept, frames ${from}–${summary.frames.to - 1}: ${measured.length} measured (no face in the input ${noFaceIn}, none found on the output ${noFaceOut})`,
    );
    console.log(`  |Δ yaw|    mean ${f(summary.yawDeg.mean)}°, max ${f(summary.yawDeg.max)}°, frames over 3°: ${summary.yawDeg.over3}`);
    console.log(`  |Δ pitch|  mean ${f(summary.pitchDeg.mean)}°, max ${f(summary.pitchDeg.max)}°, frames over 3°: ${summary.pitchDeg.over3}`);
    console.log(`  mouth      mean ${p(summary.mouthOpenRelative.mean)}, max ${p(summary.mouthOpenRelative.max)}, frames over 15 %: ${summary.mouthOpenRelative.over15}`);
    console.log(`  eyes       mean ${p(summary.eyesOpenRelative.mean)}, max ${p(summary.eyesOpenRelative.max)}, frames over 15 %: ${summary.eyesOpenRelative.over15}`);
  }
} finally {
  await swapper.close();
  await rm(work, { recursive: true, force: true });
}
