/**
 * API tokens: `lsw_<id>_<secret>`, the secret 256 random bits shown once and stored only as its
 * SHA-256. Two stores with one behaviour: `tokens.json` under `<home>/service/` (one host; other
 * processes' changes are picked up within a second) and the Redis hash `ls:tokens` (queue mode;
 * a pub/sub message and a one-second refresh keep every process's cache current). Checking a
 * token is synchronous, from memory, with a constant-time comparison of the hashes.
 */

import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { invalidOption, LiveswapError } from '../../core/errors.js';
import { withLockFile } from '../files/lock-file.js';
import { ensurePrivateDir, fileSignature, readJsonFile, serviceDir, writePrivateJson } from './state-files.js';
import { type Authentication, type NewToken, SCOPES, type Scope, type TokenQuotas, type TokenRecord, type TokenStore } from './types.js';

export const TOKEN_PREFIX = 'lsw_';
export const TOKEN_ID_LENGTH = 12;
/** 32 random bytes in base64url, without padding. */
export const TOKEN_SECRET_LENGTH = 43;
const TOKEN_PATTERN = /^lsw_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const TOKEN_NAME_MAX_LENGTH = 100;

/** The Redis hash of token records (field: id, value: the record as JSON) and the channel told of changes. */
export const REDIS_TOKENS_KEY = 'ls:tokens';
export const REDIS_TOKENS_CHANNEL = 'ls:tokens:changed';
/** How often a store looks for changes made by other processes. */
export const TOKEN_REFRESH_MS = 1000;

/** The quota fields a token may carry, each a whole number ≥ 0. */
export const TOKEN_QUOTA_FIELDS = ['swapsPerDay', 'videoSecondsPerDay', 'talkSecondsPerDay', 'liveMinutesPerDay', 'maxActiveJobs', 'maxVideoSeconds', 'maxLiveSessions'] as const;

/** Hex SHA-256 of a token's secret part. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A fresh id (12 of [A-Za-z0-9], uniformly drawn) and secret (256 random bits, base64url). */
export function generateToken(): { id: string; secret: string; token: string } {
  let id = '';
  for (let i = 0; i < TOKEN_ID_LENGTH; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: `${TOKEN_PREFIX}${id}_${secret}` };
}

/** The id and secret of a token string, or undefined when it is not one. */
export function parseToken(text: string): { id: string; secret: string } | undefined {
  const match = TOKEN_PATTERN.exec(text);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

/** The token in an `Authorization` value: "Bearer <token>" (any case of "Bearer") or the bare token. */
function tokenOfHeader(header: string): string {
  const trimmed = header.trim();
  const bearer = /^bearer\s+(.*)$/i.exec(trimmed);
  return bearer ? bearer[1]!.trim() : trimmed;
}

/** A hash compared against when the id is unknown, so an unknown id costs the same work as a known one. */
const DUMMY_HASH = Buffer.alloc(32);

/**
 * Checks a header against `records` (by id): the secret's SHA-256 is compared in constant time;
 * only a token whose secret matches is told apart as revoked or expired.
 */
export function authenticateAgainst(records: ReadonlyMap<string, TokenRecord>, header: string | undefined, now: Date = new Date()): Authentication {
  if (header === undefined || header.trim() === '') return { ok: false, refusal: 'missing' };
  const parsed = parseToken(tokenOfHeader(header));
  if (!parsed) return { ok: false, refusal: 'malformed' };
  const record = records.get(parsed.id);
  const presented = createHash('sha256').update(parsed.secret, 'utf8').digest();
  const stored = record && /^[0-9a-f]{64}$/.test(record.secretSha256) ? Buffer.from(record.secretSha256, 'hex') : DUMMY_HASH;
  const same = timingSafeEqual(presented, stored);
  if (!record || !same) return { ok: false, refusal: 'unknown' };
  if (record.revokedAt !== undefined) return { ok: false, refusal: 'revoked' };
  if (record.expiresAt !== undefined && now.getTime() >= Date.parse(record.expiresAt)) return { ok: false, refusal: 'expired' };
  return { ok: true, token: record };
}

/** Scopes from a comma-separated list; an unknown one is a usage error listing the valid ones. */
export function parseScopes(list: string, flag = '--scopes'): Scope[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw invalidOption(flag, `one or more of ${SCOPES.join(', ')} (comma-separated)`, list);
  for (const name of names) {
    if (!(SCOPES as readonly string[]).includes(name)) {
      throw new LiveswapError('usage', `Unknown scope ${JSON.stringify(name)} for ${flag}: the scopes are ${SCOPES.join(', ')}.`);
    }
  }
  return [...new Set(names)] as Scope[];
}

const DURATION_UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * When a token given `--expires` ends: a duration from `now` (`30d`, `12h`, `90m`, `2w`) or an ISO
 * date or date-time (a bare date means its start, UTC). It must be in the future.
 */
export function parseExpiry(raw: string, now: Date = new Date(), flag = '--expires'): string {
  const text = raw.trim();
  const duration = /^(\d+)\s*([mhdw])$/i.exec(text);
  let time: number;
  if (duration) {
    time = now.getTime() + Number(duration[1]) * DURATION_UNITS[duration[2]!.toLowerCase()]!;
  } else if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    time = Date.parse(text);
  } else {
    time = Number.NaN;
  }
  if (!Number.isFinite(time)) throw invalidOption(flag, 'a duration such as 30d, 12h or 90m, or an ISO date such as 2027-01-31', raw);
  if (time <= now.getTime()) throw invalidOption(flag, 'a time in the future', raw);
  return new Date(time).toISOString();
}

function checkQuotas(quotas: TokenQuotas | undefined, where: string): TokenQuotas {
  const checked: TokenQuotas = {};
  for (const [key, value] of Object.entries(quotas ?? {})) {
    if (value === undefined) continue;
    if (!(TOKEN_QUOTA_FIELDS as readonly string[]).includes(key))
      throw new LiveswapError('usage', `${where}: unknown quota ${JSON.stringify(key)}; the quotas are ${TOKEN_QUOTA_FIELDS.join(', ')}.`);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
      throw new LiveswapError('usage', `${where}: the quota ${key} must be a whole number ≥ 0, not ${JSON.stringify(value)}.`);
    checked[key as keyof TokenQuotas] = value;
  }
  return checked;
}

/** Checks what a new token asks for; a bad name, scope, quota or expiry is a usage error. */
export function checkNewToken(request: NewToken, now: Date = new Date()): NewToken & { quotas: TokenQuotas } {
  const name = request.name.trim();
  if (name === '' || name.length > TOKEN_NAME_MAX_LENGTH || [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    throw new LiveswapError('usage', `A token's name must be 1–${TOKEN_NAME_MAX_LENGTH} printable characters, not ${JSON.stringify(request.name)}.`);
  }
  const scopes = parseScopes(request.scopes.join(','));
  if (request.expiresAt !== undefined) {
    const t = Date.parse(request.expiresAt);
    if (!Number.isFinite(t) || t <= now.getTime()) throw new LiveswapError('usage', `A token's expiry must be a time in the future, not ${JSON.stringify(request.expiresAt)}.`);
  }
  return { name, scopes, quotas: checkQuotas(request.quotas, 'token'), ...(request.expiresAt !== undefined ? { expiresAt: new Date(request.expiresAt).toISOString() } : {}) };
}

/** A stored record, checked field by field; undefined when it is not one (damage is skipped, not trusted). */
export function asTokenRecord(value: unknown): TokenRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const optionalTime = (v: unknown) => v === undefined || (typeof v === 'string' && Number.isFinite(Date.parse(v)));
  if (typeof r.id !== 'string' || !/^[A-Za-z0-9]{12}$/.test(r.id)) return undefined;
  if (typeof r.name !== 'string' || typeof r.secretSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.secretSha256)) return undefined;
  if (!Array.isArray(r.scopes) || !r.scopes.every((s) => (SCOPES as readonly unknown[]).includes(s))) return undefined;
  if (typeof r.createdAt !== 'string' || !optionalTime(r.expiresAt) || !optionalTime(r.revokedAt)) return undefined;
  if (r.quotas !== undefined && (typeof r.quotas !== 'object' || r.quotas === null)) return undefined;
  let quotas: TokenQuotas;
  try {
    quotas = checkQuotas(r.quotas as TokenQuotas | undefined, 'stored token');
  } catch {
    return undefined;
  }
  return {
    id: r.id,
    name: r.name,
    secretSha256: r.secretSha256,
    scopes: r.scopes as Scope[],
    quotas,
    createdAt: r.createdAt,
    ...(r.expiresAt !== undefined ? { expiresAt: r.expiresAt as string } : {}),
    ...(r.revokedAt !== undefined ? { revokedAt: r.revokedAt as string } : {}),
  };
}

function newRecord(request: NewToken, now: Date): { token: string; record: TokenRecord } {
  const checked = checkNewToken(request, now);
  const { id, secret, token } = generateToken();
  const record: TokenRecord = {
    id,
    name: checked.name,
    secretSha256: hashSecret(secret),
    scopes: [...checked.scopes],
    quotas: checked.quotas,
    createdAt: now.toISOString(),
    ...(checked.expiresAt !== undefined ? { expiresAt: checked.expiresAt } : {}),
  };
  return { token, record };
}

function byCreation(a: TokenRecord, b: TokenRecord): number {
  return a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);
}

/** tokens.json: `{ version: 1, tokens: TokenRecord[] }`. */
interface TokensFile {
  version: 1;
  tokens: TokenRecord[];
}

function parseTokensFile(value: unknown, path: string): Map<string, TokenRecord> {
  if (value === undefined) return new Map();
  const tokens = (value as Partial<TokensFile> | null)?.tokens;
  if (typeof value !== 'object' || value === null || !Array.isArray(tokens)) {
    throw new LiveswapError('input-unreadable', `${path} is damaged (no "tokens" list). Move it away to start afresh, or restore it from a backup.`, { file: path });
  }
  const records = new Map<string, TokenRecord>();
  for (const item of tokens) {
    const record = asTokenRecord(item);
    if (record) records.set(record.id, record);
  }
  return records;
}

/** Where the file store keeps its tokens. */
export function tokensFilePath(home: string): string {
  return join(serviceDir(home), 'tokens.json');
}

/**
 * Tokens in `<home>/service/tokens.json` (mode 0600). Creates and revokes happen under a lock file
 * and re-read the file first, so two processes adding tokens at once both keep theirs. A running
 * server sees another process's change within about a second: `authenticate` looks at the file's
 * identity (inode, size, time) at most once a second and reads it again when that changed.
 */
export class FileTokenStore implements TokenStore {
  private records = new Map<string, TokenRecord>();
  private signature = '';
  private checkedAt = 0;

  private constructor(readonly path: string) {}

  static async open(home: string): Promise<FileTokenStore> {
    const store = new FileTokenStore(tokensFilePath(home));
    await ensurePrivateDir(serviceDir(home));
    await store.reload();
    return store;
  }

  private fileSignature(): string {
    return fileSignature(this.path);
  }

  /** Reads the file again (always). */
  private async reload(): Promise<Map<string, TokenRecord>> {
    const signature = this.fileSignature();
    this.records = parseTokensFile(await readJsonFile(this.path), this.path);
    this.signature = signature;
    this.checkedAt = Date.now();
    return this.records;
  }

  /** At most once a second: reads the file again when it changed. A damaged file keeps the last good tokens. */
  private refreshIfChanged(): void {
    const now = Date.now();
    if (now - this.checkedAt < TOKEN_REFRESH_MS) return;
    this.checkedAt = now;
    const signature = this.fileSignature();
    if (signature === this.signature) return;
    try {
      const text = signature === 'none' ? undefined : readFileSync(this.path, 'utf8');
      this.records = parseTokensFile(text === undefined ? undefined : (JSON.parse(text) as unknown), this.path);
      this.signature = signature;
    } catch {
      // Half-visible or damaged: keep the tokens known so far and look again in a second.
    }
  }

  private async change<T>(edit: (records: Map<string, TokenRecord>) => T): Promise<T> {
    return withLockFile(
      `${this.path}.lock`,
      async () => {
        const records = await this.reload();
        const result = edit(records);
        const file: TokensFile = { version: 1, tokens: [...records.values()].sort(byCreation) };
        await writePrivateJson(this.path, file);
        this.signature = this.fileSignature();
        return result;
      },
      { what: 'the token list' },
    );
  }

  async create(request: NewToken): Promise<{ token: string; record: TokenRecord }> {
    const made = newRecord(request, new Date());
    await this.change((records) => {
      if (records.has(made.record.id)) throw new LiveswapError('internal', 'A new token id clashed with an existing one; try again.');
      records.set(made.record.id, made.record);
    });
    return made;
  }

  async list(): Promise<TokenRecord[]> {
    return [...(await this.reload()).values()].sort(byCreation);
  }

  async get(id: string): Promise<TokenRecord | undefined> {
    return (await this.reload()).get(id);
  }

  async revoke(id: string): Promise<boolean> {
    return this.change((records) => {
      const record = records.get(id);
      if (!record) return false;
      if (record.revokedAt === undefined) records.set(id, { ...record, revokedAt: new Date().toISOString() });
      return true;
    });
  }

  authenticate(header: string | undefined, now?: Date): Authentication {
    this.refreshIfChanged();
    return authenticateAgainst(this.records, header, now);
  }

  async close(): Promise<void> {
    // Nothing held open.
  }
}

/**
 * Tokens in the Redis hash `ls:tokens`. Every change is published on `ls:tokens:changed`; each
 * store reloads on that message and, in case one is missed (a reconnect), every second.
 */
export class RedisTokenStore implements TokenStore {
  private records = new Map<string, TokenRecord>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private loading: Promise<void> | undefined;

  private constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly ownsClient: boolean,
  ) {}

  /**
   * A store on `redis` (a connection it may share; closed by `close` only when `ownsClient`). A
   * second connection, for the subscription, is made from it and always closed by `close`.
   */
  static async open(redis: Redis, options: { ownsClient?: boolean } = {}): Promise<RedisTokenStore> {
    const subscriber = redis.duplicate({ connectionName: 'liveswap-tokens-sub' });
    const store = new RedisTokenStore(redis, subscriber, options.ownsClient ?? false);
    try {
      subscriber.on('message', () => void store.refresh());
      await subscriber.subscribe(REDIS_TOKENS_CHANNEL);
      await store.refresh();
    } catch (error) {
      await store.close();
      throw error;
    }
    store.timer = setInterval(() => void store.refresh(), TOKEN_REFRESH_MS);
    store.timer.unref();
    return store;
  }

  /** Loads every record; one load at a time, failures (Redis away) keep the cache. */
  private refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.loading ??= this.load()
      .catch(() => undefined)
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<void> {
    const all = await this.redis.hgetall(REDIS_TOKENS_KEY);
    const records = new Map<string, TokenRecord>();
    for (const text of Object.values(all)) {
      try {
        const record = asTokenRecord(JSON.parse(text));
        if (record) records.set(record.id, record);
      } catch {
        // A damaged value is skipped: it authenticates nobody.
      }
    }
    this.records = records;
  }

  private async read(id: string): Promise<TokenRecord | undefined> {
    const text = await this.redis.hget(REDIS_TOKENS_KEY, id);
    if (text === null) return undefined;
    try {
      return asTokenRecord(JSON.parse(text));
    } catch {
      return undefined;
    }
  }

  async create(request: NewToken): Promise<{ token: string; record: TokenRecord }> {
    const made = newRecord(request, new Date());
    const added = await this.redis.hsetnx(REDIS_TOKENS_KEY, made.record.id, JSON.stringify(made.record));
    if (added !== 1) throw new LiveswapError('internal', 'A new token id clashed with an existing one; try again.');
    this.records.set(made.record.id, made.record);
    await this.redis.publish(REDIS_TOKENS_CHANNEL, made.record.id);
    return made;
  }

  async list(): Promise<TokenRecord[]> {
    await this.load();
    return [...this.records.values()].sort(byCreation);
  }

  async get(id: string): Promise<TokenRecord | undefined> {
    return this.read(id);
  }

  async revoke(id: string): Promise<boolean> {
    const record = await this.read(id);
    if (!record) return false;
    if (record.revokedAt === undefined) {
      const revoked = { ...record, revokedAt: new Date().toISOString() };
      await this.redis.hset(REDIS_TOKENS_KEY, id, JSON.stringify(revoked));
      this.records.set(id, revoked);
      await this.redis.publish(REDIS_TOKENS_CHANNEL, id);
    }
    return true;
  }

  authenticate(header: string | undefined, now?: Date): Authentication {
    return authenticateAgainst(this.records, header, now);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.loading;
    this.subscriber.disconnect();
    if (this.ownsClient) await this.redis.quit().catch(() => undefined);
  }
}
