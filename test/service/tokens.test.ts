/**
 * API tokens: the format, hashing and every refusal; the file store (mode 0600, no secret on disk,
 * concurrent creates from several processes all kept, a revoke seen by another store within about
 * a second) and the Redis store (a real redis-server; a change in one store reaches another).
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { connectRedis } from '../../src/node/service/redis.js';
import { openServiceStores } from '../../src/node/service/stores.js';
import {
  authenticateAgainst,
  FileTokenStore,
  generateToken,
  hashSecret,
  parseExpiry,
  parseScopes,
  parseToken,
  RedisTokenStore,
  tokensFilePath,
} from '../../src/node/service/tokens.js';
import type { TokenRecord, TokenStore } from '../../src/node/service/types.js';
import { TSX_URL } from '../cli/run-cli.js';
import { redisUnavailable, startRedis, type RedisServer } from '../helpers/redis-server.js';

const usage = (pattern: RegExp) => (error: unknown) => error instanceof LiveswapError && error.kind === 'usage' && pattern.test(error.message);

/** Polls until `check` holds, for at most `ms`; the last result. */
async function within(ms: number, check: () => boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

describe('token format and checks', () => {
  it('lsw_<12 alphanumerics>_<43 base64url>, 256 random bits, parsed back', () => {
    const { id, secret, token } = generateToken();
    assert.match(token, /^lsw_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(secret, 'base64url').length, 32);
    assert.deepEqual(parseToken(token), { id, secret });
    assert.equal(parseToken(`${token}x`), undefined);
    assert.equal(parseToken(token.replace('lsw_', 'lsx_')), undefined);
    assert.notEqual(generateToken().token, token);
  });

  it('every refusal, and Bearer or bare tokens accepted', () => {
    const { id, secret, token } = generateToken();
    const record: TokenRecord = { id, name: 'a', secretSha256: hashSecret(secret), scopes: ['swap:image'], quotas: {}, createdAt: '2026-01-01T00:00:00.000Z' };
    const records = new Map([[id, record]]);
    assert.deepEqual(authenticateAgainst(records, `Bearer ${token}`), { ok: true, token: record });
    assert.deepEqual(authenticateAgainst(records, `bearer  ${token} `), { ok: true, token: record });
    assert.deepEqual(authenticateAgainst(records, token), { ok: true, token: record });
    assert.deepEqual(authenticateAgainst(records, undefined), { ok: false, refusal: 'missing' });
    assert.deepEqual(authenticateAgainst(records, '  '), { ok: false, refusal: 'missing' });
    assert.deepEqual(authenticateAgainst(records, 'Bearer nope'), { ok: false, refusal: 'malformed' });
    assert.deepEqual(authenticateAgainst(records, `Bearer ${generateToken().token}`), { ok: false, refusal: 'unknown' });
    // The right id with another secret is unknown too (never "revoked" or "expired" without the secret).
    const wrongSecret = `lsw_${id}_${generateToken().secret}`;
    assert.deepEqual(authenticateAgainst(records, wrongSecret), { ok: false, refusal: 'unknown' });
    const revoked = new Map([[id, { ...record, revokedAt: '2026-02-01T00:00:00.000Z' }]]);
    assert.deepEqual(authenticateAgainst(revoked, token), { ok: false, refusal: 'revoked' });
    assert.deepEqual(authenticateAgainst(new Map([[id, { ...revoked.get(id)!, revokedAt: undefined }]]), wrongSecret), { ok: false, refusal: 'unknown' });
    const expiring = new Map([[id, { ...record, expiresAt: '2026-03-01T00:00:00.000Z' }]]);
    assert.equal(authenticateAgainst(expiring, token, new Date('2026-02-28T23:59:59Z')).ok, true);
    assert.deepEqual(authenticateAgainst(expiring, token, new Date('2026-03-01T00:00:00Z')), { ok: false, refusal: 'expired' });
  });

  it('scopes and expiry from the command line', () => {
    assert.deepEqual(parseScopes('swap:image, jobs:read,swap:image'), ['swap:image', 'jobs:read']);
    assert.throws(() => parseScopes('swap:image,fly'), usage(/Unknown scope "fly".*swap:image, swap:video, identities:read/));
    assert.throws(() => parseScopes(' , '), usage(/--scopes/));
    const now = new Date('2026-12-01T00:00:00Z');
    assert.equal(parseExpiry('30d', now), '2026-12-31T00:00:00.000Z');
    assert.equal(parseExpiry('12h', now), '2026-12-01T12:00:00.000Z');
    assert.equal(parseExpiry('2027-01-31', now), '2027-01-31T00:00:00.000Z');
    assert.throws(() => parseExpiry('2026-11-01', now), usage(/in the future/));
    assert.throws(() => parseExpiry('soon', now), usage(/30d/));
  });
});

/** What both stores must do. */
function storeContract(open: () => Promise<TokenStore>): void {
  it('create → authenticate → list (no secrets) → revoke; bad requests are usage errors', async () => {
    const store = await open();
    try {
      const { token, record } = await store.create({ name: 'ci', scopes: ['swap:image', 'jobs:read'], quotas: { swapsPerDay: 5 } });
      assert.equal(record.secretSha256, hashSecret(parseToken(token)!.secret));
      assert.deepEqual(store.authenticate(`Bearer ${token}`), { ok: true, token: record });
      assert.deepEqual(await store.get(record.id), record);
      assert.ok((await store.list()).some((r) => r.id === record.id));
      assert.equal(await store.revoke(record.id), true);
      assert.deepEqual(store.authenticate(`Bearer ${token}`), { ok: false, refusal: 'revoked' });
      assert.ok((await store.get(record.id))?.revokedAt);
      assert.equal(await store.revoke('AAAAAAAAAAAA'), false);
      await assert.rejects(store.create({ name: '', scopes: ['swap:image'] }), usage(/name/));
      await assert.rejects(store.create({ name: 'x', scopes: ['nope' as never] }), usage(/Unknown scope/));
      await assert.rejects(store.create({ name: 'x', scopes: ['admin'], quotas: { swapsPerDay: -1 } }), usage(/whole number/));
      await assert.rejects(store.create({ name: 'x', scopes: ['admin'], expiresAt: '2000-01-01T00:00:00Z' }), usage(/future/));
    } finally {
      await store.close();
    }
  });

  it('a token revoked through one store is refused by another within about a second', async () => {
    const [a, b] = [await open(), await open()];
    try {
      const { token, record } = await a.create({ name: 'shared', scopes: ['swap:video'] });
      assert.ok(await within(1500, () => b.authenticate(token).ok), 'the other store sees the new token');
      await a.revoke(record.id);
      assert.ok(await within(1500, () => !b.authenticate(token).ok), 'the other store refuses it within 1.5 s');
      assert.deepEqual(b.authenticate(token), { ok: false, refusal: 'revoked' });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
}

describe('file token store', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'liveswap-tokens-'));
  });
  after(async () => {
    await rm(home, { recursive: true, force: true });
  });

  storeContract(() => FileTokenStore.open(home));

  it('tokens.json is private and holds no secret', async () => {
    const store = await FileTokenStore.open(home);
    const { token } = await store.create({ name: 'private', scopes: ['admin'] });
    const text = await readFile(tokensFilePath(home), 'utf8');
    assert.equal((await stat(tokensFilePath(home))).mode & 0o777, 0o600);
    assert.ok(!text.includes(parseToken(token)!.secret), 'the secret is not stored');
    assert.ok(text.includes(hashSecret(parseToken(token)!.secret)));
  });

  it('concurrent creates from several processes all stay', async () => {
    const own = await mkdtemp(join(tmpdir(), 'liveswap-tokens-race-'));
    try {
      const script = `
        const { FileTokenStore } = await import(${JSON.stringify(new URL('../../src/node/service/tokens.ts', import.meta.url).href)});
        const store = await FileTokenStore.open(process.argv[1]);
        await Promise.all(Array.from({ length: 8 }, (_, i) => store.create({ name: 'p' + process.pid + '-' + i, scopes: ['swap:image'] })));
      `;
      const runs = Array.from(
        { length: 3 },
        () =>
          new Promise<number | null>((resolve, reject) => {
            const child = spawn(process.execPath, ['--import', TSX_URL, '--input-type=module', '-e', script, own], { stdio: ['ignore', 'ignore', 'inherit'] });
            child.on('error', reject);
            child.on('exit', resolve);
          }),
      );
      assert.deepEqual(await Promise.all(runs), [0, 0, 0]);
      const store = await FileTokenStore.open(own);
      const names = (await store.list()).map((r) => r.name);
      assert.equal(names.length, 24);
      assert.equal(new Set(names).size, 24);
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });

  it('a damaged tokens.json is an error naming it, never an empty list', async () => {
    const own = await mkdtemp(join(tmpdir(), 'liveswap-tokens-bad-'));
    try {
      const store = await FileTokenStore.open(own);
      await store.create({ name: 'x', scopes: ['admin'] });
      const { writeFile } = await import('node:fs/promises');
      await writeFile(tokensFilePath(own), '{"tokens": [');
      await assert.rejects(FileTokenStore.open(own), (e: unknown) => e instanceof LiveswapError && e.kind === 'input-unreadable' && e.message.includes('tokens.json'));
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});

const skip = redisUnavailable();

describe('Redis token store', { skip }, () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  storeContract(() => RedisTokenStore.open(connectRedis(redis.url, 'test'), { ownsClient: true }));

  it('openServiceStores: Redis tokens and quotas with a URL, files without; an unreachable Redis is a usage error', async () => {
    const home = await mkdtemp(join(tmpdir(), 'liveswap-stores-'));
    try {
      const queued = await openServiceStores({ home, redisUrl: redis.url, timeZone: 'Asia/Shanghai' });
      const local = await openServiceStores({ home });
      try {
        assert.equal(queued.mode, 'redis');
        assert.equal(local.mode, 'files');
        const { token } = await queued.tokens.create({ name: 'both', scopes: ['admin'] });
        assert.equal(queued.tokens.authenticate(token).ok, true);
        assert.equal(local.tokens.authenticate(token).ok, false, 'the file store is another store');
        assert.deepEqual(await queued.quotas.reserve('t', 'swaps', 1, 1, new Date('2026-12-06T16:30:00Z')), { ok: true });
        assert.equal((await queued.quotas.usage('t', new Date('2026-12-06T16:30:00Z'))).day, '2026-12-07');
        assert.equal(queued.consent.statement().sha256, local.consent.statement().sha256);
      } finally {
        await Promise.all([queued.close(), local.close()]);
      }
      await assert.rejects(openServiceStores({ home, redisUrl: `unix://${join(home, 'no.sock')}`, connectTimeoutMs: 300 }), usage(/Cannot reach Redis at unix:/));
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('records live in the hash ls:tokens, secrets only as hashes', async () => {
    const store = await RedisTokenStore.open(connectRedis(redis.url, 'test'), { ownsClient: true });
    const client = connectRedis(redis.url, 'test-reader');
    try {
      const { token, record } = await store.create({ name: 'in-redis', scopes: ['metrics'] });
      const stored = await client.hget('ls:tokens', record.id);
      assert.ok(stored);
      assert.deepEqual(JSON.parse(stored), record);
      assert.ok(!stored.includes(parseToken(token)!.secret));
    } finally {
      await store.close();
      await client.quit();
    }
  });
});
