/**
 * I420 in and out of the engine (what WebRTC video decodes to and encodes from): the conversion's
 * round-trip error on a photo, odd sizes and refusals; and a frame session fed I420 frames that
 * sends I420 frames back, swapped, labelled and watermarked, without a JPEG anywhere.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Image } from '../../src/core/image.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { FrameSession, type FrameMessage } from '../../src/node/live/frame-session.js';
import { i420Size, i420ToImage, imageToI420, type I420Frame } from '../../src/node/live/i420.js';
import { encodeImage } from '../../src/node/media/image-io.js';
import { loadWatermarkKey, OutputProvenance } from '../../src/node/provenance/output-provenance.js';
import { findLabel } from '../../src/provenance/label.js';
import { framedPhoto } from '../helpers/clips.js';
import { loadFixture, meanAbsDiff, TEST_HOME } from '../helpers/fixtures.js';
import { warmModels } from '../helpers/video-jobs.js';

/** Per-channel errors of `b` against `a`: the mean and the largest. */
function errors(a: Image, b: Image): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(a.data[(y * a.width + x) * a.channels + c]! - b.data[(y * b.width + x) * b.channels + c]!);
        sum += d;
        max = Math.max(max, d);
      }
    }
  }
  return { mean: sum / (a.width * a.height * 3), max };
}

describe('I420 conversion', () => {
  it('round-trips a photo within the subsampling error, and a grey picture within 1', async () => {
    const photo = await loadFixture('grace_hopper.jpg');
    const even = { ...photo, width: photo.width & ~1, height: photo.height & ~1 };
    const frame = imageToI420(photo);
    assert.equal(frame.width, even.width);
    assert.equal(frame.height, even.height);
    assert.equal(frame.data.length, i420Size(frame.width, frame.height));
    const back = i420ToImage(frame);
    const photoErrors = errors(photo, back);
    // Chroma is shared by 2×2 pixels: sharp colour edges move, smooth areas stay.
    assert.ok(photoErrors.mean < 3, `mean error ${photoErrors.mean}`);
    assert.ok(photoErrors.max < 120, `largest error ${photoErrors.max}`);
    assert.ok(photoErrors.mean > 0, 'the conversion is not the identity (the test sees the pixels)');

    const grey: Image = { width: 16, height: 8, channels: 3, data: new Uint8ClampedArray(16 * 8 * 3) };
    for (let i = 0; i < 16 * 8; i++) grey.data.fill(i * 2, i * 3, i * 3 + 3);
    const greyBack = i420ToImage(imageToI420(grey));
    assert.ok(errors(grey, greyBack).max <= 1, `grey error ${errors(grey, greyBack).max}`);
  });

  it('reads odd-sized frames (chroma rounded up), crops odd pictures to even sides, and refuses bad frames', () => {
    const width = 5;
    const height = 3;
    const data = new Uint8Array(i420Size(width, height)).fill(128);
    data.fill(235, 0, width * height);
    const image = i420ToImage({ width, height, data });
    assert.deepEqual([image.width, image.height, image.channels], [5, 3, 3]);
    assert.ok(image.data.every((v) => v === 255));

    const odd: Image = { width: 7, height: 5, channels: 4, data: new Uint8ClampedArray(7 * 5 * 4).fill(200) };
    const frame = imageToI420(odd);
    assert.deepEqual([frame.width, frame.height], [6, 4]);
    const reuse = frame.data;
    assert.equal(imageToI420(odd, reuse).data, reuse, 'a buffer of the right size is reused');

    assert.throws(() => i420ToImage({ width: 4, height: 4, data: new Uint8Array(10) }), /needs 24 bytes/);
    assert.throws(() => i420ToImage({ width: 0, height: 4, data: new Uint8Array(0) }), /cannot be read/);
    assert.throws(() => i420ToImage({ width: 100, height: 100, data: new Uint8Array(i420Size(100, 100)) }, 5000), /larger than the 5000 pixels/);
    assert.throws(() => imageToI420({ width: 1, height: 9, channels: 3, data: new Uint8ClampedArray(27) }), /too small/);
  });
});

describe('a frame session on I420 frames', () => {
  let dir: string;
  let swapper: NodeSwapper;

  before(async () => {
    await warmModels();
    dir = await mkdtemp(join(tmpdir(), 'liveswap-whip-i420-'));
    swapper = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
  });
  after(async () => {
    await swapper?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('swaps, labels and watermarks I420 frames and sends I420 back, the freshest frame winning', async () => {
    const home = join(dir, 'home');
    const provenance = new OutputProvenance(home, await loadWatermarkKey(home), 11, { label: true }, 'video');
    const jpegs: FrameMessage[] = [];
    const video: { message: FrameMessage; frame: I420Frame }[] = [];
    const session = new FrameSession({
      swapper,
      acceptSources: true,
      labelOptional: true,
      provenance,
      maxPixels: 1e7,
      send: (message) => {
        if (message.type === 'frame') jpegs.push(message);
      },
      sendVideo: (message, frame) => video.push({ message, frame: { ...frame, data: frame.data.slice() } }),
    });
    try {
      await session.receiveSource(await encodeImage(await loadFixture('grace_hopper.jpg'), 'png'));
      const camera = await framedPhoto('astronaut.png', 320, 240);
      const input = imageToI420(camera);
      // Three at once: the first is processed, the second waits and is replaced by the third (dropped).
      for (let i = 0; i < 3; i++) session.receiveFrame({ ...input, data: input.data.slice() });
      for (let i = 0; i < 200 && video.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      const stats = await session.close();
      assert.equal(jpegs.length, 0, 'no JPEG when frames go back as video');
      assert.equal(video.length, 2);
      assert.deepEqual(
        video.map((v) => v.message.seq),
        [1, 3],
      );
      assert.equal(stats.dropped, 1);
      assert.equal(stats.maxWaiting, 1);
      const first = video[0]!;
      assert.deepEqual([first.frame.width, first.frame.height], [320, 240]);
      assert.equal(first.message.faces.length, 1, 'the face was followed and painted');
      const shown = i420ToImage(first.frame);
      assert.ok(findLabel(shown) !== undefined, 'the frame going back carries the label');
      // The face changed, the corners did not (beyond the conversion's error).
      const [x, y, w, h] = first.message.faces[0]!.box;
      const back = i420ToImage(input);
      const faceDiff = meanAbsDiff(back, shown, x, y, x + w, y + h);
      assert.ok(faceDiff > 4, `the face region was painted (mean change ${faceDiff})`);
      assert.ok(meanAbsDiff(back, shown, 0, 0, 40, 40) < 2, 'the background stayed');
    } finally {
      await session.close();
    }
  });
});
