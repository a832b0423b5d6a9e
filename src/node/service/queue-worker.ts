/**
 * The worker side of the BullMQ queue (`liveswap worker`): a plain (not sandboxed) BullMQ Worker on
 * `ls-video` that runs each job through job-runner.ts. At-least-once delivery means a job whose
 * worker stalls runs again elsewhere while the old run may go on; correctness rests on the commit
 * rule: just before the audit line and the rename, the run extends its job lock and stops (its
 * file deleted) if the lock is gone, so a stalled worker that comes back cannot overwrite or log
 * the result twice. A janitor removes temporaries of jobs no worker runs: at start, after each job
 * and every minute. Cancels arrive on the `ls:cancel` channel.
 */

import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { LiveswapError } from '../../core/errors.js';
import type { OpenSwapper } from '../jobs/image-job.js';
import { defaultWorkerId, jobError, removeStaleResults, runVideoJobRequest, warmSwappers } from './job-runner.js';
import { runTalkJobRequest } from './talk-runner.js';
import { connectRedis } from './redis.js';
import { CANCEL_CHANNEL, CANCEL_REASON, CANCELLED_SET, cancelKey, encodeJobError, VIDEO_QUEUE, type VideoJobData, type VideoJobReturn } from './redis-queue.js';
import type { JobProgress } from './types.js';

export interface QueueWorkerOptions {
  /** redis://, rediss:// or unix:// URL (see redis.ts). */
  redisUrl: string;
  /** LIVESWAP_HOME, on a volume every worker and the API share (inputs, results, keys, audit log). */
  home: string;
  /** Jobs this process runs at once (default 1: one process per core is the intended layout). */
  concurrency?: number;
  /** BullMQ's job lock, ms (default 30 000); the commit extends it. */
  lockDuration?: number;
  /** How often stalled jobs are looked for, ms (default 30 000). */
  stalledInterval?: number;
  /** How the audit and the log name this worker (default host:pid). */
  workerId?: string;
  /** Opens the engine (default: Node swappers with their models under `home`, kept open between jobs). */
  open?: OpenSwapper;
  /** One line per job start and end (default: none). */
  log?: (line: string) => void;
  /** Progress updates at most this often, ms (each is one Redis round trip; default 250). */
  progressEveryMs?: number;
}

/** Errors worth a second attempt: ffmpeg and file-system trouble. Everything else fails at once. */
export function retryable(error: unknown): boolean {
  if (error instanceof LiveswapError) return error.kind === 'output' || (error.kind === 'internal' && /ffmpeg|decod/i.test(error.message));
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

const JANITOR_EVERY_MS = 60_000;

/** Starts a worker; `worker.close()` lets running jobs finish, `close(true)` drops them (they run again elsewhere). */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<Worker<VideoJobData, VideoJobReturn>> {
  const { home, redisUrl } = options;
  const lockDuration = options.lockDuration ?? 30_000;
  const workerId = options.workerId ?? defaultWorkerId();
  const log = options.log ?? (() => undefined);
  const progressEveryMs = options.progressEveryMs ?? 250;
  const connection = connectRedis(redisUrl, 'liveswap-worker');
  const commands = connectRedis(redisUrl, 'liveswap-worker-commands');
  const subscriber = connectRedis(redisUrl, 'liveswap-worker-cancel');
  const queue = new Queue(VIDEO_QUEUE, { connection: commands });
  const engines = options.open ? undefined : warmSwappers(home);
  const open = options.open ?? engines!.open;

  const janitor = async (): Promise<void> => {
    // A temporary is stale unless its job is active (on this worker or another, which may still write it).
    const removed = await removeStaleResults(home, async (jobId) => (await queue.getJobState(jobId)) === 'active').catch(() => []);
    for (const path of removed) log(`removed stale temporary ${path}`);
  };
  await janitor();

  const processor = async (job: Job<VideoJobData, VideoJobReturn>, token?: string, signal?: AbortSignal): Promise<VideoJobReturn> => {
    const id = job.id!;
    const attempt = job.attemptsStarted;
    const cancelled = (): UnrecoverableError => new UnrecoverableError(encodeJobError({ kind: 'cancelled', message: CANCEL_REASON }));
    if (await commands.exists(cancelKey(id))) {
      await commands.zadd(CANCELLED_SET, Date.now(), id);
      throw cancelled();
    }
    log(`job ${id} started (attempt ${attempt})`);
    const started = performance.now();
    let lastProgress = 0;
    try {
      const outcome = await (job.data.request.talk ? runTalkJobRequest : runVideoJobRequest)(id, job.data.request, {
        home,
        attempt,
        workerId,
        ...(signal ? { signal } : {}),
        open,
        // BullMQ runs a retryable failure again while attempts are left (see videoJobOptions).
        willRetry: (error) => retryable(error) && attempt < (job.opts.attempts ?? 1),
        onProgress: (progress: JobProgress) => {
          const now = Date.now();
          if (now - lastProgress < progressEveryMs && progress.frame < progress.total) return;
          lastProgress = now;
          job.updateProgress(progress).catch(() => undefined);
        },
        beforeCommit: async () => {
          // The commit rule: only the holder of the lock logs and renames.
          const held = token !== undefined && Number(await job.extendLock(token, lockDuration)) === 1;
          if (!held) throw new LiveswapError('interrupted', `Job ${id} was taken over by another worker (this one lost its lock); its result was not kept.`);
        },
      });
      log(`job ${id} completed in ${((performance.now() - started) / 1000).toFixed(1)} s${outcome.fresh ? '' : ' (an earlier attempt had committed it)'}`);
      return { result: outcome.result, watermarkId: outcome.watermarkId, sha256: outcome.sha256 };
    } catch (error) {
      if (signal?.aborted && signal.reason === CANCEL_REASON) {
        await commands.zadd(CANCELLED_SET, Date.now(), id);
        log(`job ${id} cancelled`);
        throw cancelled();
      }
      const failure = jobError(error);
      log(`job ${id} failed: ${failure.kind}: ${failure.message}`);
      if (retryable(error)) throw new Error(encodeJobError(failure), { cause: error });
      throw new UnrecoverableError(encodeJobError(failure));
    }
  };

  const worker = new Worker<VideoJobData, VideoJobReturn>(VIDEO_QUEUE, processor, {
    connection,
    concurrency: Math.max(1, Math.floor(options.concurrency ?? 1)),
    lockDuration,
    stalledInterval: options.stalledInterval ?? 30_000,
    maxStalledCount: 1,
    name: workerId,
  });
  worker.on('error', (error) => log(`error: ${error.message}`));
  worker.on('completed', () => void janitor());
  worker.on('failed', () => void janitor());

  await subscriber.subscribe(CANCEL_CHANNEL);
  subscriber.on('message', (channel: string, id: string) => {
    if (channel === CANCEL_CHANNEL) worker.cancelJob(id, CANCEL_REASON);
  });
  const timer = setInterval(() => void janitor(), JANITOR_EVERY_MS);
  timer.unref();
  worker.on('closed', () => {
    clearInterval(timer);
    void engines?.close();
    void queue
      .close()
      .catch(() => undefined)
      .finally(() => Promise.all([connection, commands, subscriber].map((c) => c.quit().catch(() => undefined))));
  });
  await worker.waitUntilReady();
  return worker;
}

/**
 * Ends a worker on SIGTERM: running jobs get `hardStopMs` to finish (default 30 s), then the worker
 * closes hard (they run again elsewhere). Resolves once it is closed.
 */
export async function stopQueueWorker(worker: Worker, hardStopMs = 30_000): Promise<void> {
  const graceful = worker.close();
  let timer: NodeJS.Timeout | undefined;
  const hard = new Promise<'hard'>((resolve) => (timer = setTimeout(() => resolve('hard'), hardStopMs)));
  if ((await Promise.race([graceful.then(() => 'done' as const), hard])) === 'hard') await worker.close(true);
  clearTimeout(timer);
}
