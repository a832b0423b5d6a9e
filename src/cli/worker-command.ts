/**
 * `liveswap worker --redis URL [--concurrency N] [--home DIR]`: takes video jobs from the BullMQ
 * queue the API (`liveswap serve --redis URL`) fills, on this machine, until SIGTERM or Ctrl-C. One
 * line per job start and end. On a signal running jobs may finish (up to --hard-stop seconds);
 * after that the worker closes hard and they run again on another worker.
 */

import { Command } from 'commander';
import { invalidOption, LiveswapError } from '../core/errors.js';
import type { Terminal } from './errors.js';

export interface WorkerFlags {
  redis?: string;
  concurrency?: string;
  home?: string;
  lockDuration?: string;
  stalledInterval?: string;
  hardStop?: string;
}

export function createWorkerCommand(run: (flags: WorkerFlags) => Promise<void>): Command {
  return new Command('worker')
    .description('Run queued video jobs from Redis (the queue of `liveswap serve --redis`) until stopped.')
    .option('--redis <url>', 'the Redis of the queue: redis://host:6379, rediss://… or unix:///path/redis.sock (default: $LIVESWAP_REDIS_URL)')
    .option('--concurrency <n>', 'jobs this process runs at once (default 1; run one process per core)')
    .option('--home <dir>', 'the service folder shared with the API: inputs, results, keys, audit log (default: $LIVESWAP_HOME or the cache folder)')
    .option('--lock-duration <ms>', "how long a job's lock lasts without renewal (default 30000)")
    .option('--stalled-interval <ms>', 'how often jobs of dead workers are looked for (default 30000)')
    .option('--hard-stop <seconds>', 'on SIGTERM, how long running jobs may finish before the worker stops them (default 30)')
    .action(async (flags: WorkerFlags) => run(flags));
}

function wholeNumber(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) throw invalidOption(name, `a whole number ≥ ${min}`, raw);
  return value;
}

/** Runs until `signal` aborts (main's SIGINT/SIGTERM), then closes the worker. */
export async function runWorker(flags: WorkerFlags, terminal: Terminal, signal?: AbortSignal): Promise<void> {
  const { REDIS_URL_VARIABLE } = await import('../node/service/redis.js');
  const redisUrl = flags.redis ?? process.env[REDIS_URL_VARIABLE];
  if (redisUrl === undefined || redisUrl === '') throw new LiveswapError('usage', `liveswap worker needs the queue's Redis: give --redis URL or set ${REDIS_URL_VARIABLE}.`);
  const concurrency = wholeNumber('--concurrency', flags.concurrency, 1) ?? 1;
  const lockDuration = wholeNumber('--lock-duration', flags.lockDuration, 500);
  const stalledInterval = wholeNumber('--stalled-interval', flags.stalledInterval, 100);
  const hardStop = wholeNumber('--hard-stop', flags.hardStop, 0) ?? 30;
  const { redisOptions } = await import('../node/service/redis.js');
  redisOptions(redisUrl); // a bad URL is a usage error before anything connects
  const { defaultHome } = await import('../node/models/model-cache.js');
  const home = flags.home ?? defaultHome();
  const { startQueueWorker, stopQueueWorker } = await import('../node/service/queue-worker.js');
  const { defaultWorkerId } = await import('../node/service/job-runner.js');
  const workerId = defaultWorkerId();
  const worker = await startQueueWorker({
    redisUrl,
    home,
    concurrency,
    workerId,
    ...(lockDuration !== undefined ? { lockDuration } : {}),
    ...(stalledInterval !== undefined ? { stalledInterval } : {}),
    log: (line) => terminal.out(`liveswap worker ${workerId}: ${line}`),
  });
  terminal.out(`liveswap worker ${workerId}: taking video jobs (concurrency ${concurrency}, home ${home}).`);
  await new Promise<void>((resolve) => {
    if (!signal || signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  terminal.out(`liveswap worker ${workerId}: stopping; running jobs have ${hardStop} s to finish.`);
  await stopQueueWorker(worker, hardStop * 1000);
}
