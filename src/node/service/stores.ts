/**
 * The service's state in one call: tokens and quotas in Redis when a URL is given (queue mode,
 * shared by every API process), else in files under LIVESWAP_HOME; consent records, identities
 * and protected faces always under LIVESWAP_HOME (a shared volume when API processes run on
 * several hosts).
 */

import type { Redis } from 'ioredis';
import { FileConsentStore } from './consent.js';
import { FileIdentityStore, type DamagedIdentity } from './identities.js';
import { FileProtectedFaceStore } from './protected-faces.js';
import { MemoryQuotaLedger, RedisQuotaLedger } from './quotas.js';
import { connectRedis, REDIS_URL_VARIABLE } from './redis.js';
import { LiveswapError } from '../../core/errors.js';
import { FileTokenStore, RedisTokenStore } from './tokens.js';
import type { QuotaLedger, TokenStore } from './types.js';

export interface ServiceStoreOptions {
  /** LIVESWAP_HOME. */
  home: string;
  /** Tokens and quotas in this Redis (redis://, rediss:// or unix://); files when absent. */
  redisUrl?: string;
  /** The IANA zone whose midnight ends a quota day; default UTC. */
  timeZone?: string;
  /** Hears of identity records that could not be read (skipped). */
  onDamagedIdentity?: (damaged: DamagedIdentity) => void;
  /** How long to wait for Redis at start before giving up; default 10 s. */
  connectTimeoutMs?: number;
}

/** Resolves once `redis` is ready; a Redis that does not answer in time is a usage error naming the URL. */
async function waitUntilReady(redis: Redis, url: string, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  let lastError = '';
  const onError = (error: Error) => (lastError = error.message);
  redis.on('error', onError);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        redis.off('ready', ready);
        reject(
          new LiveswapError(
            'usage',
            `Cannot reach Redis at ${url} within ${Math.round(timeoutMs / 1000)} s${lastError ? ` (${lastError})` : ''}: check --redis or ${REDIS_URL_VARIABLE}.`,
          ),
        );
      }, timeoutMs);
      const ready = () => {
        clearTimeout(timer);
        resolve();
      };
      redis.once('ready', ready);
    });
  } finally {
    redis.off('error', onError);
  }
}

export interface ServiceStores {
  /** Where tokens and quotas live. */
  readonly mode: 'files' | 'redis';
  readonly tokens: TokenStore;
  readonly quotas: QuotaLedger;
  readonly consent: FileConsentStore;
  readonly identities: FileIdentityStore;
  readonly protectedFaces: FileProtectedFaceStore;
  /** Stops the refresh timers, waits for pending writes and closes the Redis connections. */
  close(): Promise<void>;
}

/** Opens every store; on any failure the ones already opened are closed again. */
export async function openServiceStores(options: ServiceStoreOptions): Promise<ServiceStores> {
  const { home } = options;
  const consent = await FileConsentStore.open(home);
  const identities = await FileIdentityStore.open(home, options.onDamagedIdentity ? { onDamaged: options.onDamagedIdentity } : {});
  const protectedFaces = await FileProtectedFaceStore.open(home);
  const timeZone = options.timeZone !== undefined ? { timeZone: options.timeZone } : {};
  if (options.redisUrl === undefined) {
    const quotas = await MemoryQuotaLedger.open({ home, ...timeZone });
    const tokens = await FileTokenStore.open(home);
    return { mode: 'files', tokens, quotas, consent, identities, protectedFaces, close: async () => void (await Promise.all([tokens.close(), quotas.close()])) };
  }
  const redis: Redis = connectRedis(options.redisUrl, 'liveswap-state');
  try {
    await waitUntilReady(redis, options.redisUrl, options.connectTimeoutMs ?? 10_000);
    const quotas = RedisQuotaLedger.open(redis, timeZone);
    const tokens = await RedisTokenStore.open(redis);
    return {
      mode: 'redis',
      tokens,
      quotas,
      consent,
      identities,
      protectedFaces,
      async close() {
        await Promise.all([tokens.close(), quotas.close()]);
        await redis.quit().catch(() => undefined);
      },
    };
  } catch (error) {
    redis.disconnect();
    throw error;
  }
}
