/**
 * The in-process job queue on real clips (mesh engine, real ffmpeg): a job runs with progress to a
 * committed, audited result; a cancel stops it with one refund and nothing left behind; a restart
 * runs the queued jobs again; a job running when its process was killed runs once more, and fails
 * with the reason when it was already on its second attempt.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createNodeSwapper } from '../../src/node/jobs/swapper.js';
import { LocalJobQueue, QueueFullError, STOPPED_WHILE_RUNNING } from '../../src/node/service/local-queue.js';
import { resultPath, resultsFolder } from '../../src/node/service/job-runner.js';
import type { JobEvent, JobStatus, VideoJobRequest } from '../../src/node/service/types.js';
import { makeClip } from '../helpers/clips.js';
import { TEST_HOME } from '../helpers/fixtures.js';
import { homeWithModels, jobAudit, videoRequest, warmModels } from '../helpers/video-jobs.js';

let dir: string;
let clip: string;
let longClip: string;
const open = (runtime: Parameters<typeof createNodeSwapper>[0]) => createNodeSwapper({ ...runtime, home: TEST_HOME });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-local-queue-'));
  await warmModels();
  clip = await makeClip({ frames: 12, fps: 12, dir, name: 'short' });
  longClip = await makeClip({ frames: 150, fps: 25, dir, name: 'long' });
});
after(() => rm(dir, { recursive: true, force: true }));

function refunds(): { calls: { request: VideoJobRequest; status: JobStatus }[]; refund: (request: VideoJobRequest, status: JobStatus) => Promise<void> } {
  const calls: { request: VideoJobRequest; status: JobStatus }[] = [];
  return { calls, refund: async (request, status) => void calls.push({ request, status }) };
}

async function collect(queue: LocalJobQueue, id: string): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  for await (const event of queue.events(id, new AbortController().signal)) events.push(event);
  return events;
}

async function leftovers(home: string): Promise<string[]> {
  return (await readdir(resultsFolder(home))).filter((name) => name.startsWith('.') || name.includes('.tmp.'));
}

describe('local job queue', () => {
  test('a job runs: progress, then completed with a result and one audit ok line', async () => {
    const home = join(dir, 'run');
    const { calls, refund } = refunds();
    const queue = new LocalJobQueue({ home, workers: 1, maxQueued: 1, refund, open });
    try {
      const submitted = await queue.submit('job-a', videoRequest(clip));
      assert.equal(submitted.state, 'queued');
      const events = await collect(queue, 'job-a');
      assert.equal(events[0]!.type, 'state');
      assert.ok(events.some((e) => e.type === 'progress' && e.progress.frame > 0));
      const done = events.at(-1)!;
      assert.equal(done.type, 'done');
      assert.equal(done.status.state, 'completed');
      assert.equal(done.status.result, resultPath(home, 'job-a'));
      assert.equal(done.status.attempts, 1);
      assert.ok(existsSync(resultPath(home, 'job-a')));
      const audit = await jobAudit(home, 'job-a');
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.service?.outcome, 'ok');
      assert.equal(audit[0]!.service?.route, '/v1/jobs/video');
      assert.equal(audit[0]!.service?.attempt, 1);
      assert.equal(audit[0]!.output?.sha256, done.status.sha256);
      assert.equal(audit[0]!.watermarkId, done.status.watermarkId);
      assert.equal(audit[0]!.label.shown, true);
      assert.equal(calls.length, 0);
      assert.deepEqual(await queue.counts(), { queued: 0, active: 0, completed: 1, failed: 0, cancelled: 0 });
      assert.equal(await queue.activeCount('tok000000001'), 0);
      assert.deepEqual(await leftovers(home), []);
    } finally {
      await queue.close();
    }
  });

  test('a full queue refuses with QueueFullError; a cancel removes a queued job and stops an active one, refunding each once', async () => {
    const home = join(dir, 'cancel');
    const { calls, refund } = refunds();
    const queue = new LocalJobQueue({ home, workers: 1, maxQueued: 1, refund, open });
    try {
      await queue.submit('long', videoRequest(longClip));
      const events = queue.events('long', new AbortController().signal)[Symbol.asyncIterator]();
      for (;;) {
        const next: IteratorResult<JobEvent> = await events.next();
        assert.ok(!next.done, 'the job ended before it made progress');
        if (next.value.type === 'progress' && next.value.progress.frame > 0) break;
      }
      await queue.submit('waits', videoRequest(clip));
      await assert.rejects(queue.submit('one-too-many', videoRequest(clip)), (e: unknown) => e instanceof QueueFullError && e.kind === 'overloaded');
      assert.equal(await queue.activeCount('tok000000001'), 2);
      const removed = await queue.cancel('waits');
      assert.equal(removed?.state, 'cancelled');
      const stopped = await queue.cancel('long');
      assert.equal(stopped?.state, 'cancelled');
      assert.equal(stopped?.error?.kind, 'cancelled');
      while (!(await events.next()).done);
      assert.deepEqual(calls.map((c) => c.status.id).sort(), ['long', 'waits']);
      assert.equal(await queue.cancel('missing'), undefined);
      assert.ok(!existsSync(resultPath(home, 'long')));
      assert.ok(!existsSync(resultPath(home, 'waits')));
      assert.deepEqual(await leftovers(home), []);
      for (const id of ['long', 'waits']) {
        const audit = await jobAudit(home, id);
        assert.equal(audit.length, 1);
        assert.equal(audit[0]!.kind, 'job');
        assert.equal(audit[0]!.service?.outcome, 'cancelled');
        assert.equal(audit[0]!.output, undefined);
      }
    } finally {
      await queue.close();
    }
  });

  test('a restart runs the jobs that were queued', async () => {
    const home = join(dir, 'restart');
    const { refund } = refunds();
    const first = new LocalJobQueue({ home, workers: 1, refund, open });
    await first.submit('long', videoRequest(longClip));
    await first.submit('queued', videoRequest(clip));
    await first.close();
    assert.equal((await first.get('long'))?.state, 'queued', 'a job stopped by close waits for the next start');
    const second = new LocalJobQueue({ home, workers: 2, refund, open });
    try {
      const [a, b] = await Promise.all([collect(second, 'long'), collect(second, 'queued')]);
      for (const events of [a, b]) {
        const last = events.at(-1);
        assert.equal(last?.type === 'done' ? last.status.state : last?.type, 'completed');
      }
      assert.equal((await second.get('queued'))?.attempts, 1);
      assert.equal((await jobAudit(home, 'queued')).filter((e) => e.service?.outcome === 'ok').length, 1);
    } finally {
      await second.close();
    }
  });

  test('a job running when its process is killed runs once more, then fails with the reason', async () => {
    const home = await homeWithModels(join(dir, 'crash'));
    const script = join(dir, 'crash-child.mts');
    const queueModule = fileURLToPath(new URL('../../src/node/service/local-queue.ts', import.meta.url));
    await writeFile(
      script,
      `import { LocalJobQueue } from ${JSON.stringify(queueModule)};
const queue = new LocalJobQueue({ home: process.argv[2], refund: async () => undefined });
const request = JSON.parse(process.argv[3]);
if (!(await queue.get('crash'))) await queue.submit('crash', request);
for await (const event of queue.events('crash', new AbortController().signal)) if (event.type === 'progress' && event.progress.frame > 0) console.log('running');
`,
    );
    const runUntilProgress = async (): Promise<void> => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, home, JSON.stringify(videoRequest(longClip))], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('running')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`the child exited (${code}) before the job ran`)));
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    };
    const stored = async (): Promise<JobStatus> => (JSON.parse(await readFile(join(home, 'service', 'jobs', 'crash.json'), 'utf8')) as { status: JobStatus }).status;
    await runUntilProgress();
    assert.equal((await stored()).state, 'active');
    assert.equal((await stored()).attempts, 1);
    await runUntilProgress();
    assert.equal((await stored()).attempts, 2, 'the second process ran it again');
    const { calls, refund } = refunds();
    const queue = new LocalJobQueue({ home, refund, open });
    try {
      const status = await queue.get('crash');
      assert.equal(status?.state, 'failed');
      assert.equal(status?.error?.message, STOPPED_WHILE_RUNNING);
      assert.equal(calls.length, 1);
      assert.deepEqual(await leftovers(home), [], 'the dead runs left no temporaries');
      const audit = await jobAudit(home, 'crash');
      assert.deepEqual(
        audit.map((e) => e.service?.outcome),
        ['failed'],
      );
    } finally {
      await queue.close();
    }
  });
});
