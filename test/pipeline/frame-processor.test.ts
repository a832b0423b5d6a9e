/**
 * The frame processor and the pump with a scripted engine on synthetic frames: the marks stage is
 * last and on unless `marks: false`; each face gets the identity of its slot; select, reset and
 * close behave; the pump aborts its sink (nothing half-written) on errors and cancellation.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import type { Image } from '../../src/core/image.js';
import type { Face } from '../../src/face/face.js';
import type { FrameSink, FrameSource, TimedFrame } from '../../src/pipeline/frame-io.js';
import { FrameProcessor, type FrameEngine } from '../../src/pipeline/frame-processor.js';
import { resolveSwapOptions } from '../../src/pipeline/options.js';
import { pumpFrames } from '../../src/pipeline/pump.js';
import type { PreparedSource } from '../../src/pipeline/still.js';
import { DEFAULT_VIDEO_FACE_OPTIONS, type VideoFaceOptions } from '../../src/pipeline/video.js';
import { findLabel } from '../../src/provenance/label.js';
import type { MarkSettings } from '../../src/provenance/marks.js';
import { WATERMARK_VERSION } from '../../src/provenance/payload.js';
import { WatermarkDetector } from '../../src/provenance/watermark.js';
import { makeFace } from '../helpers/synthetic-face.js';

const W = 320;
const H = 240;
const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + 7) & 255);
/** Still strength, so that one small frame carries a decodable watermark. */
const MARKS: MarkSettings = { label: {}, watermark: { key: KEY, payload: { assetId: 0x1234abcd, version: WATERMARK_VERSION } }, media: 'still' };

/** A textured grey frame (the planner's blur check wants detail in the face). */
function frame(seed = 1): Image {
  const data = new Uint8ClampedArray(W * H * 3);
  for (let i = 0; i < data.length; i++) data[i] = 100 + (((i * 2654435761 + seed) >>> 24) % 60);
  return { width: W, height: H, channels: 3, data };
}

function identity(value: number): PreparedSource<number> {
  return { faces: [], faceIndex: 0, identity: value, notices: [], timings: { source: 0, identity: 0 } };
}

/** An engine that finds the scripted faces and paints each with its identity's grey level. */
function scriptedEngine(faces: Face[]): FrameEngine & { painted: number[] } {
  const painted: number[] = [];
  const paint = (image: Image, face: Face, value: number): void => {
    const [x, y, w, h] = face.box;
    for (let yy = Math.round(y); yy < y + h; yy++) for (let xx = Math.round(x); xx < x + w; xx++) image.data.fill(value, (yy * W + xx) * 3, (yy * W + xx) * 3 + 3);
    painted.push(value);
  };
  return {
    name: 'scripted',
    painted,
    analyze: async () => faces,
    paintFaces: async (image, jobs) => jobs.forEach((job) => paint(image, job.face, job.identity as number)),
    swap: async (source, target) => {
      const image = { ...target, data: new Uint8ClampedArray(target.data) };
      paint(image, faces[0]!, source.identity as number);
      return {
        image,
        report: { engine: 'scripted', sourceFaces: [], targetFaces: [], sourceFaceUsed: 0, swappedFaces: [0], skippedFaces: [], timings: { detect: 1 }, notices: [] },
      };
    },
  };
}

const tracking = (selection: VideoFaceOptions['selection'] = { kind: 'all' }): VideoFaceOptions => ({
  ...DEFAULT_VIDEO_FACE_OPTIONS,
  detectEvery: 1,
  minSharpness: 0,
  smoothing: false,
  selection,
});
const grey = (image: Image, face: Face): number => image.data[(Math.round(face.box[1] + 20) * W + Math.round(face.box[0] + 20)) * 3]!;

describe('FrameProcessor', () => {
  const left = makeFace(20, 40, 100);
  const right = makeFace(190, 40, 100);

  test('stream: plans, paints each face with its slot identity, then marks (label and watermark) last', async () => {
    const engine = scriptedEngine([left, right]);
    const processor = FrameProcessor.create(engine, { mode: 'stream', paint: resolveSwapOptions(), tracking: tracking(), marks: MARKS }, [identity(30)]);
    const image = frame();
    const result = await processor.process(image, 0);
    assert.equal(result.image, image, 'a stream frame is painted in place');
    assert.equal(result.painted.length, 2);
    assert.deepEqual(result.marks, { label: true, watermark: true, watermarkId: '1234abcd' });
    assert.ok(result.timings.mark > 0);
    assert.ok(Math.abs(grey(image, left) - 30) <= 3, 'painted, then only faintly watermarked');
    assert.ok(findLabel(image), 'the label is drawn');
    const detector = new WatermarkDetector(KEY);
    detector.add(image);
    assert.equal(detector.detection().payload?.assetId, 0x1234abcd, 'the watermark is embedded');
  });

  test('marks: false leaves the painted frame unmarked and says so', async () => {
    const engine = scriptedEngine([left]);
    const processor = FrameProcessor.create(engine, { mode: 'stream', paint: resolveSwapOptions(), tracking: tracking(), marks: false }, [identity(30)]);
    const before = frame();
    const image = frame();
    const result = await processor.process(image, 0);
    assert.deepEqual(result.marks, { label: false, watermark: false });
    const [x0, y0, w] = left.box;
    let changedOutside = 0;
    for (let i = 0; i < image.data.length; i += 3) {
      const x = (i / 3) % W;
      const y = Math.floor(i / 3 / W);
      if (!(x >= x0 && x < x0 + w && y >= y0 && y < y0 + w) && image.data[i] !== before.data[i]) changedOutside++;
    }
    assert.equal(changedOutside, 0, 'no pixel outside the face changed');
    processor.setMarks(MARKS);
    assert.equal((await processor.process(frame(), 1 / 30)).marks.watermark, true, 'marks can be turned on for later frames');
  });

  test('identities by slot: every face of slot 0 gets it, a slot without one paints nobody, select narrows', async () => {
    const engine = scriptedEngine([left, right]);
    const processor = FrameProcessor.create(engine, { mode: 'stream', paint: resolveSwapOptions(), tracking: tracking(), marks: false }, [identity(40)]);
    let image = frame();
    await processor.process(image, 0);
    assert.ok(Math.abs(grey(image, left) - 40) <= 1 && Math.abs(grey(image, right) - 40) <= 1);
    processor.setIdentities([undefined]);
    image = frame(2);
    const result = await processor.process(image, 1 / 30);
    assert.equal(result.painted.length, 0, 'a slot without an identity paints nobody');
    processor.select({ kind: 'primary' });
    processor.setIdentities([identity(50)]);
    image = frame(3);
    assert.equal((await processor.process(image, 2 / 30)).painted.length, 1, 'the main face only, after select');
  });

  test('still mode paints a copy, reports the still and marks the copy; close ends the stream', async () => {
    const engine = scriptedEngine([left]);
    const processor = FrameProcessor.create(engine, { mode: 'still', paint: resolveSwapOptions(), marks: MARKS }, [identity(60)]);
    const target = frame();
    const copy = new Uint8ClampedArray(target.data);
    const result = await processor.process(target, 0);
    assert.notEqual(result.image, target);
    assert.deepEqual(target.data, copy, 'the target is untouched');
    assert.equal(result.still?.engine, 'scripted');
    assert.equal(result.marks.label, true);
    processor.close();
    await assert.rejects(processor.process(frame(), 0), /closed/);
    assert.throws(() => FrameProcessor.create(engine, { mode: 'still', paint: resolveSwapOptions(), marks: false }, []), /source identity/);
  });
});

class ArraySource implements FrameSource {
  readonly width = W;
  readonly height = H;
  closed = false;
  constructor(private readonly frames: number) {}
  async *[Symbol.asyncIterator](): AsyncIterator<TimedFrame> {
    for (let i = 0; i < this.frames; i++) yield { image: frame(i), tSeconds: i / 30 };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

class RecordingSink implements FrameSink {
  readonly times: number[] = [];
  state: 'open' | 'closed' | 'aborted' = 'open';
  async write(_: Image, tSeconds: number): Promise<void> {
    this.times.push(tSeconds);
  }
  async close(): Promise<void> {
    this.state = 'closed';
  }
  async abort(): Promise<void> {
    this.state = 'aborted';
  }
}

describe('pumpFrames', () => {
  const processor = (engine: FrameEngine = scriptedEngine([makeFace(20, 40, 100)])): FrameProcessor =>
    FrameProcessor.create(engine, { mode: 'stream', paint: resolveSwapOptions(), tracking: tracking(), marks: false }, [identity(30)]);

  test('writes every frame in order with its time and closes the sink', async () => {
    const sink = new RecordingSink();
    const seen: number[] = [];
    const stats = await pumpFrames(new ArraySource(5), processor(), sink, { onFrame: (_, i) => seen.push(i) });
    assert.equal(stats.frames, 5);
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);
    assert.deepEqual(sink.times, [0, 1 / 30, 2 / 30, 3 / 30, 4 / 30]);
    assert.equal(sink.state, 'closed');
  });

  test('an abort stops the stream: the sink is aborted, the source closed, the error is interrupted', async () => {
    const stop = new AbortController();
    const sink = new RecordingSink();
    const source = new ArraySource(10);
    await assert.rejects(
      pumpFrames(source, processor(), sink, { signal: stop.signal, onFrame: (_, i) => (i === 2 ? stop.abort() : undefined) }),
      (error: unknown) => error instanceof LiveswapError && error.kind === 'interrupted',
    );
    assert.equal(sink.state, 'aborted');
    assert.equal(source.closed, true);
    assert.ok(sink.times.length <= 3);
  });

  test('a failing frame aborts the sink and the error comes through; no frames aborts too', async () => {
    const engine = scriptedEngine([makeFace(20, 40, 100)]);
    engine.paintFaces = async () => {
      throw new LiveswapError('internal', 'paint failed');
    };
    const sink = new RecordingSink();
    await assert.rejects(pumpFrames(new ArraySource(3), processor(engine), sink), /paint failed/);
    assert.equal(sink.state, 'aborted');
    const empty = new RecordingSink();
    assert.equal((await pumpFrames(new ArraySource(0), processor(), empty)).frames, 0);
    assert.equal(empty.state, 'aborted', 'an empty stream leaves no output');
  });
});
