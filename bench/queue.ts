/**
 * `npm run bench:queue`: the BullMQ queue under worker crashes. Redis on a unix socket, the API's
 * queue in this process, three `liveswap worker` processes, tiny clips (1 s, 320×240, mesh engine)
 * submitted at a fixed rate, and a random worker SIGKILLed every few seconds, restarted at once,
 * until the kills are done (how many hit a worker mid-job is counted). Then it prints what happened to every
 * job: submitted, completed, failed, lost, duplicates (more than one audit ok line for a job),
 * partial outputs (a result that is not what its ok line describes, or one without a completed
 * job), leftover temporaries, and the p95 latency from submission to completion. Bounded in time.
 *
 *   npm run bench:queue -- [--jobs 40] [--kills 20] [--kill-every 5000] [--workers 3] [--time-limit 300] [--lock-duration 8000] [--stalled-interval 2000]
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sha256File } from '../src/node/files/hash.js';
import { readAudit } from '../src/node/provenance/output-provenance.js';
import { resultsFolder } from '../src/node/service/job-runner.js';
import { RedisJobQueue } from '../src/node/service/redis-queue.js';
import type { JobStatus } from '../src/node/service/types.js';
import { makeClip } from '../test/helpers/clips.js';
import { redisUnavailable, startRedis } from '../test/helpers/redis-server.js';
import { homeWithModels, videoRequest, warmModels } from '../test/helpers/video-jobs.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '40' },
    kills: { type: 'string', default: '20' },
    'kill-every': { type: 'string', default: '5000' },
    workers: { type: 'string', default: '3' },
    'time-limit': { type: 'string', default: '300' },
    'lock-duration': { type: 'string', default: '8000' },
    'stalled-interval': { type: 'string', default: '2000' },
  },
});
const JOBS = Number(values.jobs);
const KILLS = Number(values.kills);
const KILL_EVERY_MS = Number(values['kill-every']);
const WORKERS = Number(values.workers);
const TIME_LIMIT_MS = Number(values['time-limit']) * 1000;
// A first job loads the models and can hold the event loop for seconds on a loaded machine: a lock
// much shorter than that makes healthy workers look stalled. A kill is noticed after about this long.
const LOCK_DURATION = values['lock-duration'];
const STALLED_INTERVAL = values['stalled-interval'];
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

interface WorkerProcess {
  child: ChildProcess;
  lines: string[];
  ready: Promise<void>;
}

function startWorker(redisUrl: string, home: string): WorkerProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'worker', '--redis', redisUrl, '--home', home, '--lock-duration', LOCK_DURATION, '--stalled-interval', STALLED_INTERVAL, '--hard-stop', '5'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines: string[] = [];
  let text = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    const parts = text.split('\n');
    text = parts.pop()!;
    lines.push(...parts);
    if (parts.some((line) => line.includes('taking video jobs'))) onReady();
  });
  return { child, lines, ready };
}

/** Whether the worker's last job line is a start (it is mid-job). */
function busy(worker: WorkerProcess): boolean {
  const last = worker.lines.findLast((line) => / job \S+ (started|completed|failed|cancelled)/.test(line));
  return last !== undefined && / started /.test(last);
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const why = redisUnavailable();
  if (why) {
    console.log(`bench:queue skipped: ${why}`);
    return;
  }
  const began = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'liveswap-bench-queue-'));
  const redis = await startRedis();
  const workers: WorkerProcess[] = [];
  const queue = new RedisJobQueue({ redisUrl: redis.url, refund: () => Promise.resolve(), maxQueued: JOBS });
  try {
    await warmModels();
    const home = await homeWithModels(join(dir, 'home'));
    const clip = await makeClip({ frames: 25, fps: 25, dir, name: 'clip' });
    for (let i = 0; i < WORKERS; i++) workers.push(startWorker(redis.url, home));
    await Promise.all(workers.map((w) => w.ready));
    console.log(
      `bench:queue: ${WORKERS} workers up; ${JOBS} jobs of 1 s at 320×240, a SIGKILL every ${KILL_EVERY_MS} ms until ${KILLS} kills; lock ${LOCK_DURATION} ms, stall check every ${STALLED_INTERVAL} ms`,
    );

    const ids = Array.from({ length: JOBS }, (_, i) => `bench-${String(i).padStart(3, '0')}`);
    const submitEveryMs = Math.max(100, Math.floor((KILLS * KILL_EVERY_MS) / JOBS));
    const submitting = (async () => {
      for (const id of ids) {
        await queue.submit(id, videoRequest(clip, { requestId: `req-${id}` }));
        await sleep(submitEveryMs);
      }
    })();

    let kills = 0;
    let killsMidJob = 0;
    while (kills < KILLS && Date.now() - began < TIME_LIMIT_MS) {
      await sleep(KILL_EVERY_MS);
      // Any worker, as a crash would pick: aiming at busy ones would mostly hit the job just retried.
      const live = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
      if (live.length === 0) continue;
      const victim = live[Math.floor(Math.random() * live.length)]!;
      if (busy(victim)) killsMidJob++;
      const exited = new Promise((resolve) => victim.child.once('exit', resolve));
      victim.child.kill('SIGKILL');
      await exited;
      kills++;
      const replacement = startWorker(redis.url, home);
      workers[workers.indexOf(victim)] = replacement;
    }
    await submitting;

    const statuses = new Map<string, JobStatus | undefined>();
    const terminal = (s: JobStatus | undefined): boolean => s !== undefined && ['completed', 'failed', 'cancelled'].includes(s.state);
    while (Date.now() - began < TIME_LIMIT_MS) {
      for (const id of ids) if (!terminal(statuses.get(id))) statuses.set(id, await queue.get(id));
      if (ids.every((id) => terminal(statuses.get(id)))) break;
      await sleep(250);
    }
    // The janitors run after each job and at each start: give the last one a moment.
    let temporaries: string[] = [];
    for (const until = Date.now() + 5000; Date.now() < until; await sleep(250)) {
      temporaries = (await readdir(resultsFolder(home))).filter((name) => name.startsWith('.') || name.includes('.tmp.'));
      if (temporaries.length === 0) break;
    }

    const { entries } = await readAudit(home);
    const okLines = new Map<string, string[]>();
    for (const e of entries) {
      const job = e.service?.jobId;
      if (job && e.service?.outcome === 'ok' && e.output) okLines.set(job, [...(okLines.get(job) ?? []), e.output.sha256]);
    }
    const completed = ids.filter((id) => statuses.get(id)?.state === 'completed');
    const failed = ids.filter((id) => statuses.get(id)?.state === 'failed');
    const lost = ids.filter((id) => !terminal(statuses.get(id)));
    const duplicates = ids.filter((id) => (okLines.get(id)?.length ?? 0) > 1);
    let partial = 0;
    const results = new Set((await readdir(resultsFolder(home))).filter((name) => !name.startsWith('.') && !name.includes('.tmp.')));
    for (const name of results) {
      const id = name.replace(/\.mp4$/, '');
      const lines = okLines.get(id) ?? [];
      if (statuses.get(id)?.state !== 'completed' || lines.length === 0 || !lines.includes(await sha256File(join(resultsFolder(home), name)))) partial++;
    }
    const missing = completed.filter((id) => !results.has(`${id}.mp4`)).length;
    const latencies = completed.map((id) => {
      const s = statuses.get(id)!;
      return (Date.parse(s.finishedAt ?? '') - Date.parse(s.createdAt)) / 1000;
    });
    const untimed = latencies.filter((v) => !Number.isFinite(v)).length;
    const retried = completed.filter((id) => (statuses.get(id)?.attempts ?? 0) > 1).length;
    const figures = {
      submitted: ids.length,
      completed: completed.length,
      failed: failed.length,
      lost: lost.length,
      duplicates: duplicates.length,
      partialOutputs: partial,
      completedWithoutResult: missing,
      leftoverTemporaries: temporaries.length,
      kills,
      killsMidJob,
      completedOnASecondAttempt: retried,
      completedWithoutTimes: untimed,
      p50LatencySeconds: Number(percentile(latencies.filter(Number.isFinite), 50).toFixed(2)),
      p95LatencySeconds: Number(percentile(latencies.filter(Number.isFinite), 95).toFixed(2)),
      wallSeconds: Number(((Date.now() - began) / 1000).toFixed(1)),
    };
    for (const [name, value] of Object.entries(figures)) console.log(`${name.padEnd(26)} ${value}`);
    for (const id of failed) console.log(`failed ${id}: ${statuses.get(id)?.error?.kind}: ${statuses.get(id)?.error?.message}`);
    console.log(JSON.stringify(figures));
    const ok =
      figures.submitted === figures.completed + figures.failed &&
      figures.lost === 0 &&
      figures.duplicates === 0 &&
      figures.partialOutputs === 0 &&
      figures.leftoverTemporaries === 0 &&
      untimed === 0;
    if (!ok) process.exitCode = 1;
  } finally {
    await Promise.all(
      workers.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const done = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([done, sleep(8000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }),
    );
    await queue.close();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
