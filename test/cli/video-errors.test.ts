/**
 * `liveswap swap` with a video target on bad input, and stopped part way (Ctrl-C, a killed ffmpeg):
 * each failure has its exit code and a message naming the file, and none leaves an output file,
 * a temporary file or an ffmpeg process behind.
 */

import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { Image } from '../../src/core/image.js';
import { fileUrlArg, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { probeVideo } from '../../src/node/media/ffmpeg-probe.js';
import { readFrames } from '../../src/node/media/ffmpeg-read.js';
import {
  type BackgroundCli,
  facelessPhoto,
  faststartCopy,
  ffmpegChildrenOf,
  noiseFile,
  overwrittenCopy,
  startCli,
  truncatedCopy,
  waitUntil,
  zeroFrameVideo,
} from '../helpers/bad-videos.js';
import { makeAudioFile, makeClip, processExists } from '../helpers/clips.js';
import { FIXTURES, meanAbsDiff } from '../helpers/fixtures.js';
import { runCli, show, type CliResult } from './run-cli.js';

const SOURCE = join(FIXTURES, 'astronaut.png');
const KEEP = 'keep.mp4';
const KEEP_BYTES = Buffer.from('an earlier result that a failed run must leave alone\n');
const LINUX = process.platform === 'linux';

let dir: string;
/** 25 frames of grace_hopper, 320×240. */
let clip: string;
/** 300 frames: long enough to be stopped part way. */
let longClip: string;
let unusableHome: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-video-errors-'));
  unusableHome = join(dir, 'not-a-folder');
  await writeFile(unusableHome, 'models cannot be cached under a plain file');
  [clip, longClip] = await Promise.all([makeClip({ dir, name: 'face', frames: 25 }), makeClip({ dir, name: 'long', frames: 300 })]);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh output folder holding one earlier file, and the output path to use in it. */
async function outputFolder(name: string, file = 'out.mp4'): Promise<{ folder: string; output: string }> {
  const folder = join(dir, name);
  await mkdir(folder);
  await writeFile(join(folder, KEEP), KEEP_BYTES);
  return { folder, output: join(folder, file) };
}

/** Nothing at the output path, no temporary file beside it, and the earlier file as it was. */
async function assertNothingWritten(folder: string, context: string): Promise<void> {
  assert.deepEqual(await readdir(folder), [KEEP], `only the earlier file may be in the output folder\n${context}`);
  assert.deepEqual(await readFile(join(folder, KEEP)), KEEP_BYTES, 'the earlier file is untouched');
}

function swap(args: string[], home?: string): CliResult {
  return runCli(['swap', ...args], home === undefined ? {} : { home });
}

function expectFailure(result: CliResult, code: number, words: RegExp): void {
  assert.equal(result.code, code, show(result));
  assert.match(result.stderr, /^liveswap: /m, show(result));
  assert.match(result.stderr, words, show(result));
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace for an expected error');
  assert.doesNotMatch(result.stderr, /unexpected error|This is a bug/, show(result));
}

/** Runs a swap of `target` that must fail, then checks the output folder. */
async function failingSwap(name: string, target: string, code: number, words: RegExp, extra: string[] = []): Promise<void> {
  const { folder, output } = await outputFolder(name);
  const result = swap(['-s', SOURCE, '-t', target, '-o', output, ...extra]);
  expectFailure(result, code, words);
  await assertNothingWritten(folder, show(result));
}

function escaped(path: string): string {
  return path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function frameAt(path: string, index: number): Promise<Image> {
  let i = 0;
  for await (const frame of readFrames(path)) if (i++ === index) return frame;
  throw new Error(`${path} has only ${i} frames, not ${index + 1}`);
}

describe('liveswap swap: bad video input', () => {
  it('truncated video (first half of an MP4) → 4', async () => {
    const cut = await truncatedCopy(clip, join(dir, 'cut.mp4'));
    await failingSwap('truncated', cut, EXIT_CODES['input-unreadable'], new RegExp(`${escaped(cut)}.*(damaged|truncated)`));
  });

  it('truncated faststart MP4 (index first, so it still opens; first half) → 4, "truncated", before any frame', async () => {
    const cut = await truncatedCopy(await faststartCopy(clip, join(dir, 'faststart.mp4')), join(dir, 'cut-faststart.mp4'));
    await failingSwap('truncated-faststart', cut, EXIT_CODES['input-unreadable'], new RegExp(`Cannot read all of the video ${escaped(cut)}: it is truncated, its data stops at`));
  });

  it('64 KB overwritten in the middle → 0, a warning counting the frames lost, and every frame time kept', async () => {
    const noisy = await makeClip({ dir, name: 'noisy', frames: 60, motion: 'zoom', noise: 10, audioHz: 440 });
    const damaged = await overwrittenCopy(noisy, join(dir, 'overwritten.mp4'));
    const { folder, output } = await outputFolder('overwritten');
    const result = swap(['-s', SOURCE, '-t', damaged, '-o', output]);
    assert.equal(result.code, 0, show(result));
    const warning = new RegExp(`liveswap: warning: (\\d+) frames? of ${escaped(damaged)} could not be decoded \\(damaged data\\)\\. Every other frame kept its own time`);
    assert.match(result.stderr, warning, show(result));
    assert.ok(Number(warning.exec(result.stderr)![1]) >= 1);
    assert.deepEqual((await readdir(folder)).sort(), [KEEP, 'out.mp4']);
    const [input, written] = await Promise.all([probeVideo(damaged), probeVideo(output, { countFrames: true })]);
    assert.equal(written.frameCount, 60, 'a frame at every time the input lists');
    assert.ok(Math.abs(written.durationSeconds - input.durationSeconds) <= 0.05, `durations ${input.durationSeconds} → ${written.durationSeconds}`);
  });

  it('--ffmpeg naming a program that is not ffmpeg → 2, naming it; the video is not blamed', { skip: process.platform === 'win32' ? 'needs /bin/false' : false }, async () => {
    const { folder, output } = await outputFolder('not-ffmpeg');
    const result = swap(['-s', SOURCE, '-t', clip, '-o', output, '--ffmpeg', '/bin/false']);
    expectFailure(result, EXIT_CODES.usage, /liveswap: \/bin\/false does not run as ffmpeg: .*Point --ffmpeg \(or LIVESWAP_FFMPEG\) at an ffmpeg executable/);
    assert.doesNotMatch(result.stderr, /damaged|truncated|face\.mp4/, show(result));
    await assertNothingWritten(folder, show(result));
  });

  it('random bytes named .mp4 → 4 or 5, saying it is not a readable video', async () => {
    const noise = await noiseFile(join(dir, 'noise.mp4'), 64 * 1024);
    const { folder, output } = await outputFolder('noise');
    const result = swap(['-s', SOURCE, '-t', noise, '-o', output]);
    assert.ok(result.code === EXIT_CODES['input-unreadable'] || result.code === EXIT_CODES['input-unsupported'], show(result));
    expectFailure(result, result.code!, new RegExp(`${escaped(noise)}.*(not a video|damaged|truncated)`));
    await assertNothingWritten(folder, show(result));
  });

  it('audio only (AAC renamed .mp4) → 5, "only audio"', async () => {
    const audio = join(dir, 'tone-only.mp4');
    await copyFile(await makeAudioFile({ dir }), audio);
    await failingSwap('audio-only', audio, EXIT_CODES['input-unsupported'], new RegExp(`${escaped(audio)} has only audio, no video stream`));
  });

  it('a video stream without a single frame → 4', async () => {
    const empty = await zeroFrameVideo(clip, join(dir, 'no-frames.avi'));
    // probeVideo would count the frames (there is no duration), so read ffmpeg's listing directly.
    const listing = await runFfmpeg(['-hide_banner', '-i', fileUrlArg(empty)]);
    assert.match(listing.stderr, /Stream #0:0: Video: h264 .*320x240/, 'the file declares a 320×240 video stream');
    await failingSwap('zero-frames', empty, EXIT_CODES['input-unreadable'], new RegExp(`${escaped(empty)}.*(no video frames|decode|frames)`));
  });

  it('a text file named .mp4 → 5', async () => {
    const text = join(dir, 'notes.mp4');
    await writeFile(text, 'This is a shopping list, not a video.\nEggs\nMilk\n');
    await failingSwap('text', text, EXIT_CODES['input-unsupported'], new RegExp(`${escaped(text)} is not a video liveswap can read`));
  });

  it('frames over --max-pixels → 6, before decoding', async () => {
    // The source is checked against the limit too, so it must be smaller than the video's frames.
    const smallSource = join(dir, 'astronaut-120.png');
    await sharp(SOURCE).resize(120, 120).toFile(smallSource);
    const { folder, output } = await outputFolder('too-large');
    const result = swap(['-s', smallSource, '-t', clip, '-o', output, '--max-pixels', '20000']);
    expectFailure(result, EXIT_CODES['input-too-large'], new RegExp(`${escaped(clip)} is 320×240 \\(76800 pixels per frame\\), over the limit of 20000`));
    assert.doesNotMatch(result.stderr, /frames +[\d.]+ fps/, 'no frame was decoded');
    await assertNothingWritten(folder, show(result));
  });

  it('video-only flags on an image, an image output for a video, an empty trim → 2', async () => {
    const image = join(FIXTURES, 'grace_hopper.jpg');
    const still = await outputFolder('usage-still', 'out.jpg');
    const fps = swap(['-s', SOURCE, '-t', image, '-o', still.output, '--fps', '30']);
    expectFailure(fps, EXIT_CODES.usage, /--fps applies to video targets only; .*grace_hopper\.jpg is an image/);
    await assertNothingWritten(still.folder, show(fps));

    const png = await outputFolder('usage-png', 'out.png');
    const toPng = swap(['-s', SOURCE, '-t', clip, '-o', png.output]);
    expectFailure(toPng, EXIT_CODES.usage, new RegExp(`output must be one too: use \\.mp4, .*\\(got ${escaped(png.output)}\\)`));
    await assertNothingWritten(png.folder, show(toPng));

    const trim = await outputFolder('usage-trim');
    const backwards = swap(['-s', SOURCE, '-t', longClip, '-o', trim.output, '--trim-start', '5', '--trim-end', '2']);
    expectFailure(backwards, EXIT_CODES.usage, /--trim-start and --trim-end leave no frames/);
    await assertNothingWritten(trim.folder, show(backwards));
  });

  it('missing input video → 3', async () => {
    const missing = join(dir, 'nowhere.mp4');
    await failingSwap('missing', missing, EXIT_CODES['input-missing'], new RegExp(`${escaped(missing)}: no such file`));
  });

  it('input and flag problems are found before the models load', async () => {
    // As in swap-errors.test.ts: a model cache under a plain file turns any model load into exit 9.
    const cut = await truncatedCopy(clip, join(dir, 'cut-early.mp4'));
    const { output } = await outputFolder('before-models');
    expectFailure(swap(['-s', SOURCE, '-t', join(dir, 'absent.mp4'), '-o', output], unusableHome), EXIT_CODES['input-missing'], /absent\.mp4/);
    expectFailure(swap(['-s', SOURCE, '-t', cut, '-o', output], unusableHome), EXIT_CODES['input-unreadable'], /cut-early\.mp4/);
    expectFailure(swap(['-s', SOURCE, '-t', longClip, '-o', output, '--trim-start', '5', '--trim-end', '2'], unusableHome), EXIT_CODES.usage, /leave no frames/);
    expectFailure(
      swap(['-s', SOURCE, '-t', longClip, '-o', output, '--trim-start', '1:00'], unusableHome),
      EXIT_CODES.usage,
      /--trim-start 60 s is past the end of the video, which lasts 12 s/,
    );
  });

  it('no face in any frame → 0, a warning, and the frames passed through unchanged', async () => {
    const photo = await facelessPhoto(join(dir, 'no-face.png'));
    const faceless = await makeClip({ dir, name: 'no-face', photo, frames: 25 });
    const { folder, output } = await outputFolder('no-face');
    const result = swap(['-s', SOURCE, '-t', faceless, '-o', output]);
    assert.equal(result.code, 0, show(result));
    assert.match(result.stderr, new RegExp(`warning: No face was found in any frame of ${escaped(faceless)}`), show(result));
    assert.match(result.stdout, /Swapped faces in 0 of 25 frames/, show(result));
    assert.deepEqual((await readdir(folder)).sort(), [KEEP, 'out.mp4'], 'the output and the earlier file, no temporary file');

    const [input, written] = await Promise.all([probeVideo(faceless, { countFrames: true }), probeVideo(output, { countFrames: true })]);
    assert.equal(written.frameCount, input.frameCount, 'same number of frames');
    assert.deepEqual([written.width, written.height], [input.width, input.height]);
    const [before, after] = await Promise.all([frameAt(faceless, 12), frameAt(output, 12)]);
    const difference = meanAbsDiff(after, before, 0, 0, before.width, before.height);
    assert.ok(difference < 3, `the middle frame differs by ${difference.toFixed(2)} levels on average; only codec noise is allowed`);
  });
});

/** What liveswap itself left in a TMPDIR (tsx and the native libraries keep their own files there). */
async function ownTemporaryFiles(tmp: string): Promise<string[]> {
  return (await readdir(tmp)).filter((name) => name.startsWith('liveswap'));
}

/** The CLI swapping `longClip` in the background, once it has printed progress. */
async function runningSwap(name: string): Promise<{ cli: BackgroundCli; folder: string; output: string; tmp: string; ffmpeg: number[] }> {
  const { folder, output } = await outputFolder(name);
  const tmp = join(dir, `${name}-tmp`);
  await mkdir(tmp);
  const cli = startCli(['swap', '-s', SOURCE, '-t', longClip, '-o', output], { tmp });
  const exited = cli.exit.then(() => true);
  let done = false;
  void exited.then(() => (done = true));
  await waitUntil(() => done || / frames /.test(cli.stderr()), 'progress on stderr', 240_000);
  assert.ok(!done, `the swap ended before it could be stopped\n${cli.stderr()}`);
  const ffmpeg = (ffmpegChildrenOf(cli.child.pid!) ?? []).map((p) => p.pid);
  return { cli, folder, output, tmp, ffmpeg };
}

describe('liveswap swap: a video swap stopped part way', { skip: LINUX ? false : 'reads /proc to find ffmpeg processes' }, () => {
  it('Ctrl-C (SIGINT) → 130, "nothing was saved", no file, no ffmpeg left', async () => {
    const run = await runningSwap('interrupted');
    assert.equal(run.ffmpeg.length, 2, 'a decoder and an encoder run while frames are swapped');
    run.cli.child.kill('SIGINT');
    const { code, signal } = await run.cli.exit;
    const context = `exit ${code} ${signal ?? ''}\n${run.cli.stderr()}`;
    assert.equal(code, EXIT_CODES.interrupted, context);
    assert.match(run.cli.stderr(), new RegExp(`liveswap: Stopped before ${escaped(run.output)} was finished; nothing was saved\\.`), context);
    await assertNothingWritten(run.folder, context);
    assert.deepEqual(await ownTemporaryFiles(run.tmp), [], 'no temporary files left');
    for (const pid of run.ffmpeg) assert.ok(!processExists(pid), `ffmpeg ${pid} still exists`);
  });

  for (const role of ['decoder', 'encoder'] as const) {
    it(`a killed ${role} ffmpeg → non-zero exit, a clear message, no file`, async () => {
      const run = await runningSwap(`killed-${role}`);
      const victim = (ffmpegChildrenOf(run.cli.child.pid!) ?? []).find((p) => p.role === role);
      assert.ok(victim, `no ${role} among ${JSON.stringify(ffmpegChildrenOf(run.cli.child.pid!))}`);
      process.kill(victim.pid, 'SIGKILL');
      const { code, signal } = await run.cli.exit;
      const context = `exit ${code} ${signal ?? ''}\n${run.cli.stderr()}`;
      const expected = role === 'decoder' ? EXIT_CODES['input-unreadable'] : EXIT_CODES.output;
      assert.equal(code, expected, context);
      const file = role === 'decoder' ? longClip : run.output;
      assert.match(run.cli.stderr(), new RegExp(`liveswap: .*${escaped(file)}.*(SIGKILL|killed|exited)`), context);
      assert.doesNotMatch(run.cli.stderr(), /unexpected error|\n\s+at /, context);
      await assertNothingWritten(run.folder, context);
      assert.deepEqual(await ownTemporaryFiles(run.tmp), [], 'no temporary files left');
      for (const pid of run.ffmpeg) assert.ok(!processExists(pid), `ffmpeg ${pid} still exists`);
    });
  }
});
