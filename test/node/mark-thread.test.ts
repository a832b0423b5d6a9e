/**
 * The marks thread of a live run: each frame comes back with exactly the bytes the main thread's
 * FrameMarker gives it (label and watermark), in the order sent, its pixels moved rather than
 * copied; a frame the marks cannot go on is an error, never an unmarked frame, and a closed thread
 * takes no more frames. Its sink (markingSink) hands frames on marked, in order, at their times,
 * with at most `depth` in flight, and a failed frame stops it before anything after it is written.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Image } from '../../src/core/image.js';
import { MarkThread, markingSink } from '../../src/node/provenance/mark-thread.js';
import type { FrameSink } from '../../src/pipeline/frame-io.js';
import { FrameMarker, type MarkSettings } from '../../src/provenance/marks.js';

const SETTINGS: MarkSettings = {
  label: { text: 'TEST LABEL' },
  watermark: { key: new Uint8Array(32).fill(7), payload: { assetId: 12345, version: 1 } },
  media: 'video',
};

/** A 320×180 RGB frame of smooth gradients that differ by `seed`. */
function frame(seed: number): Image {
  const width = 320;
  const height = 180;
  const data = new Uint8ClampedArray(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = (x + seed * 17) & 255;
      data[o + 1] = (y * 2 + seed * 5) & 255;
      data[o + 2] = (x + y + seed * 31) & 255;
    }
  }
  return { width, height, channels: 3, data };
}

describe('the marks thread', () => {
  it('gives every frame the bytes of the main thread marker, in order, without copying', async () => {
    const thread = new MarkThread(SETTINGS);
    const marker = new FrameMarker(SETTINGS);
    assert.equal(thread.watermarkId, marker.watermarkId);
    try {
      const frames = [0, 1, 2, 3, 4].map(frame);
      const expected = [0, 1, 2, 3, 4].map((seed) => {
        const image = frame(seed);
        marker.mark(image);
        return image.data;
      });
      const originals = frames.map((f) => f.data);
      const marked = await Promise.all(frames.map((f) => thread.mark(f)));
      // The pixels moved to the thread: the frames given are emptied.
      assert.ok(originals.every((data) => data.byteLength === 0));
      marked.forEach((m, i) => {
        assert.equal(m.image.width, 320);
        assert.equal(m.image.channels, 3);
        assert.ok(m.ms >= 0);
        assert.deepEqual(m.image.data, expected[i], `frame ${i} is marked as on the main thread`);
      });
      // And a frame that is a view into a larger buffer is copied, and marked the same (as the sixth
      // frame: a video watermark remembers the frames before it).
      const big = new Uint8ClampedArray(16 + 320 * 180 * 3);
      big.set(frame(0).data, 16);
      const view = await thread.mark({ width: 320, height: 180, channels: 3, data: big.subarray(16) });
      const sixth = frame(0);
      marker.mark(sixth);
      assert.deepEqual(view.image.data, sixth.data);
      assert.equal(big.byteLength, 16 + 320 * 180 * 3, 'the larger buffer stays with its owner');
    } finally {
      await thread.close();
    }
  });

  it('fails a frame it cannot mark, and takes nothing once closed', async () => {
    const thread = new MarkThread(SETTINGS);
    try {
      const bad: Image = { width: 320, height: 180, channels: 3, data: new Uint8ClampedArray(10) };
      await assert.rejects(thread.mark(bad), /could not be marked.*Nothing unmarked was sent/s);
      // The thread goes on after a bad frame.
      const good = await thread.mark(frame(1));
      assert.equal(good.image.data.byteLength, 320 * 180 * 3);
    } finally {
      await thread.close();
    }
    await assert.rejects(thread.mark(frame(2)), /closed/);
  });
});

/** A sink that keeps what it is given, and says when it was closed or aborted. */
class ListSink implements FrameSink {
  readonly frames: { data: Uint8ClampedArray; t: number }[] = [];
  state: 'open' | 'closed' | 'aborted' = 'open';
  async write(image: Image, tSeconds: number): Promise<void> {
    this.frames.push({ data: image.data, t: tSeconds });
  }
  async close(): Promise<void> {
    this.state = 'closed';
  }
  async abort(): Promise<void> {
    this.state = 'aborted';
  }
}

describe('the marking sink', () => {
  it('writes every frame marked, in order, at its time, with one frame in flight', async () => {
    const thread = new MarkThread(SETTINGS);
    const marker = new FrameMarker(SETTINGS);
    const inner = new ListSink();
    const stats = { ms: 0 };
    const sink = markingSink(inner, thread, { stats });
    try {
      for (let i = 0; i < 6; i++) {
        await sink.write(frame(i), i / 25);
        // Each write returns once the frame before it is written: this one may still be on the thread.
        assert.ok(inner.frames.length >= i && inner.frames.length <= i + 1, `after write ${i}: ${inner.frames.length} written`);
      }
      await sink.close();
      assert.equal(inner.state, 'closed');
      assert.deepEqual(
        inner.frames.map((f) => f.t),
        [0, 1, 2, 3, 4, 5].map((i) => i / 25),
      );
      inner.frames.forEach((f, i) => {
        const expected = frame(i);
        marker.mark(expected);
        assert.deepEqual(f.data, expected.data, `frame ${i} is marked`);
      });
      assert.ok(stats.ms > 0);
      await assert.rejects(sink.write(frame(0), 1), /closed; it takes no more frames/);
    } finally {
      await thread.close();
    }
  });

  it('stops at a frame that could not be marked: nothing after it is written, and abort aborts the output', async () => {
    const thread = new MarkThread(SETTINGS);
    const inner = new ListSink();
    const sink = markingSink(inner, thread);
    try {
      await sink.write(frame(0), 0);
      await sink.write({ width: 320, height: 180, channels: 3, data: new Uint8ClampedArray(10) }, 0.04);
      await assert.rejects(
        (async () => {
          await sink.write(frame(2), 0.08);
          await sink.close();
        })(),
        /could not be marked/,
      );
      await sink.abort();
      assert.equal(inner.state, 'aborted');
      assert.deepEqual(
        inner.frames.map((f) => f.t),
        [0],
      );
    } finally {
      await thread.close();
    }
  });
});
