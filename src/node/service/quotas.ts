/**
 * Daily quotas: counters per token, day and metric, reserved atomically before the work and
 * refunded when it fails or is cancelled. The day ends at midnight in the service's time zone
 * (UTC unless configured; e.g. Asia/Shanghai for users in China). Two ledgers, one behaviour:
 * in memory for one process, written to `<home>/service/usage.json` after every change so a
 * restart does not reset the day (the limit cannot be escaped by restarting), and Redis (a Lua
 * script per reservation, shared by every API process).
 */

import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { LiveswapError } from '../../core/errors.js';
import { ensurePrivateDir, readJsonFile, serviceDir, writePrivateJson } from './state-files.js';
import { DAILY_METRICS, type DailyMetric, type QuotaLedger, type Reservation } from './types.js';

export const DEFAULT_TIME_ZONE = 'UTC';
/** How long Redis keeps a day's counter: long enough for refunds of jobs that ran past midnight. */
export const QUOTA_KEY_TTL_SECONDS = 3 * 86_400;
/** Days of counters kept in usage.json besides today (for late refunds). */
const KEPT_DAYS = 3;

/** Days in one IANA time zone: which day an instant falls on and when that day ends. */
export class QuotaCalendar {
  readonly timeZone: string;
  private readonly dateFormat: Intl.DateTimeFormat;
  private readonly partsFormat: Intl.DateTimeFormat;

  /** An unknown zone is a usage error naming it. */
  constructor(timeZone: string = DEFAULT_TIME_ZONE) {
    try {
      this.dateFormat = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
      this.partsFormat = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new LiveswapError('usage', `Unknown time zone ${JSON.stringify(timeZone)} for the quota day: use an IANA name such as UTC, Europe/Berlin or Asia/Shanghai.`);
    }
    this.timeZone = this.dateFormat.resolvedOptions().timeZone;
  }

  /**
   * The last day worked out: every instant in [from, end) is on `day` (days only move forward),
   * so the routes that ask on every request skip the time-zone arithmetic.
   */
  private known: { day: string; from: number; end: number } | undefined;

  /** The day of `now` in the zone, as yyyy-mm-dd. */
  dayOf(now: Date): string {
    const t = now.getTime();
    const known = this.known;
    if (known && t >= known.from && t < known.end) return known.day;
    return this.dateFormat.format(now);
  }

  /** The zone's offset from UTC at instant `t` (ms), e.g. +8 h for Asia/Shanghai. */
  private offsetAt(t: number): number {
    const parts: Record<string, number> = {};
    for (const part of this.partsFormat.formatToParts(new Date(t))) if (part.type !== 'literal') parts[part.type] = Number(part.value);
    const local = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour! % 24, parts.minute!, parts.second!);
    return local - (t - (((t % 1000) + 1000) % 1000));
  }

  /** The first instant of the day after `now`'s day, in the zone. */
  nextDayStart(now: Date): Date {
    const t = now.getTime();
    const known = this.known;
    if (known && t >= known.from && t < known.end) return new Date(known.end);
    const today = this.dayOf(now);
    const [year, month, day] = today.split('-').map(Number) as [number, number, number];
    const midnight = Date.UTC(year, month - 1, day + 1);
    // Two rounds settle the offset across a daylight-saving change.
    let start = midnight - this.offsetAt(midnight);
    start = midnight - this.offsetAt(start);
    if (start <= t) start += 86_400_000;
    this.known = { day: today, from: t, end: start };
    return new Date(start);
  }

  /** Whole seconds from `now` to the next day (at least 1): the `Retry-After` of a daily quota. */
  secondsToNextDay(now: Date): number {
    return Math.max(1, Math.ceil((this.nextDayStart(now).getTime() - now.getTime()) / 1000));
  }
}

/** Amounts are whole units (round video seconds up before reserving); anything else is a bug of the caller. */
function checkAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new LiveswapError('internal', `A quota amount must be a whole number ≥ 0, not ${amount}.`);
}

function zeroUsage(): Record<DailyMetric, number> {
  return Object.fromEntries(DAILY_METRICS.map((m) => [m, 0])) as Record<DailyMetric, number>;
}

/** usage.json: counters by day, token and metric. */
interface UsageFile {
  version: 1;
  days: Record<string, Record<string, Partial<Record<DailyMetric, number>>>>;
}

export function usageFilePath(home: string): string {
  return join(serviceDir(home), 'usage.json');
}

function parseUsageFile(value: unknown, path: string): UsageFile['days'] {
  if (value === undefined) return {};
  const days = (value as Partial<UsageFile> | null)?.days;
  if (typeof value !== 'object' || value === null || typeof days !== 'object' || days === null) {
    throw new LiveswapError('input-unreadable', `${path} is damaged (no "days"). Restore it, or move it away to start the day's counters from zero.`, { file: path });
  }
  const clean: UsageFile['days'] = {};
  for (const [day, tokens] of Object.entries(days)) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || typeof tokens !== 'object' || tokens === null) continue;
    for (const [tokenId, metrics] of Object.entries(tokens as Record<string, unknown>)) {
      if (typeof metrics !== 'object' || metrics === null) continue;
      for (const metric of DAILY_METRICS) {
        const n = (metrics as Record<string, unknown>)[metric];
        if (typeof n === 'number' && Number.isSafeInteger(n) && n > 0) ((clean[day] ??= {})[tokenId] ??= {})[metric] = n;
      }
    }
  }
  return clean;
}

/**
 * The ledger of one process: counters in memory, written to usage.json (atomically, mode 0600)
 * after every change; `reserve` and `refund` resolve once their change is on disk. Only one
 * process may use a home's ledger at a time (`serve` without Redis); several API processes need
 * the Redis ledger.
 */
export class MemoryQuotaLedger implements QuotaLedger {
  private writing: Promise<void> | undefined;
  private pending: Promise<void> | undefined;

  private constructor(
    private readonly path: string | undefined,
    private days: UsageFile['days'],
    readonly calendar: QuotaCalendar,
  ) {}

  /** A ledger persisted under `home` (read back on open); without `home`, in memory only (tests of one run). */
  static async open(options: { home?: string; timeZone?: string } = {}): Promise<MemoryQuotaLedger> {
    const calendar = new QuotaCalendar(options.timeZone);
    if (options.home === undefined) return new MemoryQuotaLedger(undefined, {}, calendar);
    await ensurePrivateDir(serviceDir(options.home));
    const path = usageFilePath(options.home);
    return new MemoryQuotaLedger(path, parseUsageFile(await readJsonFile(path), path), calendar);
  }

  private used(tokenId: string, day: string, metric: DailyMetric): number {
    return this.days[day]?.[tokenId]?.[metric] ?? 0;
  }

  private set(tokenId: string, day: string, metric: DailyMetric, value: number): void {
    const tokens = (this.days[day] ??= {});
    const metrics = (tokens[tokenId] ??= {});
    if (value > 0) metrics[metric] = value;
    else delete metrics[metric];
  }

  /** Writes the counters; calls made while a write runs share the next one. */
  private persist(now: Date): Promise<void> {
    if (this.path === undefined) return Promise.resolve();
    if (this.pending) return this.pending;
    const path = this.path;
    const run = async (): Promise<void> => {
      await this.writing?.catch(() => undefined);
      this.pending = undefined;
      const oldest = this.calendar.dayOf(new Date(now.getTime() - KEPT_DAYS * 86_400_000));
      for (const day of Object.keys(this.days)) if (day < oldest) delete this.days[day];
      const file: UsageFile = { version: 1, days: this.days };
      this.writing = writePrivateJson(path, file);
      await this.writing;
    };
    this.pending = run();
    return this.pending;
  }

  async reserve(tokenId: string, metric: DailyMetric, amount: number, limit: number | undefined, now: Date = new Date()): Promise<Reservation> {
    checkAmount(amount);
    const day = this.calendar.dayOf(now);
    const used = this.used(tokenId, day, metric);
    if (limit !== undefined && used + amount > limit) return { ok: false, used, limit, retryAfterSeconds: this.calendar.secondsToNextDay(now) };
    this.set(tokenId, day, metric, used + amount);
    await this.persist(now);
    return { ok: true };
  }

  async refund(tokenId: string, metric: DailyMetric, amount: number, reservedAt: Date): Promise<void> {
    checkAmount(amount);
    const day = this.calendar.dayOf(reservedAt);
    const used = this.used(tokenId, day, metric);
    if (used === 0 || amount === 0) return;
    this.set(tokenId, day, metric, Math.max(0, used - amount));
    await this.persist(new Date(Math.max(Date.now(), reservedAt.getTime())));
  }

  usage(tokenId: string, now: Date = new Date()): Promise<{ day: string; resetsAt: string; used: Record<DailyMetric, number> }> {
    const day = this.calendar.dayOf(now);
    const used = zeroUsage();
    for (const metric of DAILY_METRICS) used[metric] = this.used(tokenId, day, metric);
    return Promise.resolve({ day, resetsAt: this.calendar.nextDayStart(now).toISOString(), used });
  }

  async close(): Promise<void> {
    await this.pending?.catch(() => undefined);
    await this.writing?.catch(() => undefined);
  }
}

/** `used + n > limit` → `{0, used}`; else INCRBY, EXPIRE and `{1, new used}`. A limit of -1 means none. */
const RESERVE_SCRIPT = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
if limit >= 0 and used + n > limit then return {0, used} end
local now = redis.call('INCRBY', KEYS[1], n)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, now}
`;

/** DECRBY at most what is there (never below 0); returns what is left. */
const REFUND_SCRIPT = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = math.min(used, tonumber(ARGV[1]))
if n > 0 then return redis.call('DECRBY', KEYS[1], n) end
return used
`;

interface QuotaCommands {
  lsQuotaReserve(key: string, amount: number, limit: number, ttl: number): Promise<[number, number]>;
  lsQuotaRefund(key: string, amount: number): Promise<number>;
}

/** The Redis key of one counter: `ls:q:<tokenId>:<yyyy-mm-dd>:<metric>`. */
export function quotaKey(tokenId: string, day: string, metric: DailyMetric): string {
  return `ls:q:${tokenId}:${day}:${metric}`;
}

/** Counters in Redis, shared by every API process; each reservation is one Lua script (atomic). */
export class RedisQuotaLedger implements QuotaLedger {
  private readonly commands: QuotaCommands;

  private constructor(
    private readonly redis: Redis,
    readonly calendar: QuotaCalendar,
    private readonly ownsClient: boolean,
  ) {
    redis.defineCommand('lsQuotaReserve', { numberOfKeys: 1, lua: RESERVE_SCRIPT });
    redis.defineCommand('lsQuotaRefund', { numberOfKeys: 1, lua: REFUND_SCRIPT });
    this.commands = redis as unknown as QuotaCommands;
  }

  /** A ledger on `redis` (closed by `close` only when `ownsClient`). */
  static open(redis: Redis, options: { timeZone?: string; ownsClient?: boolean } = {}): RedisQuotaLedger {
    return new RedisQuotaLedger(redis, new QuotaCalendar(options.timeZone), options.ownsClient ?? false);
  }

  async reserve(tokenId: string, metric: DailyMetric, amount: number, limit: number | undefined, now: Date = new Date()): Promise<Reservation> {
    checkAmount(amount);
    const key = quotaKey(tokenId, this.calendar.dayOf(now), metric);
    const [ok, used] = await this.commands.lsQuotaReserve(key, amount, limit ?? -1, QUOTA_KEY_TTL_SECONDS);
    if (ok === 1) return { ok: true };
    return { ok: false, used: Number(used), limit: limit!, retryAfterSeconds: this.calendar.secondsToNextDay(now) };
  }

  async refund(tokenId: string, metric: DailyMetric, amount: number, reservedAt: Date): Promise<void> {
    checkAmount(amount);
    if (amount === 0) return;
    await this.commands.lsQuotaRefund(quotaKey(tokenId, this.calendar.dayOf(reservedAt), metric), amount);
  }

  async usage(tokenId: string, now: Date = new Date()): Promise<{ day: string; resetsAt: string; used: Record<DailyMetric, number> }> {
    const day = this.calendar.dayOf(now);
    const values = await this.redis.mget(DAILY_METRICS.map((m) => quotaKey(tokenId, day, m)));
    const used = zeroUsage();
    DAILY_METRICS.forEach((metric, i) => (used[metric] = Number(values[i] ?? 0)));
    return { day, resetsAt: this.calendar.nextDayStart(now).toISOString(), used };
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.redis.quit().catch(() => undefined);
  }
}
