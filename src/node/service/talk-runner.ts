/**
 * One attempt at one talk job of the service (POST /v1/talks): the same plan and run as
 * `liveswap talk`, with the marks always on, the speech already made at submission (flite's audio
 * and phone track, or the caller's audio), written under a temporary name and committed to
 * `<home>/service/results/<id>.mp4` by the publish step, like a video job. Both queues run talk
 * jobs through here; an attempt that ends without a result leaves one `job` audit line, and the
 * job's speech folder is removed once the job is over (done, failed for good, or cancelled).
 */

import { mkdir, rm } from 'node:fs/promises';
import { LiveswapError } from '../../core/errors.js';
import type { OpenSwapper } from '../jobs/image-job.js';
import { planTalkJob, runTalkJob, type TalkProgress } from '../jobs/talk-job.js';
import { abortError, committedEarlier, endFailedAttempt, jobAuditContext, resultPath, resultsFolder, type JobOutcome, type JobRunContext } from './job-runner.js';
import type { JobProgress, VideoJobRequest } from './types.js';

export { TALK_JOB_ROUTE } from './job-runner.js';

function progressOf(p: TalkProgress): JobProgress {
  const fps = p.elapsedSeconds > 0 ? p.frame / p.elapsedSeconds : 0;
  const round = (v: number): number => Math.round(v * 100) / 100;
  return { frame: p.frame, total: p.total, fps: round(fps), etaSeconds: round(fps > 0 ? (p.total - p.frame) / fps : 0) };
}

/**
 * Runs attempt `context.attempt` of talk job `id` (a request with `talk` set). Resolves with the
 * committed result; rejects with the job's error. A failure or cancel appends one `job` audit line,
 * except a {@link JobAbort} `shutdown` (the job runs again). The speech folder goes when the job is
 * over: after its result is committed, after a cancel, or after a failure the queue does not retry
 * (`context.willRetry`). An earlier attempt's committed result is returned as it is.
 */
export async function runTalkJobRequest(id: string, request: VideoJobRequest, context: JobRunContext): Promise<JobOutcome> {
  const talk = request.talk;
  if (!talk) throw new LiveswapError('internal', `Job ${id} is not a talk job.`);
  const { home, attempt, workerId, signal } = context;
  const started = performance.now();
  const earlier = await committedEarlier(home, id);
  if (earlier) {
    await removeSpeech(talk.folder);
    return earlier;
  }
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
    const audit = jobAuditContext(id, request, { attempt, workerId, outcome: 'ok' });
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
    await removeSpeech(talk.folder);
    return { result: output, watermarkId: result.published.watermarkId, sha256: result.published.sha256, fresh: true };
  } catch (cause) {
    const { error, cancelled } = await endFailedAttempt(home, id, request, { attempt, workerId, started, output, cause, ...(signal ? { signal } : {}) });
    if (cancelled || !context.willRetry?.(error)) await removeSpeech(talk.folder);
    throw error;
  }
}

/** Removes a talk job's speech folder (made at submission); a folder already gone is fine. */
async function removeSpeech(folder: string): Promise<void> {
  await rm(folder, { recursive: true, force: true }).catch(() => undefined);
}
