/**
 * Damaged and truncated videos. Bytes overwritten in the middle: the frames the decoder cannot make
 * leave gaps, every other frame keeps its own time (the audio stays in sync), the frame before each
 * gap is held through it, and a warning counts them. A video whose end was cut off is refused before
 * any frame is swapped, leaving nothing. Also: packets an MP4 edit list discards are not frames.
 */

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_ONE_EURO } from '../../src/core/one-euro.js';
import type { Image } from '../../src/core/image.js';
import { LiveswapError } from '../../src/core/errors.js';
import { fileUrlArg, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { probeVideo } from '../../src/node/media/ffmpeg-probe.js';
import { readFrames, readTimedFrames } from '../../src/node/media/ffmpeg-read.js';
import { FramecrcParser, readFrameTiming, type FrameTiming } from '../../src/node/media/ffmpeg-timing.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { inspectVideo, swapVideo, type VideoSwapRequest } from '../../src/node/jobs/video-swap.js';
import { resolveSwapOptions } from '../../src/pipeline/options.js';
import type { PreparedSource } from '../../src/pipeline/still.js';
import { DEFAULT_VIDEO_FACE_OPTIONS } from '../../src/pipeline/video.js';
import { faststartCopy, overwrittenCopy, truncatedCopy } from '../helpers/bad-videos.js';
import { makeClip } from '../helpers/clips.js';
import { loadFixture, meanAbsDiff, TEST_HOME } from '../helpers/fixtures.js';

let swapper: NodeSwapper;
let source: PreparedSource;
let dir: string;
/** 100 frames of a slow zoom with noise (each frame its own picture) at 25 fps with a 440 Hz tone, x264 in MP4. */
let clip: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-damaged-'));
  [swapper, clip] = await Promise.all([createNodeSwapper({ home: TEST_HOME }), makeClip({ frames: 100, fps: 25, motion: 'zoom', noise: 10, audioHz: 440, dir, name: 'clip' })]);
  source = await swapper.prepareSource(await loadFixture('astronaut.png'), resolveSwapOptions());
});
after(async () => {
  await swapper.close();
  await rm(dir, { recursive: true, force: true });
});

/** Unmarked, so the frames compare with the input's. */
function request(input: string, output: string): VideoSwapRequest {
  return {
    input,
    output,
    identities: [source],
    swap: resolveSwapOptions(),
    faces: { ...DEFAULT_VIDEO_FACE_OPTIONS, smoothing: DEFAULT_ONE_EURO, selection: { kind: 'primary' } },
    marks: false,
  };
}

/** Milliseconds of each listed time from the first (Matroska and MP4 start a file differently). */
function millis(timing: FrameTiming): number[] {
  const [num, den] = timing.timeBase;
  return timing.pts.map((t) => Math.round(((t - timing.pts[0]!) * num * 1000) / den));
}

async function allFrames(path: string): Promise<Image[]> {
  const frames: Image[] = [];
  for await (const frame of readFrames(path)) frames.push(frame);
  return frames;
}

/** Mean difference over the left quarter, away from the face the swap repaints. */
function besideFace(a: Image, b: Image): number {
  return meanAbsDiff(a, b, 0, 0, a.width >> 2, a.height);
}

describe('a video with bytes overwritten in the middle', () => {
  it('keeps every decoded frame at its own time, holds the frame before each gap, keeps the audio and counts the lost frames', async () => {
    const damaged = await overwrittenCopy(clip, join(dir, 'damaged.mp4'));
    const info = await probeVideo(damaged);
    const listed = await readFrameTiming(damaged, info);
    assert.equal(listed.pts.length, 100, 'the index still lists every frame');

    // What the decoder makes of it: some frames are missing, the others come with their own times.
    const decoded = new Map<number, Image>();
    for await (const { image, pts } of readTimedFrames(damaged, { probed: info })) decoded.set(pts, image);
    const lost = listed.pts.map((t, i) => (decoded.has(t) ? -1 : i)).filter((i) => i >= 0);
    assert.ok(lost.length >= 1 && lost.length <= 10, `the overwritten bytes cost ${lost.length} frames (${lost.join(', ')})`);
    assert.ok(lost[0]! > 0, 'the damage is after the first frame');
    assert.ok(
      [...decoded.keys()].every((t) => listed.pts.includes(t)),
      'every decoded frame is at one of the listed times',
    );

    const output = join(dir, 'damaged-out.mp4');
    const summary = await swapVideo(swapper, request(damaged, output));
    assert.equal(summary.frames, decoded.size);
    assert.equal(summary.framesLost, lost.length);
    assert.match(
      summary.notices.join('\n'),
      new RegExp(`^${lost.length} frames? of .*damaged\\.mp4 could not be decoded \\(damaged data\\)\\. Every other frame kept its own time`, 'm'),
    );
    assert.equal(summary.audio, 'copied');

    // The output shows a frame at every time the input lists, and lasts as long (the audio with it).
    const written = await probeVideo(output);
    assert.deepEqual(millis(await readFrameTiming(output, written)), millis(listed));
    assert.ok(Math.abs(written.durationSeconds - info.durationSeconds) <= 0.05, `durations ${info.durationSeconds} → ${written.durationSeconds}`);
    assert.equal(written.audioStreams.length, 1);

    const out = await allFrames(output);
    assert.equal(out.length, 100);
    for (let i = 1; i < 100; i++) {
      if (lost.includes(i)) {
        const held = besideFace(out[i]!, out[i - 1]!);
        assert.ok(held < 1, `frame ${i} was lost: it shows the frame before it (differs by ${held.toFixed(2)})`);
        continue;
      }
      // Not moved early: nearer the input frame shown at its own time than the decoded one before it.
      let before = i - 1;
      while (lost.includes(before)) before--;
      const own = besideFace(out[i]!, decoded.get(listed.pts[i]!)!);
      const other = besideFace(out[i]!, decoded.get(listed.pts[before]!)!);
      assert.ok(own < other, `frame ${i}: ${own.toFixed(2)} from its own input frame, ${other.toFixed(2)} from frame ${before}'s`);
    }
  });
});

describe('a video cut short', () => {
  for (const [name, make] of [
    ['a faststart MP4 (index first, so it still opens)', (file: string) => faststartCopy(clip, file)],
    ['a Matroska file', (file: string) => remux(clip, file)],
  ] as const) {
    it(`${name}, cut in half, is refused as truncated before any model or frame, and leaves nothing`, async () => {
      const ext = name.includes('MP4') ? 'mp4' : 'mkv';
      const whole = await make(join(dir, `whole-${ext}.${ext}`));
      const cut = await truncatedCopy(whole, join(dir, `cut-${ext}.${ext}`));
      const info = await probeVideo(cut);
      assert.ok(info.durationSeconds >= 3.9, 'the header still declares the whole duration');
      const truncated = (error: unknown): boolean => {
        assert.ok(error instanceof LiveswapError, String(error));
        assert.equal(error.kind, 'input-unreadable');
        assert.match(
          error.message,
          new RegExp(`^Cannot read all of the video .*cut-${ext}\\.${ext}: it is truncated, its data stops at [12]\\.\\d\\d s of the 4\\.0\\d s it declares`),
        );
        return true;
      };
      await assert.rejects(inspectVideo(cut, { maxPixels: 1 << 24 }), truncated);
      const folder = join(dir, `out-${ext}`);
      await mkdir(folder);
      await assert.rejects(swapVideo(swapper, request(cut, join(folder, `out.${ext}`))), truncated);
      assert.deepEqual(await readdir(folder), [], 'no output, no temporary file');
    });
  }
});

describe('packets an MP4 edit list leaves out', () => {
  it('are not frames: the times listed are those of the frames the decoder gives, from 0', async () => {
    const gop = await makeClip({ frames: 50, fps: 25, keyframeEvery: 25, dir, name: 'gop' });
    const cut = join(dir, 'edit-list.mp4');
    // A stream copy from 0.5 s starts at the keyframe at 0 and tells players, in an edit list, to skip to 0.5 s.
    const run = await runFfmpeg(['-loglevel', 'error', '-y', '-ss', '0.5', '-i', fileUrlArg(gop), '-c', 'copy', '-t', '1', fileUrlArg(cut)]);
    assert.equal(run.code, 0, run.stderr);
    const info = await probeVideo(cut);
    const listed = await readFrameTiming(cut, info);
    const decoded: number[] = [];
    for await (const { pts } of readTimedFrames(cut, { probed: info })) decoded.push(pts);
    assert.ok(decoded.length >= 20 && decoded.length <= 30, `${decoded.length} frames decoded`);
    assert.deepEqual(listed.pts, decoded);
    assert.equal(listed.pts[0], 0);
  });
});

describe('FramecrcParser flags', () => {
  it('leaves out packets flagged discard, counts those flagged corrupt, and knows where the last one ends', () => {
    const parser = new FramecrcParser();
    for (const line of [
      '#tb 0: 1/12800',
      '0,      -1024,      -512,      512,     6136, 0x7bcea17d, F=0x5',
      '0,       -512,         0,      512,      127, 0xa2fd3ff8',
      '0,          0,       512,      512,       47, 0xa2a011e9, F=0x0',
      '0,        512,      1024,      512,    14267, 0x37c99c02, F=0x2',
    ]) {
      parser.line(line);
    }
    assert.deepEqual(parser.pts, [0, 512, 1024], 'the discarded packet is not a frame');
    assert.equal(parser.corrupt, 1);
    assert.equal(parser.end, 1536);
  });
});

/** `clip`'s streams copied into Matroska (its audio as Opus, which Matroska takes everywhere). */
async function remux(input: string, output: string): Promise<string> {
  const run = await runFfmpeg(['-loglevel', 'error', '-y', '-i', fileUrlArg(input), '-map', '0', '-c:v', 'copy', '-c:a', 'libopus', fileUrlArg(output)]);
  assert.equal(run.code, 0, run.stderr);
  return output;
}
