/** Decoding videos into Images through the ffmpeg pipe: counts, content, options, early exit. */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { LiveswapError } from '../../src/core/errors.js';
import type { Image } from '../../src/core/image.js';
import { decoderArgs } from '../../src/node/media/ffmpeg-args.js';
import { ffmpegPath, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { probeVideo, readFrames } from '../../src/node/media/ffmpeg.js';
import { planarMatrix } from '../../src/node/media/ffmpeg-read.js';
import { clipFrame, ffmpegChildren, makeClip, processExists } from '../helpers/clips.js';
import { decodeRgb, meanAbsDiff } from '../helpers/fixtures.js';

let dir: string;
let still: string;
let reference: Image;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-read-'));
  [still, reference] = await Promise.all([makeClip({ dir, name: 'still', frames: 50, fps: 25, audioHz: 440 }), clipFrame()]);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function wholeDiff(a: Image, b: Image): number {
  assert.deepEqual([a.width, a.height, a.channels], [b.width, b.height, b.channels]);
  return meanAbsDiff(a, b, 0, 0, a.width, a.height);
}

async function collect(frames: AsyncIterable<Image>): Promise<Image[]> {
  const all: Image[] = [];
  for await (const frame of frames) all.push(frame);
  return all;
}

describe('readFrames', () => {
  it('yields every frame as RGB matching the photo the clip holds', async () => {
    const frames = await collect(readFrames(still));
    assert.equal(frames.length, 50);
    for (const frame of [frames[0]!, frames[25]!, frames[49]!]) {
      assert.equal(frame.channels, 3);
      assert.equal(frame.data.length, 320 * 240 * 3);
      assert.ok(wholeDiff(frame, reference) < 2.5, `mean difference ${wholeDiff(frame, reference)}`);
    }
    assert.notEqual(frames[0]!.data.buffer, frames[1]!.data.buffer, 'each frame owns its pixels');
  });

  it('frames of a noisy clip differ from each other but stay close to the photo', async () => {
    const noisy = await makeClip({ dir, name: 'noisy', frames: 6, noise: 8 });
    const frames = await collect(readFrames(noisy));
    assert.equal(frames.length, 6);
    for (let i = 1; i < frames.length; i++) assert.ok(wholeDiff(frames[i - 1]!, frames[i]!) > 0.3, `noise makes frames ${i - 1} and ${i} differ`);
    for (const frame of frames) assert.ok(wholeDiff(frame, reference) < 4, `mean difference ${wholeDiff(frame, reference)}`);
  });

  it('turns frames by the rotation tag, as a player shows them', async () => {
    const turned = await makeClip({ dir, name: 'turned', frames: 3, rotation: 90 });
    const frames = await collect(readFrames(turned));
    assert.equal(frames.length, 3);
    const raw = Buffer.from(reference.data.buffer, reference.data.byteOffset, reference.data.length);
    const clockwise = await decodeRgb(
      await sharp(raw, { raw: { width: 320, height: 240, channels: 3 } })
        .rotate(90)
        .png()
        .toBuffer(),
    );
    assert.ok(wholeDiff(frames[0]!, clockwise) < 2.5, `mean difference ${wholeDiff(frames[0]!, clockwise)}`);
  });

  it('follows a zoom: the first frame is the photo, the last a magnified part of it', async () => {
    const zoom = await makeClip({ dir, name: 'zoom', motion: 'zoom', frames: 12 });
    const frames = await collect(readFrames(zoom));
    assert.equal(frames.length, 12);
    // zoompan halves a twice-size picture for the first frame, with some aliasing: close, not equal.
    const first = wholeDiff(frames[0]!, reference);
    assert.ok(first < 10, `first frame differs by ${first}`);
    assert.ok(wholeDiff(frames[11]!, reference) > 3 * first, 'the last frame has moved on');
  });

  it('scales, resamples the rate, stops at maxFrames and gives RGBA on request', async () => {
    const small = await collect(readFrames(still, { width: 160, maxFrames: 4 }));
    assert.equal(small.length, 4);
    assert.deepEqual([small[0]!.width, small[0]!.height], [160, 120]);
    const halfRate = await collect(readFrames(still, { fps: 12.5 }));
    assert.ok(Math.abs(halfRate.length - 25) <= 1, `${halfRate.length} frames at 12.5 fps`);
    const [rgba] = await collect(readFrames(still, { channels: 4, maxFrames: 1 }));
    assert.equal(rgba!.channels, 4);
    assert.equal(rgba!.data[3], 255);
    assert.deepEqual([...rgba!.data.subarray(0, 3)], [...halfRate[0]!.data.subarray(0, 3)]);
  });

  it("8-bit 4:2:0 video comes as ffmpeg's own accurate RGB would, within two levels, with the stream's matrix; full range is left to ffmpeg", async () => {
    /** ffmpeg's own exact-rounding RGB of the first frame, for comparison. */
    const ffmpegRgb = async (file: string): Promise<Uint8Array> => {
      const info = await probeVideo(file);
      const args = decoderArgs({ input: file, streamIndex: info.streamIndex, width: info.width, height: info.height, channels: 3, colorConversion: 'accurate', maxFrames: 1 });
      return execFileSync(ffmpegPath(), args, { maxBuffer: 1 << 26 });
    };
    const tagged = async (name: string, tags: string[]): Promise<string> => {
      const out = join(dir, `${name}.mp4`);
      const run = await runFfmpeg(['-loglevel', 'error', '-y', '-i', still, '-frames:v', '2', '-c:v', 'libx264', '-crf', '16', ...tags, out]);
      assert.equal(run.code, 0, run.stderr);
      return out;
    };
    const bt601 = await tagged('bt601', ['-colorspace', 'smpte170m', '-color_primaries', 'smpte170m', '-color_trc', 'smpte170m', '-color_range', 'tv']);
    const full = await tagged('full', ['-pix_fmt', 'yuvj420p', '-color_range', 'pc']);
    const cases = [
      { file: still, matrix: 'bt709' },
      { file: bt601, matrix: 'bt601' },
      { file: full, matrix: undefined },
    ] as const;
    for (const { file, matrix } of cases) {
      assert.equal(planarMatrix(await probeVideo(file), 'accurate'), matrix, file);
      const [ours] = await collect(readFrames(file, { maxFrames: 1 }));
      const theirs = await ffmpegRgb(file);
      assert.equal(ours!.data.length, theirs.length);
      let same = 0;
      let worst = 0;
      let apart = 0;
      for (let i = 0; i < theirs.length; i++) {
        const d = Math.abs(ours!.data[i]! - theirs[i]!);
        if (d === 0) same++;
        worst = Math.max(worst, d);
        apart += d;
      }
      if (matrix === undefined) assert.equal(same, theirs.length, 'full-range video is converted by ffmpeg itself');
      else {
        // The chroma is ffmpeg's, rounded to 8 bits before the matrix: a level or two apart here and there.
        assert.ok(worst <= 2, `${matrix}: ${worst} levels apart at worst`);
        assert.ok(apart / theirs.length < 0.4, `${matrix}: ${(apart / theirs.length).toFixed(3)} levels apart on average`);
        assert.ok(same / theirs.length > 0.6, `${matrix}: ${((100 * same) / theirs.length).toFixed(1)} % of bytes the same`);
      }
      if (file === still) {
        // Against the photo the clip was made from, hardly further than ffmpeg's own conversion.
        const ffmpegImage = { width: ours!.width, height: ours!.height, channels: 3 as const, data: new Uint8ClampedArray(theirs) };
        const oursOff = wholeDiff(ours!, reference);
        const ffmpegOff = wholeDiff(ffmpegImage, reference);
        assert.ok(oursOff - ffmpegOff < 0.05, `${oursOff.toFixed(3)} levels from the photo against ffmpeg's ${ffmpegOff.toFixed(3)}`);
      }
    }
    // The other options keep ffmpeg's conversion.
    const yuv = { pixelFormat: 'yuv420p', colorRange: 'tv', colorMatrix: 'bt709' } as const;
    assert.equal(planarMatrix(yuv, 'bilinear'), undefined);
    assert.equal(planarMatrix(yuv, 'fast'), undefined);
    assert.equal(planarMatrix({ ...yuv, pixelFormat: 'yuv420p10le' }, 'accurate'), undefined);
    assert.equal(planarMatrix({ ...yuv, pixelFormat: 'yuv422p' }, 'accurate'), undefined);
    assert.equal(planarMatrix({ ...yuv, colorMatrix: 'bt2020nc' }, 'accurate'), undefined);
    assert.equal(planarMatrix({ ...yuv, colorRange: 'unknown', colorMatrix: 'unknown' }, undefined), 'bt601');
  });

  it('checks its options before starting ffmpeg', () => {
    assert.throws(() => readFrames(still, { maxFrames: 0 }), /Expected a whole number ≥ 1 for maxFrames but received 0/);
    assert.throws(
      () => readFrames(still, { fps: -1 }),
      (error: unknown) => error instanceof LiveswapError && error.kind === 'usage',
    );
  });

  it('stays blocked on the pipe while the consumer waits, and leaving early kills ffmpeg', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const frames = readFrames(still);
      let seen = 0;
      let pid: number | undefined;
      for await (const frame of frames) {
        assert.equal(frame.width, 320);
        if (++seen === 2) {
          const children = ffmpegChildren();
          if (children !== undefined) {
            assert.equal(children.length, 1, 'one ffmpeg decoding');
            pid = children[0];
          }
          // The whole clip decodes in a fraction of this; still running means it waits on the pipe.
          await sleep(400);
          if (pid !== undefined) assert.ok(processExists(pid), 'ffmpeg waits for the reader instead of buffering the video');
          break;
        }
      }
      assert.equal(seen, 2);
      if (pid !== undefined) {
        assert.equal(processExists(pid), false, 'ffmpeg is gone (killed and reaped) once the loop is left');
        assert.deepEqual(ffmpegChildren(), []);
      }
      await sleep(50);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a throw inside the loop also ends ffmpeg', async () => {
    await assert.rejects(async () => {
      for await (const frame of readFrames(still)) throw new Error(`stop at ${frame.width}`);
    }, /stop at 320/);
    assert.deepEqual(ffmpegChildren() ?? [], []);
  });

  it('a decode that fails is input-unreadable quoting ffmpeg, after the probe succeeded', async () => {
    // Index first (faststart), then cut inside the first picture: the header reads, the decoder cannot.
    const indexed = join(dir, 'indexed.mp4');
    const remux = await runFfmpeg(['-loglevel', 'error', '-i', still, '-map', '0:v', '-c', 'copy', '-movflags', '+faststart', indexed]);
    assert.equal(remux.code, 0, remux.stderr);
    const bytes = await readFile(indexed);
    const cut = join(dir, 'cut.mp4');
    await writeFile(cut, bytes.subarray(0, Math.round(bytes.length * 0.3)));
    assert.equal((await probeVideo(cut)).width, 320);
    await assert.rejects(collect(readFrames(cut)), (error: unknown) => {
      assert.ok(error instanceof LiveswapError, String(error));
      assert.equal(error.kind, 'input-unreadable');
      assert.equal(error.file, cut);
      assert.match(error.message, /^Cannot decode the video .*cut\.mp4: ffmpeg stopped with exit code 1 \(.*Invalid data|NAL|partial file/);
      return true;
    });
    assert.deepEqual(ffmpegChildren() ?? [], []);
  });

  it('a missing file fails on the first step, naming the file', async () => {
    const missing = join(dir, 'missing.mp4');
    await assert.rejects(readFrames(missing).next(), (error: unknown) => error instanceof LiveswapError && error.kind === 'input-missing' && error.file === missing);
  });
});
