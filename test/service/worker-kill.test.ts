/**
 * Scale-out for real: three `liveswap worker` processes on one Redis, several video jobs, and the
 * worker holding a job SIGKILLed mid-job. Every job completes exactly once (one audit ok line, the
 * result the one that line describes), the killed job on its second attempt elsewhere; its ffmpeg
 * children exit (EOF on their pipes) and no temporary is left in the results folder.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { sha256File } from '../../src/node/files/hash.js';
import { resultsFolder } from '../../src/node/service/job-runner.js';
import { RedisJobQueue } from '../../src/node/service/redis-queue.js';
import type { JobStatus } from '../../src/node/service/types.js';
import { makeClip } from '../helpers/clips.js';
import { redisUnavailable, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { homeWithModels, jobAudit, videoRequest, warmModels } from '../helpers/video-jobs.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const skip = redisUnavailable();

interface WorkerProcess {
  child: ChildProcess;
  lines: string[];
}

/** A `liveswap worker` process; resolves once it takes jobs. */
async function startWorker(redisUrl: string, home: string): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'worker', '--redis', redisUrl, '--home', home, '--lock-duration', '5000', '--stalled-interval', '1000', '--hard-stop', '5'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    const parts = text.split('\n');
    text = parts.pop()!;
    lines.push(...parts);
  });
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  while (!lines.some((line) => line.includes('taking video jobs'))) {
    if (child.exitCode !== null) throw new Error(`the worker exited (${child.exitCode}): ${errors}`);
    await sleep(50);
  }
  return { child, lines };
}

/** Pids of the processes `pid` started (its ffmpeg children). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('three worker processes, one SIGKILLed mid-job', { skip }, () => {
  let dir: string;
  let redis: RedisServer;
  const workers: WorkerProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveswap-worker-kill-'));
    redis = await startRedis();
    await warmModels();
  });
  after(async () => {
    for (const { child } of workers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('every job completes exactly once; the killed job runs again elsewhere; no orphan ffmpeg, no partial or temporary file', async () => {
    const home = await homeWithModels(join(dir, 'home'));
    const clip = await makeClip({ frames: 150, fps: 25, dir, name: 'clip' });
    const refunds: string[] = [];
    const queue = new RedisJobQueue({ redisUrl: redis.url, refund: async (_request, status) => void refunds.push(status.id) });
    try {
      workers.push(...(await Promise.all([0, 1, 2].map(() => startWorker(redis.url, home)))));
      const ids = ['j1', 'j2', 'j3', 'j4'];
      for (const id of ids) await queue.submit(id, videoRequest(clip, { requestId: `req-${id}` }));

      // The holder of j1, once it is into the frames.
      for await (const event of queue.events('j1', AbortSignal.timeout(180_000))) if (event.type === 'progress' && event.progress.frame > 0) break;
      const holder = workers.find((w) => w.lines.some((line) => line.endsWith('job j1 started (attempt 1)')));
      assert.ok(holder, 'one worker says it started j1');
      const ffmpegs = childrenOf(holder.child.pid!);
      assert.ok(ffmpegs.length > 0, 'the holder runs ffmpeg for the job');
      const exited = new Promise((resolve) => holder.child.once('exit', resolve));
      holder.child.kill('SIGKILL');
      await exited;

      // Generous: on a loaded 2-core machine two workers take minutes over four 6-s clips.
      const deadline = Date.now() + 240_000;
      const statuses = new Map<string, JobStatus | undefined>();
      while (Date.now() < deadline) {
        for (const id of ids) statuses.set(id, await queue.get(id));
        if ([...statuses.values()].every((s) => s?.state === 'completed' || s?.state === 'failed')) break;
        await sleep(200);
      }
      assert.deepEqual(
        ids.map((id) => statuses.get(id)?.state),
        ids.map(() => 'completed'),
      );
      assert.equal(statuses.get('j1')?.attempts, 2, 'j1 ran again after its worker was killed');
      assert.ok(!ffmpegs.some(alive), 'the killed worker left no ffmpeg running');
      assert.deepEqual(refunds, []);
      for (const id of ids) {
        const ok = (await jobAudit(home, id)).filter((e) => e.service?.outcome === 'ok');
        assert.equal(ok.length, 1, `one audit ok line for ${id}`);
        assert.equal(ok[0]!.output?.sha256, await sha256File(statuses.get(id)!.result!), `${id}'s result is the one its audit line describes`);
      }
      const others = workers.filter((w) => w !== holder);
      assert.ok(
        others.some((w) => w.lines.some((line) => line.endsWith('job j1 started (attempt 2)'))),
        'another worker took j1',
      );
      // The janitor runs after each job: the killed run's temporary goes once j1 is done.
      let left: string[] = [];
      for (const until = Date.now() + 10_000; Date.now() < until; await sleep(200)) {
        left = (await readdir(resultsFolder(home))).filter((name) => name.startsWith('.') || name.includes('.tmp.'));
        if (left.length === 0) break;
      }
      assert.deepEqual(left, []);
      assert.deepEqual((await readdir(resultsFolder(home))).sort(), ids.map((id) => `${id}.mp4`).sort());

      // SIGTERM: the others close cleanly.
      await Promise.all(
        others.map(async ({ child }) => {
          const done = new Promise<number | null>((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          assert.equal(await done, 0);
        }),
      );
    } finally {
      await queue.close();
    }
  });
});
