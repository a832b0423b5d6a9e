/**
 * `liveswap serve`: the HTTP API. Fastify with TypeBox schemas on every route (validation, types,
 * and the OpenAPI document the SDK is made from), bearer-token auth with scopes, one error shape,
 * per-token rate limits, back-pressure (503 + Retry-After), body and multipart limits, timeouts,
 * pino logs that never carry a secret, and Prometheus metrics. Binds to loopback by default.
 */

import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import type { AddressInfo } from 'node:net';
import fastifyMultipart from '@fastify/multipart';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import fastifyUnderPressure from '@fastify/under-pressure';
import fastifyWebsocket from '@fastify/websocket';
import type { Server as TusServer } from '@tus/server';
import fastify, { type FastifyError, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';
import { Type } from 'typebox';
import { LiveswapError } from '../../core/errors.js';
import { ownVersion } from '../../node/files/package-info.js';
import { defaultHome } from '../../node/models/model-cache.js';
import { STILL_DEFAULTS } from '../../pipeline/options.js';
import { isLoopbackHost } from '../origin.js';
import { addAdminRoutes } from './admin-routes.js';
import type { ApiApp } from './app-type.js';
import { addAuth } from './auth.js';
import { DEFAULT_API_HOST, DEFAULT_API_PORT } from './defaults.js';
import type { ApiContext, ApiLimits } from './context.js';
import { addErrorHandlers, ApiError } from './errors.js';
import { addIdentityRoutes } from './identity-routes.js';
import { addJobRoutes } from './job-routes.js';
import { addLiveRoutes, type LiveServiceOptions } from './live-routes.js';
import { addRequestMetrics, createMetrics } from './metrics.js';
import { withErrors } from './schemas.js';
import { openServices } from './services.js';
import { SwapperPool } from './swapper-pool.js';
import { addSwapRoutes } from './swap-routes.js';
import { addSystemRoutes } from './system-routes.js';
import { addTalkLiveRoute } from './talk-live.js';
import { addTalkRoutes } from './talk-routes.js';
import { addUploadRoutes, createUploads, type Uploads } from './upload-routes.js';

export { DEFAULT_API_HOST, DEFAULT_API_PORT };
const MIB = 1024 * 1024;

export const DEFAULT_API_LIMITS: Readonly<ApiLimits> = Object.freeze({
  bodyLimit: MIB,
  fileSize: 20 * MIB,
  maxPhotos: 8,
  maxPixels: STILL_DEFAULTS.paint.maxPixels,
  maxUploadBytes: 2 * 1024 * MIB,
  imageSlots: Math.max(1, cpus().length),
  rateLimitMax: 600,
  rateLimitWindowMs: 60_000,
  maxEventStreams: 10,
  maxBatch: 50,
  heartbeatSeconds: 15,
});

/** Timeouts of the HTTP server (Fastify's request timeout is 0, none, unless set). */
export const API_TIMEOUTS = Object.freeze({ requestTimeout: 60_000, connectionTimeout: 10_000, keepAliveTimeout: 5_000 });

export interface ApiServerOptions {
  /** LIVESWAP_HOME: tokens, quotas, consent, identities, uploads, jobs, results, keys, audit log. */
  home?: string;
  /** Default 127.0.0.1; anything else is logged as a warning. */
  host?: string;
  /** Default 8080; 0 takes a free port. */
  port?: number;
  /** Queue mode: tokens, quotas, the rate limiter and the job queue in this Redis. */
  redisUrl?: string;
  /** Video jobs this process runs at once (single-process mode); default 1. */
  workers?: number;
  /** Jobs that may wait before submissions are answered 503; default 100. */
  maxQueuedJobs?: number;
  /** The IANA zone whose midnight ends a quota day; default UTC. */
  timeZone?: string;
  limits?: Partial<ApiLimits>;
  /** Back-pressure: 503 + Retry-After past these (event-loop delay ms, default 200; resident memory bytes, default none); 0 turns a check off. */
  pressure?: { maxEventLoopDelay?: number; maxRssBytes?: number; retryAfterSeconds?: number; sampleIntervalMs?: number };
  /** pino logging: JSON lines to stdout at `info` by default; false for none, or a level and a stream. */
  logger?: false | { level?: string; stream?: DestinationStream };
  /** Server-side live sessions: capacity, the engines' provider, ticket lifetime (see live-routes.ts). */
  live?: LiveServiceOptions;
}

export interface ApiServer {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  app: ApiApp;
  close(): Promise<void>;
}

/** Paths of the logged request that must never reach a log: credentials and one-use tickets. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers["x-liveswap-token-id"]',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'ticket',
  '*.ticket',
  'secret',
  '*.secret',
];

/** A URL as logged: `token=` and `ticket=` query values replaced. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|ticket|access_token)=)[^&#]*/gi, '$1[redacted]');
}

function loggerOptions(logger: ApiServerOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === false) return false;
  return {
    level: logger?.level ?? 'info',
    ...(logger?.stream ? { stream: logger.stream } : {}),
    redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
    serializers: {
      req: (request: { method: string; url: string; ip?: string; socket?: { remoteAddress?: string } }) => ({
        method: request.method,
        url: redactUrl(request.url),
        remoteAddress: request.ip ?? request.socket?.remoteAddress,
      }),
    },
  };
}

type FullContext = ApiContext & { uploads: Uploads; tus: TusServer };

/**
 * The API's Fastify app with every plugin and route, not listening. `context` gives the routes
 * their state; `openApiDocument` builds the app without one (its routes are only described).
 */
export async function buildApiApp(options: ApiServerOptions, context: (() => FullContext) | undefined, redis?: unknown): Promise<ApiApp> {
  const limits = { ...DEFAULT_API_LIMITS, ...options.limits };
  const version = ownVersion();
  const app = fastify({
    logger: loggerOptions(options.logger ?? (context ? undefined : false)),
    bodyLimit: limits.bodyLimit,
    ...API_TIMEOUTS,
    forceCloseConnections: true,
    genReqId: () => randomUUID(),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      void reply
        .code(400)
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ error: { kind: 'usage', message: error.message } }));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  const noContext = (): never => {
    throw new LiveswapError('internal', 'This app only describes the API; it was built without a service behind it.');
  };
  const ctx = context ?? noContext;

  addErrorHandlers(app);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'liveswap API',
        version,
        description: 'Face swap as a service: tokens, quotas, consent, audit. Every route but /v1/health needs `Authorization: Bearer lsw_…`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token made with `liveswap tokens create`' } } },
      security: [{ bearer: [] }],
    },
  });
  // First: an overloaded process answers 503 before it spends anything on a request.
  await app.register(fastifyUnderPressure, {
    maxEventLoopDelay: options.pressure?.maxEventLoopDelay ?? 200,
    maxRssBytes: options.pressure?.maxRssBytes ?? 0,
    retryAfter: options.pressure?.retryAfterSeconds ?? 10,
    ...(options.pressure?.sampleIntervalMs !== undefined ? { sampleInterval: options.pressure.sampleIntervalMs } : {}),
    exposeStatusRoute: false,
  });
  addAuth(app, () => ctx().stores.tokens, options.home ?? defaultHome());
  await app.register(fastifyRateLimit, {
    global: true,
    hook: 'preHandler',
    max: limits.rateLimitMax,
    timeWindow: limits.rateLimitWindowMs,
    keyGenerator: (request) => request.token?.id ?? request.ip,
    ...(redis ? { redis, nameSpace: 'ls:rl:' } : {}),
    errorResponseBuilder: (_request, limit) => new ApiError('rate-limited', `Rate limit: at most ${limit.max} requests per token in ${limit.after}; retry later.`),
  });
  await app.register(fastifyMultipart, {
    throwFileSizeLimit: true,
    limits: { fileSize: limits.fileSize, files: limits.maxPhotos, fields: 16, parts: 32, fieldSize: 64 * 1024, headerPairs: 200 },
  });
  const metrics = context ? ctx().metrics : createMetrics(() => undefined);
  addRequestMetrics(app, metrics);
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('X-Request-Id', request.id).header('X-Content-Type-Options', 'nosniff');
    if (!reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
    return payload;
  });

  addSystemRoutes(app, ctx, version);
  app.get(
    '/v1/openapi.json',
    {
      config: { access: { scope: 'any' } },
      schema: { tags: ['system'], summary: 'This document.', response: withErrors({ 200: Type.Object({}, { additionalProperties: true }) }) },
    },
    async (_request, reply) => (reply as FastifyReply).type('application/json; charset=utf-8').send(JSON.stringify(app.swagger())),
  );
  addIdentityRoutes(app, ctx);
  addSwapRoutes(app, ctx);
  addUploadRoutes(app, ctx);
  addJobRoutes(app, ctx);
  addTalkRoutes(app, ctx);
  // The WebSocket plugin once, whichever routes registered it first (it may not be registered twice).
  if (!app.hasDecorator('websocketServer')) await app.register(fastifyWebsocket, { options: { maxPayload: 32 * MIB } });
  addTalkLiveRoute(app, ctx);
  addAdminRoutes(app, ctx);
  await addLiveRoutes(app, ctx, options.live);
  await app.ready();
  return app;
}

/** The OpenAPI 3 document of the API, made without opening any store or listening (for the SDK generator). */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const app = await buildApiApp({ logger: false }, undefined);
  try {
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}

/** Opens the stores and the queue, builds the app and listens; `close` undoes all of it. */
export async function createApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const home = options.home ?? defaultHome();
  const host = options.host ?? DEFAULT_API_HOST;
  const port = options.port ?? DEFAULT_API_PORT;
  const limits = { ...DEFAULT_API_LIMITS, ...options.limits };
  const services = await openServices({
    home,
    workers: Math.max(1, options.workers ?? 1),
    maxQueued: options.maxQueuedJobs ?? 100,
    ...(options.redisUrl !== undefined ? { redisUrl: options.redisUrl } : {}),
    ...(options.timeZone !== undefined ? { timeZone: options.timeZone } : {}),
  });
  const closing = new AbortController();
  const metrics = createMetrics(() => services.queue);
  const swappers = new SwapperPool(limits.imageSlots, home, (busy) => metrics.imageSwapsActive.set(busy));
  const { uploads, tus } = createUploads(home, limits.maxUploadBytes);
  const context: FullContext = {
    home,
    stores: services.stores,
    queue: services.queue,
    limits,
    metrics,
    swappers,
    uploadDir: uploads.folder,
    redis: services.redis,
    version: ownVersion(),
    closing: closing.signal,
    uploads,
    tus,
  };
  let app: ApiApp;
  try {
    app = await buildApiApp({ ...options, home }, () => context, services.redis);
  } catch (error) {
    await services.close();
    throw error;
  }
  try {
    await app.listen({ host, port });
  } catch (error) {
    await app.close().catch(() => undefined);
    await services.close();
    throw listenError(error, host, port);
  }
  if (!isLoopbackHost(host)) {
    app.log.warn({ host }, `listening on ${host}: the API is reachable from the network by anyone who can reach this port; every route but /v1/health still needs a token`);
  }
  const address = app.server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}`,
    app,
    close: () => {
      closed ??= (async () => {
        closing.abort();
        await app.close();
        await swappers.close();
        await services.close();
      })();
      return closed;
    },
  };
}

function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new LiveswapError(
      'usage',
      `Port ${port} on ${host} is already in use (is another \`liveswap serve\` running?). Choose another with --port, or --port 0 for any free one.`,
      {
        cause: error,
      },
    );
  }
  if (code === 'EACCES')
    return new LiveswapError('usage', `Not allowed to listen on port ${port}${port < 1024 ? ' (ports below 1024 need special rights)' : ''}. Choose another with --port.`, {
      cause: error,
    });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
    return new LiveswapError('usage', `Cannot listen on ${host}: no such address on this machine. Use --host 127.0.0.1.`, { cause: error });
  return error;
}
