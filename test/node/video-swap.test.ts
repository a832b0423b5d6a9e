/**
 * Video swaps end to end on clips made at test time: frame count and times kept (variable rates
 * too), audio kept, faces swapped in the frames that have one, the rest of the picture unchanged,
 * trims, rotation, odd sizes, several faces, smoothing that halves landmark jitter, and a fresh
 * start at a cut.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { DEFAULT_ONE_EURO } from '../../src/core/one-euro.js';
import type { Image } from '../../src/core/image.js';
import { fileUrlArg, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { probeVideo } from '../../src/node/media/ffmpeg-probe.js';
import { readFrames } from '../../src/node/media/ffmpeg-read.js';
import { frameSeconds, readFrameTiming, setptsExpression } from '../../src/node/media/ffmpeg-timing.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { swapVideo, type VideoSwapRequest } from '../../src/node/jobs/video-swap.js';
import { loadWatermarkKey } from '../../src/node/provenance/output-provenance.js';
import { verifyFile } from '../../src/node/provenance/verify.js';
import { resolveSwapOptions } from '../../src/pipeline/options.js';
import type { PreparedSource } from '../../src/pipeline/still.js';
import { DEFAULT_VIDEO_FACE_OPTIONS, VideoFacePlanner, type FaceSelection } from '../../src/pipeline/video.js';
import { makeClip } from '../helpers/clips.js';
import { FIXTURES, loadFixture, TEST_HOME } from '../helpers/fixtures.js';

let swapper: NodeSwapper;
let source: PreparedSource;
let dir: string;

before(async () => {
  swapper = await createNodeSwapper({ home: TEST_HOME });
  source = await swapper.prepareSource(await loadFixture('astronaut.png'), resolveSwapOptions());
  dir = await mkdtemp(join(tmpdir(), 'liveswap-video-swap-'));
});
after(async () => {
  await swapper.close();
  await rm(dir, { recursive: true, force: true });
});

/** These tests compare the swap's own pixels, so their frames are left unmarked, explicitly. */
function request(input: string, output: string, extra: Partial<VideoSwapRequest> = {}, selection: FaceSelection = { kind: 'primary' }): VideoSwapRequest {
  return {
    input,
    output,
    identities: [source],
    swap: resolveSwapOptions(),
    faces: { ...DEFAULT_VIDEO_FACE_OPTIONS, smoothing: DEFAULT_ONE_EURO, selection },
    marks: false,
    ...extra,
  };
}

async function frames(path: string): Promise<Image[]> {
  const list: Image[] = [];
  for await (const frame of readFrames(path)) list.push(frame);
  return list;
}

/**
 * Frame times in seconds, relative to the first frame (in ms, rounded). Matroska moves a whole file
 * by an audio codec's priming (≈ 21 ms) where MP4 hides it in an edit list: `start` says by how much.
 */
async function timesOf(path: string): Promise<number[]> {
  const timing = await readFrameTiming(path, await probeVideo(path));
  const start = frameSeconds(timing, 0);
  assert.ok(start >= 0 && start < 0.03, `${path} starts at ${start} s`);
  return timing.pts.map((_, i) => Math.round((frameSeconds(timing, i) - start) * 1000) / 1000);
}

/** Mean absolute difference over a rectangle, or over everything outside it. */
function meanDiff(a: Image, b: Image, box: [number, number, number, number], inside: boolean): number {
  const [x0, y0, x1, y1] = box;
  let sum = 0;
  let n = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const within = x >= x0 && x < x1 && y >= y0 && y < y1;
      if (within !== inside) continue;
      const i = (y * a.width + x) * a.channels;
      for (let c = 0; c < 3; c++) sum += Math.abs(a.data[i + c]! - b.data[i + c]!);
      n += 3;
    }
  }
  return n === 0 ? 0 : sum / n;
}

/** The face's box in a frame, grown by `grow` of its size on each side, clamped to the frame. */
async function faceBox(image: Image, grow: number): Promise<[number, number, number, number] | undefined> {
  const [face] = await swapper.analyze(image);
  if (!face) return undefined;
  const [x, y, w, h] = face.box;
  const g = Math.max(w, h) * grow;
  return [Math.max(0, Math.floor(x - g)), Math.max(0, Math.floor(y - g)), Math.min(image.width, Math.ceil(x + w + g)), Math.min(image.height, Math.ceil(y + h + g))];
}

describe('swapVideo', () => {
  test('marks every frame by default (label and watermark with the key under home); unmarked only when asked, and says so', async () => {
    const input = await makeClip({ motion: 'static', frames: 30, fps: 25, dir, name: 'marks' });
    const home = join(dir, 'marks-home');
    const marked = await swapVideo(swapper, { ...request(input, join(dir, 'marks-default.mp4')), marks: undefined, home });
    assert.equal(marked.marks.label, true);
    assert.equal(marked.marks.watermark, true);
    assert.match(marked.marks.watermarkId ?? '', /^[0-9a-f]{8}$/);
    const key = await loadWatermarkKey(home);
    const report = await verifyFile(join(dir, 'marks-default.mp4'), { key });
    assert.equal(report.watermark.found, true, 'the watermark is in the frames');
    assert.equal(report.watermark.watermarkId, marked.marks.watermarkId);
    assert.equal(report.label.found, true, 'the label is drawn');

    const plain = await swapVideo(swapper, request(input, join(dir, 'marks-off.mp4')));
    assert.deepEqual(plain.marks, { label: false, watermark: false });
    const unmarked = await verifyFile(join(dir, 'marks-off.mp4'), { key });
    assert.equal(unmarked.watermark.found, false);
    assert.equal(unmarked.label.found, false);
  });

  test('the library still swap is marked by default too', async () => {
    const home = join(dir, 'marks-home');
    const target = await loadFixture('grace_hopper.jpg');
    const marked = await swapper.swap(source, target, resolveSwapOptions(), { home });
    assert.equal(marked.marks.label && marked.marks.watermark, true);
    assert.ok(typeof marked.report.timings.mark === 'number');
    const plain = await swapper.swap(source, target, resolveSwapOptions(), { marks: false });
    assert.deepEqual(plain.marks, { label: false, watermark: false });
    // Only the marks differ: the label's corner most, the faint watermark a little everywhere.
    const h = target.height;
    const w = target.width;
    const corner = meanDiff(marked.image, plain.image, [Math.floor(w * 0.6), Math.floor(h * 0.85), w, h], true);
    const elsewhere = meanDiff(marked.image, plain.image, [0, 0, Math.floor(w * 0.5), Math.floor(h * 0.5)], true);
    assert.ok(corner > 5 * elsewhere && elsewhere > 0, `label corner ${corner}, elsewhere ${elsewhere}`);
  });

  test('keeps frame count, frame times and audio; swaps the face in every frame and leaves the rest alone', async () => {
    const input = await makeClip({ motion: 'zoom', frames: 40, fps: 25, audioHz: 440, dir, name: 'zoom-audio' });
    const output = join(dir, 'zoom-audio-out.mp4');
    const summary = await swapVideo(swapper, request(input, output));
    assert.equal(summary.frames, 40);
    assert.equal(summary.audio, 'copied');
    const [inInfo, outInfo] = [await probeVideo(input), await probeVideo(output)];
    assert.equal(outInfo.audioStreams.length, 1);
    assert.ok(Math.abs(outInfo.durationSeconds - inInfo.durationSeconds) <= 0.05, `durations ${inInfo.durationSeconds} vs ${outInfo.durationSeconds}`);
    assert.deepEqual(await timesOf(output), await timesOf(input));

    const before = await frames(input);
    const afterFrames = await frames(output);
    assert.equal(afterFrames.length, before.length);
    let swapped = 0;
    let withFace = 0;
    for (let i = 0; i < before.length; i++) {
      const inner = await faceBox(before[i]!, -0.15);
      const outer = await faceBox(before[i]!, 0.35);
      if (!inner || !outer) continue;
      withFace++;
      if (meanDiff(before[i]!, afterFrames[i]!, inner, true) > 8) swapped++;
      const outside = meanDiff(before[i]!, afterFrames[i]!, outer, false);
      assert.ok(outside < 2.5, `frame ${i}: outside the face the output differs by ${outside.toFixed(2)} levels`);
    }
    assert.ok(withFace >= 38, `faces found in ${withFace} of 40 input frames`);
    assert.ok(swapped / withFace >= 0.95, `swapped in ${swapped} of ${withFace} frames with a face`);
  });

  test("a variable frame rate keeps every frame's own time", async () => {
    const still = join(dir, 'vfr-still.png');
    await sharp(join(FIXTURES, 'grace_hopper.jpg')).resize(320, 240, { fit: 'cover' }).png().toFile(still);
    const input = join(dir, 'vfr.mkv');
    // 12 frames 40 ms apart, then 8 frames 100 ms apart, with a 7 ms wobble on every third frame.
    const pts = Array.from({ length: 20 }, (_, n) => (n < 12 ? n * 40 : 440 + (n - 11) * 100) + (n % 3 === 2 ? 7 : 0));
    const run = await runFfmpeg([
      '-loglevel',
      'error',
      '-y',
      '-loop',
      '1',
      '-framerate',
      '25',
      '-i',
      fileUrlArg(still),
      '-frames:v',
      '20',
      '-vf',
      `settb=1/1000,setpts='${setptsExpression(pts)}',format=yuv420p`,
      '-vsync',
      'passthrough',
      '-enc_time_base',
      '1/1000',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      fileUrlArg(input),
    ]);
    assert.equal(run.code, 0, run.stderr);
    const inputTimes = await timesOf(input);
    assert.deepEqual(
      inputTimes,
      pts.map((t) => t / 1000),
    );
    const output = join(dir, 'vfr-out.mkv');
    const summary = await swapVideo(swapper, request(input, output));
    assert.equal(summary.input.variableRate, true);
    assert.deepEqual(await timesOf(output), inputTimes);
  });

  test('a 65-frame VP9 WebM written to .mp4 (x264 or VP9) or .mkv keeps all 65 frames at their times', async () => {
    const input = await makeClip({ frames: 65, fps: 25, format: 'webm', audioHz: 440, dir, name: 'vp9-65' });
    const inputTimes = await timesOf(input);
    assert.equal(inputTimes.length, 65);
    for (const [name, codec] of [
      ['vp9-65-x264.mp4', undefined],
      ['vp9-65-vp9.mp4', 'libvpx-vp9'],
      ['vp9-65.mkv', undefined],
    ] as const) {
      const output = join(dir, name);
      const summary = await swapVideo(swapper, request(input, output, codec ? { encoding: { codec } } : {}));
      assert.equal(summary.frames, 65);
      assert.equal((await probeVideo(output, { countFrames: true })).frameCount, 65, `${name}: every frame is shown, the last one too`);
      assert.deepEqual(await timesOf(output), inputTimes, name);
    }
  });

  test('trims by time and by frame, audio included', async () => {
    const input = await makeClip({ frames: 50, fps: 25, audioHz: 330, dir, name: 'trim' });
    const output = join(dir, 'trim-out.mkv');
    const summary = await swapVideo(swapper, request(input, output, { encoding: { trimStart: { seconds: 0.4 }, trimEnd: { frame: 35 } } }));
    assert.equal(summary.frames, 25);
    const times = await timesOf(output);
    assert.equal(times.length, 25);
    assert.equal(times[0], 0);
    const info = await probeVideo(output);
    assert.equal(info.audioStreams.length, 1);
    // One second of frames; the audio, cut by atrim and re-encoded, ends within a couple of AAC frames (21 ms each) of it.
    assert.ok(Math.abs(info.durationSeconds - 1) <= 0.1, `trimmed duration ${info.durationSeconds}`);
  });

  test('--no-audio, --fps and another container', async () => {
    const input = await makeClip({ frames: 25, fps: 25, audioHz: 440, dir, name: 'rate' });
    const output = join(dir, 'rate-out.webm');
    const summary = await swapVideo(swapper, request(input, output, { encoding: { audio: false, fps: 10 } }));
    assert.equal(summary.audio, 'dropped');
    const info = await probeVideo(output, { countFrames: true });
    assert.equal(info.audioStreams.length, 0);
    assert.equal(info.videoCodec, 'vp9');
    assert.equal(info.frameCount, 10);
  });

  test('a rotation tag is honoured: the output is stored the way the input is shown', async () => {
    const input = await makeClip({ frames: 6, width: 320, height: 240, rotation: 90, dir, name: 'rotated' });
    const output = join(dir, 'rotated-out.mp4');
    const summary = await swapVideo(swapper, request(input, output));
    const info = await probeVideo(output);
    assert.deepEqual([info.width, info.height, info.rotation], [240, 320, 0]);
    assert.equal(summary.framesSwapped, 6);
  });

  test('odd frame sizes are padded by one edge pixel for 4:2:0', async () => {
    const input = join(dir, 'odd.mkv');
    const run = await runFfmpeg([
      '-loglevel',
      'error',
      '-y',
      '-loop',
      '1',
      '-framerate',
      '10',
      '-i',
      fileUrlArg(join(FIXTURES, 'grace_hopper.jpg')),
      '-frames:v',
      '5',
      '-vf',
      'scale=321:241,format=yuv444p',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      fileUrlArg(input),
    ]);
    assert.equal(run.code, 0, run.stderr);
    const output = join(dir, 'odd-out.mkv');
    const summary = await swapVideo(swapper, request(input, output));
    assert.equal(summary.frames, 5);
    // yuv444p input keeps 4:4:4, which needs no padding.
    const info = await probeVideo(output);
    assert.deepEqual([info.width, info.height, info.pixelFormat], [321, 241, 'yuv444p']);
  });

  test('the main face by default, every face with selection "all"', async () => {
    const pair = join(dir, 'pair.png');
    const left = await sharp(join(FIXTURES, 'grace_hopper.jpg')).resize(240, 240, { fit: 'cover' }).png().toBuffer();
    const right = await sharp(join(FIXTURES, 'grace_hopper.jpg')).resize(200, 200, { fit: 'cover' }).flop().png().toBuffer();
    await sharp({ create: { width: 480, height: 240, channels: 3, background: { r: 90, g: 90, b: 90 } } })
      .composite([
        { input: left, left: 0, top: 0 },
        { input: right, left: 270, top: 20 },
      ])
      .png()
      .toFile(pair);
    const input = join(dir, 'pair.mp4');
    const run = await runFfmpeg([
      '-loglevel',
      'error',
      '-y',
      '-loop',
      '1',
      '-framerate',
      '25',
      '-i',
      fileUrlArg(pair),
      '-frames:v',
      '8',
      '-vf',
      'format=yuv420p',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      fileUrlArg(input),
    ]);
    assert.equal(run.code, 0, run.stderr);
    const one = await swapVideo(swapper, request(input, join(dir, 'pair-one.mp4')));
    assert.equal(one.facesSwapped, 8);
    const all = await swapVideo(swapper, request(input, join(dir, 'pair-all.mp4'), {}, { kind: 'all' }));
    assert.equal(all.facesSwapped, 16);
    // The main face is the larger, left one: the right half is unchanged.
    const [original] = await frames(input);
    const [swappedOne] = await frames(join(dir, 'pair-one.mp4'));
    const rightDiff = meanDiff(original!, swappedOne!, [260, 0, 480, 240], true);
    const leftDiff = meanDiff(original!, swappedOne!, [40, 40, 200, 220], true);
    assert.ok(rightDiff < 2.5 && leftDiff > 4, `mean differences: left face ${leftDiff.toFixed(2)}, right face ${rightDiff.toFixed(2)}`);
  });

  test('smoothing at least halves the landmark jitter of a still face', async (t) => {
    const input = await makeClip({ frames: 40, fps: 25, noise: 12, dir, name: 'still-noise' });
    const decoded = await frames(input);
    const jitter = async (smoothing: typeof DEFAULT_ONE_EURO | false): Promise<number> => {
      const planner = new VideoFacePlanner(
        { analyze: (image) => swapper.analyze(image), ...(swapper.track ? { track: swapper.track } : {}) },
        { ...DEFAULT_VIDEO_FACE_OPTIONS, smoothing, selection: { kind: 'primary' } },
      );
      const marks: Float32Array[] = [];
      for (const [i, frame] of decoded.entries()) {
        const plan = await planner.plan(frame, i / 25, i);
        if (plan.faces[0]) marks.push(plan.faces[0].face.landmarks);
      }
      // RMS distance of each point from its mean position, after the filter has settled.
      const settled = marks.slice(5);
      const mean = new Float64Array(settled[0]!.length);
      for (const m of settled) for (let k = 0; k < m.length; k++) mean[k] += m[k]! / settled.length;
      let sum = 0;
      let n = 0;
      for (const m of settled) {
        for (let k = 0; k < m.length; k += 3) {
          sum += (m[k]! - mean[k]!) ** 2 + (m[k + 1]! - mean[k + 1]!) ** 2;
          n++;
        }
      }
      return Math.sqrt(sum / n);
    };
    const raw = await jitter(false);
    const smooth = await jitter(DEFAULT_ONE_EURO);
    t.diagnostic(`landmark jitter: ${raw.toFixed(3)} px without smoothing, ${smooth.toFixed(3)} px with`);
    assert.ok(raw > 0.05, `the noisy clip should make the landmarks move (${raw})`);
    assert.ok(smooth <= raw / 2, `smoothed jitter ${smooth.toFixed(3)} px vs ${raw.toFixed(3)} px unsmoothed`);
  });

  test('a cut to a shot without a face: the planner starts afresh there and paints nothing after it', async () => {
    const face = await makeClip({ motion: 'zoom', frames: 12, fps: 25, dir, name: 'shot-face' });
    const noise = join(dir, 'noise.png');
    await sharp({ create: { width: 320, height: 240, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 120, sigma: 40 } } })
      .blur(3)
      .png()
      .toFile(noise);
    const empty = await makeClip({ photo: noise, motion: 'zoom', frames: 12, fps: 25, dir, name: 'shot-empty' });
    const input = join(dir, 'cut.mp4');
    const run = await runFfmpeg([
      '-loglevel',
      'error',
      '-y',
      '-i',
      fileUrlArg(face),
      '-i',
      fileUrlArg(empty),
      '-filter_complex',
      '[0:v][1:v]concat=n=2:v=1:a=0',
      '-c:v',
      'libx264',
      '-crf',
      '12',
      '-preset',
      'veryfast',
      fileUrlArg(input),
    ]);
    assert.equal(run.code, 0, run.stderr);
    const plans = async (shotChange: boolean) => {
      const seen: { cut: boolean; detected: boolean; painted: number }[] = [];
      const faces = { ...DEFAULT_VIDEO_FACE_OPTIONS, smoothing: DEFAULT_ONE_EURO, selection: { kind: 'primary' } as const, ...(shotChange ? {} : { shotChange: false as const }) };
      await swapVideo(
        swapper,
        request(input, join(dir, `cut-out-${shotChange}.mp4`), {
          faces,
          onPlan: (_, plan) => void seen.push({ cut: plan.cut, detected: plan.detected, painted: plan.faces.length }),
        }),
      );
      return seen;
    };
    const seen = await plans(true);
    assert.equal(seen.length, 24);
    assert.deepEqual(
      seen.flatMap((p, i) => (p.cut ? [i] : [])),
      [12],
      'the cut, at the first frame of the second shot',
    );
    assert.equal(seen[12]!.detected, true);
    assert.ok(
      seen.slice(0, 12).every((p) => p.painted === 1),
      'the face is painted throughout the first shot',
    );
    assert.deepEqual(
      seen.slice(12).map((p) => p.painted),
      new Array(12).fill(0),
      'nothing painted after the cut',
    );
    const blind = await plans(false);
    assert.ok(
      blind.slice(12).some((p) => p.painted > 0),
      "without looking for cuts, the first shot's face is painted on the second (the ghost this prevents)",
    );
  });

  test('no face in any frame: the output is the input, with a notice', async () => {
    const blank = join(dir, 'blank.png');
    await sharp({ create: { width: 160, height: 120, channels: 3, background: { r: 40, g: 120, b: 200 } } })
      .png()
      .toFile(blank);
    const input = await makeClip({ photo: blank, frames: 5, width: 160, height: 120, dir, name: 'blank' });
    const summary = await swapVideo(swapper, request(input, join(dir, 'blank-out.mp4')));
    assert.equal(summary.framesWithFaces, 0);
    assert.match(summary.notices.join(' '), /No face was found/);
    const [a] = await frames(input);
    const [b] = await frames(join(dir, 'blank-out.mp4'));
    assert.ok(meanDiff(a!, b!, [0, 0, 0, 0], false) < 1.5);
  });

  test('an aborted swap leaves nothing at the output path', async () => {
    const input = await makeClip({ frames: 60, fps: 25, dir, name: 'abort' });
    const output = join(dir, 'abort-out.mp4');
    const stop = new AbortController();
    const run = swapVideo(swapper, request(input, output, { signal: stop.signal, progressEveryMs: 0, onProgress: (p) => (p.frame === 5 ? stop.abort() : undefined) }));
    await assert.rejects(run, (error: Error & { kind?: string }) => error.kind === 'interrupted');
    await assert.rejects(probeVideo(output), /no such file/i);
  });
});
