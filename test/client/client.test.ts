/**
 * The SDK (src/client, `liveswap/client`) against a live API server on loopback: a real token from
 * the token store, real photos, a real clip. Consent, an identity from a fixture photo, an image
 * swap (a decodable, watermarked image), a resumable upload interrupted twice (an abort between
 * chunks, a chunk cut mid-way) and resumed to byte-identical bytes, a video job followed through
 * its events to `done`, its MP4 downloaded whole and by range, a queued job cancelled (quota
 * refunded), and errors with the API's kinds.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { createLiveswapClient, LiveswapApiError, LiveswapJobError, type JobEvent, type LiveswapClient } from '../../src/client/index.js';
import { probeVideo } from '../../src/node/media/ffmpeg-probe.js';
import { uploadsFolder } from '../../src/server/api/upload-routes.js';
import { startTestApi, type TestApi } from '../api/api-helpers.js';
import { makeClip } from '../helpers/clips.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { homeWithModels, warmModels } from '../helpers/video-jobs.js';

const CHUNK = 16 * 1024;

let api: TestApi<'full' | 'readonly'>;
let work: string;
let client: LiveswapClient;
let clip: Uint8Array;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'liveswap-client-'));
  const [, clipPath] = await Promise.all([warmModels(), makeClip({ frames: 25, fps: 25, noise: 20, dir: work, name: 'clip' })]);
  clip = new Uint8Array(await readFile(clipPath));
  const home = await homeWithModels(join(work, 'home'));
  api = await startTestApi(
    {
      full: { scopes: ['swap:image', 'swap:video', 'identities:read', 'identities:write', 'uploads', 'jobs:read'] },
      readonly: { scopes: ['jobs:read'] },
    },
    { home, workers: 1 },
  );
  client = createLiveswapClient({ baseUrl: api.server.url, token: api.tokens.full });
});

after(async () => {
  await api?.stop();
  await rm(work, { recursive: true, force: true });
});

/** Counts the requests a client sends, by method, and can cut one PATCH short. */
function countingFetch(cutPatch?: number): { fetch: typeof fetch; methods: string[] } {
  const methods: string[] = [];
  let patches = 0;
  const wrapped: typeof fetch = async (input, init) => {
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    methods.push(method);
    if (method === 'PATCH' && ++patches === cutPatch && init?.body instanceof Uint8Array) {
      // The connection drops half-way through this chunk: the server keeps what arrived.
      const body = init.body;
      const half = body.subarray(0, Math.floor(body.byteLength / 2));
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(half.slice());
          setTimeout(() => controller.error(new Error('connection dropped')), 200);
        },
      });
      return fetch(input, { ...init, body: stream, duplex: 'half' } as RequestInit);
    }
    return fetch(input, init);
  };
  return { fetch: wrapped, methods };
}

describe('the SDK against a live server', () => {
  let identityId: string;
  let uploadId: string;

  it('reads the consent statement and adds an identity from a fixture photo', async () => {
    const statement = await client.consentStatement();
    assert.match(statement.sha256, /^[0-9a-f]{64}$/);
    assert.ok(statement.text.length > 0 && statement.version.length > 0);
    const photo = new Uint8Array(await readFile(join(FIXTURES, 'astronaut.png')));
    const identity = await client.createIdentity([photo], { subject: 'self', attested: true, statementVersion: statement.version });
    assert.deepEqual(identity.faces, [1]);
    assert.equal(identity.sourceSha256.length, 1);
    identityId = identity.id;
    assert.ok((await client.listIdentities()).some((i) => i.id === identityId));
  });

  it('refuses an identity without a valid attestation, as a LiveswapApiError with the kind', async () => {
    const photo = new Blob([await readFile(join(FIXTURES, 'astronaut.png'))]);
    await assert.rejects(client.createIdentity([photo], { subject: 'self', attested: true, statementVersion: 'not-the-current-one' }), (error: unknown) => {
      assert.ok(error instanceof LiveswapApiError);
      assert.equal(error.status, 400);
      assert.equal(error.kind, 'consent-required');
      return true;
    });
  });

  it('swaps an image: a decodable PNG with the watermark id and face count headers', async () => {
    const target = new Blob([await readFile(join(FIXTURES, 'grace_hopper.jpg'))], { type: 'image/jpeg' });
    const swapped = await client.swapImage(target, identityId, { engine: 'mesh', accept: 'image/png' });
    assert.equal(swapped.contentType, 'image/png');
    assert.match(swapped.watermarkId, /\S/);
    assert.equal(swapped.swappedFaces, 1);
    const meta = await sharp(swapped.image).metadata();
    assert.equal(meta.format, 'png');
    const original = await sharp(join(FIXTURES, 'grace_hopper.jpg')).metadata();
    assert.deepEqual([meta.width, meta.height], [original.width, original.height]);
  });

  it('uploads a clip in chunks, aborted after the first chunk and resumed from where the server stopped', async () => {
    const controller = new AbortController();
    let created: string | undefined;
    const progress: number[] = [];
    await assert.rejects(
      client.uploadVideo(clip, {
        chunkSize: CHUNK,
        signal: controller.signal,
        onCreated: (id) => (created = id),
        onProgress: (sent) => {
          progress.push(sent);
          if (sent >= CHUNK) controller.abort(new Error('stopped by the test'));
        },
        filename: 'clip.mp4',
        contentType: 'video/mp4',
      }),
      /stopped by the test/,
    );
    assert.ok(created, 'the upload was made before the abort');
    assert.deepEqual(progress, [CHUNK]);

    const { fetch: counting, methods } = countingFetch();
    const resumer = createLiveswapClient({ baseUrl: api.server.url, token: api.tokens.full, fetch: counting });
    const resumed: number[] = [];
    const upload = await resumer.uploadVideo(clip, { chunkSize: CHUNK, resume: created, onProgress: (sent) => resumed.push(sent) });
    assert.equal(methods[0], 'HEAD', 'a resume asks the server for its offset first');
    assert.ok(!methods.includes('POST'), 'a resume makes no new upload');
    assert.equal(resumed[0], CHUNK, 'the server had exactly the first chunk');
    assert.equal(resumed.at(-1), clip.byteLength);
    assert.equal(upload.id, created);
    assert.equal(upload.size, clip.byteLength);
    assert.deepEqual(new Uint8Array(await readFile(join(uploadsFolder(api.home), upload.id))), clip, 'the server holds the clip byte for byte');
    uploadId = upload.id;
  });

  it('goes on after a chunk cut mid-way: HEAD for the offset, then the rest, byte-identical', async () => {
    const { fetch: cutting, methods } = countingFetch(2);
    const flaky = createLiveswapClient({ baseUrl: api.server.url, token: api.tokens.full, fetch: cutting });
    const upload = await flaky.uploadVideo(clip, { chunkSize: CHUNK });
    assert.deepEqual(methods.slice(0, 4), ['POST', 'PATCH', 'PATCH', 'HEAD'], 'the second chunk failed and the client asked where to go on');
    assert.deepEqual(new Uint8Array(await readFile(join(uploadsFolder(api.home), upload.id))), clip);
  });

  it('submits the video, follows its events to done, and downloads an MP4 (whole and by range)', async () => {
    const job = await client.submitVideo({ identityId, uploadId, swap: { engine: 'mesh' }, encoding: { audio: false, preset: 'ultrafast' } });
    const events: JobEvent[] = [];
    for await (const event of job.events()) events.push(event);
    assert.equal(events[0]?.type, 'state', 'the stream starts with the job as it is');
    const done = events.at(-1);
    assert.ok(done?.type === 'done', `the stream ends with done (got ${events.map((e) => e.type).join(', ')})`);
    assert.equal(done.job.state, 'completed', JSON.stringify(done.job.error));
    assert.ok(
      events.some((e) => e.type === 'progress'),
      'progress was reported',
    );
    // wait() on a finished job answers at once from the snapshot.
    const finished = await job.wait();
    assert.equal(finished.state, 'completed');
    assert.match(finished.watermarkId ?? '', /\S/);
    assert.equal((await job.status()).state, 'completed');

    const mp4 = await job.download();
    const path = join(work, 'result.mp4');
    await writeFile(path, mp4);
    const info = await probeVideo(path);
    assert.match(info.container, /mp4/);
    assert.equal(info.videoCodec, 'h264');
    assert.deepEqual([info.width, info.height], [320, 240]);
    const head = await job.download({ range: { start: 4, end: 11 } });
    assert.deepEqual(head, mp4.subarray(4, 12));
    assert.equal(new TextDecoder().decode(head.subarray(0, 4)), 'ftyp');

    const usage = await client.usage();
    assert.equal(usage.used.swaps, 1);
    assert.ok(usage.used.videoSeconds >= 1);
  });

  it('cancels a queued job: wait() rejects with a LiveswapJobError and the video seconds are refunded', async () => {
    const before = (await client.usage()).used.videoSeconds;
    const options = { identityId, uploadId, swap: { engine: 'mesh' as const }, encoding: { audio: false, preset: 'ultrafast' as const } };
    // One worker: the second job waits behind the first.
    const [running, queued] = [await client.submitVideo(options), await client.submitVideo(options)];
    const cancelled = await queued.cancel();
    assert.equal(cancelled.state, 'cancelled');
    await assert.rejects(queued.wait(), (error: unknown) => error instanceof LiveswapJobError && error.kind === 'cancelled' && error.job.state === 'cancelled');
    await assert.rejects(queued.download(), (error: unknown) => error instanceof LiveswapApiError && error.status === 409);
    assert.equal((await running.wait()).state, 'completed');
    assert.equal((await client.usage()).used.videoSeconds, before + 1, 'only the job that ran is counted');
  });

  it('turns refusals into errors with the kind: wrong scope, unknown job, no token', async () => {
    const readonly = createLiveswapClient({ baseUrl: api.server.url, token: api.tokens.readonly });
    await assert.rejects(readonly.uploadVideo(clip), (error: unknown) => error instanceof LiveswapApiError && error.status === 403 && error.kind === 'forbidden');
    await assert.rejects(client.job('no-such-job').status(), (error: unknown) => error instanceof LiveswapApiError && error.status === 404 && error.kind === 'not-found');
    const nobody = createLiveswapClient({ baseUrl: api.server.url, token: 'lsw_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    await assert.rejects(nobody.usage(), (error: unknown) => error instanceof LiveswapApiError && error.status === 401 && error.kind === 'unauthorized');
  });
});
