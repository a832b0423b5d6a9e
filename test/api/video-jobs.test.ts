/**
 * Video on a live server: a resumable tus upload aborted and resumed (byte-identical, owned by its
 * token), a video job on a tiny real clip (mesh engine, real ffmpeg) followed over server-sent
 * events to completion, 409 before it completes, its result whole and by byte ranges (206, 416),
 * a second job cancelled with its video seconds refunded (a third refused meanwhile by the
 * active-job cap), one event stream per token, and a batch.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as tus from 'tus-js-client';
import { uploadsFolder } from '../../src/server/api/upload-routes.js';
import { makeClip } from '../helpers/clips.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { multipart, startTestApi, type TestApi } from './api-helpers.js';

type Names = 'alice' | 'bob';

interface JobBody {
  id: string;
  state: string;
  resultUrl?: string;
  sha256?: string;
  progress: { frame: number; total: number };
}

/** Uploads `bytes` with tus; `abortAfter` bytes in, the upload is aborted and then resumed. Answers the upload id. */
async function tusUpload(api: TestApi<Names>, name: Names, bytes: Buffer, abortAfter?: number): Promise<{ id: string; aborted: boolean }> {
  let aborted = false;
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(bytes, {
      endpoint: `${api.server.url}/v1/uploads`,
      headers: api.auth(name),
      chunkSize: 512 * 1024,
      retryDelays: [],
      metadata: { filename: 'clip.mp4' },
      onProgress(sent) {
        if (abortAfter !== undefined && !aborted && sent >= abortAfter) {
          aborted = true;
          void upload.abort().then(() => setTimeout(() => upload.start(), 50));
        }
      },
      onError: reject,
      onSuccess: () => resolve({ id: upload.url!.split('/').pop()!, aborted }),
    });
    upload.start();
  });
}

/** The events of a job's stream until `done`. */
async function readEvents(api: TestApi<Names>, id: string): Promise<{ event: string; data: unknown; id: string }[]> {
  const reply = await fetch(`${api.server.url}/v1/jobs/${id}/events`, { headers: api.auth('alice') });
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get('content-type') ?? '', /text\/event-stream/);
  const events: { event: string; data: unknown; id: string }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of reply.body!) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = Object.fromEntries(
        block
          .split('\n')
          .filter((line) => !line.startsWith(':'))
          .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
      ) as Record<string, string>;
      if (fields.event) events.push({ event: fields.event, data: JSON.parse(fields.data!), id: fields.id! });
      if (fields.event === 'done') return events;
    }
  }
  return events;
}

describe('uploads and video jobs', () => {
  let api: TestApi<Names>;
  let identityId: string;
  let clip: Buffer;
  let clipUpload: string;
  const json = async <T>(reply: Response): Promise<T> => (await reply.json()) as T;
  const usage = async () => (await json<{ used: { videoSeconds: number } }>(await fetch(`${api.server.url}/v1/usage`, { headers: api.auth('alice') }))).used.videoSeconds;
  const submit = (body: unknown, name: Names = 'alice') =>
    fetch(`${api.server.url}/v1/jobs/video`, { method: 'POST', headers: { ...api.auth(name), 'content-type': 'application/json' }, body: JSON.stringify(body) });

  before(async () => {
    const path = await makeClip({ frames: 25 });
    clip = await readFile(path);
    await rm(dirname(path), { recursive: true, force: true });
    const scopes = ['identities:write', 'uploads', 'swap:video', 'jobs:read'] as const;
    api = await startTestApi<Names>(
      { alice: { scopes, quotas: { videoSecondsPerDay: 100, maxActiveJobs: 1 } }, bob: { scopes } },
      { limits: { maxEventStreams: 1, heartbeatSeconds: 0.2 } },
    );
    const statement = await json<{ version: string }>(await fetch(`${api.server.url}/v1/consent/statement`, { headers: api.auth('alice') }));
    const { body, contentType } = multipart([
      { name: 'consent', value: JSON.stringify({ subject: 'self', attested: true, statementVersion: statement.version }) },
      { name: 'photo', filename: 'g.jpg', type: 'image/jpeg', bytes: await readFile(join(FIXTURES, 'grace_hopper.jpg')) },
    ]);
    const made = await fetch(`${api.server.url}/v1/identities`, { method: 'POST', headers: { ...api.auth('alice'), 'content-type': contentType }, body });
    assert.equal(made.status, 201, await made.clone().text());
    identityId = (await json<{ id: string }>(made)).id;
  });
  after(async () => api?.stop());

  it('a tus upload aborted midway resumes and arrives byte-identical', async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const { id, aborted } = await tusUpload(api, 'alice', bytes, 1024 * 1024);
    assert.ok(aborted, 'the upload was aborted once');
    assert.deepEqual(await readFile(join(uploadsFolder(api.home), id)), bytes);
  });

  it('tus needs a token and keeps uploads to their owner', async () => {
    const anonymous = await fetch(`${api.server.url}/v1/uploads`, { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': '10' } });
    assert.equal(anonymous.status, 401);
    const { id } = await tusUpload(api, 'alice', clip);
    clipUpload = id;
    const head = await fetch(`${api.server.url}/v1/uploads/${id}`, { method: 'HEAD', headers: { ...api.auth('bob'), 'tus-resumable': '1.0.0' } });
    assert.equal(head.status, 404);
    const own = await fetch(`${api.server.url}/v1/uploads/${id}`, { method: 'HEAD', headers: { ...api.auth('alice'), 'tus-resumable': '1.0.0' } });
    assert.equal(own.status, 200);
    assert.equal(own.headers.get('upload-offset'), String(clip.length));
    const foreign = await submit({ identityId, uploadId: id }, 'bob');
    assert.equal(foreign.status, 404);
  });

  it('an upload that is not a video is refused at submission', async () => {
    const { id } = await tusUpload(api, 'alice', randomBytes(4096));
    const reply = await submit({ identityId, uploadId: id });
    assert.ok([415, 422].includes(reply.status), `${reply.status} ${await reply.clone().text()}`);
    assert.equal(await usage(), 0, 'nothing reserved');
  });

  it('runs a job: 202 + Location, 409 before completion, SSE progress to done, the result by ranges', async () => {
    const reply = await submit({ identityId, uploadId: clipUpload });
    assert.equal(reply.status, 202, await reply.clone().text());
    const job = await json<JobBody>(reply);
    assert.equal(reply.headers.get('location'), `/v1/jobs/${job.id}`);
    assert.equal(await usage(), 1);
    const early = await fetch(`${api.server.url}/v1/jobs/${job.id}/result`, { headers: api.auth('alice') });
    if (early.status !== 200) assert.equal(early.status, 409);
    const events = await readEvents(api, job.id);
    assert.equal(events[0]!.event, 'state', 'a snapshot first');
    assert.ok(
      events.some((e) => e.event === 'progress'),
      `progress events: ${events.map((e) => e.event).join(',')}`,
    );
    const done = events.at(-1)!;
    assert.equal(done.event, 'done');
    const final = done.data as JobBody;
    assert.equal(final.state, 'completed', JSON.stringify(final));
    assert.equal(final.resultUrl, `/v1/jobs/${job.id}/result`);
    const ids = events.map((e) => Number(e.id));
    assert.deepEqual(
      ids,
      ids.map((_, i) => i + 1),
    );

    const whole = await fetch(`${api.server.url}${final.resultUrl}`, { headers: api.auth('alice') });
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'video/mp4');
    const bytes = Buffer.from(await whole.arrayBuffer());
    assert.ok(bytes.length > 1000);
    const part = await fetch(`${api.server.url}${final.resultUrl}`, { headers: { ...api.auth('alice'), range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-199/${bytes.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(100, 200));
    const outside = await fetch(`${api.server.url}${final.resultUrl}`, { headers: { ...api.auth('alice'), range: `bytes=${bytes.length}-` } });
    assert.equal(outside.status, 416);
    assert.equal(outside.headers.get('content-range'), `bytes */${bytes.length}`);
    const foreign = await fetch(`${api.server.url}${final.resultUrl}`, { headers: api.auth('bob') });
    assert.equal(foreign.status, 404);
  });

  it('cancelling a job refunds its video seconds', async () => {
    const before = await usage();
    const reply = await submit({ identityId, uploadId: clipUpload });
    assert.equal(reply.status, 202);
    const job = await json<JobBody>(reply);
    assert.equal(await usage(), before + 1);
    // One job at a time for this token: a second submission is refused while this one is open.
    const another = await submit({ identityId, uploadId: clipUpload });
    assert.equal(another.status, 429);
    assert.equal((await json<{ error: { kind: string } }>(another)).error.kind, 'quota-exceeded');
    assert.ok(Number(another.headers.get('retry-after')) > 0);
    assert.equal(another.headers.get('x-quota-limit'), '1');
    assert.equal(await usage(), before + 1, 'the refused job reserved nothing');
    // One event stream per token here: a second is refused while the first is open.
    const stream = await fetch(`${api.server.url}/v1/jobs/${job.id}/events`, { headers: api.auth('alice') });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    let seen = '';
    const decoder = new TextDecoder();
    while (!seen.includes(': heartbeat')) seen += decoder.decode((await reader.read()).value as Uint8Array | undefined, { stream: true });
    const second = await fetch(`${api.server.url}/v1/jobs/${job.id}/events`, { headers: api.auth('alice') });
    assert.equal(second.status, 429);
    assert.ok(Number(second.headers.get('retry-after')) > 0);
    const cancelled = await fetch(`${api.server.url}/v1/jobs/${job.id}`, { method: 'DELETE', headers: api.auth('alice') });
    assert.equal(cancelled.status, 200);
    assert.equal((await json<JobBody>(cancelled)).state, 'cancelled');
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) seen += decoder.decode(chunk.value as Uint8Array, { stream: true });
    assert.match(seen, /event: done\ndata: \{[^\n]*"state":"cancelled"/);
    for (let i = 0; i < 50 && (await usage()) !== before; i++) await sleep(100);
    assert.equal(await usage(), before);
    const result = await fetch(`${api.server.url}/v1/jobs/${job.id}/result`, { headers: api.auth('alice') });
    assert.equal(result.status, 409);
  });

  it('a batch reserves every job or none', async () => {
    const before = await usage();
    const missing = await fetch(`${api.server.url}/v1/batches`, {
      method: 'POST',
      headers: { ...api.auth('alice'), 'content-type': 'application/json' },
      body: JSON.stringify({ identityId, uploadIds: [clipUpload, 'nosuchupload'] }),
    });
    assert.equal(missing.status, 404);
    assert.equal(await usage(), before, 'nothing reserved when one upload is missing');
    const tooMany = await fetch(`${api.server.url}/v1/batches`, {
      method: 'POST',
      headers: { ...api.auth('alice'), 'content-type': 'application/json' },
      body: JSON.stringify({ identityId, uploadIds: Array.from({ length: 51 }, (_, i) => `u${i}`) }),
    });
    assert.equal(tooMany.status, 400);
  });
});
