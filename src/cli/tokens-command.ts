/**
 * `liveswap tokens create|list|revoke`: the API tokens of `liveswap serve`, in the files under
 * LIVESWAP_HOME or, with --redis (or LIVESWAP_REDIS_URL), in a queue-mode service's Redis. A new
 * token is printed once, alone on stdout, so a script can capture it; only its hash is kept.
 */

import { Command } from 'commander';
import { LiveswapError } from '../core/errors.js';
import type { TokenQuotas, TokenRecord, TokenStore } from '../node/service/types.js';
import type { Terminal } from './errors.js';
import { parseWholeNumber } from './flags.js';
import { addFlags, type FlagsOf } from './option-table.js';

export type TokensCreateFlags = FlagsOf<'tokens create'>;
export type TokensListFlags = FlagsOf<'tokens list'>;
export type TokensRevokeFlags = FlagsOf<'tokens revoke'>;

export interface TokensActions {
  create(flags: TokensCreateFlags): Promise<void>;
  list(flags: TokensListFlags): Promise<void>;
  revoke(id: string, flags: TokensRevokeFlags): Promise<void>;
}

/** `liveswap tokens` with its subcommands. */
export function createTokensCommand(actions: TokensActions): Command {
  const tokens = new TokensCommand('tokens').description('Make, list and revoke the API tokens of `liveswap serve`.');
  addFlags(tokens.command('create').description('make a token and print it once (only its hash is kept)'), 'tokens create').action(async (flags: TokensCreateFlags) =>
    actions.create(flags),
  );
  addFlags(tokens.command('list').description('list the tokens: id, name, scopes, quotas, state (never secrets)'), 'tokens list').action(async (flags: TokensListFlags) =>
    actions.list(flags),
  );
  addFlags(
    tokens.command('revoke').description('revoke a token; a running server refuses it within about a second').argument('<id>', 'the token id (12 characters)'),
    'tokens revoke',
  ).action(async (id: string, flags: TokensRevokeFlags) => actions.revoke(id, flags));
  return tokens;
}

/** Passes the program's exit override and output settings on to the subcommands as well. */
class TokensCommand extends Command {
  override copyInheritedSettings(source: Command): this {
    super.copyInheritedSettings(source);
    for (const sub of this.commands) sub.copyInheritedSettings(this);
    return this;
  }
}

/** The token store the flags name: Redis for --redis or LIVESWAP_REDIS_URL, else the files under `home`. */
async function openTokens(redis: string | undefined, home: string | undefined): Promise<TokenStore> {
  const { REDIS_URL_VARIABLE, connectRedis } = await import('../node/service/redis.js');
  const url = redis ?? (process.env[REDIS_URL_VARIABLE] || undefined);
  const tokens = await import('../node/service/tokens.js');
  if (url === undefined) {
    const { defaultHome } = await import('../node/models/model-cache.js');
    return tokens.FileTokenStore.open(home ?? defaultHome());
  }
  const client = connectRedis(url, 'liveswap-tokens-cli');
  client.on('error', () => undefined);
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => client.once('ready', () => resolve(true))),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000).unref()),
  ]);
  if (!ready) {
    client.disconnect();
    throw new LiveswapError('usage', `Cannot reach Redis at ${url} within 10 s: check --redis or ${REDIS_URL_VARIABLE}.`);
  }
  return tokens.RedisTokenStore.open(client, { ownsClient: true });
}

async function withTokens<T>(redis: string | undefined, home: string | undefined, work: (store: TokenStore) => Promise<T>): Promise<T> {
  const store = await openTokens(redis, home);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** The quotas given on the command line. */
export function quotasFromFlags(flags: TokensCreateFlags): TokenQuotas {
  const quotas: TokenQuotas = {};
  const set = (key: keyof TokenQuotas, flag: string, raw: string | undefined) => {
    const value = parseWholeNumber(flag, raw);
    if (value !== undefined) quotas[key] = value;
  };
  set('swapsPerDay', '--swaps-per-day', flags.swapsPerDay);
  set('videoSecondsPerDay', '--video-seconds-per-day', flags.videoSecondsPerDay);
  set('maxActiveJobs', '--max-active-jobs', flags.maxActiveJobs);
  set('maxVideoSeconds', '--max-video-seconds', flags.maxVideoSeconds);
  set('talkSecondsPerDay', '--talk-seconds-per-day', flags.talkSecondsPerDay);
  set('liveMinutesPerDay', '--live-minutes-per-day', flags.liveMinutesPerDay);
  set('maxLiveSessions', '--max-live-sessions', flags.maxLiveSessions);
  return quotas;
}

export async function runTokensCreate(flags: TokensCreateFlags, terminal: Terminal, home?: string): Promise<void> {
  const { parseExpiry, parseScopes } = await import('../node/service/tokens.js');
  const scopes = parseScopes(flags.scopes ?? '');
  const quotas = quotasFromFlags(flags);
  const expiresAt = flags.expires !== undefined ? parseExpiry(flags.expires) : undefined;
  const { token, record } = await withTokens(flags.redis, home, (store) =>
    store.create({ name: flags.name ?? '', scopes, quotas, ...(expiresAt !== undefined ? { expiresAt } : {}) }),
  );
  terminal.out(token);
  terminal.err(
    `liveswap: made token ${record.id} "${record.name}" (${record.scopes.join(', ')})${record.expiresAt ? `, expires ${record.expiresAt}` : ''}. This is the only time it is shown: keep it somewhere safe; only its hash is stored.`,
  );
}

/** A quota list for people: "swapsPerDay 100, maxActiveJobs 2", or "no limits". */
function describeQuotas(quotas: TokenQuotas): string {
  const entries = Object.entries(quotas).filter(([, v]) => v !== undefined);
  return entries.length ? entries.map(([k, v]) => `${k} ${String(v)}`).join(', ') : 'no limits';
}

function tokenState(record: TokenRecord, now: Date): string {
  if (record.revokedAt !== undefined) return `revoked ${record.revokedAt}`;
  if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now.getTime()) return `expired ${record.expiresAt}`;
  return record.expiresAt !== undefined ? `active until ${record.expiresAt}` : 'active';
}

/** A record without its secret's hash, for printing. */
function publicRecord(record: TokenRecord): Omit<TokenRecord, 'secretSha256'> {
  const { secretSha256: _hash, ...rest } = record;
  return rest;
}

export async function runTokensList(flags: TokensListFlags, terminal: Terminal, home?: string): Promise<void> {
  const records = await withTokens(flags.redis, home, (store) => store.list());
  if (flags.json) {
    terminal.out(JSON.stringify(records.map(publicRecord)));
    return;
  }
  const now = new Date();
  for (const r of records)
    terminal.out(`${r.id}  ${r.name}\n    scopes ${r.scopes.join(', ')}\n    quotas ${describeQuotas(r.quotas)}\n    made ${r.createdAt}, ${tokenState(r, now)}`);
  terminal.err(`liveswap: ${records.length} token(s)`);
}

export async function runTokensRevoke(id: string, flags: TokensRevokeFlags, terminal: Terminal, home?: string): Promise<void> {
  const revoked = await withTokens(flags.redis, home, (store) => store.revoke(id));
  if (!revoked) throw new LiveswapError('usage', `There is no token ${JSON.stringify(id)}; \`liveswap tokens list\` shows the ids.`);
  terminal.err(`liveswap: revoked token ${id}; a running server refuses it within about a second.`);
}
