/**
 * liveswap live's onFrame hook (what bench:stream times glass to glass with), through the real
 * command in this process, the mesh engine and real ffmpeg: it is called once with each frame the
 * swap takes, in order, before the frame is processed, and what it paints into the frame reaches
 * the output through the swap, the marks and x264; the frame numbers painted there (bench/frame-stamp.ts)
 * read back from every frame of the recording, each one a frame the hook was given.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { paintStamp, readStamp, STAMP_SIZE } from '../../bench/frame-stamp.js';
import { runLiveCommand, type LiveFlags } from '../../src/cli/live-command.js';
import { fileUrlArg, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { makeClip } from '../helpers/clips.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { homeWithModels, warmModels } from '../helpers/video-jobs.js';

/** The stamp read from each decoded frame of a recording (undefined where unreadable). */
async function stampsOf(path: string): Promise<(number | undefined)[]> {
  const raw = `${path}.gray`;
  const crop = `crop=${STAMP_SIZE}:${STAMP_SIZE}:0:0,format=gray`;
  const run = await runFfmpeg(['-loglevel', 'error', '-i', fileUrlArg(path), '-map', '0:v:0', '-vf', crop, '-vsync', 'passthrough', '-f', 'rawvideo', '-y', fileUrlArg(raw)]);
  assert.equal(run.code, 0, run.stderr);
  const bytes = await readFile(raw);
  const frame = STAMP_SIZE * STAMP_SIZE;
  const stamps: (number | undefined)[] = [];
  for (let i = 0; i + frame <= bytes.length; i += frame) stamps.push(readStamp((x, y) => bytes[i + y * STAMP_SIZE + x]!));
  return stamps;
}

describe('liveswap live onFrame hook', () => {
  let dir: string;
  let home: string;
  let clip: string;
  const previousHome = process.env.LIVESWAP_HOME;

  before(async () => {
    await warmModels();
    dir = await mkdtemp(join(tmpdir(), 'liveswap-live-hook-'));
    home = await homeWithModels(join(dir, 'home'));
    clip = await makeClip({ dir, width: 320, height: 240, fps: 25, frames: 50, motion: 'zoom' });
    process.env.LIVESWAP_HOME = home;
  });
  after(async () => {
    if (previousHome === undefined) delete process.env.LIVESWAP_HOME;
    else process.env.LIVESWAP_HOME = previousHome;
    await rm(dir, { recursive: true, force: true });
  });

  it('is given each frame the swap takes, in order, and what it paints reaches the output', async () => {
    const recording = join(dir, 'stamped.mkv');
    const slots: number[] = [];
    const out: string[] = [];
    const flags = { source: [join(FIXTURES, 'astronaut.png')], input: clip, output: [recording], engine: 'mesh', videoPreset: 'ultrafast', jsonStatus: true };
    await runLiveCommand(flags as unknown as LiveFlags, {
      terminal: { out: (text) => out.push(text), err: () => undefined },
      onFrame: (frame) => {
        assert.equal(frame.image.width, 320);
        assert.ok(frame.arrivedAt <= performance.now(), 'the frame has arrived');
        slots.push(frame.slot);
        paintStamp(frame.image, frame.slot);
      },
    });
    const done = out.map((line) => JSON.parse(line) as { event: string; frames?: number }).find((e) => e.event === 'done');
    assert.equal(slots.length, done?.frames, 'once per frame processed');
    assert.ok(
      slots.every((slot, i) => i === 0 || slot > slots[i - 1]!),
      `slots in order: ${slots.join(',')}`,
    );
    const stamps = await stampsOf(recording);
    assert.ok(stamps.length >= 48, `${stamps.length} frames recorded for a 50-frame input`);
    assert.ok(
      stamps.every((n) => n !== undefined && slots.includes(n)),
      `every recorded frame carries a stamped slot: ${stamps.join(',')}`,
    );
    // Every frame processed is shown (a dropped slot holds the frame before it).
    assert.deepEqual([...new Set(stamps)], slots);
  });
});
