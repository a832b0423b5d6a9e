/**
 * The pipe thread that lets ffmpeg decode and encode while the swap runs: the same frames in the
 * same order with the pipes served from it or from the calling thread (read alone, and a whole
 * swap written and read back), and a pipe thread that dies or an ffmpeg killed under it gives a
 * clear error, stops ffmpeg and leaves no output behind.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_ONE_EURO } from '../../src/core/one-euro.js';
import { LiveswapError } from '../../src/core/errors.js';
import type { Image } from '../../src/core/image.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { swapVideo } from '../../src/node/jobs/video-swap.js';
import { pipeThreadWorker } from '../../src/node/media/ffmpeg-pipes.js';
import { readFrames, readTimedFrames } from '../../src/node/media/ffmpeg-read.js';
import { createVideoWriter } from '../../src/node/media/ffmpeg-write.js';
import { resolveSwapOptions } from '../../src/pipeline/options.js';
import { DEFAULT_VIDEO_FACE_OPTIONS } from '../../src/pipeline/video.js';
import { clipFrame, ffmpegChildren, makeClip } from '../helpers/clips.js';
import { loadFixture, TEST_HOME } from '../helpers/fixtures.js';

let dir: string;
let clip: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-pipes-'));
  // A moving face with noise: every frame differs from the one before.
  clip = await makeClip({ photo: 'grace_hopper.jpg', motion: 'zoom', width: 320, height: 240, fps: 25, frames: 40, noise: 12, dir, name: 'moving' });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const digest = (image: Image): string => createHash('sha256').update(image.data).digest('hex');

async function checksums(path: string, readAhead?: number): Promise<string[]> {
  const sums: string[] = [];
  for await (const frame of readFrames(path, readAhead === undefined ? {} : { readAhead })) sums.push(digest(frame));
  return sums;
}

/** Whether a process has ended: gone, or a zombie nobody reaped. */
function ended(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function isInternal(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof LiveswapError && error.kind === 'internal' && pattern.test(error.message);
}

describe('ffmpeg pipes on their own thread', () => {
  it('reads the same frames in the same order ahead on the pipe thread as on the calling thread', async () => {
    const inline = await checksums(clip, 0);
    assert.equal(inline.length, 40);
    assert.equal(new Set(inline).size, 40, 'every frame of the clip differs');
    assert.deepEqual(await checksums(clip), inline, 'default read-ahead');
    assert.deepEqual(await checksums(clip, 1), inline, 'one frame ahead');
    const times = async (readAhead: number): Promise<number[]> => {
      const pts: number[] = [];
      for await (const frame of readTimedFrames(clip, { readAhead })) pts.push(frame.pts);
      return pts;
    };
    assert.deepEqual(await times(3), await times(0), 'each frame keeps its own time');
  });

  it('writes the same video through the queue as straight into the pipe', async () => {
    const photo = await clipFrame('grace_hopper.jpg', 320, 240);
    const write = async (name: string, queue: number): Promise<string> => {
      const path = join(dir, name);
      const writer = await createVideoWriter(path, { width: 320, height: 240, fps: 25, preset: 'ultrafast', queue });
      const frame = { ...photo, data: new Uint8ClampedArray(photo.data) };
      for (let i = 0; i < 30; i++) {
        frame.data.fill(i * 8, 0, 320 * 3 * 40); // a band that changes each frame; the buffer is reused at once
        await writer.write(frame);
      }
      await writer.close();
      return path;
    };
    const queued = await checksums(await write('queued.mp4', 4));
    assert.equal(queued.length, 30);
    assert.deepEqual(queued, await checksums(await write('inline.mp4', 0)));
  });

  it('a swapped video has the same frames, count and order with the pipes on their thread or not', async () => {
    const swapper: NodeSwapper = await createNodeSwapper({ home: TEST_HOME });
    try {
      const options = resolveSwapOptions();
      const source = await swapper.prepareSource(await loadFixture('astronaut.png'), options);
      const swap = async (name: string, readAhead: number | undefined): Promise<{ sums: string[]; swapped: number }> => {
        const output = join(dir, name);
        const summary = await swapVideo(swapper, {
          input: clip,
          output,
          identities: [source],
          swap: options,
          faces: { ...DEFAULT_VIDEO_FACE_OPTIONS, smoothing: DEFAULT_ONE_EURO, selection: { kind: 'primary' } },
          marks: false,
          ...(readAhead !== undefined ? { readAhead } : {}),
        });
        return { sums: await checksums(output, 0), swapped: summary.framesSwapped };
      };
      const threaded = await swap('swapped-threaded.mp4', undefined);
      const inline = await swap('swapped-inline.mp4', 0);
      assert.equal(threaded.sums.length, 40);
      assert.ok(threaded.swapped > 30, `faces swapped on most frames (${threaded.swapped})`);
      assert.equal(threaded.swapped, inline.swapped);
      assert.deepEqual(threaded.sums, inline.sums);
    } finally {
      await swapper.close();
    }
  });

  it('a decoder whose pipe thread dies: a clear error, and ffmpeg stopped', async () => {
    const before = new Set(ffmpegChildren() ?? []);
    const frames = readFrames(clip, { readAhead: 2 });
    assert.ok((await frames.next()).value);
    const mine = ffmpegChildren()?.filter((pid) => !before.has(pid)) ?? [];
    await pipeThreadWorker()!.terminate();
    await assert.rejects(
      async () => {
        for (let i = 0; i < 40; i++) await frames.next();
      },
      isInternal(/^The thread moving ffmpeg's frames \(decoding .*moving\.mp4\) stopped: .*ffmpeg was stopped; nothing was saved\.$/),
    );
    for (const pid of mine) assert.ok(ended(pid), `ffmpeg ${pid} was stopped`);
    // The next reader starts a new thread.
    assert.equal((await checksums(clip)).length, 40);
  });

  it('an encoder whose pipe thread dies: a clear error, ffmpeg stopped and no output file', async () => {
    const photo = await clipFrame('grace_hopper.jpg', 320, 240);
    const path = join(dir, 'orphan.mp4');
    const writer = await createVideoWriter(path, { width: 320, height: 240, fps: 25, preset: 'ultrafast', queue: 2 });
    await writer.write(photo);
    await pipeThreadWorker()!.terminate();
    await assert.rejects(
      async () => {
        for (let i = 0; i < 20; i++) await writer.write(photo);
        await writer.close();
      },
      isInternal(/^The thread moving ffmpeg's frames \(encoding .*orphan\.mp4\) stopped/),
    );
    await writer.abort();
    assert.deepEqual(
      (await readdir(dir)).filter((name) => name.includes('orphan')),
      [],
    );
  });

  it('a decoder ffmpeg killed while frames are read ahead: the input-unreadable error', async (t) => {
    const before = new Set(ffmpegChildren() ?? []);
    const frames = readFrames(clip, { readAhead: 2 });
    assert.ok((await frames.next()).value);
    const mine = ffmpegChildren()?.filter((pid) => !before.has(pid));
    if (mine === undefined) return t.skip('needs /proc to find the ffmpeg process');
    assert.equal(mine.length, 1);
    process.kill(mine[0]!, 'SIGKILL');
    await sleep(50);
    await assert.rejects(
      async () => {
        for (let i = 0; i < 40; i++) await frames.next();
      },
      (error: unknown) => error instanceof LiveswapError && error.kind === 'input-unreadable' && /ffmpeg was killed by SIGKILL while decoding it/.test(error.message),
    );
    assert.deepEqual(
      ffmpegChildren()?.filter((pid) => !before.has(pid)),
      [],
    );
  });
});
