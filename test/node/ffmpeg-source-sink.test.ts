/**
 * The ffmpeg FrameSource and FrameSink: synthetic frames written through the sink and read back
 * through the source (count, size, times, pixels), variable rates and trims, abort, early exit.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { createImage, type Image } from '../../src/core/image.js';
import { createVideoSink, openVideoSource, probeVideo, resolveFfmpeg } from '../../src/node/media/ffmpeg.js';
import { outputClock } from '../../src/node/media/ffmpeg-sink.js';
import { frameClock, framePlacer } from '../../src/node/media/ffmpeg-source.js';
import { readFrameTiming } from '../../src/node/media/ffmpeg-timing.js';
import type { TimedFrame } from '../../src/pipeline/frame-io.js';
import { ffmpegChildren, processExists } from '../helpers/clips.js';
import { meanAbsDiff } from '../helpers/fixtures.js';

const WIDTH = 96;
const HEIGHT = 64;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-source-sink-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Frame i: a smooth colour gradient with a light 16×16 square at x = 4 + 6i, so order shows. */
function synthetic(i: number): Image {
  const image = createImage(WIDTH, HEIGHT, 3);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const inSquare = x >= 4 + 6 * i && x < 20 + 6 * i && y >= 24 && y < 40;
      const at = (y * WIDTH + x) * 3;
      image.data[at] = inSquare ? 230 : 40 + x;
      image.data[at + 1] = inSquare ? 220 : 60 + y;
      image.data[at + 2] = inSquare ? 200 : 120;
    }
  }
  return image;
}

async function collect(frames: AsyncIterable<TimedFrame>): Promise<TimedFrame[]> {
  const all: TimedFrame[] = [];
  for await (const frame of frames) all.push(frame);
  return all;
}

function near(actual: readonly number[], expected: readonly number[], tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.join(', ')}`);
  actual.forEach((t, i) => assert.ok(Math.abs(t - expected[i]!) <= tolerance, `${what}: frame ${i} at ${t}, expected ${expected[i]}`));
}

/** Writes frames 0..times.length-1 through a sink at the given times. */
async function writeClip(path: string, times: readonly number[], options: Partial<Parameters<typeof createVideoSink>[1]> = {}): Promise<void> {
  const sink = await createVideoSink(path, { width: WIDTH, height: HEIGHT, fps: 25, crf: 8, preset: 'ultrafast', ...options });
  try {
    for (let i = 0; i < times.length; i++) await sink.write(synthetic(i), times[i]!);
    await sink.close();
  } catch (error) {
    await sink.abort();
    throw error;
  }
}

describe('createVideoSink → openVideoSource', () => {
  it('round trip at a constant rate: count, size, times and pixels come back', async () => {
    const path = join(dir, 'constant.mp4');
    const times = Array.from({ length: 12 }, (_, i) => i / 25);
    await writeClip(path, times);

    const source = await openVideoSource(path, resolveFfmpeg());
    assert.deepEqual([source.width, source.height, source.info.fps], [WIDTH, HEIGHT, 25]);
    const frames = await collect(source);
    assert.equal(frames.length, 12);
    near(
      frames.map((f) => f.tSeconds),
      times,
      1e-9,
      'index / fps',
    );
    for (const [i, { image }] of frames.entries()) {
      assert.deepEqual([image.width, image.height, image.channels], [WIDTH, HEIGHT, 3]);
      const same = meanAbsDiff(image, synthetic(i), 0, 0, WIDTH, HEIGHT);
      // crf 8, 4:2:0: about 0.6 levels on average, mostly the chroma at the square's edges; a
      // neighbouring frame is about 4 away.
      assert.ok(same < 1.5, `frame ${i} differs by ${same}`);
      const neighbour = meanAbsDiff(image, synthetic(i === 0 ? 1 : i - 1), 0, 0, WIDTH, HEIGHT);
      assert.ok(same < neighbour, `frame ${i} is nearer its own original (${same}) than a neighbour's (${neighbour})`);
    }
    assert.deepEqual(ffmpegChildren() ?? [], [], 'no ffmpeg left running');
  });

  it('variable rate: the times written are the times read back, also inside a trim', async () => {
    const path = join(dir, 'variable.mkv');
    // Matroska ticks are milliseconds, so these times are stored exactly.
    const pts = [0, 40, 100, 120, 200, 260];
    const timing = { timeBase: [1, 1000] as [number, number], pts };
    await writeClip(
      path,
      pts.map((t) => t / 1000),
      { timing },
    );

    const info = await probeVideo(path);
    const read = await readFrameTiming(path, info);
    assert.deepEqual(read.pts, pts);
    const all = await collect(await openVideoSource(path, { probed: info, timing: read }));
    near(
      all.map((f) => f.tSeconds),
      [0, 0.04, 0.1, 0.12, 0.2, 0.26],
      1e-9,
      'from the frame timing',
    );

    // Frames shown from 100 ms (included) to 200 ms (excluded), timed from the trim's start.
    const trimmed = await collect(await openVideoSource(path, { probed: info, timing: read, trim: { startPts: 100, endPts: 200 } }));
    near(
      trimmed.map((f) => f.tSeconds),
      [0, 0.02],
      1e-9,
      'trimmed',
    );
    assert.ok(meanAbsDiff(trimmed[0]!.image, synthetic(2), 0, 0, WIDTH, HEIGHT) < 1.5, 'the trim starts at frame 2');

    // Without the timing the source can only count frames at the probed rate.
    const counted = await collect(await openVideoSource(path, { probed: info }));
    near(
      counted.map((f) => f.tSeconds),
      counted.map((_, i) => i / info.fps),
      1e-9,
      'index / probed fps',
    );
  });

  it('refuses a frame at a time the file would not show it, and takes the right one after', async () => {
    const path = join(dir, 'refused.mp4');
    const sink = await createVideoSink(path, { width: WIDTH, height: HEIGHT, fps: 10, preset: 'ultrafast' });
    await sink.write(synthetic(0), 0);
    await assert.rejects(sink.write(synthetic(1), 0.25), (error: unknown) => {
      assert.ok(error instanceof LiveswapError);
      assert.equal(error.kind, 'usage');
      assert.match(error.message, /^Frame 1 for .*refused\.mp4 came at 0\.25 s, but the video shows it at 0\.100000 s/);
      return true;
    });
    await sink.write(synthetic(1), 0.1 + 0.04); // within half a frame
    await sink.close();
    assert.equal((await probeVideo(path, { countFrames: true })).frameCount, 2);
  });

  it("gaps: 'hold' writes the frame before a gap at each time it skipped, and leaves out a frame that comes twice", async () => {
    const path = join(dir, 'held.mkv');
    const timing = { timeBase: [1, 1000] as [number, number], pts: [0, 40, 80, 120, 160, 200, 240, 280] };
    const sink = await createVideoSink(path, { width: WIDTH, height: HEIGHT, fps: 25, crf: 8, preset: 'ultrafast', timing, gaps: 'hold' });
    // Frames 0 and 1, then 4 (2 and 3 lost), 4 again (skipped), 5, then 7 (6 lost); nothing at 280 ms.
    for (const [frame, t] of [
      [0, 0],
      [1, 0.04],
      [4, 0.16],
      [4, 0.16],
      [5, 0.2],
      [7, 0.28],
    ] as const) {
      await sink.write(synthetic(frame), t);
    }
    await sink.close();
    assert.deepEqual(sink.gaps, { held: 3, skipped: 1 });
    const back = await collect(await openVideoSource(path));
    const shown = back.map(({ image }) =>
      [0, 1, 2, 3, 4, 5, 6, 7].reduce(
        (best, k) => (meanAbsDiff(image, synthetic(k), 0, 0, WIDTH, HEIGHT) < meanAbsDiff(image, synthetic(best), 0, 0, WIDTH, HEIGHT) ? k : best),
        0,
      ),
    );
    assert.deepEqual(shown, [0, 1, 1, 1, 4, 5, 5, 7], 'each time shows its own frame, or the one before the gap');

    // A gap at the start has no frame before it: the first frame fills it.
    const early = join(dir, 'held-start.mkv');
    const first = await createVideoSink(early, { width: WIDTH, height: HEIGHT, fps: 25, crf: 8, preset: 'ultrafast', timing, gaps: 'hold' });
    await first.write(synthetic(2), 0.08);
    await first.write(synthetic(3), 0.12);
    await first.close();
    assert.deepEqual(first.gaps, { held: 2, skipped: 0 });
    assert.equal((await probeVideo(early, { countFrames: true })).frameCount, 4);

    // Past the listed times a frame is still refused: there is no slot to hold up to.
    const past = await createVideoSink(join(dir, 'held-past.mkv'), { width: WIDTH, height: HEIGHT, fps: 25, preset: 'ultrafast', timing, gaps: 'hold' });
    try {
      await assert.rejects(past.write(synthetic(0), 1), /Frame 0 for .*held-past\.mkv came at 1 s, but the video shows it at 0\.000000 s/);
    } finally {
      await past.abort();
    }
    await assert.rejects(createVideoSink(join(dir, 'x.mkv'), { width: WIDTH, height: HEIGHT, fps: 25, gaps: 'fill' as 'hold' }), /gaps/);
  });

  it('abort leaves no file and no process', async () => {
    const path = join(dir, 'aborted.webm');
    const sink = await createVideoSink(path, { width: WIDTH, height: HEIGHT, fps: 25, preset: 'ultrafast' });
    for (let i = 0; i < 3; i++) await sink.write(synthetic(i), i / 25);
    await sink.abort();
    assert.deepEqual(await readdir(dir).then((names) => names.filter((n) => n.includes('aborted'))), []);
    await assert.rejects(sink.close(), /was aborted; nothing was saved/);
    await assert.rejects(sink.write(synthetic(3), 3 / 25), /already aborted/);
    assert.deepEqual(ffmpegChildren() ?? [], []);
  });

  it('leaving the loop early kills the decoder; close() before reading starts none', async () => {
    const path = join(dir, 'long.mp4');
    await writeClip(
      path,
      Array.from({ length: 40 }, (_, i) => i / 25),
    );
    const source = await openVideoSource(path);
    let seen = 0;
    let pid: number | undefined;
    for await (const frame of source) {
      assert.equal(frame.tSeconds, seen / 25);
      if (++seen === 2) {
        const children = ffmpegChildren();
        if (children !== undefined) {
          assert.equal(children.length, 1, 'one ffmpeg decoding');
          pid = children[0];
        }
        break;
      }
    }
    assert.equal(seen, 2);
    if (pid !== undefined) assert.equal(processExists(pid), false, 'the decoder is gone once the loop is left');
    assert.deepEqual(ffmpegChildren() ?? [], []);
    await assert.rejects(collect(source), /is being read already; open it again/, 'a source is read once');

    const unread = await openVideoSource(path);
    await unread.close();
    assert.deepEqual(ffmpegChildren() ?? [], []);
    await assert.rejects(collect(unread), /is closed/);
  });

  it('close() from inside the loop stops the decoder and ends the loop (file from the test above)', async () => {
    const path = join(dir, 'long.mp4');
    const source = await openVideoSource(path);
    let seen = 0;
    for await (const frame of source) {
      assert.ok(frame.image.data.length > 0);
      if (++seen === 3) await source.close();
    }
    assert.equal(seen, 3, 'nothing after close');
    assert.deepEqual(ffmpegChildren() ?? [], []);
  });
});

describe('one ffmpeg per job', () => {
  it('a path resolved once is the one every spawn runs, whatever LIVESWAP_FFMPEG says later', async () => {
    const resolved = resolveFfmpeg();
    assert.ok(isAbsolute(resolved.ffmpegPath));
    const saved = process.env.LIVESWAP_FFMPEG;
    // Pointed at nothing: any spawn that looked at the environment again would fail.
    process.env.LIVESWAP_FFMPEG = join(dir, 'no-such-ffmpeg');
    try {
      assert.throws(() => resolveFfmpeg(), /Cannot find ffmpeg at .*no-such-ffmpeg \(from LIVESWAP_FFMPEG\)/);
      const path = join(dir, 'resolved.mkv');
      await writeClip(path, [0, 0.04], resolved);
      const frames = await collect(await openVideoSource(path, resolved));
      assert.equal(frames.length, 2);
    } finally {
      if (saved === undefined) delete process.env.LIVESWAP_FFMPEG;
      else process.env.LIVESWAP_FFMPEG = saved;
    }
  });
});

describe('frame clocks', () => {
  it('source: resampled rate first, then the timing inside the trim, then the probed rate', () => {
    const timing = { timeBase: [1, 1000] as const, pts: [0, 40, 100, 120] };
    const times = (clock: (i: number) => number, n: number): number[] => Array.from({ length: n }, (_, i) => clock(i));
    near(times(frameClock({ fps: 25 }, { fps: 10, timing }), 3), [0, 0.1, 0.2], 1e-12, 'fps wins: frames are resampled');
    near(times(frameClock({ fps: 25 }, { timing }), 6), [0, 0.04, 0.1, 0.12, 0.14, 0.16], 1e-12, 'past the list: last spacing');
    near(times(frameClock({ fps: 25 }, { timing, trim: { startPts: 40, endPts: 120 } }), 2), [0, 0.06], 1e-12, 'from the trim start');
    near(times(frameClock({ fps: 25 }, {}), 3), [0, 0.04, 0.08], 1e-12, 'probed rate');
  });

  it('placer: a decoded frame at its own listed time (a lost one leaves a gap), else at the next one', () => {
    const timing = { timeBase: [1, 1000] as const, pts: [0, 40, 80, 120, 160, 200] };
    const place = (pts: number[], trim?: { startPts?: number; endPts?: number }): number[] => {
      const at = framePlacer({ fps: 25 }, timing, trim);
      return pts.map((t) => at(t));
    };
    near(place([0, 40, 160, 200]), [0, 0.04, 0.16, 0.2], 1e-12, 'frames 80 and 120 lost: a gap, not the rest pulled early');
    near(place([0, 40, 40, 80]), [0, 0.04, 0.04, 0.08], 1e-12, 'a frame given twice keeps its time (the sink leaves it out)');
    near(place([1, 39, 81]), [0, 0.04, 0.08], 1e-12, 'a tick off is still that frame');
    near(place([0, NaN, 80]), [0, 0.04, 0.08], 1e-12, 'no time from the decoder: the next listed time');
    near(place([80, 160], { startPts: 40, endPts: 200 }), [0.04, 0.12], 1e-12, 'from the trim start; frame 40 lost');
    near(place([0, 40, 80, 120, 160, 200, 240, 300]), [0, 0.04, 0.08, 0.12, 0.16, 0.2, 0.24, 0.28], 1e-12, 'past the list: the last spacing, by index');
  });

  it('sink: the times the encoder gives, as its setpts expression does', () => {
    const times = (clock: (i: number) => number, n: number): number[] => Array.from({ length: n }, (_, i) => clock(i));
    near(times(outputClock({ fps: 30, timing: { timeBase: [1, 90000], pts: [0, 3000, 9000] } }), 5), [0, 1 / 30, 0.1, 0.1 + 2 / 30, 0.1 + 4 / 30], 1e-12, 'listed');
    near(times(outputClock({ fps: 29.97 }), 3), [0, 1 / 29.97, 2 / 29.97], 1e-12, 'constant');
  });
});
