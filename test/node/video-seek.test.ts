/**
 * Trims near the end of a long video: the decoder seeks to a keyframe a second before the trim
 * instead of decoding from the start, and the frames (and their times) are those a full decode
 * gives. A trim past the end is refused from the container's duration, before any frame is read.
 * An ffmpeg wrapper that logs its command lines shows what ran.
 */

import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { DEFAULT_ONE_EURO } from '../../src/core/one-euro.js';
import type { Image } from '../../src/core/image.js';
import { LiveswapError } from '../../src/core/errors.js';
import { ffmpegPath, fileUrlArg, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { probeVideo, type VideoInfo } from '../../src/node/media/ffmpeg-probe.js';
import { readFrames } from '../../src/node/media/ffmpeg-read.js';
import { openVideoSource } from '../../src/node/media/ffmpeg-source.js';
import { frameSeconds, readFrameTiming, setptsExpression, type FrameTiming } from '../../src/node/media/ffmpeg-timing.js';
import { createNodeSwapper } from '../../src/node/jobs/swapper.js';
import { inspectVideo, swapVideo } from '../../src/node/jobs/video-swap.js';
import { resolveSwapOptions } from '../../src/pipeline/options.js';
import { DEFAULT_VIDEO_FACE_OPTIONS } from '../../src/pipeline/video.js';
import { makeClip } from '../helpers/clips.js';
import { FIXTURES, loadFixture, meanAbsDiff, TEST_HOME } from '../helpers/fixtures.js';

const POSIX = process.platform !== 'win32';

let dir: string;
/** 10 s at 25 fps of a slow zoom (every frame different), a keyframe every second. */
let long: string;
let info: VideoInfo;
let timing: FrameTiming;
/** An ffmpeg that appends its arguments, one run a line, to `log` and runs the real one. */
let wrapper: string;
let log: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-seek-'));
  long = await makeClip({ frames: 250, fps: 25, motion: 'zoom', keyframeEvery: 25, dir, name: 'long' });
  info = await probeVideo(long);
  timing = await readFrameTiming(long, info);
  log = join(dir, 'ffmpeg-runs.log');
  wrapper = join(dir, 'ffmpeg-logged');
  await writeFile(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${ffmpegPath()}' "$@"\n`);
  await chmod(wrapper, 0o755);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The command lines the wrapper ran since the log was last emptied, and empties it. */
async function runs(): Promise<string[]> {
  const text = await readFile(log, 'utf8').catch(() => '');
  await writeFile(log, '');
  return text.split('\n').filter((line) => line !== '');
}

function decoderRuns(lines: string[]): string[] {
  return lines.filter((line) => / -f rawvideo pipe:1$/.test(line));
}

describe('a trim near the end of a long video', { skip: POSIX ? false : 'the logging wrapper is a shell script' }, () => {
  it('seeks the decoder to a keyframe a second before it; the frames and times are those of a full decode', async () => {
    await runs();
    const [first, end] = [235, 245];
    const source = await openVideoSource(long, { ffmpegPath: wrapper, probed: info, timing, trim: { startPts: timing.pts[first]!, endPts: timing.pts[end]! } });
    const seeked: { image: Image; tSeconds: number }[] = [];
    for await (const frame of source) seeked.push(frame);

    const [decoder, ...others] = decoderRuns(await runs());
    assert.equal(others.length, 0);
    // 235 / 25 = 9.4 s, less the one-second margin; timestamps kept, so the trim cuts at its ticks.
    assert.match(decoder!, / -ss 8\.4 -noaccurate_seek -copyts -start_at_zero -i file:\S+long\.mp4 /);
    assert.match(decoder!, new RegExp(` -vf trim=start_pts=${timing.pts[first]}:end_pts=${timing.pts[end]},showinfo,scale=`));

    const everything: Image[] = [];
    for await (const image of readFrames(long)) everything.push(image);
    assert.equal(seeked.length, end - first);
    seeked.forEach(({ image, tSeconds }, k) => {
      const diff = meanAbsDiff(image, everything[first + k]!, 0, 0, image.width, image.height);
      assert.equal(diff, 0, `frame ${first + k}: the seeking decode gives the same pixels as a full one`);
      assert.ok(Math.abs(tSeconds - (frameSeconds(timing, first + k) - frameSeconds(timing, first))) < 1e-9, `frame ${first + k} at ${tSeconds} s`);
    });
  });

  it('swapVideo seeks too, and writes just the trimmed frames at their times', async () => {
    const swapper = await createNodeSwapper({ home: TEST_HOME });
    try {
      const identity = await swapper.prepareSource(await loadFixture('astronaut.png'), resolveSwapOptions());
      await runs();
      const output = join(dir, 'end.mkv');
      const summary = await swapVideo(swapper, {
        input: long,
        output,
        identities: [identity],
        swap: resolveSwapOptions(),
        faces: { ...DEFAULT_VIDEO_FACE_OPTIONS, smoothing: DEFAULT_ONE_EURO, selection: { kind: 'primary' } },
        marks: false,
        ffmpeg: { ffmpegPath: wrapper },
        encoding: { trimStart: { seconds: 9.4 }, trimEnd: { frame: 245 } },
      });
      assert.equal(summary.frames, 10);
      assert.equal(summary.framesLost, 0);
      const [decoder] = decoderRuns(await runs());
      assert.match(decoder!, / -ss 8\.4 -noaccurate_seek -copyts -start_at_zero -i /);
      const written = await readFrameTiming(output, await probeVideo(output));
      assert.deepEqual(
        written.pts.map((_, i) => Math.round((frameSeconds(written, i) - frameSeconds(written, 0)) * 1000)),
        Array.from({ length: 10 }, (_, i) => 40 * i),
      );
    } finally {
      await swapper.close();
    }
  });
});

describe('a trim past the end', { skip: POSIX ? false : 'the logging wrapper is a shell script' }, () => {
  it('is refused from the duration, before the frame times are read (a variable rate would decode it all)', async () => {
    const still = join(dir, 'vfr-still.png');
    await sharp(join(FIXTURES, 'grace_hopper.jpg')).resize(320, 240, { fit: 'cover' }).png().toFile(still);
    const vfr = join(dir, 'vfr.mkv');
    const pts = Array.from({ length: 40 }, (_, n) => (n < 20 ? n * 40 : 800 + (n - 19) * 100));
    const made = await runFfmpeg([
      ...['-loglevel', 'error', '-y', '-loop', '1', '-framerate', '25', '-i', fileUrlArg(still), '-frames:v', '40'],
      ...['-vf', `settb=1/1000,setpts='${setptsExpression(pts)}',format=yuv420p`, '-vsync', 'passthrough', '-enc_time_base', '1/1000'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', fileUrlArg(vfr)],
    ]);
    assert.equal(made.code, 0, made.stderr);
    const options = { maxPixels: 1 << 24, ffmpeg: { ffmpegPath: wrapper } };

    // Without a trim, a variable rate is timed by decoding every frame.
    await runs();
    assert.equal((await inspectVideo(vfr, options)).timing.source, 'decoder');
    assert.ok(
      (await runs()).some((line) => / -vf showinfo /.test(line)),
      'the frame times came from a decode',
    );

    const usage = (words: RegExp) => (error: unknown) => {
      assert.ok(error instanceof LiveswapError, String(error));
      assert.equal(error.kind, 'usage');
      assert.match(error.message, words);
      return true;
    };
    await assert.rejects(inspectVideo(vfr, { ...options, trimStart: { seconds: 60 } }), usage(/^--trim-start 60 s is past the end of the video, which lasts [\d.]+ s\.$/));
    await assert.rejects(
      inspectVideo(vfr, { ...options, trimStart: { seconds: 2 }, trimEnd: { seconds: 1.5 } }),
      usage(/^--trim-start and --trim-end leave no frames \(from 2 s to 1\.5 s\)\.$/),
    );
    const lines = await runs();
    assert.equal(lines.length, 2, `only the two probes ran:\n${lines.join('\n')}`);
    assert.ok(
      lines.every((line) => /^-hide_banner -nostdin -i file:\S+vfr\.mkv$/.test(line)),
      lines.join('\n'),
    );
  });
});
