/**
 * A video's marks on their own thread (swapVideo's `marksThread`): the same clip swapped with the
 * thread and without it gives the same frames, bytes for bytes, in the same order and at the same
 * times, and the marks `liveswap verify` reads; a thread that dies mid-run ends the swap with a
 * clear error and leaves nothing at the output (nor any temporary file beside it).
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_ONE_EURO } from '../../src/core/one-euro.js';
import { probeVideo } from '../../src/node/media/ffmpeg-probe.js';
import { readFrames } from '../../src/node/media/ffmpeg-read.js';
import { frameSeconds, readFrameTiming } from '../../src/node/media/ffmpeg-timing.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { swapVideo, type VideoSwapRequest } from '../../src/node/jobs/video-swap.js';
import { markThreadWorkers } from '../../src/node/provenance/mark-thread.js';
import { verifyFile } from '../../src/node/provenance/verify.js';
import { resolveSwapOptions } from '../../src/pipeline/options.js';
import type { PreparedSource } from '../../src/pipeline/still.js';
import { DEFAULT_VIDEO_FACE_OPTIONS } from '../../src/pipeline/video.js';
import type { MarkSettings } from '../../src/provenance/marks.js';
import { makeClip } from '../helpers/clips.js';
import { loadFixture, TEST_HOME } from '../helpers/fixtures.js';

/** Fixed marks, so that both runs carry the same watermark (the default draws a fresh asset id per output). */
const KEY = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 255);
const MARKS: MarkSettings = { label: {}, watermark: { key: KEY, payload: { assetId: 0x2a5f03c1, version: 1 } }, media: 'video' };

let swapper: NodeSwapper;
let source: PreparedSource;
let dir: string;
let clip: string;

before(async () => {
  swapper = await createNodeSwapper({ home: TEST_HOME });
  source = await swapper.prepareSource(await loadFixture('astronaut.png'), resolveSwapOptions());
  dir = await mkdtemp(join(tmpdir(), 'liveswap-video-marks-thread-'));
  // A moving face with noise (no two frames alike) and a sound track, at an odd rate.
  clip = await makeClip({ motion: 'zoom', noise: 8, frames: 40, fps: 29.97, width: 320, height: 240, audioHz: 440, dir, name: 'clip' });
});
after(async () => {
  await swapper.close();
  await rm(dir, { recursive: true, force: true });
});

function request(output: string, marksThread: boolean, extra: Partial<VideoSwapRequest> = {}): VideoSwapRequest {
  return {
    input: clip,
    output,
    identities: [source],
    swap: resolveSwapOptions(),
    faces: { ...DEFAULT_VIDEO_FACE_OPTIONS, smoothing: DEFAULT_ONE_EURO, selection: { kind: 'primary' } },
    marks: MARKS,
    marksThread,
    ...extra,
  };
}

/** The hash of each decoded frame, in order. */
async function frameHashes(path: string): Promise<string[]> {
  const hashes: string[] = [];
  for await (const frame of readFrames(path)) hashes.push(createHash('sha256').update(frame.data).digest('hex'));
  return hashes;
}

async function timesOf(path: string): Promise<number[]> {
  const timing = await readFrameTiming(path, await probeVideo(path));
  return timing.pts.map((_, i) => frameSeconds(timing, i));
}

describe('the marks thread of a video swap', () => {
  test('gives the same file, frames, times and marks as marking in turn', async () => {
    const inline = await swapVideo(swapper, request(join(dir, 'inline.mp4'), false));
    const threaded = await swapVideo(swapper, request(join(dir, 'threaded.mp4'), true));
    assert.equal(inline.marksThread, false);
    assert.equal(threaded.marksThread, true);
    assert.deepEqual(threaded.marks, inline.marks);
    assert.deepEqual(inline.marks, { label: true, watermark: true, watermarkId: '2a5f03c1' });
    assert.equal(threaded.frames, 40);
    assert.equal(threaded.framesSwapped, inline.framesSwapped);
    assert.ok(threaded.framesSwapped > 30, `${threaded.framesSwapped} frames swapped`);
    assert.ok(threaded.timings.mark > 0, 'the thread time on the marks is counted');

    const [a, b] = await Promise.all([frameHashes(join(dir, 'inline.mp4')), frameHashes(join(dir, 'threaded.mp4'))]);
    assert.equal(b.length, 40);
    assert.deepEqual(b, a, 'every decoded frame is the same');
    assert.deepEqual(await timesOf(join(dir, 'threaded.mp4')), await timesOf(join(dir, 'inline.mp4')));
    // x264 is deterministic, and nothing in the container differs: the same file.
    const [fileA, fileB] = await Promise.all([readFile(join(dir, 'inline.mp4')), readFile(join(dir, 'threaded.mp4'))]);
    assert.ok(fileA.equals(fileB), 'the two files are the same bytes');

    const report = await verifyFile(join(dir, 'threaded.mp4'), { key: { key: KEY, path: 'test key' } });
    assert.equal(report.watermark.watermarkId, threaded.marks.watermarkId);
  });

  test('a thread that dies mid-run ends the swap with a clear error, and nothing is left at the output', async () => {
    const output = join(dir, 'crashed.mp4');
    const before = new Set(await readdir(dir));
    let stopped = false;
    await assert.rejects(
      swapVideo(
        swapper,
        request(output, true, {
          // Frame 12 is planned while earlier frames are on the thread: the thread is stopped under them.
          onPlan: async (_frame, _plan, index) => {
            if (index !== 12 || stopped) return;
            stopped = true;
            const workers = markThreadWorkers();
            assert.equal(workers.length, 1, 'one marks thread runs');
            await workers[0]!.terminate();
          },
        }),
      ),
      (error: Error) => {
        assert.match(error.message, /thread drawing the marks stopped/);
        return true;
      },
    );
    assert.ok(stopped);
    assert.equal(existsSync(output), false, 'no output file');
    assert.deepEqual(new Set(await readdir(dir)), before, 'no temporary file left');
    assert.equal(markThreadWorkers().length, 0, 'the thread is gone');
  });
});
