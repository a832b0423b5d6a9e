/**
 * Server-side processing for `liveswap ui`'s own page: the page (its server worker) opens a
 * WebSocket and sends its camera frames; each comes back swapped, labelled and watermarked by an
 * engine in this process (onnxruntime-node, on a GPU where one is installed), with the asset id of
 * the page's provenance session, so the watermark says the same whether the browser or the server
 * did the work. The page's own session line is already in the audit log; the end of each server
 * session adds one (frames, seconds, why it ended). Only this server's pages may connect (the
 * Origin check of ui-server.ts), with an asset id this server gave out. The same sessions are
 * offered over WebRTC (ui-whip.ts): the two transports share the engines' slots.
 */

import type { WebSocket } from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { availableProviders } from '../node/models/onnx-runtime.js';
import { LIVE_CLOSE_CODES, UI_LIVE_PATHS, type UiLiveInfo } from '../pipeline/live-wire.js';
import { ENGINE_NAMES, type EngineName, type ExecutionProvider } from '../pipeline/options.js';
import { SwapperPool } from './api/swapper-pool.js';
import { LiveSender, LiveSocket } from './live-socket.js';
import { MAX_FRAME_BYTES } from './relay.js';
import { auditUiSessionEnd, openUiSession, type UiLiveContext, type UiLiveShared } from './ui-session.js';
import { addUiWhipRoutes, whipAvailable } from './ui-whip.js';

export type { UiLiveContext } from './ui-session.js';

/** The provider server-side processing uses: a GPU provider when onnxruntime-node has one here. */
export function uiLiveProvider(): ExecutionProvider {
  return availableProviders().find((provider) => provider !== 'cpu') ?? 'cpu';
}

/** Adds the info route, the socket and the WHIP route; the answer closes the engines (when the server closes). */
export function addUiLiveRoutes(app: FastifyInstance, context: UiLiveContext): { close(): Promise<void> } {
  const provider = context.provider ?? uiLiveProvider();
  // Two: a reloaded page's new session may start before the old one has closed.
  const pool = new SwapperPool(2, context.home);
  const running = new Set<LiveSocket>();
  const closing = new AbortController();

  app.get(UI_LIVE_PATHS.info, async (_request, reply) => {
    const info: UiLiveInfo = {
      socket: UI_LIVE_PATHS.socket,
      ...(whipAvailable() ? { whip: UI_LIVE_PATHS.whip } : {}),
      provider,
      gpu: provider !== 'cpu',
      engines: { mesh: true, inswapper: await context.inswapper() },
    };
    return reply.header('Cache-Control', 'no-store').send(info);
  });

  type SocketRequest = FastifyRequest<{ Querystring: { engine?: string; assetId?: string } }>;
  app.route<{ Querystring: { engine?: string; assetId?: string } }>({
    method: 'GET',
    url: UI_LIVE_PATHS.socket,
    preValidation: async (request: SocketRequest, reply: FastifyReply) => {
      const assetId = Number(request.query.assetId);
      if (!Number.isInteger(assetId) || !context.allotted(assetId)) {
        return reply.code(403).send({ error: 'Start a provenance session first (POST /api/provenance/session) and name its assetId: every frame is watermarked with it.' });
      }
      if (request.query.engine !== undefined && !(ENGINE_NAMES as readonly string[]).includes(request.query.engine)) {
        return reply.code(400).send({ error: `engine must be one of ${ENGINE_NAMES.join(', ')}.` });
      }
      return undefined;
    },
    handler: async (_request, reply) => reply.code(426).header('Upgrade', 'websocket').send({ error: 'This is a WebSocket endpoint.' }),
    wsHandler: (socket, request) => {
      const query = (request as SocketRequest).query;
      void run(socket, Number(query.assetId), (query.engine as EngineName | undefined) ?? 'mesh');
    },
  });

  const shared: UiLiveShared = { context, pool, provider, closing: closing.signal };
  const whip = addUiWhipRoutes(app, shared);

  async function run(socket: WebSocket, assetId: number, engine: EngineName): Promise<void> {
    const sender = new LiveSender(socket);
    const lease = pool.tryAcquire();
    if (!lease) {
      socket.close(LIVE_CLOSE_CODES.failed, 'busy');
      return;
    }
    try {
      const { swapper, provenance, session, maxPixels } = await openUiSession(shared, lease, assetId, engine, { send: (message, picture) => sender.send(message, picture) });
      const live = new LiveSocket({
        socket,
        sender,
        session,
        ready: {
          sessionId: provenance.watermarkId,
          engine: swapper.engine,
          watermarkId: provenance.watermarkId,
          label: provenance.label,
          maxFrameBytes: MAX_FRAME_BYTES,
          maxPixels,
          sources: true,
          minutesLeft: null,
        },
        // The page's own session: a still target or a paused video sends nothing for a while, and that is fine.
        idleMs: Number.POSITIVE_INFINITY,
        signal: closing.signal,
      });
      running.add(live);
      const summary = await live.done;
      running.delete(live);
      await auditUiSessionEnd(context, { provenance, session, engine: swapper.engine, provider, transport: 'websocket', ...summary });
    } catch (error) {
      sender.send({ type: 'end', reason: 'failed', message: error instanceof Error ? error.message : String(error), frames: 0, seconds: 0, minutes: 0 });
      socket.close(LIVE_CLOSE_CODES.failed, 'failed');
    } finally {
      lease.release();
    }
  }

  return {
    close: async () => {
      closing.abort();
      for (const live of running) live.end('server-closing', 'The server is shutting down.');
      await Promise.all([...running].map((live) => live.done));
      await whip.close();
      await pool.close();
    },
  };
}
