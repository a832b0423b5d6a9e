/**
 * One live output on the pipe thread, with real ffmpeg: frames handed over by their slots come out
 * in order with the input's constant rate, a dropped slot showing the frame before it (written as
 * one ring copy, repeated there), the sound given on fd 3 lands in the file from the first frame's
 * time, the output says it is live once ffmpeg reports bytes written, and the main thread is not
 * held while ffmpeg encodes (write resolves once the frame is in the ring).
 */

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Image } from '../../src/core/image.js';
import { ffmpegPath, fileUrlArg, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { probeVideo } from '../../src/node/media/ffmpeg-probe.js';
import { LIVE_AUDIO } from '../../src/node/live/live-args.js';
import { FfmpegOutput, MAX_QUEUED_FRAMES } from '../../src/node/live/live-output.js';

const WIDTH = 64;
const HEIGHT = 48;
const FPS = 10;

/** A flat grey frame of level `value`. */
function flat(value: number): Image {
  return { width: WIDTH, height: HEIGHT, channels: 3, data: new Uint8ClampedArray(WIDTH * HEIGHT * 3).fill(value) };
}

/** The mean level of each decoded frame of a file (grey, 8×6). */
async function frameLevels(path: string): Promise<number[]> {
  const raw = `${path}.gray`;
  const run = await runFfmpeg(['-loglevel', 'error', '-i', fileUrlArg(path), '-map', '0:v:0', '-vf', 'scale=8:6,format=gray', '-f', 'rawvideo', '-y', fileUrlArg(raw)]);
  assert.equal(run.code, 0, run.stderr);
  const bytes = await readFile(raw);
  const levels: number[] = [];
  for (let i = 0; i + 48 <= bytes.length; i += 48) levels.push(Math.round(bytes.subarray(i, i + 48).reduce((sum, v) => sum + v, 0) / 48));
  return levels;
}

describe('a live output on the pipe thread', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveswap-live-output-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the timeline: dropped slots repeat the frame before, the sound is in the file, and it reports live', async () => {
    const path = join(dir, 'out.mkv');
    const output = new FfmpegOutput(
      { kind: 'file', path, container: '.mkv' },
      { ffmpegPath: ffmpegPath(), width: WIDTH, height: HEIGHT, fps: FPS, audio: true, audioDelayMs: 0, preset: 'ultrafast', crf: 0 },
    );
    const live = output.whenStarted();
    // Levels far apart, so x264's rounding cannot confuse them; slots 2–3 and 6 are dropped.
    const slots: [number, number][] = [
      [0, 40],
      [1, 80],
      [4, 120],
      [5, 160],
      [7, 200],
    ];
    const second = Buffer.alloc(LIVE_AUDIO.sampleRate * LIVE_AUDIO.channels * LIVE_AUDIO.bytesPerSample);
    for (let i = 0; i < second.length; i += 2) second.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 4 / LIVE_AUDIO.sampleRate)), i);
    for (const [slot, level] of slots) {
      await output.write(flat(level), slot);
      if (slot === 0) output.audio(second, 0);
    }
    output.endAudio();
    // Written frames are queued on the pipe thread, never more than its ring holds.
    assert.equal(output.status.frames, 8);
    await live;
    await output.finish();
    assert.ok(existsSync(path), 'the recording is put in place');
    const info = await probeVideo(path);
    assert.equal(info.hasAudio, true);
    assert.deepEqual(
      (await frameLevels(path)).map((v) => Math.round(v / 40) * 40),
      [40, 80, 80, 80, 120, 160, 160, 200],
    );
    assert.equal(output.status.state, 'finished');
    assert.ok(MAX_QUEUED_FRAMES >= 2);
  });

  it('says why when its ffmpeg cannot start', async () => {
    const output = new FfmpegOutput(
      { kind: 'file', path: join(dir, 'never.mkv'), container: '.mkv' },
      { ffmpegPath: join(dir, 'no-ffmpeg-here'), width: WIDTH, height: HEIGHT, fps: FPS, audio: false, audioDelayMs: 0, preset: 'ultrafast', crf: 0 },
    );
    const started = output.whenStarted();
    await output.write(flat(10), 0);
    await assert.rejects(started, (error: Error) => /Cannot send to .*never\.mkv.*Cannot run ffmpeg/s.test(error.message));
    await output.abort();
  });
});
