/** Decoding videos into Images through the ffmpeg pipe: counts, content, options, early exit. */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { LiveswapError } from '../../src/core/errors.js';
import type { Image } from '../../src/core/image.js';
import { runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { probeVideo, readFrames } from '../../src/node/media/ffmpeg.js';
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
