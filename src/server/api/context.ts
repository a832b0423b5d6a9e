/**
 * What the API's routes share: the service's stores and job queue, the limits it enforces, its
 * metrics and the per-process resources (image-swap slots, warm swappers, open event streams).
 */

import type { Redis } from 'ioredis';
import type { ServiceStores } from '../../node/service/stores.js';
import type { JobQueue, Scope, TokenRecord } from '../../node/service/types.js';
import type { ApiMetrics } from './metrics.js';
import type { SwapperPool } from './swapper-pool.js';

/** The API's limits; every one has a default (see DEFAULT_API_LIMITS). */
export interface ApiLimits {
  /** JSON bodies, bytes. */
  bodyLimit: number;
  /** One multipart file, bytes. */
  fileSize: number;
  /** Photos of one identity. */
  maxPhotos: number;
  /** Pixels of one image (photos and targets), checked from the header before decoding. */
  maxPixels: number;
  /** A resumable upload, bytes. */
  maxUploadBytes: number;
  /** Image swaps running at once in this process; one more is refused with 503. */
  imageSlots: number;
  /** Requests per token per rate window. */
  rateLimitMax: number;
  /** The rate window, milliseconds. */
  rateLimitWindowMs: number;
  /** Event streams one token may hold open. */
  maxEventStreams: number;
  /** Jobs of one batch. */
  maxBatch: number;
  /** Seconds between SSE heartbeats. */
  heartbeatSeconds: number;
}

export interface ApiContext {
  home: string;
  stores: ServiceStores;
  queue: JobQueue;
  limits: ApiLimits;
  metrics: ApiMetrics;
  swappers: SwapperPool;
  /** Where finished resumable uploads are (the tus file store's folder). */
  uploadDir: string;
  /** The connection the readiness check pings (queue mode). */
  redis: Redis | undefined;
  version: string;
  /** Aborts when the server begins to close (open event streams end). */
  closing: AbortSignal;
}

/** What a route needs: a scope, `any` (a valid token) or `none` (health only); media routes audit their refusals. */
export interface RouteAccess {
  scope: Scope | 'any' | 'none';
  media?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The caller's token, set by the auth hook on every route but health. */
    token?: TokenRecord;
  }
}

/** The authenticated caller; routes behind auth always have one. */
export function callerOf(request: { token?: TokenRecord }): TokenRecord {
  const token = request.token;
  if (!token) throw new Error('route reached without authentication');
  return token;
}
