/**
 * Opens what the API stands on: the stores (files under LIVESWAP_HOME, or tokens and quotas in
 * Redis) and the video job queue (in-process, persisted under LIVESWAP_HOME; or BullMQ on Redis),
 * with the queue refunding unused video seconds to the ledger when a job fails or is cancelled.
 */

import type { Redis } from 'ioredis';
import { LocalJobQueue } from '../../node/service/local-queue.js';
import { RedisJobQueue } from '../../node/service/redis-queue.js';
import { connectRedis } from '../../node/service/redis.js';
import { openServiceStores, type ServiceStores } from '../../node/service/stores.js';
import type { JobQueue, JobStatus, VideoJobRequest } from '../../node/service/types.js';

export interface ServiceOptions {
  home: string;
  redisUrl?: string;
  /** Video jobs run at once by this process (local mode). */
  workers: number;
  /** Jobs that may wait before submissions get 503. */
  maxQueued: number;
  timeZone?: string;
  onError?: (error: unknown) => void;
}

export interface Services {
  stores: ServiceStores;
  queue: JobQueue;
  /** A connection for the readiness check and the shared rate limiter (queue mode). */
  redis: Redis | undefined;
  close(): Promise<void>;
}

export async function openServices(options: ServiceOptions): Promise<Services> {
  const stores = await openServiceStores({
    home: options.home,
    ...(options.redisUrl !== undefined ? { redisUrl: options.redisUrl } : {}),
    ...(options.timeZone ? { timeZone: options.timeZone } : {}),
  });
  const refund = async (request: VideoJobRequest, _status: JobStatus): Promise<void> => {
    await stores.quotas.refund(request.tokenId, request.talk ? 'talkSeconds' : 'videoSeconds', request.videoSeconds, new Date(request.reservedAt));
  };
  let queue: JobQueue;
  let redis: Redis | undefined;
  try {
    if (options.redisUrl === undefined) {
      const local = new LocalJobQueue({
        home: options.home,
        workers: options.workers,
        maxQueued: options.maxQueued,
        refund,
        ...(options.onError ? { onError: options.onError } : {}),
      });
      await local.whenReady();
      queue = local;
    } else {
      redis = connectRedis(options.redisUrl, 'liveswap-api');
      queue = new RedisJobQueue({ redisUrl: options.redisUrl, home: options.home, maxQueued: options.maxQueued, refund, ...(options.onError ? { onError: options.onError } : {}) });
    }
  } catch (error) {
    redis?.disconnect();
    await stores.close();
    throw error;
  }
  return {
    stores,
    queue,
    redis,
    close: async () => {
      await queue.close();
      await stores.close();
      await redis?.quit().catch(() => undefined);
    },
  };
}
