/**
 * Identities and image swaps on a live server with the real mesh engine: consent required (400),
 * a photo without a face (422), a protected face (403 and an audit line), exactly N swaps a day
 * then 429 with Retry-After and X-Quota-* headers, an oversized multipart file (413), the marked
 * image in the format Accept asks for, and a token seeing only its own identities.
 */

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { decodeImage } from '../../src/node/media/image-io.js';
import { readAudit } from '../../src/node/provenance/output-provenance.js';
import { openPhotoFaceEmbedder, PROTECTED_FACE_RECOGNISER } from '../../src/node/service/protected-faces.js';
import { openServiceStores } from '../../src/node/service/stores.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { multipart, startTestApi, type TestApi } from './api-helpers.js';

type Names = 'alice' | 'bob';

describe('identities and image swaps', () => {
  let api: TestApi<Names>;
  let statementVersion: string;
  let grace: Buffer;
  let astronaut: Buffer;
  let identityId: string;
  let bobIdentity: string;

  const consent = (extra: Record<string, unknown> = {}) => JSON.stringify({ subject: 'self', attested: true, statementVersion, ...extra });
  const post = async (name: Names, url: string, parts: Parameters<typeof multipart>[0], headers: Record<string, string> = {}) => {
    const { body, contentType } = multipart(parts);
    return fetch(`${api.server.url}${url}`, { method: 'POST', headers: { ...api.auth(name), 'content-type': contentType, 'user-agent': 'api-test/1', ...headers }, body });
  };

  before(async () => {
    grace = await readFile(join(FIXTURES, 'grace_hopper.jpg'));
    astronaut = await readFile(join(FIXTURES, 'astronaut.png'));
    api = await startTestApi<Names>(
      {
        alice: { scopes: ['identities:write', 'identities:read', 'swap:image'], quotas: { swapsPerDay: 2 } },
        bob: { scopes: ['identities:write', 'identities:read', 'swap:image'] },
      },
      { limits: { fileSize: 4 * 1024 * 1024, imageSlots: 2 } },
    );
    const statement = await fetch(`${api.server.url}/v1/consent/statement`, { headers: api.auth('alice') });
    statementVersion = ((await statement.json()) as { version: string }).version;
  });
  after(async () => api?.stop());

  it('refuses an identity without consent, or with attested false: 400 consent-required, audited', async () => {
    for (const parts of [
      [{ name: 'photo', filename: 'a.jpg', type: 'image/jpeg', bytes: grace }],
      [
        { name: 'consent', value: consent({ attested: false }) },
        { name: 'photo', filename: 'a.jpg', type: 'image/jpeg', bytes: grace },
      ],
    ]) {
      const reply = await post('alice', '/v1/identities', parts);
      assert.equal(reply.status, 400);
      assert.equal(((await reply.json()) as { error: { kind: string } }).error.kind, 'consent-required');
    }
    const { entries } = await readAudit(api.home);
    assert.ok(
      entries.some((e) => e.kind === 'refusal' && e.service?.outcome === 'rejected-consent' && e.service.tokenId === api.ids.alice && e.service.userAgent === 'api-test/1'),
    );
  });

  it('makes an identity from a photo with a face, audited with the consent and the photo digest', async () => {
    const reply = await post('alice', '/v1/identities', [
      { name: 'consent', value: consent({ subjectName: 'Grace' }) },
      { name: 'photo', filename: 'grace.jpg', type: 'image/jpeg', bytes: grace },
    ]);
    assert.equal(reply.status, 201, await reply.clone().text());
    const body = (await reply.json()) as { id: string; consentId: string; faces: number[]; sourceSha256: string[] };
    assert.deepEqual(body.faces, [1]);
    assert.equal(body.sourceSha256.length, 1);
    identityId = body.id;
    const { entries } = await readAudit(api.home);
    const line = entries.find((e) => e.kind === 'identity' && e.service?.identityId === identityId);
    assert.ok(line, 'an identity line');
    assert.equal(line.service?.consentId, body.consentId);
    assert.equal(line.sources[0]?.sha256, body.sourceSha256[0]);
    assert.ok(line.service?.requestId && line.service.ip && line.service.route === 'POST /v1/identities');
  });

  it('refuses a photo with no face: 422 no-face', async () => {
    const blank = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const reply = await post('alice', '/v1/identities', [
      { name: 'consent', value: consent() },
      { name: 'photo', filename: 'blank.png', type: 'image/png', bytes: blank },
    ]);
    assert.equal(reply.status, 422);
    assert.equal(((await reply.json()) as { error: { kind: string } }).error.kind, 'no-face');
  });

  it('refuses a file that is not an image (415) and one over the multipart file limit (413)', async () => {
    const text = await post('alice', '/v1/identities', [
      { name: 'consent', value: consent() },
      { name: 'photo', filename: 'a.jpg', type: 'image/jpeg', bytes: Buffer.from('this is not a picture at all') },
    ]);
    assert.equal(text.status, 415);
    const big = await post('alice', '/v1/identities', [
      { name: 'consent', value: consent() },
      { name: 'photo', filename: 'big.jpg', type: 'image/jpeg', bytes: Buffer.alloc(5 * 1024 * 1024, 1) },
    ]);
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { error: { kind: string } }).error.kind, 'payload-too-large');
  });

  it("bob makes an identity of his own (from the astronaut's photo)", async () => {
    const reply = await post('bob', '/v1/identities', [
      { name: 'consent', value: consent({ subject: 'other-with-permission' }) },
      { name: 'photo', filename: 'a.png', type: 'image/png', bytes: astronaut },
    ]);
    assert.equal(reply.status, 201, await reply.clone().text());
    bobIdentity = ((await reply.json()) as { id: string }).id;
  });

  it('a token sees only its own identities', async () => {
    const own = await fetch(`${api.server.url}/v1/identities/${identityId}`, { headers: api.auth('alice') });
    assert.equal(own.status, 200);
    const other = await fetch(`${api.server.url}/v1/identities/${identityId}`, { headers: api.auth('bob') });
    assert.equal(other.status, 404);
    const list = (await (await fetch(`${api.server.url}/v1/identities`, { headers: api.auth('bob') })).json()) as { identities: { id: string }[] };
    assert.deepEqual(
      list.identities.map((i) => i.id),
      [bobIdentity],
    );
  });

  it('swaps exactly the daily quota, then 429 with Retry-After and X-Quota-* (audited)', async () => {
    const formats = ['image/png', 'image/webp'];
    for (const accept of formats) {
      const reply = await post(
        'alice',
        '/v1/swaps/image',
        [
          { name: 'identityId', value: identityId },
          { name: 'target', filename: 't.png', type: 'image/png', bytes: astronaut },
        ],
        { accept },
      );
      assert.equal(reply.status, 200, await reply.clone().text());
      assert.equal(reply.headers.get('content-type'), accept);
      assert.match(reply.headers.get('x-liveswap-watermark-id') ?? '', /\S/);
      assert.equal(reply.headers.get('x-liveswap-swapped-faces'), '1');
      const image = await decodeImage(Buffer.from(await reply.arrayBuffer()), 'answer', { maxPixels: 1e8 });
      const meta = await sharp(astronaut).metadata();
      assert.equal(image.width, meta.width);
    }
    const refused = await post('alice', '/v1/swaps/image', [
      { name: 'identityId', value: identityId },
      { name: 'target', filename: 't.png', type: 'image/png', bytes: astronaut },
    ]);
    assert.equal(refused.status, 429);
    assert.equal(((await refused.json()) as { error: { kind: string } }).error.kind, 'quota-exceeded');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal(refused.headers.get('x-quota-limit'), '2');
    assert.equal(refused.headers.get('x-quota-used'), '2');
    assert.ok(Date.parse(refused.headers.get('x-quota-reset') ?? '') > Date.now());
    const { entries } = await readAudit(api.home);
    const images = entries.filter((e) => e.kind === 'image' && e.service?.identityId === identityId);
    assert.equal(images.length, 2, 'one audit line per swap');
    assert.equal(images[0]!.service?.outcome, 'ok');
    assert.equal(images[0]!.label.shown, true);
    assert.ok((images[0]!.service?.durationMs ?? 0) > 0, 'the duration covers the swap');
    assert.ok(entries.some((e) => e.kind === 'refusal' && e.service?.outcome === 'rejected-quota' && e.service.tokenId === api.ids.alice));
    const usage = (await (await fetch(`${api.server.url}/v1/usage`, { headers: api.auth('alice') })).json()) as { used: { swaps: number } };
    assert.equal(usage.used.swaps, 2);
  });

  it('past the image slots every extra swap gets 503 with Retry-After, never another 5xx', async () => {
    // Two slots (set above): six at once, so at least four find none free.
    const replies = await Promise.all(
      Array.from({ length: 6 }, () =>
        post('bob', '/v1/swaps/image', [
          { name: 'identityId', value: bobIdentity },
          { name: 'target', filename: 't.png', type: 'image/png', bytes: astronaut },
        ]),
      ),
    );
    const statuses = replies.map((r) => r.status).sort();
    assert.ok(statuses.filter((s) => s === 200).length >= 1, statuses.join(','));
    for (const reply of replies) {
      assert.ok([200, 503].includes(reply.status), `${reply.status}`);
      if (reply.status === 503) {
        assert.ok(Number(reply.headers.get('retry-after')) > 0);
        assert.equal(((await reply.json()) as { error: { kind: string } }).error.kind, 'overloaded');
      } else await reply.arrayBuffer();
    }
    assert.ok(statuses.filter((s) => s === 503).length >= 4, statuses.join(','));
    const usage = (await (await fetch(`${api.server.url}/v1/usage`, { headers: api.auth('bob') })).json()) as { used: { swaps: number } };
    assert.equal(usage.used.swaps, statuses.filter((s) => s === 200).length, 'only the swaps made are counted');
  });

  it('deleting an identity: only its owner may, and then it is gone', async () => {
    assert.equal((await fetch(`${api.server.url}/v1/identities/${bobIdentity}`, { method: 'DELETE', headers: api.auth('alice') })).status, 404);
    assert.equal((await fetch(`${api.server.url}/v1/identities/${bobIdentity}`, { method: 'DELETE', headers: api.auth('bob') })).status, 200);
    assert.equal((await fetch(`${api.server.url}/v1/identities/${bobIdentity}`, { headers: api.auth('bob') })).status, 404);
  });

  it("a failed swap is refunded, and another token's identity cannot be used", async () => {
    const before = (await (await fetch(`${api.server.url}/v1/usage`, { headers: api.auth('bob') })).json()) as { used: { swaps: number } };
    const foreign = await post('bob', '/v1/swaps/image', [
      { name: 'identityId', value: identityId },
      { name: 'target', filename: 't.png', type: 'image/png', bytes: astronaut },
    ]);
    assert.equal(foreign.status, 404);
    const after = (await (await fetch(`${api.server.url}/v1/usage`, { headers: api.auth('bob') })).json()) as { used: { swaps: number } };
    assert.equal(after.used.swaps, before.used.swaps);
  });
});

describe('protected faces', () => {
  let api: TestApi<'carol'>;
  before(async () => {
    const photo = await readFile(join(FIXTURES, 'grace_hopper.jpg'));
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const home = await mkdtemp(join(tmpdir(), 'liveswap-api-protected-'));
    const embedder = await openPhotoFaceEmbedder({ home });
    const stores = await openServiceStores({ home });
    try {
      const [face] = await embedder.embedFaces(await decodeImage(photo, 'grace', { maxPixels: 1e8 }));
      await stores.protectedFaces.add({ label: 'Grace', photoSha256: 'test', recogniser: PROTECTED_FACE_RECOGNISER, embedding: Array.from(face!.embedding) });
    } finally {
      await embedder.close();
      await stores.close();
    }
    api = await startTestApi({ carol: { scopes: ['identities:write'] } }, { home });
  });
  after(async () => {
    await api?.stop();
    if (api) await (await import('node:fs/promises')).rm(api.home, { recursive: true, force: true });
  });

  it('refuses an identity whose face is protected: 403 protected-face, audited, the label not revealed', async () => {
    const statement = (await (await fetch(`${api.server.url}/v1/consent/statement`, { headers: api.auth('carol') })).json()) as { version: string };
    const { body, contentType } = multipart([
      { name: 'consent', value: JSON.stringify({ subject: 'self', attested: true, statementVersion: statement.version }) },
      { name: 'photo', filename: 'g.jpg', type: 'image/jpeg', bytes: await readFile(join(FIXTURES, 'grace_hopper.jpg')) },
    ]);
    const reply = await fetch(`${api.server.url}/v1/identities`, { method: 'POST', headers: { ...api.auth('carol'), 'content-type': contentType }, body });
    assert.equal(reply.status, 403);
    const text = await reply.text();
    assert.equal((JSON.parse(text) as { error: { kind: string } }).error.kind, 'protected-face');
    assert.ok(!text.includes('Grace'));
    const { entries } = await readAudit(api.home);
    const line = entries.find((e) => e.kind === 'refusal' && e.service?.outcome === 'rejected-protected');
    assert.ok(line, 'a refusal line');
    assert.equal(line.service?.tokenId, api.ids.carol);
    assert.equal(line.sources.length, 1);
    const identities = await fetch(`${api.server.url}/v1/identities`, { headers: api.auth('carol') });
    assert.equal(identities.status, 403, 'carol may not even list (no identities:read)');
  });
});
