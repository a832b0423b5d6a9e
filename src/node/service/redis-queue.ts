/**
 * The video job queue on BullMQ (`liveswap serve --redis URL`): the API side. Jobs carry ids and
 * paths only and are taken by `liveswap worker` processes on any machine (queue-worker.ts). Status
 * comes from BullMQ's own job state, progress and return value; events from `QueueEvents`.
 *
 * Cancel: a waiting job is removed (its status is kept for a week under `ls:job:ended:<id>`); an
 * active one is flagged (`ls:job:cancel:<id>`, seen by any worker that would start it again) and
 * announced on the `ls:cancel` channel, on which the worker holding it aborts it; the processor then
 * throws `UnrecoverableError`, so it is not retried.
 *
 * Refunds happen on the API side, exactly once per job: whichever API process first sees the job
 * failed or cancelled (a `failed` event, a sweep of the failed set at start, or its own cancel of
 * a waiting job) claims `ls:job:refunded:<id>` with SET NX and only that one calls `refund`.
 */

import { Job, Queue, QueueEvents, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { LiveswapError } from '../../core/errors.js';
import { auditJobEnd } from './job-runner.js';
import { checkJobId, isTerminal, NO_PROGRESS, QueueFullError } from './local-queue.js';
import { connectRedis } from './redis.js';
import type { JobEvent, JobProgress, JobQueue, JobState, JobStatus, VideoJobRequest } from './types.js';

/** The BullMQ queue of video jobs. */
export const VIDEO_QUEUE = 'ls-video';
/** The channel a cancel of an active job is announced on; the message is the job id. */
export const CANCEL_CHANNEL = 'ls:cancel';
/** The abort reason a worker gives a job cancelled by its caller. */
export const CANCEL_REASON = 'cancelled by the caller';

const WEEK_SECONDS = 7 * 86_400;
export const cancelKey = (id: string): string => `ls:job:cancel:${id}`;
const endedKey = (id: string): string => `ls:job:ended:${id}`;
const refundedKey = (id: string): string => `ls:job:refunded:${id}`;
const activeKey = (tokenId: string): string => `ls:jobs:active:${tokenId}`;
/** Every cancelled job id (score: when), for `counts()`; trimmed to a week. */
export const CANCELLED_SET = 'ls:jobs:cancelled';

/** What a BullMQ job carries. */
export interface VideoJobData {
  request: VideoJobRequest;
}

/** What a completed BullMQ job returns. */
export interface VideoJobReturn {
  result: string;
  watermarkId: string;
  sha256: string;
}

/** The kind a failure gets when its reason is BullMQ's own text (a job stalled twice, a lost lock). */
export const BULL_REASON_KIND = 'queue';

/** Whether a job error is BullMQ's own rather than one a worker reported (and logged). */
function bullOwnReason(error: { kind: string; message: string }): boolean {
  return error.kind === BULL_REASON_KIND;
}

/** A job's error travels in BullMQ's `failedReason` as JSON, so its kind survives. */
export function encodeJobError(error: { kind: string; message: string }): string {
  return JSON.stringify({ kind: error.kind, message: error.message });
}

export function decodeJobError(failedReason: string | undefined): { kind: string; message: string } {
  try {
    const value = JSON.parse(failedReason ?? '') as { kind?: unknown; message?: unknown };
    if (typeof value.kind === 'string' && typeof value.message === 'string') return { kind: value.kind, message: value.message };
  } catch {
    // BullMQ's own reasons (a stalled job, a lost lock) are plain text.
  }
  if (failedReason !== undefined && /stalled more than allowable limit/i.test(failedReason)) {
    return {
      kind: BULL_REASON_KIND,
      message: `The workers running this job stopped twice (killed, out of memory or cut off from Redis), so it is not tried again (${failedReason}).`,
    };
  }
  return { kind: BULL_REASON_KIND, message: failedReason ?? 'the job failed' };
}

/** The options every video job is added with. */
export function videoJobOptions(id: string, request: VideoJobRequest): JobsOptions {
  return {
    jobId: id,
    // Retries are for ffmpeg and IO errors only: the worker throws UnrecoverableError for the rest.
    attempts: 2,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: { age: 86_400, count: 1000 },
    removeOnFail: { age: WEEK_SECONDS },
    ...(request.priority !== undefined && request.priority > 0 ? { priority: Math.min(Math.floor(request.priority), 2_097_152) } : {}),
  };
}

/** A job's status from BullMQ's record of it. */
export async function statusOfJob(job: Job<VideoJobData, VideoJobReturn>, known?: string): Promise<JobStatus> {
  const bullState = known ?? (await job.getState());
  const request = job.data.request;
  let state: JobState;
  let error: { kind: string; message: string } | undefined;
  if (bullState === 'completed') state = 'completed';
  else if (bullState === 'failed') {
    error = decodeJobError(job.failedReason);
    state = error.kind === 'cancelled' ? 'cancelled' : 'failed';
  } else if (bullState === 'active') state = 'active';
  else state = 'queued';
  const progress = typeof job.progress === 'object' && job.progress !== null ? ({ ...NO_PROGRESS, ...(job.progress as Partial<JobProgress>) } as JobProgress) : { ...NO_PROGRESS };
  const returned = state === 'completed' ? (job.returnvalue as VideoJobReturn | null) : null;
  return {
    id: job.id!,
    state,
    tokenId: request.tokenId,
    createdAt: new Date(job.timestamp).toISOString(),
    ...(job.processedOn ? { startedAt: new Date(job.processedOn).toISOString() } : {}),
    ...(job.finishedOn && isTerminal(state) ? { finishedAt: new Date(job.finishedOn).toISOString() } : {}),
    progress: state === 'completed' ? { ...progress, frame: progress.total, etaSeconds: 0 } : progress,
    attempts: job.attemptsStarted,
    ...(error ? { error } : {}),
    ...(returned ? { result: returned.result, watermarkId: returned.watermarkId, sha256: returned.sha256 } : {}),
    ...(request.batchId !== undefined ? { batchId: request.batchId } : {}),
  };
}

export interface RedisJobQueueOptions {
  /** redis://, rediss:// or unix:// URL (see redis.ts). */
  redisUrl: string;
  /** Gives back the quota reserved at submission, exactly once per failed or cancelled job (see the file's comment). */
  refund: (request: VideoJobRequest, status: JobStatus) => Promise<void>;
  /** Jobs that may wait; more are refused with {@link QueueFullError} (default 1000). */
  maxQueued?: number;
  /** How long `cancel` waits for an active job to stop (default 10 s). */
  cancelWaitMs?: number;
  /** Told of errors no caller awaits (a refund that failed); default: printed to stderr. */
  onError?: (error: unknown) => void;
  /**
   * LIVESWAP_HOME of the API: when given, a job BullMQ failed itself (its workers died twice, so
   * no worker logged it) gets its `job` audit line here, by the process that claimed its refund.
   */
  home?: string;
}

/** The BullMQ {@link JobQueue} (mode `redis`). Workers are separate processes: `liveswap worker`. */
export class RedisJobQueue implements JobQueue {
  readonly mode = 'redis' as const;
  readonly queue: Queue<VideoJobData, VideoJobReturn>;
  private readonly redis: Redis;
  private readonly connections: Redis[];
  private readonly queueEvents: QueueEvents;
  private readonly maxQueued: number;
  private readonly onError: (error: unknown) => void;
  private readonly listeners = new Map<string, Set<(event: { type: string; data?: unknown }) => void>>();
  private readonly ready: Promise<void>;

  constructor(private readonly options: RedisJobQueueOptions) {
    this.redis = connectRedis(options.redisUrl, 'liveswap-api');
    // BullMQ leaves connections it was given open: close() quits them.
    this.connections = [this.redis, connectRedis(options.redisUrl, 'liveswap-api-queue'), connectRedis(options.redisUrl, 'liveswap-api-events')];
    this.queue = new Queue<VideoJobData, VideoJobReturn>(VIDEO_QUEUE, { connection: this.connections[1]! });
    this.queueEvents = new QueueEvents(VIDEO_QUEUE, { connection: this.connections[2]! });
    this.maxQueued = options.maxQueued ?? 1000;
    this.onError = options.onError ?? ((error) => process.stderr.write(`liveswap: queue: ${error instanceof Error ? error.message : String(error)}\n`));
    for (const type of ['waiting', 'active', 'progress', 'completed', 'failed', 'removed', 'stalled'] as const) {
      this.queueEvents.on(type, (args: { jobId: string; data?: unknown }) => {
        for (const listener of this.listeners.get(args.jobId) ?? []) listener({ type, data: args.data });
        if (type === 'failed') void this.refundIfEnded(args.jobId);
      });
    }
    this.ready = this.start();
    this.ready.catch((error: unknown) => this.onError(error));
  }

  private async start(): Promise<void> {
    await this.queueEvents.waitUntilReady();
    // Jobs that ended while no API process was listening.
    const failed = await this.queue.getJobs(['failed'], 0, -1);
    for (const job of failed) if (job.id) await this.refundIfEnded(job.id);
  }

  /** Calls `refund` for a failed or cancelled job unless some process has already. */
  private async refundIfEnded(id: string, known?: { request: VideoJobRequest; status: JobStatus }): Promise<void> {
    try {
      let ended = known;
      if (!ended) {
        const found = await this.fetch(id);
        if (!found) return;
        const { job, status } = found;
        if (status.state !== 'failed' && status.state !== 'cancelled') return;
        ended = { request: job.data.request, status };
      }
      await this.redis.srem(activeKey(ended.request.tokenId), id);
      const claimed = await this.redis.set(refundedKey(id), '1', 'EX', 2 * WEEK_SECONDS, 'NX');
      if (claimed !== 'OK') return;
      await this.options.refund(ended.request, ended.status);
      if (this.options.home !== undefined && ended.status.error && bullOwnReason(ended.status.error)) {
        await auditJobEnd(this.options.home, id, ended.request, { attempt: ended.status.attempts, workerId: 'queue', outcome: 'failed', reason: ended.status.error.message });
      }
    } catch (error) {
      this.onError(error);
    }
  }

  async submit(id: string, request: VideoJobRequest): Promise<JobStatus> {
    checkJobId(id);
    const counts = await this.queue.getJobCounts('waiting', 'prioritized', 'delayed');
    const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
    if (waiting >= this.maxQueued) throw new QueueFullError(waiting);
    if ((await this.queue.getJob(id)) || (await this.redis.exists(endedKey(id)))) throw new LiveswapError('usage', `A job with the id ${id} exists already.`);
    await this.redis.sadd(activeKey(request.tokenId), id);
    const job = await this.queue.add('video', { request }, videoJobOptions(id, request));
    // What it was when added; a worker may hold it already.
    return statusOfJob(job, 'waiting');
  }

  /**
   * The job and its status. The state is read before the job's record: a job finishing between the
   * two reads then shows its last state, never `completed` without its result.
   */
  private async fetch(id: string): Promise<{ job: Job<VideoJobData, VideoJobReturn>; status: JobStatus } | undefined> {
    const state = await this.queue.getJobState(id);
    if (state === 'unknown') return undefined;
    const job = await Job.fromId<VideoJobData, VideoJobReturn>(this.queue, id);
    return job ? { job, status: await statusOfJob(job, state) } : undefined;
  }

  async get(id: string): Promise<JobStatus | undefined> {
    const found = await this.fetch(id);
    if (found) return found.status;
    const ended = await this.redis.get(endedKey(id));
    return ended ? (JSON.parse(ended) as JobStatus) : undefined;
  }

  async cancel(id: string): Promise<JobStatus | undefined> {
    const found = await this.fetch(id);
    if (!found) return this.get(id);
    const { job, status } = found;
    if (isTerminal(status.state)) return status;
    // Flagged first: a worker that takes it from here on (a retry, a stalled rerun) stops at once.
    await this.redis.set(cancelKey(id), '1', 'EX', WEEK_SECONDS);
    if (status.state === 'queued') {
      const removed = await job.remove().then(
        () => true,
        () => false, // taken by a worker meanwhile: stopped below like an active one
      );
      if (removed) {
        const cancelled: JobStatus = { ...status, state: 'cancelled', finishedAt: new Date().toISOString(), error: { kind: 'cancelled', message: CANCEL_REASON } };
        await this.redis.set(endedKey(id), JSON.stringify(cancelled), 'EX', WEEK_SECONDS);
        await this.redis.zadd(CANCELLED_SET, Date.now(), id);
        await this.refundIfEnded(id, { request: job.data.request, status: cancelled });
        return cancelled;
      }
    }
    await this.redis.publish(CANCEL_CHANNEL, id);
    const deadline = Date.now() + (this.options.cancelWaitMs ?? 10_000);
    let current = await this.get(id);
    while (current && !isTerminal(current.state) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      current = await this.get(id);
    }
    if (current && isTerminal(current.state)) await this.refundIfEnded(id);
    return current;
  }

  async *events(id: string, signal: AbortSignal): AsyncIterable<JobEvent> {
    await this.ready;
    const pending: { type: string; data?: unknown }[] = [];
    let wake: (() => void) | undefined;
    const listener = (event: { type: string; data?: unknown }): void => {
      pending.push(event);
      wake?.();
    };
    const set = this.listeners.get(id) ?? new Set();
    set.add(listener);
    this.listeners.set(id, set);
    const onAbort = (): void => wake?.();
    signal.addEventListener('abort', onAbort);
    try {
      let status = await this.get(id);
      if (!status) return;
      yield { type: 'state', status };
      if (isTerminal(status.state)) {
        yield { type: 'done', status };
        return;
      }
      while (!signal.aborted) {
        if (pending.length === 0) {
          // Events are the fast path; a look every 2 s covers any that were missed (a reconnect).
          const timer = setTimeout(() => wake?.(), 2000);
          await new Promise<void>((resolve) => (wake = resolve));
          clearTimeout(timer);
          wake = undefined;
        }
        const batch = pending.splice(0);
        const progress = batch.filter((e) => e.type === 'progress').at(-1);
        const next = await this.get(id);
        if (!next) return;
        if (isTerminal(next.state)) {
          yield { type: 'done', status: next };
          return;
        }
        if (next.state !== status.state || next.attempts !== status.attempts) yield { type: 'state', status: next };
        if (progress && typeof progress.data === 'object' && progress.data !== null)
          yield { type: 'progress', progress: { ...NO_PROGRESS, ...(progress.data as Partial<JobProgress>) } };
        status = next;
      }
    } finally {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(id);
      signal.removeEventListener('abort', onAbort);
    }
  }

  async activeCount(tokenId: string): Promise<number> {
    const ids = await this.redis.smembers(activeKey(tokenId));
    let count = 0;
    for (const id of ids) {
      const state = await this.queue.getJobState(id);
      if (state === 'completed' || state === 'failed' || state === 'unknown') await this.redis.srem(activeKey(tokenId), id);
      else count++;
    }
    return count;
  }

  async counts(): Promise<Record<JobState, number>> {
    const c = await this.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'waiting-children', 'active', 'completed', 'failed');
    await this.redis.zremrangebyscore(CANCELLED_SET, 0, Date.now() - WEEK_SECONDS * 1000);
    const cancelled = await this.redis.zcard(CANCELLED_SET);
    // Cancelled active jobs sit in BullMQ's failed set too; cancelled waiting ones were removed.
    const failedKey = `${this.queue.opts.prefix ?? 'bull'}:${VIDEO_QUEUE}:failed`;
    const cancelledFailed = Number(await this.redis.call('ZINTERCARD', '2', failedKey, CANCELLED_SET));
    return {
      queued: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0) + (c['waiting-children'] ?? 0),
      active: c.active ?? 0,
      completed: c.completed ?? 0,
      failed: Math.max(0, (c.failed ?? 0) - cancelledFailed),
      cancelled,
    };
  }

  async close(): Promise<void> {
    await this.ready.catch(() => undefined);
    await this.queueEvents.close();
    await this.queue.close();
    await Promise.all(this.connections.map((c) => c.quit().catch(() => undefined)));
  }
}
