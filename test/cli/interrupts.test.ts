/**
 * Ctrl-C and SIGTERM, sent to the real command (from source, through tsx) at several moments: as
 * soon as it starts, once onnxruntime is loading the models, twice, and in the middle of a
 * video's frames. Each ends with exit 130, an "interrupted" message and an output folder holding
 * nothing new. The moments are found by watching the process (a stale temporary it removes on
 * start, the libraries it has mapped, its progress events), never by waiting a fixed time.
 */

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeClip } from '../helpers/clips.js';
import { FIXTURES, TEST_HOME } from '../helpers/fixtures.js';
import { MAIN_PATH, REPO_ROOT, TSX_URL } from './run-cli.js';

const LINUX = process.platform === 'linux';
const SOURCE = join(FIXTURES, 'grace_hopper.jpg');
const TARGET = join(FIXTURES, 'astronaut.png');

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: readonly string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, ['--import', TSX_URL, MAIN_PATH, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LIVESWAP_HOME: TEST_HOME, LIVESWAP_DEBUG: '', NO_COLOR: '1', ...env },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Polls `ready` until it holds; fails (and kills the child) if the command exits first. */
async function until(run: Running, what: string, ready: () => boolean): Promise<void> {
  for (;;) {
    if (ready()) return;
    if (run.child.exitCode !== null || run.child.signalCode !== null) assert.fail(`the command ended before ${what}:\n${run.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A temp folder holding what a killed run left (a filter-script folder of a dead pid). The command
 * removes it right after installing its signal handlers, so its disappearance says "catching
 * signals now, nothing else done yet" (the handlers tsx installs beforehand hide ours from /proc).
 */
async function tempWithStaleFolder(parent: string): Promise<{ temp: string; stale: string }> {
  const temp = await mkdtemp(join(parent, 'tmp-'));
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  const stale = join(temp, `liveswap-${dead}-filter-AbC123`);
  await mkdir(stale);
  await writeFile(join(stale, 'graph.txt'), 'null');
  return { temp, stale };
}

/** Whether onnxruntime's library is mapped: the models are being (or have been) loaded. */
function loadingModels(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/maps`, 'utf8').includes('libonnxruntime');
  } catch {
    return false;
  }
}

async function assertInterrupted(run: Running, outDir: string, words: RegExp = /^liveswap: interrupted \(SIG(INT|TERM)\)/m): Promise<void> {
  const { code, signal } = await run.exited;
  const shown = `exit ${code} signal ${signal}\n--- stdout\n${run.stdout()}\n--- stderr\n${run.stderr()}`;
  assert.equal(code, 130, shown);
  assert.match(run.stderr(), words, shown);
  assert.deepEqual(await readdir(outDir), [], `nothing left in the output folder\n${shown}`);
}

describe('interrupting the command', { skip: !LINUX && 'watches the process through /proc' }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveswap-interrupts-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const imageSwap = async (name: string): Promise<{ run: Running; outDir: string }> => {
    const outDir = await mkdtemp(join(dir, `${name}-`));
    return { run: start(['swap', '-s', SOURCE, '-t', TARGET, '-o', join(outDir, 'o.jpg')]), outDir };
  };

  it('an image swap stops on SIGTERM as soon as it starts: 130, a message, nothing written', async () => {
    const { temp, stale } = await tempWithStaleFolder(dir);
    const outDir = await mkdtemp(join(dir, 'right-away-'));
    const run = start(['swap', '-s', SOURCE, '-t', TARGET, '-o', join(outDir, 'o.jpg')], { TMPDIR: temp });
    await until(run, 'it started', () => !existsSync(stale));
    run.child.kill('SIGTERM');
    await assertInterrupted(run, outDir);
  });

  it('an image swap interrupted while onnxruntime loads the models finishes the load, then stops with 130', async () => {
    const { run, outDir } = await imageSwap('load');
    await until(run, 'it loaded onnxruntime', () => loadingModels(run.child.pid!));
    run.child.kill('SIGINT');
    await assertInterrupted(run, outDir);
    assert.match(run.stderr(), /nothing was saved/);
  });

  it('a second signal stops at once, still with 130 and nothing left', async () => {
    const { run, outDir } = await imageSwap('twice');
    await until(run, 'it loaded onnxruntime', () => loadingModels(run.child.pid!));
    run.child.kill('SIGTERM');
    await until(run, 'it said it was stopping', () => /stopping/.test(run.stderr()));
    run.child.kill('SIGTERM');
    await assertInterrupted(run, outDir);
  });

  it('a video swap stops on SIGTERM before probing and on SIGINT mid-frames, leaving no partial file', async () => {
    const clip = await makeClip({ dir, frames: 150, noise: 5 });
    const early = await mkdtemp(join(dir, 'video-early-'));
    const { temp, stale } = await tempWithStaleFolder(dir);
    const first = start(['swap', '-s', SOURCE, '-t', clip, '-o', join(early, 'o.mp4')], { TMPDIR: temp });
    await until(first, 'it started', () => !existsSync(stale));
    first.child.kill('SIGTERM');
    await assertInterrupted(first, early);

    const mid = await mkdtemp(join(dir, 'video-mid-'));
    const second = start(['swap', '-s', SOURCE, '-t', clip, '-o', join(mid, 'o.mp4'), '--json']);
    await until(second, 'the first frame was swapped', () => second.stdout().includes('"event":"progress"'));
    second.child.kill('SIGINT');
    await assertInterrupted(second, mid);
  });

  it('leaves the temp folder as it found it: no onnxruntime telemetry, no filter scripts', async () => {
    const temp = await mkdtemp(join(dir, 'tmp-'));
    const outDir = await mkdtemp(join(dir, 'clean-'));
    // tsx keeps its compile cache in the temp folder; that is the test's runner, not liveswap.
    const listing = async (): Promise<string[]> => (await readdir(temp)).filter((name) => !name.startsWith('tsx-')).sort();
    const beforeRun = await listing();
    const clip = await makeClip({ dir, name: 'short', frames: 5 });
    const run = start(['swap', '-s', SOURCE, '-t', clip, '-o', join(outDir, 'o.mp4'), '--quiet'], { TMPDIR: temp });
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    assert.deepEqual(await listing(), beforeRun);
    assert.deepEqual(await readdir(outDir), ['o.mp4']);
  });
});
