/**
 * The video job queue of one process (`liveswap serve` without --redis): a bounded pool of
 * in-process runners and a bounded wait list, every job persisted as `<home>/service/jobs/<id>.json`
 * (written atomically) so a restart neither loses nor silently drops one. At start, queued jobs
 * queue again; a job that was running when the process died runs once more (its second attempt),
 * and one that died on its second attempt fails with the reason. Failed and cancelled jobs give
 * their reserved quota back through `refund`.
 */

import { EventEmitter } from 'node:events';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import { removeStaleTemporaries, writeFileAtomically } from '../files/output.js';
import type { OpenSwapper } from '../jobs/image-job.js';
import { auditJobEnd, defaultWorkerId, JobAbort, jobError, removeStaleResults, resultsFolder, runVideoJobRequest, warmSwappers } from './job-runner.js';
import { runTalkJobRequest } from './talk-runner.js';
import type { JobEvent, JobProgress, JobQueue, JobState, JobStatus, VideoJobRequest } from './types.js';

/** The error kind of a full queue; the API answers it with 503 and Retry-After. */
export const QUEUE_FULL_KIND = 'overloaded';

/** Thrown by `submit` when more than `maxQueued` jobs already wait. */
export class QueueFullError extends Error {
  readonly kind = QUEUE_FULL_KIND;
  constructor(
    readonly waiting: number,
    /** A hint for Retry-After. */
    readonly retryAfterSeconds = 30,
  ) {
    super(`The job queue is full (${waiting} jobs wait); try again later.`);
    this.name = 'QueueFullError';
  }
}

/** Whether `error` is a full queue (of either mode). */
export function isQueueFull(error: unknown): error is QueueFullError {
  return error instanceof QueueFullError;
}

/** Why a job that was running twice when the process died is not run a third time. */
export const STOPPED_WHILE_RUNNING = 'the server stopped while it ran';

/** Job ids become file names: letters, digits, `-` and `_` only. */
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function checkJobId(id: string): void {
  if (!JOB_ID.test(id)) throw new LiveswapError('usage', `A job id is 1–64 letters, digits, - or _; got ${JSON.stringify(id)}.`);
}

export const TERMINAL_STATES: readonly JobState[] = ['completed', 'failed', 'cancelled'];

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.includes(state);
}

export const NO_PROGRESS: Readonly<JobProgress> = Object.freeze({ frame: 0, total: 0, fps: 0, etaSeconds: 0 });

export interface LocalJobQueueOptions {
  /** LIVESWAP_HOME: jobs under service/jobs, results under service/results, the audit log. */
  home: string;
  /** Jobs run at once (default 1). */
  workers?: number;
  /** Jobs that may wait; one more is refused with {@link QueueFullError} (default 100). */
  maxQueued?: number;
  /** Gives back the quota reserved at submission, once, when a job fails or is cancelled. */
  refund: (request: VideoJobRequest, status: JobStatus) => Promise<void>;
  /** Opens the engine (default: Node swappers with their models under `home`, kept open between jobs). */
  open?: OpenSwapper;
  /** How the audit names this process (default host:pid). */
  workerId?: string;
  /** Progress events at most this often (default 250 ms: 4 a second). */
  progressEveryMs?: number;
  /** Told of errors no caller awaits (a refund or a write that failed); default: printed to stderr. */
  onError?: (error: unknown) => void;
}

interface StoredJob {
  id: string;
  request: VideoJobRequest;
  status: JobStatus;
}

interface LiveJob extends StoredJob {
  controller?: AbortController;
  running?: Promise<void>;
  lastProgressAt: number;
  /** Writes of this job's file, in order. */
  writing: Promise<void>;
}

/** The in-process {@link JobQueue} (mode `local`). Methods wait for the recovery of persisted jobs. */
export class LocalJobQueue implements JobQueue {
  readonly mode = 'local' as const;
  private readonly jobs = new Map<string, LiveJob>();
  private readonly waiting: string[] = [];
  private readonly events$ = new EventEmitter();
  private readonly workers: number;
  private readonly maxQueued: number;
  private readonly workerId: string;
  private readonly progressEveryMs: number;
  private readonly onError: (error: unknown) => void;
  private readonly ready: Promise<void>;
  private closed = false;
  private sequence = 0;
  private readonly engines: ReturnType<typeof warmSwappers> | undefined;
  private readonly open: OpenSwapper;
  private readonly order = new Map<string, number>();

  constructor(private readonly options: LocalJobQueueOptions) {
    this.workers = Math.max(1, Math.floor(options.workers ?? 1));
    this.maxQueued = Math.max(0, Math.floor(options.maxQueued ?? 100));
    this.workerId = options.workerId ?? defaultWorkerId();
    this.progressEveryMs = options.progressEveryMs ?? 250;
    this.onError = options.onError ?? ((error) => process.stderr.write(`liveswap: queue: ${error instanceof Error ? error.message : String(error)}\n`));
    this.events$.setMaxListeners(0);
    this.engines = options.open ? undefined : warmSwappers(options.home);
    this.open = options.open ?? this.engines!.open;
    this.ready = this.recover();
    this.ready.catch(() => undefined);
  }

  /** Resolves once the jobs persisted by an earlier process are back (rejects if their folder cannot be read). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  private get jobsFolder(): string {
    return join(this.options.home, 'service', 'jobs');
  }

  private async recover(): Promise<void> {
    await mkdir(this.jobsFolder, { recursive: true });
    await mkdir(resultsFolder(this.options.home), { recursive: true });
    await removeStaleTemporaries(this.jobsFolder);
    // This process has started no job yet: every temporary in results/ is a dead run's.
    await removeStaleResults(this.options.home);
    const stored: StoredJob[] = [];
    for (const name of await readdir(this.jobsFolder)) {
      if (name.startsWith('.') || !name.endsWith('.json')) continue;
      try {
        stored.push(JSON.parse(await readFile(join(this.jobsFolder, name), 'utf8')) as StoredJob);
      } catch (error) {
        this.onError(new Error(`${join(this.jobsFolder, name)} is not a job file (${(error as Error).message}); left as it is.`));
      }
    }
    stored.sort((a, b) => a.status.createdAt.localeCompare(b.status.createdAt));
    for (const { id, request, status } of stored) {
      const job: LiveJob = { id, request, status, lastProgressAt: 0, writing: Promise.resolve() };
      this.jobs.set(id, job);
      if (status.state === 'active') {
        if (status.attempts >= 2) {
          await this.finish(job, 'failed', { kind: 'interrupted', message: STOPPED_WHILE_RUNNING });
          await auditJobEnd(this.options.home, id, request, { attempt: status.attempts, workerId: this.workerId, outcome: 'failed', reason: STOPPED_WHILE_RUNNING });
          continue;
        }
        status.state = 'queued';
        status.progress = { ...NO_PROGRESS };
        await this.persist(job);
      }
      if (status.state === 'queued') this.enqueue(id);
    }
    this.pump();
  }

  private enqueue(id: string): void {
    this.order.set(id, this.sequence++);
    const rank = (other: string): [number, number] => [this.jobs.get(other)?.request.priority ?? 0, this.order.get(other) ?? 0];
    const [priority, seq] = rank(id);
    let at = this.waiting.length;
    while (at > 0) {
      const [p, s] = rank(this.waiting[at - 1]!);
      if (p < priority || (p === priority && s < seq)) break;
      at--;
    }
    this.waiting.splice(at, 0, id);
  }

  private persist(job: LiveJob): Promise<void> {
    const text = JSON.stringify({ id: job.id, request: job.request, status: job.status } satisfies StoredJob);
    job.writing = job.writing.then(() => writeFileAtomically(join(this.jobsFolder, `${job.id}.json`), Buffer.from(text)));
    return job.writing;
  }

  private emit(id: string, event: JobEvent): void {
    this.events$.emit(id, event);
  }

  async submit(id: string, request: VideoJobRequest): Promise<JobStatus> {
    checkJobId(id);
    await this.ready;
    if (this.closed) throw new QueueFullError(this.waiting.length);
    if (this.jobs.has(id)) throw new LiveswapError('usage', `A job with the id ${id} exists already.`);
    if (this.waiting.length >= this.maxQueued) throw new QueueFullError(this.waiting.length);
    const status: JobStatus = {
      id,
      state: 'queued',
      tokenId: request.tokenId,
      createdAt: new Date().toISOString(),
      progress: { ...NO_PROGRESS },
      attempts: 0,
      ...(request.batchId !== undefined ? { batchId: request.batchId } : {}),
    };
    const job: LiveJob = { id, request, status, lastProgressAt: 0, writing: Promise.resolve() };
    this.jobs.set(id, job);
    await this.persist(job);
    this.enqueue(id);
    const submitted = structuredClone(job.status);
    this.pump();
    return submitted;
  }

  private pump(): void {
    while (!this.closed && this.waiting.length > 0 && [...this.jobs.values()].filter((j) => j.controller).length < this.workers) {
      const job = this.jobs.get(this.waiting.shift()!)!;
      job.controller = new AbortController();
      job.running = this.run(job, job.controller).finally(() => {
        job.controller = undefined;
        job.running = undefined;
        this.pump();
      });
    }
  }

  private async run(job: LiveJob, controller: AbortController): Promise<void> {
    const { status } = job;
    status.state = 'active';
    status.attempts += 1;
    status.startedAt = new Date().toISOString();
    status.progress = { ...NO_PROGRESS };
    try {
      // Written before any work: a process that dies from here on leaves an `active` job, run again at start.
      await this.persist(job);
    } catch (error) {
      this.onError(error);
    }
    this.emit(job.id, { type: 'state', status: structuredClone(status) });
    try {
      const outcome = await (job.request.talk ? runTalkJobRequest : runVideoJobRequest)(job.id, job.request, {
        home: this.options.home,
        attempt: status.attempts,
        workerId: this.workerId,
        signal: controller.signal,
        onProgress: (progress) => this.progress(job, progress),
        open: this.open,
      });
      status.result = outcome.result;
      status.watermarkId = outcome.watermarkId;
      status.sha256 = outcome.sha256;
      status.progress = { ...status.progress, frame: status.progress.total, etaSeconds: 0 };
      await this.finish(job, 'completed');
    } catch (error) {
      const reason = controller.signal.reason as unknown;
      if (reason instanceof JobAbort && reason.why === 'shutdown') {
        // Stopped by close(), not by the job: it waits for the next start, and this try does not count.
        status.state = 'queued';
        status.attempts -= 1;
        status.progress = { ...NO_PROGRESS };
        delete status.startedAt;
        await this.persist(job).catch((e: unknown) => this.onError(e));
        return;
      }
      const cancelled = controller.signal.aborted;
      await this.finish(job, cancelled ? 'cancelled' : 'failed', cancelled ? { kind: 'cancelled', message: 'cancelled by the caller' } : jobError(error));
    }
  }

  private progress(job: LiveJob, progress: JobProgress): void {
    job.status.progress = progress;
    const now = Date.now();
    if (now - job.lastProgressAt < this.progressEveryMs && progress.frame < progress.total) return;
    job.lastProgressAt = now;
    this.emit(job.id, { type: 'progress', progress });
  }

  /** Ends a job: persisted first, then the refund (failed, cancelled), then the `done` event. */
  private async finish(job: LiveJob, state: 'completed' | 'failed' | 'cancelled', error?: { kind: string; message: string }): Promise<void> {
    job.status.state = state;
    job.status.finishedAt = new Date().toISOString();
    if (error) job.status.error = error;
    await this.persist(job).catch((e: unknown) => this.onError(e));
    if (state !== 'completed') await this.options.refund(job.request, structuredClone(job.status)).catch((e: unknown) => this.onError(e));
    this.emit(job.id, { type: 'done', status: structuredClone(job.status) });
  }

  async get(id: string): Promise<JobStatus | undefined> {
    await this.ready;
    const job = this.jobs.get(id);
    return job ? structuredClone(job.status) : undefined;
  }

  async cancel(id: string): Promise<JobStatus | undefined> {
    await this.ready;
    const job = this.jobs.get(id);
    if (!job) return undefined;
    if (job.status.state === 'queued') {
      const at = this.waiting.indexOf(id);
      if (at >= 0) this.waiting.splice(at, 1);
      await auditJobEnd(this.options.home, id, job.request, {
        attempt: job.status.attempts,
        workerId: this.workerId,
        outcome: 'cancelled',
        reason: 'cancelled by the caller before it ran',
      });
      await this.finish(job, 'cancelled', { kind: 'cancelled', message: 'cancelled by the caller' });
    } else if (job.controller && job.running) {
      job.controller.abort(new JobAbort('cancel'));
      await job.running;
    }
    return structuredClone(job.status);
  }

  async *events(id: string, signal: AbortSignal): AsyncIterable<JobEvent> {
    await this.ready;
    const job = this.jobs.get(id);
    if (!job) return;
    const buffer: JobEvent[] = [];
    let wake: (() => void) | undefined;
    const listener = (event: JobEvent): void => {
      buffer.push(event);
      wake?.();
    };
    const onAbort = (): void => wake?.();
    this.events$.on(id, listener);
    signal.addEventListener('abort', onAbort);
    try {
      const status = structuredClone(job.status);
      yield { type: 'state', status };
      if (isTerminal(status.state)) {
        yield { type: 'done', status };
        return;
      }
      while (!signal.aborted) {
        const event = buffer.shift();
        if (event === undefined) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        yield event;
        if (event.type === 'done') return;
      }
    } finally {
      this.events$.off(id, listener);
      signal.removeEventListener('abort', onAbort);
    }
  }

  async activeCount(tokenId: string): Promise<number> {
    await this.ready;
    let count = 0;
    for (const { status } of this.jobs.values()) if (status.tokenId === tokenId && !isTerminal(status.state)) count++;
    return count;
  }

  async counts(): Promise<Record<JobState, number>> {
    await this.ready;
    const counts: Record<JobState, number> = { queued: 0, active: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const { status } of this.jobs.values()) counts[status.state]++;
    return counts;
  }

  /** Stops taking jobs; running ones are stopped and stay queued for the next start (their try does not count). */
  async close(): Promise<void> {
    await this.ready.catch(() => undefined);
    this.closed = true;
    const running: Promise<void>[] = [];
    for (const job of this.jobs.values()) {
      if (job.controller && job.running) {
        job.controller.abort(new JobAbort('shutdown'));
        running.push(job.running);
      }
    }
    await Promise.all(running);
    await Promise.all([...this.jobs.values()].map((job) => job.writing.catch(() => undefined)));
    await this.engines?.close();
  }
}
