/**
 * `liveswap live` keeps a file's sound with its picture when the two do not start together (a
 * recording whose picture starts half a second after its sound, as cameras and editors often
 * write): played once, and looped, which repeats the gap at every pass. The clip carries a square
 * and a beep at the same moments; each beep's square in the recording must be within 100 ms of
 * it (the median), and over the passes of a looped clip the gap between them must not grow. Real command (tsx),
 * real ffmpeg.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileUrlArg, lastLines, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { avDrift, writeMarkedClip, type AvMarks } from '../helpers/av-marks.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { homeWithModels, warmModels } from '../helpers/video-jobs.js';
import { MAIN_PATH, REPO_ROOT, runCli, show, TSX_URL } from '../cli/run-cli.js';

const SOURCE = join(FIXTURES, 'astronaut.png');
const MARKS: AvMarks = { every: 1, length: 0.1 };
const FPS = 25;
/**
 * How far a square may be from its beep, as the median over a run: the squares are seen on the
 * 40 ms frame grid, the beeps in 10 ms windows, and the sound is set right once 20 ms off; a frame
 * dropped for a fresher one shows its square a frame or two late (hence medians). The gap is 0.5 s.
 */
const TOLERANCE_S = 0.1;
/** How much the median drift may grow from the first pass of a looped clip to the fourth (each pass added 30 ms before the fix). */
const GROWTH_S = 0.04;
const PASSES = 4;

async function ffmpeg(args: string[]): Promise<void> {
  const run = await runFfmpeg(['-v', 'error', '-y', ...args]);
  assert.equal(run.code, 0, lastLines(run.stderr, 4));
}

/** A 4 s clip with the marks whose picture starts `late` seconds after its sound, the two in step by their timestamps. */
async function lateClip(dir: string, late: number): Promise<string> {
  const synced = join(dir, 'synced.mp4');
  const photo = ['-loop', '1', '-framerate', String(FPS), '-i', fileUrlArg(join(FIXTURES, 'grace_hopper.jpg'))];
  await writeMarkedClip(synced, MARKS, { picture: photo, width: 320, height: 240, fps: FPS, seconds: 4 });
  const clip = join(dir, 'late.mp4');
  // trim keeps the frames' timestamps: the picture now starts at `late`, the sound still at 0.
  await ffmpeg([
    '-i',
    fileUrlArg(synced),
    '-filter_complex',
    `[0:v]trim=start=${late}[v]`,
    '-map',
    '[v]',
    '-map',
    '0:a',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-crf',
    '20',
    '-g',
    String(FPS),
    '-c:a',
    'copy',
    fileUrlArg(clip),
  ]);
  return clip;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function assertInStep(drift: readonly number[], beeps: number, what: string): void {
  const ms = drift.map((d) => Math.round(d * 1000)).join(', ');
  assert.ok(drift.length >= beeps, `${what}: ${drift.length} beeps matched (${ms} ms)`);
  assert.ok(Math.abs(median(drift)) <= TOLERANCE_S, `${what}: square minus beep ${ms} ms`);
}

describe('liveswap live: sound and picture that start apart', () => {
  let dir: string;
  let home: string;
  let clip: string;

  before(async () => {
    await warmModels();
    dir = await mkdtemp(join(tmpdir(), 'liveswap-live-sync-'));
    home = await homeWithModels(join(dir, 'home'));
    clip = await lateClip(dir, 0.5);
    // The clip itself is in step: each square comes with its beep.
    assertInStep(await avDrift(clip, dir, FPS, MARKS), 3, 'the input');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('played once, each square stays with its beep', async () => {
    const out = join(dir, 'once.mkv');
    const result = runCli(['live', '-s', SOURCE, '-i', clip, '-o', out, '--engine', 'mesh', '--video-preset', 'ultrafast'], { home, timeoutMs: 120_000 });
    assert.equal(result.code, 0, show(result));
    assertInStep(await avDrift(out, dir, FPS, MARKS), 2, 'played once');
  });

  it('looped, the gap at each pass does not move the sound away from the picture', async () => {
    const out = join(dir, 'looped.mkv');
    const child = spawn(
      process.execPath,
      ['--import', TSX_URL, MAIN_PATH, 'live', '-s', SOURCE, '-i', clip, '--loop', '-o', out, '--engine', 'mesh', '--video-preset', 'ultrafast', '--json-status'],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LIVESWAP_HOME: home, NO_COLOR: '1' },
      },
    );
    let out2 = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out2 += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    // Four passes of the 4 s clip (frames taken or dropped: the input's own clock).
    const slots = (): number =>
      Math.max(
        0,
        ...out2
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as { event: string; frames?: number; dropped?: number })
          .filter((e) => e.event === 'status')
          .map((e) => (e.frames ?? 0) + (e.dropped ?? 0)),
      );
    while (slots() < PASSES * 4 * FPS) {
      if (child.exitCode !== null) assert.fail(`ended early:\n${err}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGINT');
    assert.equal(await exited, 0, `${out2}\n${err}`);
    const drift = await avDrift(out, dir, FPS, MARKS);
    assertInStep(drift, 2 * PASSES, 'looped');
    // Three beeps a pass have their squares (the one at the pass's start has none: the picture starts
    // later), and a square whose frames were all dropped for fresher ones is missed: medians of the ends.
    const growth = median(drift.slice(-3)) - median(drift.slice(0, 3));
    assert.ok(Math.abs(growth) <= GROWTH_S, `the drift grew by ${Math.round(growth * 1000)} ms over the passes (${drift.map((d) => Math.round(d * 1000)).join(', ')} ms)`);
  });
});
