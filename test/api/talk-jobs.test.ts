/**
 * POST /v1/talks on a live server with the real flite and ffmpeg: a talk from text on an identity's
 * photo runs through the job queue to an MP4 with sound (durations within a frame), fetched like a
 * video job's result, its talk seconds on the token's usage and its audit line naming the route;
 * a multipart talk from the caller's own audio and phone track with a face photo sent with consent;
 * and the refusals: no speech, both, an unknown voice, phonemes with text, no consent, no scope
 * (audited), the daily talk quota (429, audited), and flite missing (503 `unavailable`, saying how
 * to install it). In queue mode (a real redis-server), a talk submitted to the API is run by a
 * `liveswap worker` queue worker. Skipped, with the reason, only where flite is not installed
 * outside CI.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { probeVideo } from '../../src/node/media/ffmpeg-probe.js';
import { readAudit } from '../../src/node/provenance/output-provenance.js';
import { decodeAudio, speakWithFlite, SPEECH_RATE, writeWav } from '../../src/node/jobs/talk-speech.js';
import { openServiceStores } from '../../src/node/service/stores.js';
import { startQueueWorker } from '../../src/node/service/queue-worker.js';
import { createApiServer, type ApiServer } from '../../src/server/api/server.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { redisUnavailable, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { multipart, startTestApi, type TestApi } from './api-helpers.js';
import { consentStatementVersion, makeSelfIdentity, skipWithoutFlite } from '../helpers/talk-fixtures.js';

const skip = skipWithoutFlite('the talk API tests');

type Names = 'alice' | 'bob' | 'tight';

interface JobBody {
  id: string;
  state: string;
  resultUrl?: string;
  sha256?: string;
  watermarkId?: string;
  error?: { kind: string; message: string };
}

/** Seconds of video (counted frames over the rate) and of sound in an MP4. */
async function streamSeconds(file: string): Promise<{ video: number; audio: number }> {
  const info = await probeVideo(file, { countFrames: true });
  const samples = await decodeAudio(file);
  return { video: info.frameCount / info.fps, audio: samples.length / SPEECH_RATE };
}

describe('POST /v1/talks', { skip }, () => {
  let api: TestApi<Names>;
  let identityId: string;
  let tightIdentityId: string;
  let statementVersion: string;
  let dir: string;
  const json = async <T>(reply: Response): Promise<T> => (await reply.json()) as T;
  const talk = (body: unknown, name: Names = 'alice') =>
    fetch(`${api.server.url}/v1/talks`, { method: 'POST', headers: { ...api.auth(name), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const errorOf = async (reply: Response): Promise<{ status: number; kind: string; message: string }> => {
    const body = await json<{ error: { kind: string; message: string } }>(reply);
    return { status: reply.status, ...body.error };
  };
  /** Polls a job until it ends. */
  const finished = async (id: string): Promise<JobBody> => {
    for (;;) {
      const job = await json<JobBody>(await fetch(`${api.server.url}/v1/jobs/${id}`, { headers: api.auth('alice') }));
      if (['completed', 'failed', 'cancelled'].includes(job.state)) return job;
      await sleep(200);
    }
  };
  const download = async (job: JobBody, name: string): Promise<string> => {
    const reply = await fetch(`${api.server.url}${job.resultUrl!}`, { headers: api.auth('alice') });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('content-type'), 'video/mp4');
    const file = join(dir, name);
    await writeFile(file, Buffer.from(await reply.arrayBuffer()));
    return file;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveswap-talk-api-'));
    const scopes = ['identities:write', 'uploads', 'talk', 'jobs:read'] as const;
    api = await startTestApi<Names>({
      alice: { scopes, quotas: { talkSecondsPerDay: 100 } },
      bob: { scopes: ['identities:write', 'jobs:read'] },
      tight: { scopes, quotas: { talkSecondsPerDay: 1 } },
    });
    statementVersion = await consentStatementVersion(api, 'alice');
    identityId = await makeSelfIdentity(api, 'alice', statementVersion);
    tightIdentityId = await makeSelfIdentity(api, 'tight', statementVersion);
  });
  after(async () => {
    await api?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a talk from text runs as a job: an MP4 with sound, the seconds on the usage, the audit line', async () => {
    const reply = await talk({ faceIdentityId: identityId, text: 'Hello. I am a talking portrait.', voice: 'slt' });
    assert.equal(reply.status, 202, await reply.clone().text());
    const created = await json<JobBody>(reply);
    assert.equal(reply.headers.get('location'), `/v1/jobs/${created.id}`);
    const job = await finished(created.id);
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    const file = await download(job, 'text.mp4');
    const { video, audio } = await streamSeconds(file);
    assert.ok(video > 1 && video < 5, `video lasts ${video} s`);
    assert.ok(Math.abs(video - audio) <= 1 / 25 + 1e-3, `video ${video} s, audio ${audio} s`);
    const used = (await json<{ used: { talkSeconds: number; videoSeconds: number } }>(await fetch(`${api.server.url}/v1/usage`, { headers: api.auth('alice') }))).used;
    assert.equal(used.talkSeconds, Math.ceil(audio - 1 / 25), 'the whole seconds of speech were counted');
    assert.equal(used.videoSeconds, 0);
    const { entries } = await readAudit(api.home);
    const line = entries.find((e) => e.service?.jobId === created.id && e.output !== undefined);
    assert.ok(line, 'the talk has its audit line');
    assert.equal(line.kind, 'video');
    assert.equal(line.service?.route, '/v1/talks');
    assert.equal(line.service?.outcome, 'ok');
    assert.equal(line.watermarkId, job.watermarkId);
    assert.equal(line.options.talk, true);
    assert.equal(line.label.shown, true);
  });

  it("a multipart talk: a face photo sent with consent, the caller's audio and phone track", async () => {
    const speech = await speakWithFlite('Bob made a map.', dir);
    const wav = join(dir, 'own.wav');
    await writeWav(wav, speech.samples, SPEECH_RATE);
    const track = speech.phones!.map((p) => `${p.phone} ${p.end.toFixed(3)}`).join('\n');
    const face = await readFile(join(FIXTURES, 'astronaut.png'));
    const audio = await readFile(wav);
    const withFiles = (consent: boolean) =>
      multipart([
        ...(consent ? [{ name: 'consent', value: JSON.stringify({ subject: 'other-with-permission', attested: true, statementVersion }) }] : []),
        { name: 'face', filename: 'a.png', type: 'image/png', bytes: face },
        { name: 'audio', filename: 'own.wav', type: 'audio/wav', bytes: audio },
        { name: 'phonemes', value: track },
      ]);
    const refused = withFiles(false);
    const noConsent = await fetch(`${api.server.url}/v1/talks`, { method: 'POST', headers: { ...api.auth('alice'), 'content-type': refused.contentType }, body: refused.body });
    assert.equal(noConsent.status, 400);
    assert.equal((await errorOf(noConsent)).kind, 'consent-required');
    const { body, contentType } = withFiles(true);
    const reply = await fetch(`${api.server.url}/v1/talks`, { method: 'POST', headers: { ...api.auth('alice'), 'content-type': contentType }, body });
    assert.equal(reply.status, 202, await reply.clone().text());
    const job = await finished((await json<JobBody>(reply)).id);
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    const { video, audio: audioSeconds } = await streamSeconds(await download(job, 'own.mp4'));
    assert.ok(Math.abs(video - audioSeconds) <= 1 / 25 + 1e-3, `video ${video} s, audio ${audioSeconds} s`);
    const { entries } = await readAudit(api.home);
    assert.ok(entries.some((e) => e.kind === 'refusal' && e.service?.outcome === 'rejected-consent' && e.service.route === 'POST /v1/talks'));
  });

  it('refuses bad requests with a clear kind and message', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ faceIdentityId: identityId }, 'usage', /text, or audio/],
      [{ faceIdentityId: identityId, text: 'Hi.', audioUploadId: 'abc' }, 'usage', /not both/],
      [{ faceIdentityId: identityId, text: 'Hi.', voice: 'nosuchvoice' }, 'usage', /no voice "nosuchvoice".*slt/],
      [{ faceIdentityId: identityId, text: 'Hi.', phonemes: 'pau 0.1' }, 'usage', /phonemes go with audio/],
      [{ text: 'Hi.' }, 'usage', /exactly one of faceIdentityId/],
      [{ faceIdentityId: 'nosuchidentity', text: 'Hi.' }, 'not-found', /No identity/],
      [{ faceIdentityId: identityId, text: 'Hi.', extra: 1 }, 'usage', /not a talk request/],
    ];
    for (const [body, kind, message] of cases) {
      const reply = await talk(body);
      const error = await errorOf(reply);
      assert.equal(error.kind, kind, `${JSON.stringify(body)}: ${error.message}`);
      assert.match(error.message, message);
      assert.equal(reply.status, kind === 'not-found' ? 404 : 400);
    }
  });

  it('refuses a token without the talk scope and one past its daily talk seconds, and audits both', async () => {
    const forbidden = await talk({ faceIdentityId: identityId, text: 'Hi.' }, 'bob');
    assert.equal(forbidden.status, 403);
    const over = await talk({ faceIdentityId: tightIdentityId, text: 'This sentence takes a good deal longer than one second to say.' }, 'tight');
    const error = await errorOf(over);
    assert.equal(over.status, 429);
    assert.equal(error.kind, 'quota-exceeded');
    assert.match(error.message, /talkSecondsPerDay \(1\)/);
    assert.ok(over.headers.get('retry-after'));
    const { entries } = await readAudit(api.home);
    assert.ok(entries.some((e) => e.service?.tokenId === api.ids.bob && e.service.outcome === 'rejected-auth' && e.service.route === 'POST /v1/talks'));
    assert.ok(entries.some((e) => e.service?.tokenId === api.ids.tight && e.service.outcome === 'rejected-quota'));
  });

  it('says how to install flite when the server has none (503 unavailable)', async () => {
    const path = process.env.PATH;
    process.env.PATH = dir; // no flite here
    try {
      const reply = await talk({ faceIdentityId: identityId, text: 'Hi.' });
      const error = await errorOf(reply);
      assert.equal(reply.status, 503);
      assert.equal(error.kind, 'unavailable');
      assert.match(error.message, /flite is not installed.*apt-get install flite/);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('POST /v1/talks in queue mode (Redis)', { skip: skip ?? redisUnavailable() }, () => {
  let redis: RedisServer;
  let home: string;
  let server: ApiServer;
  let worker: Awaited<ReturnType<typeof startQueueWorker>> | undefined;
  let token: string;
  before(async () => {
    redis = await startRedis();
    home = await mkdtemp(join(tmpdir(), 'liveswap-talk-redis-'));
    const stores = await openServiceStores({ home, redisUrl: redis.url });
    try {
      token = (await stores.tokens.create({ name: 'r', scopes: ['identities:write', 'talk', 'jobs:read'] })).token;
    } finally {
      await stores.close();
    }
    server = await createApiServer({ home, port: 0, redisUrl: redis.url, logger: false, pressure: { maxEventLoopDelay: 0 } });
    worker = await startQueueWorker({ redisUrl: redis.url, home, concurrency: 1, lockDuration: 5000, stalledInterval: 1000 });
  });
  after(async () => {
    await worker?.close(true);
    await server?.close();
    await redis?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('a talk submitted to the API is run by a queue worker, and its result fetched from the API', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const statement = (await (await fetch(`${server.url}/v1/consent/statement`, { headers: auth })).json()) as { version: string };
    const { body, contentType } = multipart([
      { name: 'consent', value: JSON.stringify({ subject: 'self', attested: true, statementVersion: statement.version }) },
      { name: 'photo', filename: 'a.png', type: 'image/png', bytes: await readFile(join(FIXTURES, 'astronaut.png')) },
    ]);
    const made = await fetch(`${server.url}/v1/identities`, { method: 'POST', headers: { ...auth, 'content-type': contentType }, body });
    assert.equal(made.status, 201, await made.clone().text());
    const identity = ((await made.json()) as { id: string }).id;
    const reply = await fetch(`${server.url}/v1/talks`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ faceIdentityId: identity, text: 'Queued, then spoken.', fps: 20 }),
    });
    assert.equal(reply.status, 202, await reply.clone().text());
    const id = ((await reply.json()) as JobBody).id;
    let job: JobBody;
    for (;;) {
      job = (await (await fetch(`${server.url}/v1/jobs/${id}`, { headers: auth })).json()) as JobBody;
      if (['completed', 'failed', 'cancelled'].includes(job.state)) break;
      await sleep(200);
    }
    assert.equal(job.state, 'completed', JSON.stringify(job.error));
    const result = await fetch(`${server.url}${job.resultUrl!}`, { headers: auth });
    assert.equal(result.status, 200);
    const file = join(home, 'fetched.mp4');
    await writeFile(file, Buffer.from(await result.arrayBuffer()));
    const { video, audio } = await streamSeconds(file);
    assert.ok(Math.abs(video - audio) <= 1 / 20 + 1e-3, `video ${video} s, audio ${audio} s`);
  });
});
