/**
 * `liveswap serve` end to end on loopback: it prints the URL, says how to make the first token,
 * answers health and stops cleanly when its signal aborts; a bad --workers or --redis is a usage
 * error before anything starts. In queue mode (a real redis-server on a unix socket) tokens live
 * in Redis, readiness checks Redis, and the rate limit is shared through it.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runServe } from '../../src/cli/serve-command.js';
import { LiveswapError } from '../../src/core/errors.js';
import { openServiceStores } from '../../src/node/service/stores.js';
import { createApiServer, type ApiServer } from '../../src/server/api/server.js';
import { redisUnavailable, startRedis, type RedisServer } from '../helpers/redis-server.js';

describe('liveswap serve', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'liveswap-serve-'));
  });
  after(async () => rm(home, { recursive: true, force: true }));

  it('prints the URL and the first-token hint, serves, and stops on the signal', async () => {
    const out: string[] = [];
    const controller = new AbortController();
    const running = runServe({ port: '0', home }, { out: (text) => out.push(text), err: (text) => out.push(`ERR ${text}`) }, { signal: controller.signal, env: {} });
    let url: string | undefined;
    for (let i = 0; i < 200 && !url; i++) {
      url = /liveswap serve: (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(out.join('\n'))?.[1];
      if (!url) await sleep(50);
    }
    assert.ok(url, out.join('\n'));
    for (let i = 0; i < 100 && !out.some((l) => l.includes('Press Ctrl-C')); i++) await sleep(50);
    assert.ok(
      out.some((line) => line.includes('liveswap tokens create')),
      out.join('\n'),
    );
    assert.ok(!out.some((line) => line.startsWith('ERR')), 'no warning on loopback');
    const health = await fetch(`${url}/v1/health`);
    assert.equal(health.status, 200);
    controller.abort();
    await running;
    await assert.rejects(fetch(`${url}/v1/health`));
  });

  it('refuses bad flags before starting', async () => {
    const terminal = { out: () => undefined, err: () => undefined };
    await assert.rejects(
      runServe({ workers: '0', home }, terminal, { env: {} }),
      (error: unknown) => error instanceof LiveswapError && error.kind === 'usage' && /--workers/.test(error.message),
    );
    await assert.rejects(runServe({ redis: 'http://nope', home }, terminal, { env: {} }), (error: unknown) => error instanceof LiveswapError && error.kind === 'usage');
    await assert.rejects(runServe({ port: 'eighty', home }, terminal, { env: {} }), (error: unknown) => error instanceof LiveswapError && error.kind === 'usage');
  });
});

describe('queue mode (Redis)', { skip: redisUnavailable() }, () => {
  let redis: RedisServer;
  let home: string;
  let server: ApiServer;
  let token: string;
  before(async () => {
    redis = await startRedis();
    home = await mkdtemp(join(tmpdir(), 'liveswap-serve-redis-'));
    const stores = await openServiceStores({ home, redisUrl: redis.url });
    try {
      token = (await stores.tokens.create({ name: 'r', scopes: ['jobs:read'] })).token;
    } finally {
      await stores.close();
    }
    server = await createApiServer({ home, port: 0, redisUrl: redis.url, logger: false, pressure: { maxEventLoopDelay: 0 }, limits: { rateLimitMax: 3 } });
  });
  after(async () => {
    await server?.close();
    await redis?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('knows tokens made in Redis, checks Redis when asked if ready, and keeps the rate limit there', async () => {
    const headers = { authorization: `Bearer ${token}` };
    const ready = await fetch(`${server.url}/v1/ready`, { headers });
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { checks: Record<string, { ok: boolean }> };
    assert.equal(body.checks.redis?.ok, true);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${server.url}/v1/usage`, { headers })).status);
    assert.deepEqual(statuses, [200, 200, 429, 429]);
  });
});
