/**
 * Server-side live sessions of `liveswap serve` (the multi-user live service):
 * `POST /v1/live/sessions` checks the caller's identity (consent was given when it was made),
 * takes one of the process's live slots (beyond capacity: 503 with Retry-After), reserves the first
 * live minute against the token's daily quota (429 when none is left) and prepares the identity on
 * the slot's warm engine; it answers a one-use ticket and the WebSocket URL. The ticket works once,
 * within its lifetime (60 s by default); unused, the slot and the minute are given back. On the
 * socket (messages in pipeline/live-wire.ts) frames are swapped, labelled and watermarked; every
 * started minute is reserved as it starts, and a token that runs out ends the session with the
 * reason `quota-exceeded`. Each session's start and end (frames, minutes, reason) are audited.
 */

import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { cpus } from 'node:os';
import fastifyWebsocket, { type WebSocket } from '@fastify/websocket';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Image } from '../../core/image.js';
import { readImage } from '../../node/media/image-io.js';
import { LiveswapError } from '../../core/errors.js';
import { FrameSession, type FrameSessionOptions } from '../../node/live/frame-session.js';
import { checkWhipOffer, WhipPeer } from '../../node/live/whip-peer.js';
import { appendAudit, auditEntry, startProvenance, type AuditContext, type AuditOutcome } from '../../node/provenance/output-provenance.js';
import type { IdentityRecord, TokenRecord } from '../../node/service/types.js';
import { LIVE_CLOSE_CODES, type LiveEndReason, type LiveServerMessage } from '../../pipeline/live-wire.js';
import { ENGINE_CHOICES, type EngineChoice, type ExecutionProvider } from '../../pipeline/options.js';
import type { PreparedSource } from '../../pipeline/still.js';
import { LiveSender, LiveSocket, type LiveSocketSummary } from '../live-socket.js';
import { MAX_FRAME_BYTES } from '../relay.js';
import { WhipSession } from '../whip-session.js';
import type { ApiApp, ContextOf } from './app-type.js';
import { auditRefusal, requestAudit } from './audit.js';
import { callerOf, type ApiContext } from './context.js';
import { ApiError, sendError } from './errors.js';
import { ownIdentity } from './identity-routes.js';
import { reserveQuota, type Reserved } from './quota.js';
import { withErrors } from './schemas.js';
import { SwapperPool, type SwapperLease } from './swapper-pool.js';

/** Settings of the live service; every one has a default. */
export interface LiveServiceOptions {
  /** Sessions at once in this process; default {@link defaultLiveCapacity}. */
  capacity?: number;
  /** The execution provider of the live engines; default cpu. */
  provider?: ExecutionProvider;
  /** How long a ticket works, seconds; default 60. */
  ticketSeconds?: number;
  /** The length of a billed live minute, ms; default 60 000 (tests shorten it). */
  minuteMs?: number;
  /** A session without a frame for this long ends as idle, ms; default 30 000. */
  idleMs?: number;
}

/** One session per pair of CPU cores (about one core per 720p stream for the mesh engine, one left for decoding and encoding); one per GPU provider. */
export function defaultLiveCapacity(provider: ExecutionProvider = 'cpu', cores = cpus().length): number {
  return provider === 'cpu' ? Math.max(1, Math.floor(cores / 2)) : 1;
}

export const LIVE_SOCKET_PATH = '/v1/live/sessions/:id/socket';
/** The same session over WebRTC: POST an SDP offer here (`?ticket=`), DELETE to end. */
export const LIVE_WHIP_PATH = '/v1/live/sessions/:id/whip';
/** Largest SDP offer taken. */
const MAX_OFFER_BYTES = 64 * 1024;

export const LiveSessionBody = Type.Object(
  {
    identityId: Type.String({ minLength: 1, maxLength: 64, description: 'The source identity (made with consent through POST /v1/identities).' }),
    engine: Type.Optional(Type.Unsafe<EngineChoice>(Type.Enum(ENGINE_CHOICES, { description: 'Default mesh.' }))),
    manyFaces: Type.Optional(Type.Boolean()),
    mouthMask: Type.Optional(Type.Boolean()),
    opacity: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    sharpness: Type.Optional(Type.Number({ minimum: 0, maximum: 5 })),
    colorMatch: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type LiveSessionBody = Static<typeof LiveSessionBody>;

export const LiveSessionCreated = Type.Object({
  sessionId: Type.String(),
  ticket: Type.String({ description: 'Works once, until expiresAt.' }),
  url: Type.String({ description: 'The WebSocket URL to connect to (ticket included).' }),
  path: Type.String({ description: 'The same, as a path on this server.' }),
  expiresAt: Type.String(),
  engine: Type.String(),
  watermarkId: Type.String({ description: "The asset id of every frame's watermark." }),
  minutesLeft: Type.Union([Type.Integer(), Type.Null()], { description: "Live minutes left to the token today, the session's first included; null: no limit." }),
  capacity: Type.Object({ sessions: Type.Integer(), inUse: Type.Integer() }),
});

interface Ticket {
  sessionId: string;
  secretSha256: Buffer;
  token: TokenRecord;
  identity: IdentityRecord;
  prepared: PreparedSource;
  lease: SwapperLease;
  engine: string;
  body: LiveSessionBody;
  firstMinute: Reserved;
  expiresAt: number;
  timer: NodeJS.Timeout;
  audit: AuditContext;
  provenance: Awaited<ReturnType<typeof startProvenance>>;
  swapper: Awaited<ReturnType<SwapperLease['open']>>;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** The tickets, slots and running sessions of one API process. */
class LiveService {
  readonly capacity: number;
  readonly pool: SwapperPool;
  readonly tickets = new Map<string, Ticket>();
  readonly running = new Map<string, { tokenId: string; socket: SessionRun; secretSha256: Buffer }>();
  /** Every session's run, until its end line is in the audit log. */
  readonly runs = new Set<Promise<void>>();

  constructor(
    readonly home: string,
    readonly options: Required<LiveServiceOptions>,
  ) {
    this.capacity = options.capacity;
    this.pool = new SwapperPool(options.capacity, home);
  }

  /** Sessions (and unused tickets) of a token. */
  activeOf(tokenId: string): number {
    let count = 0;
    for (const ticket of this.tickets.values()) if (ticket.token.id === tokenId) count++;
    for (const session of this.running.values()) if (session.tokenId === tokenId) count++;
    return count;
  }

  get inUse(): number {
    return this.pool.busy;
  }

  /** Takes the ticket of a session once: undefined when unknown, used, expired or not matching. */
  redeem(sessionId: string, secret: string | undefined): Ticket | undefined {
    const ticket = this.tickets.get(sessionId);
    if (!ticket || secret === undefined || ticket.expiresAt <= Date.now()) return undefined;
    if (!timingSafeEqual(sha256(secret), ticket.secretSha256)) return undefined;
    this.tickets.delete(sessionId);
    clearTimeout(ticket.timer);
    return ticket;
  }

  /** A ticket that was not used in time: its slot and its minute go back. */
  async expire(sessionId: string): Promise<void> {
    const ticket = this.tickets.get(sessionId);
    if (!ticket) return;
    this.tickets.delete(sessionId);
    ticket.lease.release();
    await ticket.firstMinute.refund().catch(() => undefined);
  }

  async close(): Promise<void> {
    for (const id of [...this.tickets.keys()]) await this.expire(id);
    for (const { socket } of this.running.values()) void socket.end('server-closing', 'The server is shutting down.');
    await Promise.all([...this.running.values()].map(({ socket }) => socket.done));
    await Promise.all(this.runs);
    await this.pool.close();
  }
}

function liveOptions(options: LiveServiceOptions = {}): Required<LiveServiceOptions> {
  const provider = options.provider ?? 'cpu';
  return {
    provider,
    capacity: options.capacity ?? defaultLiveCapacity(provider),
    ticketSeconds: options.ticketSeconds ?? 60,
    minuteMs: options.minuteMs ?? 60_000,
    idleMs: options.idleMs ?? 30_000,
  };
}

/** Adds the live routes (and the WebSocket support they need). */
export async function addLiveRoutes(app: ApiApp, context: ContextOf<ApiContext>, options: LiveServiceOptions = {}): Promise<void> {
  const settings = liveOptions(options);
  let service: LiveService | undefined;
  const live = (): LiveService => (service ??= new LiveService(context().home, settings));
  // The WebSocket plugin once, whichever routes registered it first (it may not be registered twice).
  if (!app.hasDecorator('websocketServer')) await app.register(fastifyWebsocket, { options: { maxPayload: MAX_FRAME_BYTES } });
  app.addHook('preClose', async () => {
    await service?.close();
  });

  app.post(
    '/v1/live/sessions',
    {
      config: { access: { scope: 'live', media: true } },
      schema: {
        tags: ['live'],
        summary:
          'Start a live session: answers a one-use ticket and the WebSocket URL to send camera frames to and receive swapped, labelled and watermarked frames from. 503 with Retry-After beyond capacity; 429 when the live minutes of the day are used up.',
        body: LiveSessionBody,
        response: withErrors({ 201: LiveSessionCreated }, [404, 422]),
      },
    },
    async (request, reply) => {
      const token = callerOf(request);
      const ctx = context();
      const service = live();
      const body = request.body;
      const identity = await ownIdentity(ctx, token, body.identityId);
      const most = token.quotas.maxLiveSessions;
      if (most !== undefined && service.activeOf(token.id) >= most) {
        const message = `This token may have ${most} live session${most === 1 ? '' : 's'} at once; end one first.`;
        await auditRefusal(ctx.home, request, 'rejected-quota', message, { identityId: identity.id });
        throw new ApiError('quota-exceeded', message, { 'Retry-After': '10', 'X-Quota-Limit': String(most) });
      }
      const lease = service.pool.tryAcquire();
      if (!lease) {
        const message = `All ${service.capacity} live session slot${service.capacity === 1 ? ' is' : 's are'} in use; try again shortly.`;
        await auditRefusal(ctx.home, request, 'rejected-limit', message, { identityId: identity.id });
        throw new ApiError('overloaded', message, { 'Retry-After': String(Math.max(5, Math.round(settings.ticketSeconds / 2))) });
      }
      let firstMinute: Reserved | undefined;
      try {
        firstMinute = await reserveQuota(ctx.home, ctx.stores.quotas, request, token, 'liveMinutes', 1);
        const swapper = await lease.open({ provider: settings.provider, threads: 1, engine: body.engine ?? 'mesh' });
        const photos: Image[] = [];
        for (const photo of identity.photos) photos.push(await readImage(photo, { maxPixels: ctx.limits.maxPixels }));
        const paint = { sourceFace: 0, maxPixels: ctx.limits.maxPixels };
        const prepared = photos.length === 1 ? await swapper.prepareSource(photos[0]!, paint) : await swapper.prepareSources(photos, paint);
        const provenance = await startProvenance(ctx.home, { label: true }, 'video');
        const sessionId = randomUUID();
        const secret = randomBytes(24).toString('base64url');
        const expiresAt = Date.now() + settings.ticketSeconds * 1000;
        const ticket: Ticket = {
          sessionId,
          secretSha256: sha256(secret),
          token,
          identity,
          prepared,
          lease,
          engine: swapper.engine,
          body,
          firstMinute,
          expiresAt,
          timer: setTimeout(() => void service.expire(sessionId), settings.ticketSeconds * 1000),
          audit: requestAudit(request, 'ok', { identityId: identity.id, consentId: identity.consentId }),
          provenance,
          swapper,
        };
        ticket.timer.unref();
        service.tickets.set(sessionId, ticket);
        const limit = token.quotas.liveMinutesPerDay;
        const used = limit === undefined ? 0 : (await ctx.stores.quotas.usage(token.id)).used.liveMinutes;
        const path = `${LIVE_SOCKET_PATH.replace(':id', sessionId)}?ticket=${secret}`;
        const scheme = request.protocol === 'https' ? 'wss' : 'ws';
        return reply.code(201).send({
          sessionId,
          ticket: secret,
          url: `${scheme}://${request.host}${path}`,
          path,
          expiresAt: new Date(expiresAt).toISOString(),
          engine: swapper.engine,
          watermarkId: provenance.watermarkId,
          minutesLeft: limit === undefined ? null : Math.max(0, limit - used + 1),
          capacity: { sessions: service.capacity, inUse: service.inUse },
        });
      } catch (error) {
        lease.release();
        await firstMinute?.refund();
        throw error;
      }
    },
  );

  const redeemed = new WeakMap<FastifyRequest, Ticket>();
  app.route<{ Params: { id: string }; Querystring: { ticket?: string } }>({
    method: 'GET',
    url: LIVE_SOCKET_PATH,
    // The ticket is the credential here: browsers cannot set an Authorization header on a WebSocket.
    config: { access: { scope: 'none' }, rateLimit: false },
    schema: { hide: true },
    preValidation: async (request: FastifyRequest<{ Params: { id: string }; Querystring: { ticket?: string } }>, reply: FastifyReply) => {
      const ticket = live().redeem(request.params.id, request.query.ticket);
      if (!ticket) {
        await auditRefusal(context().home, request, 'rejected-auth', 'live ticket unknown, used or expired');
        return sendError(reply, new ApiError('unauthorized', 'The live ticket is unknown, already used or expired: ask POST /v1/live/sessions for a new one.'));
      }
      redeemed.set(request, ticket);
      return undefined;
    },
    handler: async (_request, reply) =>
      reply
        .code(426)
        .header('Upgrade', 'websocket')
        .send({ error: { kind: 'usage', message: 'This is a WebSocket endpoint.' } }),
    wsHandler: (socket, request) => {
      const ticket = redeemed.get(request);
      if (!ticket) {
        socket.close(LIVE_CLOSE_CODES.ticket, 'ticket');
        return;
      }
      const service = live();
      const run = runSession(context(), service, settings, ticket, socketTransport(context(), settings, socket)).catch((error: unknown) =>
        request.log.error({ err: error }, 'live session failed'),
      );
      service.runs.add(run);
      void run.finally(() => service.runs.delete(run));
    },
  });
  // The same session over WebRTC (WHIP): the ticket's holder POSTs an SDP offer with a sendrecv video transceiver.
  await app.register((scope, _options, registered) => {
    scope.addContentTypeParser('application/sdp', { parseAs: 'string', bodyLimit: MAX_OFFER_BYTES }, (_request, body, done) => done(null, body));
    scope.route<{ Params: { id: string }; Querystring: { ticket?: string; stamp?: string } }>({
      method: 'POST',
      url: LIVE_WHIP_PATH,
      config: { access: { scope: 'none' }, rateLimit: false },
      schema: { hide: true },
      handler: async (request, reply) => {
        const offer = typeof request.body === 'string' ? request.body : '';
        try {
          checkWhipOffer(offer);
        } catch (error) {
          return sendError(reply, new ApiError('usage', (error as Error).message));
        }
        const service = live();
        const ticket = service.redeem(request.params.id, request.query.ticket);
        if (!ticket) {
          await auditRefusal(context().home, request, 'rejected-auth', 'live ticket unknown, used or expired');
          return sendError(reply, new ApiError('unauthorized', 'The live ticket is unknown, already used or expired: ask POST /v1/live/sessions for a new one.'));
        }
        const made: { session?: FrameSession; whip?: WhipSession } = {};
        let peer: WhipPeer;
        try {
          peer = await WhipPeer.answer(
            offer,
            {
              onFrame: (frame, stamp) => made.session?.receiveFrame(frame, stamp),
              onMessage: (text) => made.whip?.message(text, false),
              onGone: (state) => made.whip?.gone(state),
            },
            { stamp: request.query.stamp === '1' },
          );
        } catch (error) {
          ticket.lease.release();
          await ticket.firstMinute.refund().catch(() => undefined);
          return sendError(reply, error instanceof LiveswapError && error.kind === 'usage' ? new ApiError('usage', error.message) : error);
        }
        const transport: SessionTransport = {
          kind: 'webrtc',
          output: {
            send: (message) => peer.sendMessage(message),
            sendVideo: (message, frame) => {
              peer.sendAnswer(message, frame);
            },
          },
          start: (session, _ready, minutes) => {
            made.session = session;
            made.whip = new WhipSession(peer, session, { idleMs: settings.idleMs, signal: context().closing, minutes });
            return made.whip;
          },
        };
        const run = runSession(context(), service, settings, ticket, transport).catch((error: unknown) => request.log.error({ err: error }, 'live session failed'));
        service.runs.add(run);
        void run.finally(() => service.runs.delete(run));
        return reply
          .code(201)
          .type('application/sdp')
          .header('Location', `${LIVE_WHIP_PATH.replace(':id', ticket.sessionId)}?ticket=${request.query.ticket ?? ''}`)
          .header('Cache-Control', 'no-store')
          .send(peer.sdp);
      },
    });
    scope.route<{ Params: { id: string }; Querystring: { ticket?: string } }>({
      method: 'DELETE',
      url: LIVE_WHIP_PATH,
      config: { access: { scope: 'none' }, rateLimit: false },
      schema: { hide: true },
      handler: async (request, reply) => {
        const running = live().running.get(request.params.id);
        const secret = request.query.ticket;
        if (!running || secret === undefined || !timingSafeEqual(sha256(secret), running.secretSha256)) {
          return sendError(reply, new ApiError('not-found', 'No such running session (it ended already, or the ticket does not match).'));
        }
        await running.socket.end('ended', 'The client ended the session.');
        await running.socket.done;
        return reply.code(200).send({ ended: true });
      },
    });
    registered();
  });
}

/** A running session as its owner sees it, whatever carries it (LiveSocket, WhipSession). */
interface SessionRun {
  end(reason: LiveEndReason, message: string): unknown;
  readonly done: Promise<LiveSocketSummary>;
}

/** How a redeemed ticket's session reaches its client: where the frame session sends, and what runs it once made. */
interface SessionTransport {
  kind: 'websocket' | 'webrtc';
  output: Pick<FrameSessionOptions, 'send' | 'sendVideo'>;
  start(session: FrameSession, ready: LiveReady, minutes: () => number): SessionRun;
}

type LiveReady = Omit<Extract<LiveServerMessage, { type: 'ready' }>, 'type'>;

/** The WebSocket transport of a redeemed ticket. */
function socketTransport(ctx: ApiContext, settings: Required<LiveServiceOptions>, socket: WebSocket): SessionTransport {
  const sender = new LiveSender(socket);
  return {
    kind: 'websocket',
    output: { send: (message, picture) => sender.send(message, picture) },
    start: (session, ready, minutes) => new LiveSocket({ socket, sender, session, ready, idleMs: settings.idleMs, signal: ctx.closing, minutes }),
  };
}

/**
 * Runs a redeemed ticket's session on its transport: the minute clock (transport-free: minutes are
 * billed by the session's time, whatever carries its frames), the audit lines, the slot given back
 * at the end.
 */
async function runSession(ctx: ApiContext, service: LiveService, settings: Required<LiveServiceOptions>, ticket: Ticket, transport: SessionTransport): Promise<void> {
  const { token, sessionId } = ticket;
  let minutes = 1;
  const limit = token.quotas.liveMinutesPerDay;
  const session = new FrameSession({
    swapper: ticket.swapper,
    identity: ticket.prepared,
    acceptSources: false,
    labelOptional: false,
    provenance: ticket.provenance,
    maxPixels: ctx.limits.maxPixels,
    settings: {
      ...(ticket.body.manyFaces !== undefined ? { manyFaces: ticket.body.manyFaces } : {}),
      ...(ticket.body.mouthMask !== undefined ? { mouthMask: ticket.body.mouthMask } : {}),
      ...(ticket.body.opacity !== undefined ? { opacity: ticket.body.opacity } : {}),
      ...(ticket.body.sharpness !== undefined ? { sharpness: ticket.body.sharpness } : {}),
      ...(ticket.body.colorMatch !== undefined ? { colorMatch: ticket.body.colorMatch } : {}),
    },
    ...transport.output,
  });
  const used = limit === undefined ? 0 : (await ctx.stores.quotas.usage(token.id)).used.liveMinutes;
  const live = transport.start(
    session,
    {
      sessionId,
      engine: ticket.engine,
      watermarkId: ticket.provenance.watermarkId,
      label: ticket.provenance.label,
      maxFrameBytes: MAX_FRAME_BYTES,
      maxPixels: ctx.limits.maxPixels,
      sources: false,
      minutesLeft: limit === undefined ? null : Math.max(0, limit - used + 1),
    },
    () => minutes,
  );
  service.running.set(sessionId, { tokenId: token.id, socket: live, secretSha256: ticket.secretSha256 });
  const options = { sessionId, engine: ticket.engine, transport: transport.kind, ...ticket.body };
  const sources = ticket.identity.sourceSha256.map((sha) => ({ sha256: sha }));
  const line = (event: 'start' | 'end', outcome: AuditOutcome, extra: Record<string, unknown>, reason?: string) =>
    appendAudit(
      ctx.home,
      auditEntry({
        kind: 'live-session',
        sources,
        watermarkId: ticket.provenance.watermarkId,
        label: ticket.provenance.label,
        credentials: 'none',
        options: { event, ...options, ...extra },
        service: { ...ticket.audit, outcome, ...(reason ? { reason } : {}) },
      }),
    );
  await line('start', 'ok', {}).catch(() => void live.end('failed', 'The audit log did not take the session.'));
  // Every started minute is reserved as it starts; a token out of minutes ends the session.
  const clock = setInterval(() => {
    void ctx.stores.quotas.reserve(token.id, 'liveMinutes', 1, limit).then(
      (reservation) => {
        if (reservation.ok) minutes++;
        else void live.end('quota-exceeded', `The daily quota of liveMinutesPerDay (${reservation.limit}) is used up; it resets in ${reservation.retryAfterSeconds} s.`);
      },
      () => void live.end('failed', 'The quota ledger did not answer.'),
    );
  }, settings.minuteMs);
  const summary = await live.done;
  clearInterval(clock);
  service.running.delete(sessionId);
  ticket.lease.release();
  const outcome: Record<LiveEndReason, AuditOutcome> = {
    ended: 'ok',
    idle: 'ok',
    'quota-exceeded': 'rejected-quota',
    'server-closing': 'cancelled',
    failed: 'failed',
    protocol: 'failed',
  };
  await line(
    'end',
    outcome[summary.reason],
    {
      endReason: summary.reason,
      frames: summary.processed,
      received: summary.received,
      dropped: summary.dropped,
      failed: summary.failed,
      skipped: summary.skipped,
      maxWaiting: summary.maxWaiting,
      seconds: summary.seconds,
      minutes,
    },
    summary.message,
  ).catch(() => undefined);
}
