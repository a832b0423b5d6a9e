/**
 * Every route of the API, read from its own OpenAPI document (so a new route cannot skip these):
 * no token, a malformed or unknown token → 401 with WWW-Authenticate; a token without the route's
 * scope → 403; health needs none. Revoked and expired tokens → 401. Also the error shape,
 * validation errors, body limits, the rate limit and secrets kept out of the logs.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { parseToken } from '../../src/node/service/tokens.js';
import { openApiDocument } from '../../src/server/api/server.js';
import { startTestApi, type TestApi } from './api-helpers.js';

type Names = 'none' | 'other' | 'admin' | 'short' | 'limited';
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head'] as const;
/** Routes any valid token may call. */
const ANY_TOKEN = new Set(['GET /v1/ready', 'GET /v1/consent/statement', 'GET /v1/usage', 'GET /v1/openapi.json']);

interface Operation {
  method: (typeof METHODS)[number];
  path: string;
  url: string;
}

async function operations(): Promise<Operation[]> {
  const document = (await openApiDocument()) as { paths: Record<string, Record<string, unknown>> };
  const found: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      if (item[method] === undefined) continue;
      found.push({ method, path, url: path.replace(/\{[^}]+\}/g, 'abc123') });
    }
  }
  return found;
}

describe('API auth on every route', () => {
  let api: TestApi<Names>;
  let ops: Operation[];
  const logs: string[] = [];
  before(async () => {
    ops = await operations();
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    api = await startTestApi<Names>(
      {
        // Every scope has a route now: `none` holds metrics only and `other` talk only, and each
        // scoped route is asked with the one that lacks its scope (the metrics route gets `other`).
        none: { scopes: ['metrics'] },
        other: { scopes: ['talk'] },
        admin: { scopes: ['admin'] },
        short: { scopes: ['jobs:read'], expiresAt: new Date(Date.now() + 1500).toISOString() },
        limited: { scopes: ['jobs:read'] },
      },
      { logger: { level: 'info', stream }, limits: { rateLimitMax: 5, rateLimitWindowMs: 60_000 } },
    );
  });
  after(async () => api?.stop());

  it('the document lists every route of the issue', () => {
    const listed = new Set(ops.map((op) => `${op.method.toUpperCase()} ${op.path}`));
    for (const route of [
      'GET /v1/health',
      'GET /v1/ready',
      'GET /v1/metrics',
      'GET /v1/consent/statement',
      'POST /v1/identities',
      'GET /v1/identities',
      'GET /v1/identities/{id}',
      'DELETE /v1/identities/{id}',
      'POST /v1/swaps/image',
      'POST /v1/uploads',
      'PATCH /v1/uploads/{id}',
      'HEAD /v1/uploads/{id}',
      'POST /v1/jobs/video',
      'POST /v1/batches',
      'GET /v1/jobs/{id}',
      'GET /v1/jobs/{id}/events',
      'GET /v1/jobs/{id}/result',
      'DELETE /v1/jobs/{id}',
      'GET /v1/usage',
      'GET /v1/openapi.json',
      'POST /v1/admin/tokens',
      'GET /v1/admin/tokens',
      'DELETE /v1/admin/tokens/{id}',
    ]) {
      assert.ok(listed.has(route), `${route} is missing from the OpenAPI document`);
    }
  });

  it('every operation has a summary and a response schema, and all but health require the bearer token', async () => {
    const document = (await openApiDocument()) as { paths: Record<string, Record<string, { summary?: string; responses?: Record<string, unknown>; security?: unknown[] }>> };
    for (const op of ops) {
      const operation = document.paths[op.path]![op.method]!;
      assert.ok(operation.summary, `${op.method} ${op.path} has no summary`);
      assert.ok(operation.responses && Object.keys(operation.responses).length > 0, `${op.method} ${op.path} has no responses`);
      if (op.path === '/v1/health') assert.deepEqual(operation.security, []);
      else assert.ok(operation.responses['401'], `${op.method} ${op.path} does not document 401`);
    }
  });

  it('health answers without a token', async () => {
    const reply = await api.server.app.inject({ url: '/v1/health' });
    assert.equal(reply.statusCode, 200);
    assert.equal(reply.json<{ status: string }>().status, 'ok');
  });

  it('every other route refuses a missing, malformed or unknown token with 401', async () => {
    const unknown = 'lsw_AAAAAAAAAAAA_' + 'A'.repeat(43);
    for (const op of ops) {
      if (op.path === '/v1/health') continue;
      for (const authorization of [undefined, 'Bearer nonsense', 'Basic dXNlcjpwYXNz', `Bearer ${unknown}`]) {
        const reply = await api.server.app.inject({ method: op.method.toUpperCase() as 'GET', url: op.url, headers: authorization ? { authorization } : {} });
        assert.equal(reply.statusCode, 401, `${op.method} ${op.url} with ${authorization ?? 'no token'}: ${reply.statusCode} ${reply.body}`);
        assert.match(String(reply.headers['www-authenticate']), /^Bearer/);
        if (op.method !== 'head') assert.equal(reply.json<{ error: { kind: string } }>().error.kind, 'unauthorized');
      }
    }
  });

  it('every scoped route refuses a token without its scope with 403', async () => {
    for (const op of ops) {
      const name = `${op.method.toUpperCase()} ${op.path}`;
      if (op.path === '/v1/health' || ANY_TOKEN.has(name)) continue;
      const reply = await api.server.app.inject({ method: op.method.toUpperCase() as 'GET', url: op.url, headers: api.auth(op.path === '/v1/metrics' ? 'other' : 'none') });
      assert.equal(reply.statusCode, 403, `${name}: ${reply.statusCode} ${reply.body}`);
      if (op.method !== 'head') assert.equal(reply.json<{ error: { kind: string } }>().error.kind, 'forbidden');
    }
  });

  it('routes open to any token answer a token with an unrelated scope', async () => {
    for (const name of ANY_TOKEN) {
      const url = name.split(' ')[1]!;
      const reply = await api.server.app.inject({ url, headers: api.auth('none') });
      assert.equal(reply.statusCode, 200, `${name}: ${reply.body}`);
    }
  });

  it('a revoked token is refused with 401 at once', async () => {
    const before = await api.server.app.inject({ url: '/v1/jobs/abc', headers: api.auth('limited') });
    assert.equal(before.statusCode, 404);
    const revoke = await api.server.app.inject({ method: 'DELETE', url: `/v1/admin/tokens/${api.ids.limited}`, headers: api.auth('admin') });
    assert.equal(revoke.statusCode, 200, revoke.body);
    assert.ok(revoke.json<{ revokedAt?: string }>().revokedAt);
    const afterRevoke = await api.server.app.inject({ url: '/v1/jobs/abc', headers: api.auth('limited') });
    assert.equal(afterRevoke.statusCode, 401);
    assert.match(afterRevoke.json<{ error: { message: string } }>().error.message, /revoked/);
  });

  it('an expired token is refused with 401', async () => {
    const wait =
      Date.parse(
        (await api.server.app.inject({ url: '/v1/admin/tokens', headers: api.auth('admin') }))
          .json<{ tokens: { id: string; expiresAt?: string }[] }>()
          .tokens.find((t) => t.id === api.ids.short)!.expiresAt!,
      ) - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait + 50));
    const reply = await api.server.app.inject({ url: '/v1/jobs/abc', headers: api.auth('short') });
    assert.equal(reply.statusCode, 401);
    assert.match(reply.json<{ error: { message: string } }>().error.message, /expired/);
  });

  it('a body that fails its schema is 400 usage in the one error shape', async () => {
    const reply = await api.server.app.inject({ method: 'POST', url: '/v1/admin/tokens', headers: api.auth('admin'), payload: { name: 'x', scopes: ['fly'] } });
    assert.equal(reply.statusCode, 400);
    const body = reply.json<{ error: { kind: string; message: string } }>();
    assert.equal(body.error.kind, 'usage');
    assert.deepEqual(Object.keys(body), ['error']);
  });

  it('a JSON body over 1 MiB is 413', async () => {
    const payload = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10), scopes: ['admin'] });
    const reply = await api.server.app.inject({ method: 'POST', url: '/v1/admin/tokens', headers: { ...api.auth('admin'), 'content-type': 'application/json' }, payload });
    assert.equal(reply.statusCode, 413);
    assert.equal(reply.json<{ error: { kind: string } }>().error.kind, 'payload-too-large');
  });

  it('admin can make a token over HTTP; it works at once and its secret is shown only then', async () => {
    const made = await api.server.app.inject({ method: 'POST', url: '/v1/admin/tokens', headers: api.auth('admin'), payload: { name: 'made', scopes: ['metrics'] } });
    assert.equal(made.statusCode, 201, made.body);
    const { token, record } = made.json<{ token: string; record: { id: string } }>();
    const metrics = await api.server.app.inject({ url: '/v1/metrics', headers: { authorization: `Bearer ${token}` } });
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.body, /liveswap_http_requests_total\{method="GET",route="\/v1\/health",status="200"\}/);
    const list = await api.server.app.inject({ url: '/v1/admin/tokens', headers: api.auth('admin') });
    assert.ok(list.body.includes(record.id));
    assert.ok(!list.body.includes(parseToken(token)!.secret), 'the list shows no secret');
    assert.ok(!list.body.includes('secretSha256'));
  });

  it('past the per-token rate limit: 429 with Retry-After, in the error shape; another token is unaffected', async () => {
    let last;
    for (let i = 0; i < 8; i++) last = await api.server.app.inject({ url: '/v1/consent/statement', headers: api.auth('none') });
    assert.equal(last!.statusCode, 429);
    assert.ok(Number(last!.headers['retry-after']) > 0);
    assert.equal(last!.json<{ error: { kind: string } }>().error.kind, 'rate-limited');
    const other = await api.server.app.inject({ url: '/v1/usage', headers: api.auth('admin') });
    assert.equal(other.statusCode, 200);
  });

  it('logs are JSON lines with reqId and never carry a token', async () => {
    await api.server.app.inject({ url: '/v1/usage?token=lsw_should_not_show', headers: api.auth('admin') });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const text = logs.join('');
    assert.ok(!text.includes('lsw_should_not_show'), 'a token in the query reached the log');
    assert.ok(text.length > 0);
    const line = JSON.parse(text.split('\n').find((l) => l.includes('"reqId"'))!) as { reqId: string };
    assert.ok(line.reqId);
    for (const token of Object.values(api.tokens)) assert.ok(!text.includes(parseToken(token)!.secret), 'a secret reached the log');
  });
});
