/**
 * Video jobs: submit one (a finished upload, checked by content: ffprobe duration against the
 * token's limits, video seconds reserved) or a batch (all reserved or none), follow it (status,
 * server-sent events), fetch its result (byte ranges) or cancel it (unused quota refunded).
 */

import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { inspectVideo } from '../../node/jobs/video-swap.js';
import { isQueueFull } from '../../node/service/local-queue.js';
import type { JobStatus, TokenRecord, VideoJobRequest } from '../../node/service/types.js';
import { VIDEO_DEFAULTS } from '../../pipeline/options.js';
import { fileEtag, parseRange, sendBytes } from '../http-files.js';
import type { ApiApp, ContextOf } from './app-type.js';
import { auditRefusal } from './audit.js';
import { callerOf, type ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { ownIdentity } from './identity-routes.js';
import { openSse } from './sse.js';
import { checkActiveJobs, reserveQuota } from './quota.js';
import { BatchBody, BatchCreated, Binary, IdParams, Job, VideoJobBody, withErrors, type SwapFields, type VideoEncodingFields } from './schemas.js';
import type { Uploads } from './upload-routes.js';

type JobsContext = ApiContext & { uploads: Uploads };

/** A job as callers see it (no paths). */
export function jobView(status: JobStatus): Job {
  return {
    id: status.id,
    state: status.state,
    createdAt: status.createdAt,
    ...(status.startedAt ? { startedAt: status.startedAt } : {}),
    ...(status.finishedAt ? { finishedAt: status.finishedAt } : {}),
    progress: status.progress,
    attempts: status.attempts,
    ...(status.error ? { error: status.error } : {}),
    ...(status.state === 'completed' ? { resultUrl: `/v1/jobs/${status.id}/result` } : {}),
    ...(status.watermarkId ? { watermarkId: status.watermarkId } : {}),
    ...(status.sha256 ? { sha256: status.sha256 } : {}),
    ...(status.batchId ? { batchId: status.batchId } : {}),
  };
}

async function ownJob(ctx: ApiContext, token: TokenRecord, id: string): Promise<JobStatus> {
  const status = await ctx.queue.get(id);
  if (!status || (status.tokenId !== token.id && !token.scopes.includes('admin'))) throw new ApiError('not-found', `No job ${id}.`);
  return status;
}

/** One upload checked for a job: its file and its length in whole seconds (at least 1). */
async function checkUpload(ctx: JobsContext, request: FastifyRequest, token: TokenRecord, uploadId: string): Promise<{ input: string; seconds: number }> {
  const upload = await ctx.uploads.completed(token, uploadId);
  const inspected = await inspectVideo(upload.path, { maxPixels: ctx.limits.maxPixels });
  const seconds = Math.max(1, Math.ceil(inspected.info.durationSeconds));
  const limit = token.quotas.maxVideoSeconds;
  if (limit !== undefined && seconds > limit) {
    const message = `Upload ${uploadId} is ${seconds} s long; this token may submit videos of at most ${limit} s.`;
    await auditRefusal(ctx.home, request, 'rejected-limit', message);
    throw new ApiError('payload-too-large', message);
  }
  return { input: upload.path, seconds };
}

function jobRequest(
  request: FastifyRequest,
  token: TokenRecord,
  identity: { id: string; consentId: string; photos: string[] },
  input: string,
  seconds: number,
  reservedAt: Date,
  swap: SwapFields | undefined,
  encoding: VideoEncodingFields | undefined,
  batchId?: string,
): VideoJobRequest {
  const userAgent = request.headers['user-agent'];
  return {
    tokenId: token.id,
    tokenName: token.name,
    identityId: identity.id,
    consentId: identity.consentId,
    input,
    sources: identity.photos,
    paint: { ...(swap ?? {}), maxPixels: VIDEO_DEFAULTS.paint.maxPixels },
    encoding: { ...(encoding ?? {}) },
    videoSeconds: seconds,
    reservedAt: reservedAt.toISOString(),
    requestId: request.id,
    ip: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 200) : '',
    ...(batchId ? { batchId } : {}),
  };
}

/** Submits a job (video or talk), turning a full queue into 503 + Retry-After. */
export async function submitJob(ctx: ApiContext, id: string, job: VideoJobRequest): Promise<JobStatus> {
  try {
    return await ctx.queue.submit(id, job);
  } catch (error) {
    if (isQueueFull(error)) throw new ApiError('overloaded', error.message, { 'Retry-After': String(error.retryAfterSeconds) });
    throw error;
  }
}

export function addJobRoutes(app: ApiApp, context: ContextOf<JobsContext>): void {
  app.post(
    '/v1/jobs/video',
    {
      config: { access: { scope: 'swap:video', media: true } },
      schema: {
        tags: ['jobs'],
        summary: 'Submit a video job on a finished upload; answers 202 with Location.',
        body: VideoJobBody,
        response: withErrors({ 202: Job }, [404, 409, 413, 415, 422]),
      },
    },
    async (request, reply) => {
      const token = callerOf(request);
      const ctx = context();
      const identity = await ownIdentity(ctx, token, request.body.identityId);
      const { input, seconds } = await checkUpload(ctx, request, token, request.body.uploadId);
      await checkActiveJobs(ctx.home, request, token, await ctx.queue.activeCount(token.id), 1);
      const reserved = await reserveQuota(ctx.home, ctx.stores.quotas, request, token, 'videoSeconds', seconds);
      const id = randomUUID();
      try {
        const status = await submitJob(ctx, id, jobRequest(request, token, identity, input, seconds, reserved.at, request.body.swap, request.body.encoding));
        return reply.code(202).header('Location', `/v1/jobs/${id}`).send(jobView(status));
      } catch (error) {
        await reserved.refund();
        throw error;
      }
    },
  );

  app.post(
    '/v1/batches',
    {
      config: { access: { scope: 'swap:video', media: true } },
      schema: {
        tags: ['jobs'],
        summary: 'Submit up to 50 video jobs at once: every one is reserved against the quota, or none is.',
        body: BatchBody,
        response: withErrors({ 202: BatchCreated }, [404, 409, 413, 415, 422]),
      },
    },
    async (request, reply) => {
      const token = callerOf(request);
      const ctx = context();
      const { uploadIds } = request.body;
      if (new Set(uploadIds).size !== uploadIds.length) throw new ApiError('usage', 'An upload appears twice in uploadIds.');
      const identity = await ownIdentity(ctx, token, request.body.identityId);
      const checked = [];
      for (const uploadId of uploadIds) checked.push(await checkUpload(ctx, request, token, uploadId));
      await checkActiveJobs(ctx.home, request, token, await ctx.queue.activeCount(token.id), checked.length);
      const total = checked.reduce((sum, upload) => sum + upload.seconds, 0);
      const reserved = await reserveQuota(ctx.home, ctx.stores.quotas, request, token, 'videoSeconds', total);
      const batchId = randomUUID();
      const submitted: JobStatus[] = [];
      try {
        for (const upload of checked) {
          const job = jobRequest(request, token, identity, upload.input, upload.seconds, reserved.at, request.body.swap, request.body.encoding, batchId);
          submitted.push(await submitJob(ctx, randomUUID(), job));
        }
      } catch (error) {
        // All or nothing: the jobs already queued are cancelled (the queue refunds each), the rest is refunded here.
        for (const status of submitted) await ctx.queue.cancel(status.id).catch(() => undefined);
        const queuedSeconds = checked.slice(0, submitted.length).reduce((sum, upload) => sum + upload.seconds, 0);
        if (total - queuedSeconds > 0) await ctx.stores.quotas.refund(token.id, 'videoSeconds', total - queuedSeconds, reserved.at);
        throw error;
      }
      return reply
        .code(202)
        .header('Location', `/v1/jobs/${submitted[0]!.id}`)
        .send({ batchId, jobs: submitted.map(jobView) });
    },
  );

  app.get(
    '/v1/jobs/:id',
    { config: { access: { scope: 'jobs:read' } }, schema: { tags: ['jobs'], summary: "A job's state and progress.", params: IdParams, response: withErrors({ 200: Job }, [404]) } },
    async (request) => jobView(await ownJob(context(), callerOf(request), request.params.id)),
  );

  const openStreams = new Map<string, number>();
  app.get(
    '/v1/jobs/:id/events',
    {
      config: { access: { scope: 'jobs:read' } },
      schema: {
        tags: ['jobs'],
        summary: 'Server-sent events of a job: its state first, then `progress`, `state` and finally `done`; a heartbeat comment every 15 s.',
        produces: ['text/event-stream'],
        params: IdParams,
        response: withErrors({ 200: { description: 'An event stream', content: { 'text/event-stream': { schema: Type.String() } } } }, [404]),
      },
    },
    async (request, reply) => {
      const token = callerOf(request);
      const ctx = context();
      await ownJob(ctx, token, request.params.id);
      const open = openStreams.get(token.id) ?? 0;
      if (open >= ctx.limits.maxEventStreams) {
        throw new ApiError('rate-limited', `This token has ${open} event streams open, the most it may; close one first.`, { 'Retry-After': '5' });
      }
      openStreams.set(token.id, open + 1);
      reply.hijack();
      const stream = openSse(reply.raw, ctx.limits.heartbeatSeconds, { 'X-Request-Id': request.id });
      const stopOnClose = (): void => stream.end();
      ctx.closing.addEventListener('abort', stopOnClose, { once: true });
      try {
        for await (const event of ctx.queue.events(request.params.id, stream.signal)) {
          if (event.type === 'progress') stream.send('progress', event.progress);
          else stream.send(event.type, jobView(event.status));
          if (event.type === 'done') break;
        }
      } catch (error) {
        if (!stream.signal.aborted) request.log.warn({ err: error }, 'event stream failed');
      } finally {
        ctx.closing.removeEventListener('abort', stopOnClose);
        stream.end();
        const left = (openStreams.get(token.id) ?? 1) - 1;
        if (left > 0) openStreams.set(token.id, left);
        else openStreams.delete(token.id);
      }
    },
  );

  app.get(
    '/v1/jobs/:id/result',
    {
      config: { access: { scope: 'jobs:read' } },
      schema: {
        tags: ['jobs'],
        summary: "A completed job's MP4 (byte ranges supported); 409 until it is completed.",
        produces: ['video/mp4'],
        params: IdParams,
        headers: Type.Object({ range: Type.Optional(Type.String()) }),
        response: withErrors(
          {
            200: { description: 'The video', content: { 'video/mp4': { schema: Binary('MP4') } } },
            206: { description: 'Part of the video', content: { 'video/mp4': { schema: Binary('MP4') } } },
          },
          [404, 409, 416],
        ),
      },
    },
    async (request, reply) => {
      const status = await ownJob(context(), callerOf(request), request.params.id);
      if (status.state !== 'completed' || !status.result) throw new ApiError('conflict', `Job ${status.id} is ${status.state}; its result is ready once it is completed.`);
      return sendResult(request, reply, status.result);
    },
  );

  app.delete(
    '/v1/jobs/:id',
    {
      config: { access: { scope: 'swap:video' } },
      schema: {
        tags: ['jobs'],
        summary: 'Cancel a job: a queued one is removed, a running one stopped; unused quota is refunded.',
        params: IdParams,
        response: withErrors({ 200: Job }, [404]),
      },
    },
    async (request) => {
      const ctx = context();
      const status = await ownJob(ctx, callerOf(request), request.params.id);
      const cancelled = await ctx.queue.cancel(status.id);
      if (!cancelled) throw new ApiError('not-found', `No job ${status.id}.`);
      return jobView(cancelled);
    },
  );
}

/** The file, whole or one byte range (206), 416 for a range outside it. */
async function sendResult(request: FastifyRequest, reply: FastifyReply, path: string): Promise<FastifyReply> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new ApiError('not-found', 'The result has expired or was removed.');
  const etag = fileEtag(info);
  reply.header('Accept-Ranges', 'bytes').header('ETag', etag).header('Cache-Control', 'private, no-store').type('video/mp4');
  const ifRange = request.headers['if-range'];
  const range = ifRange === undefined || ifRange === etag ? parseRange(request.headers.range, info.size) : undefined;
  if (range === 'unsatisfiable') {
    throw new ApiError('range-not-satisfiable', `The range is outside the result (${info.size} bytes).`, { 'Content-Range': `bytes */${info.size}` });
  }
  return sendBytes(reply, path, info.size, range);
}
