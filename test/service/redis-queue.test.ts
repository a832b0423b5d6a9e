/**
 * The BullMQ queue against a real redis-server and a worker in this process, on real clips: a job
 * runs to a committed, audited result with progress events; cancels remove a waiting job and stop
 * an active one with one refund each; a run that lost its lock before the commit keeps nothing and
 * logs no result, and the job's next attempt commits it once.
 */

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { resultPath, resultsFolder } from '../../src/node/service/job-runner.js';
import { startQueueWorker } from '../../src/node/service/queue-worker.js';
import { RedisJobQueue } from '../../src/node/service/redis-queue.js';
import type { JobEvent, JobStatus, VideoJobRequest } from '../../src/node/service/types.js';
import { makeClip } from '../helpers/clips.js';
import { redisUnavailable, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { homeWithModels, jobAudit, videoRequest, warmModels } from '../helpers/video-jobs.js';

const skip = redisUnavailable();

describe('BullMQ job queue', { skip }, () => {
  let dir: string;
  let home: string;
  let clip: string;
  let longClip: string;
  let redis: RedisServer;
  let worker: Worker;
  let queue: RedisJobQueue;
  const refunds: { request: VideoJobRequest; status: JobStatus }[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveswap-redis-queue-'));
    redis = await startRedis();
    await warmModels();
    home = await homeWithModels(join(dir, 'home'));
    clip = await makeClip({ frames: 12, fps: 12, dir, name: 'short' });
    longClip = await makeClip({ frames: 150, fps: 25, dir, name: 'long' });
    worker = await startQueueWorker({ redisUrl: redis.url, home, concurrency: 1, lockDuration: 5000, stalledInterval: 1000 });
    queue = new RedisJobQueue({ redisUrl: redis.url, refund: async (request, status) => void refunds.push({ request, status }) });
  });
  after(async () => {
    await queue?.close();
    await worker?.close(true);
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  // Generous: on a loaded 2-core machine the long clip's second attempt alone can take a minute.
  async function collect(id: string): Promise<JobEvent[]> {
    const events: JobEvent[] = [];
    for await (const event of queue.events(id, AbortSignal.timeout(180_000))) events.push(event);
    return events;
  }

  async function untilProgress(id: string): Promise<void> {
    for await (const event of queue.events(id, AbortSignal.timeout(180_000))) if (event.type === 'progress' && event.progress.frame > 0) return;
    assert.fail(`job ${id} ended before it made progress`);
  }

  const leftovers = async (): Promise<string[]> => (await readdir(resultsFolder(home))).filter((name) => name.startsWith('.') || name.includes('.tmp.'));

  test('a job runs on a worker: progress, then completed with a result and one audit ok line', async () => {
    const submitted = await queue.submit('job-a', videoRequest(clip));
    assert.equal(submitted.state, 'queued');
    const events = await collect('job-a');
    assert.equal(events[0]!.type, 'state');
    const done = events.at(-1)!;
    assert.ok(done.type === 'done');
    assert.equal(done.status.state, 'completed');
    assert.equal(done.status.result, resultPath(home, 'job-a'));
    assert.equal(done.status.attempts, 1);
    assert.ok(Date.parse(done.status.finishedAt ?? '') >= Date.parse(done.status.startedAt ?? ''));
    assert.ok(existsSync(resultPath(home, 'job-a')));
    const audit = await jobAudit(home, 'job-a');
    assert.deepEqual(
      audit.map((e) => e.service?.outcome),
      ['ok'],
    );
    assert.equal(audit[0]!.output?.sha256, done.status.sha256);
    assert.equal(audit[0]!.service?.route, '/v1/jobs/video');
    assert.equal(await queue.activeCount('tok000000001'), 0);
    assert.equal((await queue.counts()).completed, 1);
    assert.equal(refunds.length, 0);
  });

  test('cancel removes a waiting job and stops an active one; each is refunded once and leaves nothing', async () => {
    await queue.submit('long', videoRequest(longClip));
    await untilProgress('long');
    await queue.submit('waits', videoRequest(clip));
    assert.equal(await queue.activeCount('tok000000001'), 2);
    const removed = await queue.cancel('waits');
    assert.equal(removed?.state, 'cancelled');
    const stopped = await queue.cancel('long');
    assert.equal(stopped?.state, 'cancelled');
    assert.equal(stopped?.error?.kind, 'cancelled');
    assert.equal((await queue.get('waits'))?.state, 'cancelled');
    assert.deepEqual(refunds.map((r) => r.status.id).sort(), ['long', 'waits']);
    assert.equal(await queue.cancel('nothing-here'), undefined);
    const counts = await queue.counts();
    assert.equal(counts.cancelled, 2);
    assert.equal(counts.failed, 0);
    assert.ok(!existsSync(resultPath(home, 'long')) && !existsSync(resultPath(home, 'waits')));
    const audit = await jobAudit(home, 'long');
    assert.deepEqual(
      audit.map((e) => e.service?.outcome),
      ['cancelled'],
    );
    assert.equal(await queue.activeCount('tok000000001'), 0);
    // The refund is claimed once in Redis: a second look changes nothing.
    await queue.cancel('long');
    assert.equal(refunds.length, 2);
  });

  test('a run that lost its lock keeps nothing; the next attempt commits the result once', async () => {
    await queue.submit('lost', videoRequest(longClip));
    await untilProgress('lost');
    const client = new Redis({ path: redis.socket });
    try {
      // What another worker's stall check sees when this one stops renewing: no lock.
      await client.del('bull:ls-video:lost:lock');
    } finally {
      client.disconnect();
    }
    const done = (await collect('lost')).at(-1)!;
    assert.ok(done.type === 'done');
    assert.equal(done.status.state, 'completed');
    assert.equal(done.status.attempts, 2);
    const audit = await jobAudit(home, 'lost');
    assert.deepEqual(
      audit.map((e) => e.service?.outcome),
      ['failed', 'ok'],
    );
    assert.match(audit[0]!.service?.reason ?? '', /lost its lock/);
    assert.equal(audit[1]!.service?.attempt, 2);
    assert.deepEqual(await leftovers(), []);
  });
});
