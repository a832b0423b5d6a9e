/**
 * The mask options through the HTTP API: a multipart image swap takes maskRegions and maskPadding
 * as comma-separated text and keepRegions too (a partial swap needs nothing downloaded, so the
 * server's mesh engine paints it); an unknown region is a 400 usage error.
 */

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES } from '../helpers/fixtures.js';
import { multipart, startTestApi, type TestApi } from '../api/api-helpers.js';

describe('mask options through the API', () => {
  let api: TestApi<'alice'>;
  let identityId: string;
  let astronaut: Buffer;

  const post = async (url: string, parts: Parameters<typeof multipart>[0]) => {
    const { body, contentType } = multipart(parts);
    return fetch(`${api.server.url}${url}`, { method: 'POST', headers: { ...api.auth('alice'), 'content-type': contentType, 'user-agent': 'api-test/1' }, body });
  };

  before(async () => {
    astronaut = await readFile(join(FIXTURES, 'astronaut.png'));
    api = await startTestApi<'alice'>({ alice: { scopes: ['identities:write', 'identities:read', 'swap:image'] } });
    const statement = await fetch(`${api.server.url}/v1/consent/statement`, { headers: api.auth('alice') });
    const statementVersion = ((await statement.json()) as { version: string }).version;
    const reply = await post('/v1/identities', [
      { name: 'consent', value: JSON.stringify({ subject: 'self', attested: true, statementVersion, subjectName: 'Grace' }) },
      { name: 'photo', filename: 'grace.jpg', type: 'image/jpeg', bytes: await readFile(join(FIXTURES, 'grace_hopper.jpg')) },
    ]);
    assert.equal(reply.status, 201, await reply.clone().text());
    identityId = ((await reply.json()) as { id: string }).id;
  });
  after(async () => api?.stop());

  it('swaps with regions, kept regions, a box padding and a strength given as form text', async () => {
    const reply = await post('/v1/swaps/image', [
      { name: 'identityId', value: identityId },
      { name: 'engine', value: 'mesh' },
      { name: 'maskRegions', value: 'nose,skin' },
      { name: 'keepRegions', value: 'mouth' },
      { name: 'maskPadding', value: '5,0,10,0' },
      { name: 'maskStrength', value: '0.8' },
      { name: 'target', filename: 't.png', type: 'image/png', bytes: astronaut },
    ]);
    assert.equal(reply.status, 200, await reply.clone().text());
    assert.equal(reply.headers.get('x-liveswap-swapped-faces'), '1');
  });

  it('an unknown region is 400', async () => {
    const reply = await post('/v1/swaps/image', [
      { name: 'identityId', value: identityId },
      { name: 'maskRegions', value: 'ears' },
      { name: 'target', filename: 't.png', type: 'image/png', bytes: astronaut },
    ]);
    assert.equal(reply.status, 400, await reply.clone().text());
    assert.match(await reply.text(), /maskRegions/);
  });
});
