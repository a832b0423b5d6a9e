/**
 * `liveswap live` over RTMP with a real nginx-rtmp on loopback (test/helpers/rtmp-server.ts) and
 * real ffmpeg on both sides: ffmpeg publishes a clip with a face and sound, `liveswap live` pulls
 * it and pushes the swapped stream back, and a third ffmpeg pulls that and receives frames with
 * sound, the label and the session's watermark; a server that goes away is reconnected to once it
 * is back; an RTMP output nobody listens on is a clear error.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ffmpegPath, fileUrlArg, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { probeVideo } from '../../src/node/media/ffmpeg-probe.js';
import { loadWatermarkKey, readAudit } from '../../src/node/provenance/output-provenance.js';
import { verifyFile } from '../../src/node/provenance/verify.js';
import { makeClip } from '../helpers/clips.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { freePort, rtmpUnavailable, startRtmp, type RtmpServer } from '../helpers/rtmp-server.js';
import { homeWithModels, warmModels } from '../helpers/video-jobs.js';
import { MAIN_PATH, REPO_ROOT, runCli, show, TSX_URL } from '../cli/run-cli.js';

const SOURCE = join(FIXTURES, 'astronaut.png');
const skip = rtmpUnavailable();
if (skip) console.log(`# skipping the RTMP tests: ${skip}`);

interface Status {
  event: string;
  frames?: number;
  outputs?: { state: string; reconnects: number }[];
}

/** `liveswap live … --json-status`, with its status lines parsed as they come. */
function startLive(args: readonly string[], home: string): { child: ChildProcess; statuses: () => Status[]; text: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', TSX_URL, MAIN_PATH, 'live', ...args, '--json-status'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LIVESWAP_HOME: home, NO_COLOR: '1' },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const statuses = (): Status[] =>
    out
      .split('\n')
      .slice(0, -1)
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Status);
  return { child, statuses, text: () => `${out}\n${err}`, exited };
}

async function until(what: string, run: { child: ChildProcess; text: () => string }, ready: () => boolean | Promise<boolean>): Promise<void> {
  for (;;) {
    if (await ready()) return;
    if (run.child.exitCode !== null) assert.fail(`liveswap live ended before ${what}:\n${run.text()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Pulls `url` for `seconds` into an MP4 (streams copied) and returns its path. */
async function pull(url: string, dir: string, name: string, seconds: number): Promise<string> {
  const file = join(dir, `${name}.mp4`);
  const run = await runFfmpeg(['-loglevel', 'error', '-i', url, '-t', String(seconds), '-map', '0:v:0', '-map', '0:a:0', '-c', 'copy', '-y', fileUrlArg(file)]);
  assert.equal(run.code, 0, run.stderr);
  return file;
}

describe('liveswap live over RTMP', { skip }, () => {
  let dir: string;
  let home: string;
  let clip: string;
  let server: RtmpServer;
  let publisher: ChildProcess | undefined;

  before(async () => {
    await warmModels();
    dir = await mkdtemp(join(tmpdir(), 'liveswap-live-rtmp-'));
    home = await homeWithModels(join(dir, 'home'));
    clip = await makeClip({ dir, width: 320, height: 240, fps: 25, frames: 50, audioHz: 440, motion: 'zoom', keyframeEvery: 25 });
    server = await startRtmp();
  });
  after(async () => {
    publisher?.kill('SIGKILL');
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('RTMP in → swap → RTMP out: a puller receives labelled, watermarked frames with sound', async () => {
    publisher = spawn(
      ffmpegPath(),
      ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', fileUrlArg(clip), '-c', 'copy', '-f', 'flv', `${server.url}/in`],
      {
        stdio: 'ignore',
      },
    );
    // The clip is being published (nginx lists it) before liveswap pulls it.
    for (let stat = ''; !/<name>in<\/name>[\s\S]*?<publishing\/>/.test(stat); stat = await (await fetch(server.statUrl)).text()) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const live = startLive(['-s', SOURCE, '-i', `${server.url}/in`, '-o', `${server.url}/out`, '--engine', 'mesh', '--video-preset', 'ultrafast'], home);
    try {
      await until('the output was live', live, () => live.statuses().some((s) => s.outputs?.[0]?.state === 'live'));
      const stat = await (await fetch(server.statUrl)).text();
      assert.match(stat, /<name>out<\/name>/, 'nginx lists the swapped stream');
      const pulled = await pull(`${server.url}/out`, dir, 'pulled', 4);
      const info = await probeVideo(pulled, { countFrames: true });
      assert.equal(info.width, 320);
      assert.equal(info.hasAudio, true, 'the sound came through');
      assert.ok(info.frameCount >= 25, `${info.frameCount} frames pulled in 4 s`);
      const session = (await readAudit(home)).entries.filter((e) => e.kind === 'live-session').at(-1)!;
      const report = await verifyFile(pulled, { key: await loadWatermarkKey(home) });
      assert.equal(report.watermark.found, true, report.summary);
      assert.equal(report.watermark.watermarkId, session.watermarkId);
      assert.equal(report.label.found, true, 'the label is on the frames');
    } finally {
      live.child.kill('SIGINT');
      assert.equal(await live.exited, 0, live.text());
      publisher.kill('SIGKILL');
    }
  });

  it('a server that goes away is reconnected to when it is back', async () => {
    const live = startLive(['-s', SOURCE, '-i', clip, '--loop', '-o', `${server.url}/again`, '--engine', 'mesh', '--video-preset', 'ultrafast'], home);
    try {
      await until('the output was live', live, () => live.statuses().some((s) => s.outputs?.[0]?.state === 'live'));
      await server.stop();
      await until('the output noticed the drop', live, () => live.statuses().some((s) => s.outputs?.[0]?.state === 'reconnecting'));
      await server.start();
      await until('the output was live again', live, () => {
        const last = live.statuses().at(-1);
        return last?.outputs?.[0]?.state === 'live' && last.outputs[0].reconnects >= 1;
      });
      // Decoded, not copied: a puller joining mid-stream waits for the next keyframe (one every 2 s).
      const run = await runFfmpeg(['-loglevel', 'error', '-i', `${server.url}/again`, '-t', '5', '-map', '0:v:0', '-progress', 'pipe:1', '-f', 'null', '-']);
      assert.equal(run.code, 0, run.stderr);
      assert.ok(Number([...run.stdout.matchAll(/^frame=\s*(\d+)/gm)].at(-1)?.[1] ?? 0) > 0, 'frames after the reconnection');
    } finally {
      live.child.kill('SIGINT');
      assert.equal(await live.exited, 0, live.text());
    }
  });

  it('an RTMP output nobody listens on is a clear error', async () => {
    const port = await freePort();
    const result = runCli(['live', '-s', SOURCE, '-i', clip, '-o', `rtmp://127.0.0.1:${port}/live/x`, '--engine', 'mesh'], { home, timeoutMs: 60_000 });
    assert.equal(result.code, 8, show(result));
    assert.match(result.stderr, /Cannot send to rtmp:\/\/127\.0\.0\.1:\d+\/live\/…/);
  });
});
