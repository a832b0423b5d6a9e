/**
 * `liveswap live` end to end from a video file, through the real command (tsx) and real ffmpeg:
 * the stream recorded to MP4 and MKV at once with its sound, each recording in the audit log; a
 * looped input stopped with Ctrl-C mid-way leaves a finished, playable recording and no working
 * file; a stream that cannot be reached and --list-devices answer plainly.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { frameCountArgs } from '../../src/node/media/ffmpeg-args.js';
import { runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { probeVideo } from '../../src/node/media/ffmpeg-probe.js';
import { sha256File } from '../../src/node/files/hash.js';
import { readCredentials } from '../../src/node/provenance/credentials.js';
import { readAudit } from '../../src/node/provenance/output-provenance.js';
import { makeClip } from '../helpers/clips.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { homeWithModels, warmModels } from '../helpers/video-jobs.js';
import { MAIN_PATH, REPO_ROOT, runCli, show, TSX_URL } from '../cli/run-cli.js';

const SOURCE = join(FIXTURES, 'astronaut.png');

/** Decoded frames of a file's video stream: it plays to the end. */
async function decodedFrames(path: string): Promise<number> {
  const info = await probeVideo(path);
  const run = await runFfmpeg(frameCountArgs(path, info.streamIndex));
  assert.equal(run.code, 0, run.stderr);
  return Number([...run.stdout.matchAll(/^frame=\s*(\d+)/gm)].at(-1)![1]);
}

describe('liveswap live from a file', () => {
  let dir: string;
  let home: string;
  let clip: string;

  before(async () => {
    await warmModels();
    dir = await mkdtemp(join(tmpdir(), 'liveswap-live-file-'));
    home = await homeWithModels(join(dir, 'home'));
    clip = await makeClip({ dir, width: 320, height: 240, fps: 25, frames: 50, audioHz: 440, motion: 'zoom' });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records MP4 and MKV at once, with the sound, and logs the session and each recording', async () => {
    const mp4 = join(dir, 'show.mp4');
    const mkv = join(dir, 'show.mkv');
    const result = runCli(['live', '-s', SOURCE, '-i', clip, '-o', mp4, '-o', mkv, '--engine', 'mesh', '--video-preset', 'ultrafast'], { home, timeoutMs: 120_000 });
    assert.equal(result.code, 0, show(result));
    assert.match(result.stdout, /Streamed \d+ frames/);
    assert.match(result.stdout, /The input ended\./);
    for (const file of [mp4, mkv]) {
      const info = await probeVideo(file);
      assert.equal(info.width, 320);
      assert.equal(info.hasAudio, true, `${file} has sound`);
      // Every slot of the input is in the recording (dropped ones hold the frame before).
      const frames = await decodedFrames(file);
      assert.ok(frames >= 48 && frames <= 51, `${file}: ${frames} frames for a 50-frame input`);
    }
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith('.liveswap')),
      [],
    );
    const entries = (await readAudit(home)).entries;
    const session = entries.filter((e) => e.kind === 'live-session');
    const recordings = entries.filter((e) => e.kind === 'live-recording');
    assert.equal(session.length, 1);
    assert.equal(session[0]!.label.shown, true);
    assert.match(session[0]!.watermarkId, /^[0-9a-f]{8}$/);
    assert.deepEqual(recordings.map((e) => e.output?.file).sort(), [mkv, mp4].sort());
    // The MP4 is signed where it lies (content credentials, the session's watermark id); Matroska takes no manifest.
    assert.equal(recordings.find((e) => e.output?.file === mp4)!.credentials, 'embedded');
    assert.equal(recordings.find((e) => e.output?.file === mkv)!.credentials, 'format-unsupported');
    assert.ok(result.stdout.includes(`saved   ${mp4} (content credentials embedded)`), result.stdout);
    const credentials = await readCredentials(mp4);
    assert.equal(credentials.valid, true, JSON.stringify(credentials.problems));
    assert.equal(credentials.statement?.watermarkId, session[0]!.watermarkId);
    assert.equal(recordings.find((e) => e.output?.file === mp4)!.output?.sha256, await sha256File(mp4));
  });

  it('a looped input stopped with Ctrl-C leaves a finished, playable recording', async () => {
    const mp4 = join(dir, 'stopped.mp4');
    const child = spawn(
      process.execPath,
      ['--import', TSX_URL, MAIN_PATH, 'live', '-s', SOURCE, '-i', clip, '--loop', '-o', mp4, '--engine', 'mesh', '--video-preset', 'ultrafast', '--json-status'],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LIVESWAP_HOME: home, NO_COLOR: '1' },
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    // Past the clip's own 50 frames, so the loop is in use, and the recording is live.
    const pastOnePass = (): boolean =>
      out
        .split('\n')
        .slice(0, -1)
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { event: string; frames?: number; dropped?: number; outputs?: { state: string }[] })
        .some((e) => e.event === 'status' && (e.frames ?? 0) + (e.dropped ?? 0) > 60 && e.outputs?.[0]?.state === 'live');
    while (!pastOnePass()) {
      if (child.exitCode !== null) assert.fail(`ended early:\n${err}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 0, `${out}\n${err}`);
    assert.match(out, /"ended":"stopped"/);
    assert.ok(existsSync(mp4));
    assert.ok((await decodedFrames(mp4)) > 50, 'more frames than one pass of the clip');
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith('.liveswap')),
      [],
    );
  });

  it('a stream that cannot be reached, a missing v4l2 device and an ffmpeg without SRT are clear errors; --list-devices lists cameras', () => {
    const refused = runCli(['live', '-s', SOURCE, '-i', 'rtmp://127.0.0.1:9/live/none', '-o', join(dir, 'never.mp4')], { home, timeoutMs: 60_000 });
    assert.equal(refused.code, 4, show(refused));
    assert.match(refused.stderr, /Cannot connect to rtmp:\/\/127\.0\.0\.1:9\/live\/…: the connection was refused/);
    assert.ok(!existsSync(join(dir, 'never.mp4')));
    const device = runCli(['live', '-s', SOURCE, '-i', clip, '-o', 'v4l2:/dev/video987'], { home, timeoutMs: 60_000 });
    assert.equal(device.code, 8, show(device));
    assert.match(device.stderr, /There is no video device at \/dev\/video987\. Load v4l2loopback first/);
    const srt = runCli(['live', '-s', SOURCE, '-i', clip, '-o', 'srt://127.0.0.1:9/x'], { home, timeoutMs: 60_000 });
    if (/built without SRT/.test(srt.stderr)) assert.equal(srt.code, 2, show(srt));
    const devices = runCli(['live', '--list-devices'], { home, timeoutMs: 60_000 });
    assert.equal(devices.code, 0, show(devices));
    assert.ok(devices.stdout.trim().length > 0);
  });
});
