/**
 * Daily quotas on both ledgers (memory + usage.json, and a real redis-server) with an injected
 * clock: exactly N reservations then a refusal with the time to the next day; a refund makes room
 * on the reservation's day; the next day starts fresh; Asia/Shanghai's midnight is 16:00 UTC;
 * 50 parallel reservations against a limit of 10 give exactly 10; a restart keeps the day's counters.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { MemoryQuotaLedger, QuotaCalendar, RedisQuotaLedger, usageFilePath } from '../../src/node/service/quotas.js';
import { connectRedis } from '../../src/node/service/redis.js';
import type { QuotaLedger } from '../../src/node/service/types.js';
import { redisUnavailable, startRedis, type RedisServer } from '../helpers/redis-server.js';

describe('quota calendar', () => {
  it('days and their end in UTC, Asia/Shanghai and across a daylight-saving change', () => {
    const utc = new QuotaCalendar();
    assert.equal(utc.dayOf(new Date('2026-12-06T23:59:59Z')), '2026-12-06');
    assert.equal(utc.nextDayStart(new Date('2026-12-06T23:00:00Z')).toISOString(), '2026-12-07T00:00:00.000Z');
    assert.equal(utc.secondsToNextDay(new Date('2026-12-06T23:00:00Z')), 3600);
    assert.equal(utc.secondsToNextDay(new Date('2026-12-06T23:59:59.500Z')), 1);
    const shanghai = new QuotaCalendar('Asia/Shanghai');
    assert.equal(shanghai.dayOf(new Date('2026-12-06T15:59:59Z')), '2026-12-06');
    assert.equal(shanghai.dayOf(new Date('2026-12-06T16:00:00Z')), '2026-12-07');
    assert.equal(shanghai.nextDayStart(new Date('2026-12-06T03:00:00Z')).toISOString(), '2026-12-06T16:00:00.000Z');
    const berlin = new QuotaCalendar('Europe/Berlin');
    // 29 March 2026: clocks go from +1 to +2 at 02:00 local; the next midnight is 22:00 UTC.
    assert.equal(berlin.nextDayStart(new Date('2026-03-29T12:00:00Z')).toISOString(), '2026-03-29T22:00:00.000Z');
    assert.equal(berlin.nextDayStart(new Date('2026-03-28T12:00:00Z')).toISOString(), '2026-03-28T23:00:00.000Z');
    assert.throws(
      () => new QuotaCalendar('Mars/Olympus'),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'usage' && /Mars\/Olympus/.test(e.message),
    );
  });
});

/** What both ledgers must do; `open` gives a fresh ledger on fresh counters. */
function ledgerContract(open: (timeZone?: string) => Promise<QuotaLedger>): void {
  it('exactly N reservations, then a refusal until the next day; a refund makes room on its own day', async () => {
    const ledger = await open();
    try {
      const morning = new Date('2026-12-06T10:00:00Z');
      for (let i = 0; i < 3; i++) assert.deepEqual(await ledger.reserve('tok', 'swaps', 1, 3, morning), { ok: true });
      assert.deepEqual(await ledger.reserve('tok', 'swaps', 1, 3, morning), { ok: false, used: 3, limit: 3, retryAfterSeconds: 14 * 3600 });
      assert.deepEqual(await ledger.reserve('other', 'swaps', 1, 3, morning), { ok: true }, 'another token has its own counter');
      assert.equal((await ledger.reserve('tok', 'videoSeconds', 10, 3, morning)).ok, false, 'more than the limit at once is refused');
      await ledger.refund('tok', 'swaps', 1, morning);
      assert.deepEqual(await ledger.reserve('tok', 'swaps', 1, 3, new Date('2026-12-06T11:00:00Z')), { ok: true });
      assert.equal((await ledger.reserve('tok', 'swaps', 1, 3, new Date('2026-12-06T23:59:59Z'))).ok, false);
      const nextDay = new Date('2026-12-07T00:00:00Z');
      assert.deepEqual(await ledger.reserve('tok', 'swaps', 1, 3, nextDay), { ok: true }, 'the next day starts fresh');
      // A refund of yesterday's job lands on yesterday, not on today.
      await ledger.refund('tok', 'swaps', 2, morning);
      assert.equal((await ledger.usage('tok', morning)).used.swaps, 1);
      const today = await ledger.usage('tok', nextDay);
      assert.deepEqual(today, { day: '2026-12-07', resetsAt: '2026-12-08T00:00:00.000Z', used: { swaps: 1, videoSeconds: 0, talkSeconds: 0, liveMinutes: 0 } });
      // Never below zero.
      await ledger.refund('tok', 'swaps', 99, nextDay);
      assert.equal((await ledger.usage('tok', nextDay)).used.swaps, 0);
      // No limit: always ok, still counted.
      assert.deepEqual(await ledger.reserve('tok', 'talkSeconds', 40, undefined, nextDay), { ok: true });
      assert.equal((await ledger.usage('tok', nextDay)).used.talkSeconds, 40);
    } finally {
      await ledger.close();
    }
  });

  it('the day ends at midnight in Asia/Shanghai (16:00 UTC)', async () => {
    const ledger = await open('Asia/Shanghai');
    try {
      const before = new Date('2026-12-06T15:59:00Z');
      assert.deepEqual(await ledger.reserve('sh', 'swaps', 2, 2, before), { ok: true });
      assert.deepEqual(await ledger.reserve('sh', 'swaps', 1, 2, before), { ok: false, used: 2, limit: 2, retryAfterSeconds: 60 });
      assert.deepEqual(await ledger.reserve('sh', 'swaps', 1, 2, new Date('2026-12-06T16:00:00Z')), { ok: true });
      assert.equal((await ledger.usage('sh', new Date('2026-12-06T16:00:00Z'))).day, '2026-12-07');
    } finally {
      await ledger.close();
    }
  });

  it('50 reservations at once against a limit of 10: exactly 10 succeed', async () => {
    const ledger = await open();
    try {
      const now = new Date('2026-12-06T12:00:00Z');
      const results = await Promise.all(Array.from({ length: 50 }, () => ledger.reserve('race', 'swaps', 1, 10, now)));
      assert.equal(results.filter((r) => r.ok).length, 10);
      assert.equal((await ledger.usage('race', now)).used.swaps, 10);
    } finally {
      await ledger.close();
    }
  });
}

describe('memory quota ledger (usage.json)', () => {
  let root: string;
  let n = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'liveswap-quotas-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  ledgerContract((timeZone) => MemoryQuotaLedger.open({ home: join(root, `h${n++}`), ...(timeZone ? { timeZone } : {}) }));

  it('a restart keeps the day’s counters (the limit cannot be escaped by restarting)', async () => {
    const home = join(root, 'restart');
    const now = new Date();
    const first = await MemoryQuotaLedger.open({ home });
    assert.equal((await first.reserve('t', 'swaps', 2, 2, now)).ok, true);
    await first.close();
    assert.equal((await stat(usageFilePath(home))).mode & 0o777, 0o600);
    const second = await MemoryQuotaLedger.open({ home });
    assert.deepEqual(await second.reserve('t', 'swaps', 1, 2, now), { ok: false, used: 2, limit: 2, retryAfterSeconds: second.calendar.secondsToNextDay(now) });
    await second.refund('t', 'swaps', 1, now);
    await second.close();
    const third = await MemoryQuotaLedger.open({ home });
    assert.equal((await third.usage('t', now)).used.swaps, 1);
    await third.close();
  });
});

const skip = redisUnavailable();

describe('Redis quota ledger', { skip }, () => {
  let redis: RedisServer;
  let n = 0;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  // Each ledger gets its own database-free namespace by token ids, so a fresh prefix per test.
  ledgerContract(async (timeZone) => {
    const client = connectRedis(redis.url, `quota-test-${n++}`);
    await client.flushdb();
    return RedisQuotaLedger.open(client, { ownsClient: true, ...(timeZone ? { timeZone } : {}) });
  });

  it('counters are ls:q:<token>:<day>:<metric> with a three-day expiry; two ledgers share them', async () => {
    const client = connectRedis(redis.url, 'quota-inspect');
    const a = RedisQuotaLedger.open(connectRedis(redis.url, 'a'), { ownsClient: true });
    const b = RedisQuotaLedger.open(connectRedis(redis.url, 'b'), { ownsClient: true });
    try {
      const now = new Date('2026-12-06T12:00:00Z');
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).reserve('shared', 'videoSeconds', 5, 100, now)));
      assert.equal(results.filter((r) => r.ok).length, 20);
      assert.equal(await client.get('ls:q:shared:2026-12-06:videoSeconds'), '100');
      const ttl = await client.ttl('ls:q:shared:2026-12-06:videoSeconds');
      assert.ok(ttl > 2 * 86_400 && ttl <= 3 * 86_400, `ttl ${ttl}`);
    } finally {
      await Promise.all([a.close(), b.close(), client.quit()]);
    }
  });
});
