/**
 * One attempt at one video job of the service: the same plan and run as `liveswap swap -t video`,
 * with the marks always on, written under a temporary name in `<home>/service/results/` and
 * committed to `<id>.mp4` only by the publish step (the rename is the commit, after `beforeCommit`).
 * Every attempt that ends without a result leaves one audit line of kind `job` saying why. Both
 * queues (in-process and BullMQ workers) run jobs through here.
 */

import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import { resolvePaintOptions, resolveTrackingOptions, VIDEO_DEFAULTS } from '../../pipeline/options.js';
import { sha256File } from '../files/hash.js';
import type { OpenSwapper } from '../jobs/image-job.js';
import type { NodeSwapper } from '../jobs/swapper.js';
import { planVideoJob, runVideoJob } from '../jobs/video-job.js';
import type { VideoProgress } from '../jobs/video-swap.js';
import { appendAudit, auditEntry, readAudit, type AuditContext, type AuditOutcome } from '../provenance/output-provenance.js';
import type { JobProgress, VideoJobRequest } from './types.js';

/** The route video jobs are submitted on, as the audit names it. */
export const VIDEO_JOB_ROUTE = '/v1/jobs/video';
/** The route talk jobs (requests with `talk`) are submitted on, as the audit names it. */
export const TALK_JOB_ROUTE = '/v1/talks';

/** The folder committed results live in. */
export function resultsFolder(home: string): string {
  return join(home, 'service', 'results');
}

/** Where a job's committed result lives. */
export function resultPath(home: string, id: string): string {
  return join(resultsFolder(home), `${id}.mp4`);
}

/** This process, as the audit and the logs name a worker: host and pid. */
export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}`;
}

export interface JobRunContext {
  /** LIVESWAP_HOME of the service: keys, audit log, results; also the model cache unless `open` says otherwise. */
  home: string;
  /** 1 for the first attempt. */
  attempt: number;
  workerId: string;
  signal?: AbortSignal;
  onProgress?: (progress: JobProgress) => void;
  /** Called with the output complete, just before its audit line and rename; throw to keep it out (a lost queue lock). */
  beforeCommit?: () => Promise<void>;
  /** Opens the engine (default: the Node swapper with its models under `home`). */
  open?: OpenSwapper;
  /** Whether the queue runs the job again after this attempt fails with `error` (default: never); the job's own files are kept for it. */
  willRetry?: (error: unknown) => boolean;
}

/**
 * Engines kept open between jobs, so a worker loads the models once, not once per job: `open`
 * hands out an idle engine of the same kind (or opens one) and the job's `close` gives it back.
 * `close` on the pool closes them all; call it when the process stops taking jobs.
 */
export function warmSwappers(home: string): { open: OpenSwapper; close(): Promise<void> } {
  const idle = new Map<string, NodeSwapper[]>();
  const all: NodeSwapper[] = [];
  const open: OpenSwapper = async (runtime) => {
    const key = `${runtime.engine}/${runtime.provider}/${runtime.threads}`;
    const swapper = idle.get(key)?.pop() ?? (await (await import('../jobs/swapper.js')).createNodeSwapper({ ...runtime, home }));
    if (!all.includes(swapper)) all.push(swapper);
    return { ...swapper, close: () => Promise.resolve(void idle.set(key, [...(idle.get(key) ?? []), swapper])) };
  };
  return {
    open,
    close: async () => {
      idle.clear();
      await Promise.all(all.splice(0).map((s) => s.close().catch(() => undefined)));
    },
  };
}

/** What a completed job's status carries. */
export interface JobOutcome {
  result: string;
  watermarkId: string;
  sha256: string;
  /** False when an earlier attempt had already committed the result (this one did no work). */
  fresh: boolean;
}

/** Why a job stopped: a cancel asked by the caller, or the process stopping (the job runs again later, nothing is logged). */
export class JobAbort extends Error {
  constructor(
    readonly why: 'cancel' | 'shutdown',
    message = why === 'cancel' ? 'cancelled by the caller' : 'the worker is stopping',
  ) {
    super(message);
    this.name = 'JobAbort';
  }
}

/** The error of a failed job as its status shows it: the LiveswapError kind and message, else `internal`. */
export function jobError(error: unknown): { kind: string; message: string } {
  if (error instanceof LiveswapError) return { kind: error.kind, message: error.message };
  if (error instanceof JobAbort) return { kind: 'cancelled', message: error.message };
  return { kind: 'internal', message: error instanceof Error ? error.message : String(error) };
}

/** The audit fields of a job's request (never images or embeddings). */
export function jobAuditContext(
  id: string,
  request: VideoJobRequest,
  fields: { attempt: number; workerId: string; outcome: AuditOutcome; durationMs?: number; reason?: string },
): AuditContext {
  return {
    requestId: request.requestId,
    tokenId: request.tokenId,
    tokenName: request.tokenName,
    ip: request.ip,
    userAgent: request.userAgent.slice(0, 200),
    route: request.talk ? TALK_JOB_ROUTE : VIDEO_JOB_ROUTE,
    consentId: request.consentId,
    identityId: request.identityId,
    jobId: id,
    attempt: fields.attempt,
    workerId: fields.workerId,
    videoSeconds: request.videoSeconds,
    outcome: fields.outcome,
    ...(fields.durationMs !== undefined ? { durationMs: Math.round(fields.durationMs) } : {}),
    ...(fields.reason !== undefined ? { reason: fields.reason } : {}),
  };
}

/** Appends the one `job` line of a job that ended without a result (failed or cancelled); a job line has no output. */
export async function auditJobEnd(
  home: string,
  id: string,
  request: VideoJobRequest,
  fields: { attempt: number; workerId: string; outcome: 'failed' | 'cancelled'; reason: string; durationMs?: number },
): Promise<void> {
  await appendAudit(
    home,
    auditEntry({
      kind: 'job',
      sources: [],
      watermarkId: '',
      label: { shown: false },
      credentials: 'none',
      options: request.talk ? { talk: true } : {},
      service: jobAuditContext(id, request, fields),
    }),
  );
}

/** The result an earlier attempt committed, if there is one: its audit line gives the watermark id. */
export async function committedEarlier(home: string, id: string): Promise<JobOutcome | undefined> {
  const result = resultPath(home, id);
  if (!(await stat(result).catch(() => undefined))?.isFile()) return undefined;
  const { entries } = await readAudit(home);
  const line = entries.findLast((e) => e.service?.jobId === id && e.service.outcome === 'ok' && e.output !== undefined);
  if (!line?.output) return undefined;
  const sha256 = await sha256File(result);
  if (sha256 !== line.output.sha256) return undefined;
  return { result, watermarkId: line.watermarkId, sha256, fresh: false };
}

function jobProgress(p: VideoProgress): JobProgress {
  const round = (v: number): number => Math.round(v * 100) / 100;
  return { frame: p.frame, total: p.total, fps: round(p.fps), etaSeconds: round(p.etaSeconds) };
}

/**
 * Runs attempt `context.attempt` of job `id`. Resolves with the committed result; rejects with the
 * job's error (a LiveswapError keeps its kind and message; a cancel is `interrupted`). A failure or
 * cancel appends one `job` audit line, except a {@link JobAbort} `shutdown` (the job runs again).
 * When an earlier attempt already committed the result (it died between the rename and reporting
 * it), that result is returned and nothing is swapped or logged twice.
 */
export async function runVideoJobRequest(id: string, request: VideoJobRequest, context: JobRunContext): Promise<JobOutcome> {
  const { home, attempt, workerId, signal } = context;
  const started = performance.now();
  const earlier = await committedEarlier(home, id);
  if (earlier) return earlier;
  const output = resultPath(home, id);
  try {
    await mkdir(resultsFolder(home), { recursive: true });
    const open: OpenSwapper = context.open ?? (async (runtime) => (await import('../jobs/swapper.js')).createNodeSwapper({ ...runtime, home }));
    const plan = await planVideoJob({
      sources: request.sources,
      target: request.input,
      output,
      paint: resolvePaintOptions(request.paint, VIDEO_DEFAULTS.paint),
      tracking: resolveTrackingOptions(request.tracking ?? {}, VIDEO_DEFAULTS.tracking),
      encoding: request.encoding,
      // The service never turns the marks off: the label and the watermark are on for every job.
      marks: { label: true },
      home,
    });
    if (signal?.aborted) throw abortError(signal, output);
    const audit = jobAuditContext(id, request, { attempt, workerId, outcome: 'ok' });
    const result = await runVideoJob(plan, {
      open,
      ...(signal ? { signal } : {}),
      ...(context.onProgress ? { onProgress: (p: VideoProgress) => context.onProgress?.(jobProgress(p)) } : {}),
      audit,
      beforeCommit: async () => {
        await context.beforeCommit?.();
        // The line is written right after this: its duration covers the whole attempt.
        audit.durationMs = Math.round(performance.now() - started);
      },
    });
    return { result: output, watermarkId: result.published.watermarkId, sha256: result.published.sha256, fresh: true };
  } catch (cause) {
    throw (await endFailedAttempt(home, id, request, { attempt, workerId, started, output, cause, ...(signal ? { signal } : {}) })).error;
  }
}

/**
 * What an attempt that threw ends with: the error to throw (the abort's when `signal` stopped it),
 * and, unless a shutdown stopped it (the job runs again elsewhere), its failed or cancelled `job`
 * audit line. `cancelled` tells the caller whether the job was cancelled.
 */
export async function endFailedAttempt(
  home: string,
  id: string,
  request: VideoJobRequest,
  attemptOf: { attempt: number; workerId: string; started: number; output: string; cause: unknown; signal?: AbortSignal },
): Promise<{ error: unknown; cancelled: boolean }> {
  const { attempt, workerId, started, output, cause, signal } = attemptOf;
  const error = signal?.aborted ? abortError(signal, output) : cause;
  if (signal?.reason instanceof JobAbort && signal.reason.why === 'shutdown') throw error;
  const cancelled = signal?.aborted === true;
  await auditJobEnd(home, id, request, {
    attempt,
    workerId,
    outcome: cancelled ? 'cancelled' : 'failed',
    reason: jobError(error).message,
    durationMs: performance.now() - started,
  });
  return { error, cancelled };
}

/** The error of an attempt stopped by `signal` (a cancel, a shutdown) before `output` was finished. */
export function abortError(signal: AbortSignal, output: string): LiveswapError {
  const why = signal.reason instanceof Error ? signal.reason.message : 'cancelled';
  return new LiveswapError('interrupted', `Stopped (${why}) before ${output} was finished; nothing was saved.`, { file: output });
}

/** Temporaries in the results folder: the jobs layer's `.liveswap.partial-*` names and `*.tmp.*` ones. */
export function temporaryResultJob(name: string): string | undefined {
  const partial = /^\.liveswap\.partial-\d+-[0-9a-f]{8}\.(.+)\.mp4$/.exec(name);
  if (partial) return partial[1];
  const tmp = /^(.+?)\.\d+\.tmp\./.exec(name);
  return tmp ? tmp[1] : undefined;
}

/**
 * The janitor: removes temporaries in the results folder whose job `isLive` says is not running
 * (default: none is, as for a process that has just started alone). Returns the removed paths.
 */
export async function removeStaleResults(home: string, isLive: (jobId: string) => Promise<boolean> | boolean = () => false): Promise<string[]> {
  const folder = resultsFolder(home);
  const removed: string[] = [];
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    const job = temporaryResultJob(name);
    if (job === undefined || (await isLive(job))) continue;
    const path = join(folder, name);
    await rm(path, { force: true }).catch(() => undefined);
    removed.push(path);
  }
  return removed;
}
