/**
 * One attempt at one talk job of the service (POST /v1/talks): the same plan and run as
 * `liveswap talk`, with the marks always on, the speech already made at submission (flite's audio
 * and phone track, or the caller's audio), written under a temporary name and committed to
 * `<home>/service/results/<id>.mp4` by the publish step, like a video job. Both queues run talk
 * jobs through here; an attempt that ends without a result leaves one `job` audit line.
 */

import { mkdir, rm } from 'node:fs/promises';
import { LiveswapError } from '../../core/errors.js';
import type { OpenSwapper } from '../jobs/image-job.js';
import { planTalkJob, runTalkJob, type TalkProgress } from '../jobs/talk-job.js';
import { appendAudit, auditEntry, type AuditContext } from '../provenance/output-provenance.js';
import { JobAbort, jobAuditContext, jobError, resultPath, resultsFolder, type JobOutcome, type JobRunContext } from './job-runner.js';
import type { JobProgress, VideoJobRequest } from './types.js';

/** The route talk jobs are submitted on, as the audit names it. */
export const TALK_JOB_ROUTE = '/v1/talks';

function talkAudit(id: string, request: VideoJobRequest, fields: Parameters<typeof jobAuditContext>[2]): AuditContext {
  return { ...jobAuditContext(id, request, fields), route: TALK_JOB_ROUTE };
}

function progressOf(p: TalkProgress): JobProgress {
  const fps = p.elapsedSeconds > 0 ? p.frame / p.elapsedSeconds : 0;
  const round = (v: number): number => Math.round(v * 100) / 100;
  return { frame: p.frame, total: p.total, fps: round(fps), etaSeconds: round(fps > 0 ? (p.total - p.frame) / fps : 0) };
}

/**
 * Runs attempt `context.attempt` of talk job `id` (a request with `talk` set). Resolves with the
 * committed result; rejects with the job's error. A failure or cancel appends one `job` audit line,
 * except a {@link JobAbort} `shutdown` (the job runs again).
 */
export async function runTalkJobRequest(id: string, request: VideoJobRequest, context: JobRunContext): Promise<JobOutcome> {
  const talk = request.talk;
  if (!talk) throw new LiveswapError('internal', `Job ${id} is not a talk job.`);
  const { home, attempt, workerId, signal } = context;
  const started = performance.now();
  const output = resultPath(home, id);
  try {
    await mkdir(resultsFolder(home), { recursive: true });
    const open: OpenSwapper = context.open ?? (async (runtime) => (await import('../jobs/swapper.js')).createNodeSwapper({ ...runtime, home }));
    const plan = await planTalkJob({
      face: request.input,
      ...(request.sources[0] !== undefined ? { source: request.sources[0] } : {}),
      audio: talk.audio,
      ...(talk.phonemes !== undefined ? { phonemes: talk.phonemes } : {}),
      fps: talk.fps,
      output,
      // The service never turns the marks off.
      marks: { label: true },
      home,
    });
    if (signal?.aborted) throw abortError(signal, output);
    const audit = talkAudit(id, request, { attempt, workerId, outcome: 'ok' });
    const result = await runTalkJob(plan, {
      open,
      ...(signal ? { signal } : {}),
      ...(context.onProgress ? { onProgress: (p: TalkProgress) => context.onProgress?.(progressOf(p)) } : {}),
      audit,
      beforeCommit: async () => {
        await context.beforeCommit?.();
        audit.durationMs = Math.round(performance.now() - started);
      },
    });
    await rm(talk.folder, { recursive: true, force: true }).catch(() => undefined);
    return { result: output, watermarkId: result.published.watermarkId, sha256: result.published.sha256, fresh: true };
  } catch (cause) {
    const error = signal?.aborted ? abortError(signal, output) : cause;
    if (signal?.reason instanceof JobAbort && signal.reason.why === 'shutdown') throw error;
    const cancelled = signal?.aborted === true;
    await appendAudit(
      home,
      auditEntry({
        kind: 'job',
        sources: [],
        watermarkId: '',
        label: { shown: false },
        credentials: 'none',
        options: { talk: true },
        service: talkAudit(id, request, {
          attempt,
          workerId,
          outcome: cancelled ? 'cancelled' : 'failed',
          reason: jobError(error).message,
          durationMs: performance.now() - started,
        }),
      }),
    );
    throw error;
  }
}

function abortError(signal: AbortSignal, output: string): LiveswapError {
  const why = signal.reason instanceof Error ? signal.reason.message : 'cancelled';
  return new LiveswapError('interrupted', `Stopped (${why}) before ${output} was finished; nothing was saved.`, { file: output });
}
