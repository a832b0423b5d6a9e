/**
 * Server-side processing for `liveswap ui`'s page over WebRTC, WHIP style (RFC 9725's signalling
 * with a sendrecv video transceiver, liveswap's extension): the page POSTs an SDP offer
 * (`application/sdp`) to `/api/live/whip?engine=…&assetId=…&stamp=1` and gets `201` with the
 * complete answer and a `Location` to `DELETE` when done. Its camera track arrives decoded (I420),
 * goes through the same frame session as the WebSocket's frames (freshest frame wins, labelled and
 * watermarked with the page's asset id) and the swapped frames go back on the same connection's
 * video track, each with the stamp of the frame it answers in rows under it (`stamp=1`, see
 * pipeline/frame-stamp.ts). A data channel the page opens carries the session's text messages
 * (pipeline/live-wire.ts: settings, reset, end up; frame, source, error, end down); a source photo
 * is POSTed to `Location/source?face=N`. The slots are the WebSocket's: beyond them, 503 with
 * Retry-After. A bad offer is 400, an asset id this server did not give out 403, trickle ICE
 * (PATCH) 405.
 */

import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { LiveswapError } from '../core/errors.js';
import { checkWhipOffer, WhipPeer } from '../node/live/whip-peer.js';
import { UI_LIVE_PATHS, type LiveServerMessage } from '../pipeline/live-wire.js';
import { ENGINE_NAMES, type EngineName } from '../pipeline/options.js';
import { MAX_FRAME_BYTES } from './relay.js';
import { auditUiSessionEnd, openUiSession, type UiLiveShared } from './ui-session.js';
import { WhipSession } from './whip-session.js';

/** Largest SDP offer taken. */
const MAX_OFFER_BYTES = 64 * 1024;
/** Seconds a refused client is told to wait. */
const RETRY_AFTER_S = 5;

/** Whether @roamhq/wrtc is installed here (it is an optional dependency); found, not loaded. */
export function whipAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('@roamhq/wrtc');
    return true;
  } catch {
    return false;
  }
}

type WhipQuery = { Querystring: { engine?: string; assetId?: string; stamp?: string } };

/** Adds the WHIP routes; the answer ends every session (when the server closes). */
export function addUiWhipRoutes(app: FastifyInstance, shared: UiLiveShared): { close(): Promise<void> } {
  const { context, pool, provider } = shared;
  /** Each session, and its end: the slot given back and the audit line written. */
  const sessions = new Map<string, { whip: WhipSession; finished: Promise<void> }>();
  const path = UI_LIVE_PATHS.whip;

  void app.register((scope, _options, registered) => {
    scope.addContentTypeParser('application/sdp', { parseAs: 'string', bodyLimit: MAX_OFFER_BYTES }, (_request, body, done) => done(null, body));
    scope.addContentTypeParser(/^image\//i, { parseAs: 'buffer', bodyLimit: MAX_FRAME_BYTES }, (_request, body, done) => done(null, body));

    scope.post<WhipQuery>(path, async (request, reply) => {
      if (!String(request.headers['content-type'] ?? '').startsWith('application/sdp')) {
        return reply.code(415).send({ error: 'POST an SDP offer with Content-Type: application/sdp.' });
      }
      const assetId = Number(request.query.assetId);
      if (!Number.isInteger(assetId) || !context.allotted(assetId)) {
        return reply.code(403).send({ error: 'Start a provenance session first (POST /api/provenance/session) and name its assetId: every frame is watermarked with it.' });
      }
      const engine = request.query.engine ?? 'mesh';
      if (!(ENGINE_NAMES as readonly string[]).includes(engine)) return reply.code(400).send({ error: `engine must be one of ${ENGINE_NAMES.join(', ')}.` });
      const offer = typeof request.body === 'string' ? request.body : '';
      try {
        checkWhipOffer(offer);
      } catch (error) {
        return reply.code(400).send({ error: (error as Error).message });
      }
      const lease = pool.tryAcquire();
      if (!lease) {
        return reply
          .code(503)
          .header('Retry-After', String(RETRY_AFTER_S))
          .send({ error: `All ${pool.slots} server-side sessions are in use; end one (or wait) and try again.` });
      }
      let peer: WhipPeer | undefined;
      try {
        const id = randomUUID();
        // The frame session sends through the peer, which exists once the offer is answered.
        const out = { peer: undefined as WhipPeer | undefined };
        const opened = await openUiSession(shared, lease, assetId, engine as EngineName, {
          send: (message: LiveServerMessage) => out.peer?.sendMessage(message),
          sendVideo: (message, frame) => {
            out.peer?.sendAnswer(message, frame);
          },
        });
        const { session, provenance, swapper } = opened;
        const made: { whip?: WhipSession } = {};
        peer = await WhipPeer.answer(
          offer,
          {
            onFrame: (frame, stamp) => session.receiveFrame(frame, stamp),
            onMessage: (text) => made.whip?.message(text, true),
            onGone: (state) => made.whip?.gone(state),
          },
          { stamp: request.query.stamp === '1' },
        ).catch(async (error: unknown) => {
          await session.close();
          throw error;
        });
        out.peer = peer;
        const whip = new WhipSession(peer, session, { signal: shared.closing });
        made.whip = whip;
        const finished = whip.done.then(async (summary) => {
          sessions.delete(id);
          lease.release();
          await auditUiSessionEnd(context, { provenance, session, engine: swapper.engine, provider, transport: 'webrtc', ...summary });
        });
        sessions.set(id, { whip, finished });
        return reply.code(201).type('application/sdp').header('Location', `${path}/${id}`).header('Cache-Control', 'no-store').send(peer.sdp);
      } catch (error) {
        peer?.close();
        lease.release();
        if (error instanceof LiveswapError && error.kind === 'usage') return reply.code(400).send({ error: error.message });
        throw error;
      }
    });

    scope.delete<{ Params: { id: string } }>(`${path}/:id`, async (request, reply) => {
      const entry = sessions.get(request.params.id);
      if (!entry) return reply.code(404).send({ error: 'No such session (it ended already?).' });
      await entry.whip.end('ended', 'The client ended the session.');
      await entry.finished;
      return reply.code(200).send({ ended: true });
    });

    scope.post<{ Params: { id: string }; Querystring: { face?: string } }>(`${path}/:id/source`, async (request, reply) => {
      const whip = sessions.get(request.params.id)?.whip;
      if (!whip) return reply.code(404).send({ error: 'No such session (it ended already?).' });
      if (!Buffer.isBuffer(request.body)) return reply.code(415).send({ error: 'POST the source photo as image/jpeg, image/png or image/webp.' });
      const face = Number(request.query.face ?? 0);
      if (!Number.isInteger(face) || face < 0) return reply.code(400).send({ error: 'face must be a whole number ≥ 0.' });
      // The faces found come back on the data channel (a `source` message), as over the WebSocket.
      void whip.session.receiveSource(request.body, face);
      return reply.code(202).send({ accepted: true });
    });

    const noTrickle = async (_request: unknown, reply: FastifyReply): Promise<FastifyReply> =>
      reply.code(405).header('Allow', 'DELETE').send({ error: 'Trickle ICE is not offered: the answer holds every candidate.' });
    scope.patch(`${path}/:id`, noTrickle);
    registered();
  });

  return {
    close: async () => {
      const all = [...sessions.values()];
      for (const { whip } of all) void whip.end('server-closing', 'The server is shutting down.');
      await Promise.all(all.map(({ finished }) => finished));
    },
  };
}
