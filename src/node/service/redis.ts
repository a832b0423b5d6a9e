/**
 * One way to reach Redis for the queue, the token and quota stores: a `redis://` or `rediss://`
 * URL (password and database number as usual) or `unix:///path/to/redis.sock`. BullMQ needs
 * `maxRetriesPerRequest: null` on the connections its workers block on, so every connection made
 * here has it; commands wait for a reconnect instead of failing after a few tries.
 */

import { Redis, type RedisOptions } from 'ioredis';
import { LiveswapError } from '../../core/errors.js';

/** The environment variable `serve` and `worker` read when --redis is not given. */
export const REDIS_URL_VARIABLE = 'LIVESWAP_REDIS_URL';

/** ioredis options for a URL; a URL that is not one is a usage error naming it. */
export function redisOptions(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new LiveswapError('usage', `Expected a Redis URL such as redis://127.0.0.1:6379 or unix:///run/redis.sock for --redis but received ${JSON.stringify(url)}`);
  }
  const common: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false };
  if (parsed.protocol === 'unix:') {
    if (parsed.pathname === '' || parsed.pathname === '/') throw new LiveswapError('usage', `The Redis URL ${url} names no socket: use unix:///path/to/redis.sock.`);
    return { ...common, path: decodeURIComponent(parsed.pathname) };
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new LiveswapError('usage', `Expected a redis://, rediss:// or unix:// URL for --redis but received ${JSON.stringify(url)}`);
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new LiveswapError('usage', `The Redis URL ${url} names no database number after the host.`);
  return {
    ...common,
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    db,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** A new connection; the caller closes it with `quit()`. */
export function connectRedis(url: string, name = 'liveswap'): Redis {
  return new Redis({ ...redisOptions(url), connectionName: name });
}
