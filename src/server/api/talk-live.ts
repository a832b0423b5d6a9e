/**
 * `GET /v1/talks/live` (WebSocket): a talking face in real time for an assistant. The client sends
 * a JSON `start` message (the face: an identity's photo, a photo sent with consent, or an upload
 * with consent, photo or video, checked as POST /v1/talks checks it; optional identity, voice,
 * fps, size; for a video, how its face is tracked), then `text` chunks as its
 * language model writes them (each spoken by flite as it arrives) or `audio` chunks (its own PCM
 * with optional phones), then `end`. The server answers `ready`, then binary messages: audio
 * (mono s16le PCM at 48 kHz, one frame's worth each) and video frames (JPEG, labelled and
 * watermarked), each with its time on the stream's clock, sent in real time (at most
 * STREAM_LEAD_SECONDS ahead); a `speech` message places each chunk on that clock; `end` closes
 * with the summary. A video face plays in a loop with its own motion, its mouth replaced. The
 * freshest frame wins: a frame is dropped, not queued, while the one before is still unsent.
 * Authenticated like every route (a browser, which cannot set headers on a WebSocket, puts the
 * token in `?access_token=`), talk seconds counted against the token's quota as they are
 * streamed, one audit line per session; errors carry the HTTP status the same refusal gets.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WebSocket } from '@fastify/websocket';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Value } from 'typebox/value';
import type { Image } from '../../core/image.js';
import { decodeImage } from '../../node/media/image-io.js';
import { pcmToSpeechRate, STREAM_LEAD_SECONDS, TalkStream, type TalkStreamSummary } from '../../node/jobs/talk-stream.js';
import { fliteVoices, SPEECH_RATE } from '../../node/jobs/talk-speech.js';
import { appendAudit, auditEntry, startProvenance, type AuditOutcome } from '../../node/provenance/output-provenance.js';
import type { TokenRecord } from '../../node/service/types.js';
import { parsePhoneTrack } from '../../pipeline/talk-visemes.js';
import type { ApiApp, ContextOf } from './app-type.js';
import { auditRefusal, requestAudit } from './audit.js';
import type { ApiContext } from './context.js';
import { ApiError, describeError, sendError } from './errors.js';
import { ownIdentity } from './identity-routes.js';
import { reserveQuota, type Reserved } from './quota.js';
import { resolveTalkFace } from './talk-face.js';
import { FLITE_MISSING } from './talk-routes.js';
import { TalkLiveMessage, TalkLiveStart } from './talk-schemas.js';
import type { Uploads } from './upload-routes.js';

export const TALK_LIVE_PATH = '/v1/talks/live';
/** Binary messages from the server: byte 0 says which, bytes 4–11 the time (seconds, float64 LE), then the payload. */
export const TALK_AUDIO = 1;
export const TALK_VIDEO = 2;
export const TALK_HEADER_BYTES = 12;
/** Talk seconds reserved at a time against the daily quota as the stream runs. */
export const QUOTA_BLOCK_SECONDS = 10;
/** The start message must come within this long. */
const START_TIMEOUT_MS = 10_000;
/** A stream with nothing to say and no message for this long ends. */
export const TALK_IDLE_MS = 60_000;
/** Audio bytes a client may have unsent besides one frame before a video frame is dropped (a second of speech; audio is always sent). */
const AUDIO_BACKLOG = 2 * SPEECH_RATE;
/** Live talks this process runs at once; one more is refused (overloaded). */
const MAX_STREAMS = Math.max(1, cpus().length);

type TalksContext = ApiContext & { uploads: Uploads };

/** A binary message: kind, time, payload. */
export function talkPacket(kind: number, t: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(TALK_HEADER_BYTES + payload.length);
  out[0] = kind;
  out.writeDoubleLE(t, 4);
  payload.copy(out, TALK_HEADER_BYTES);
  return out;
}

/** Authenticates the upgrade: `Authorization: Bearer …`, or `access_token` in the query (browsers); 401/403 as on every route, audited. */
function authenticate(context: ContextOf<TalksContext>) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const ctx = context();
    const query = request.query as Record<string, unknown> | undefined;
    const fromQuery = typeof query?.access_token === 'string' ? `Bearer ${query.access_token}` : undefined;
    const authentication = ctx.stores.tokens.authenticate(request.headers.authorization ?? fromQuery);
    if (!authentication.ok) {
      await auditRefusal(ctx.home, request, 'rejected-auth', `token ${authentication.refusal}`);
      return sendError(reply, new ApiError('unauthorized', 'This route needs a token: `Authorization: Bearer lsw_…`, or `?access_token=lsw_…` from a browser.'));
    }
    request.token = authentication.token;
    if (!authentication.token.scopes.includes('talk')) {
      await auditRefusal(ctx.home, request, 'rejected-auth', 'scope talk missing');
      return sendError(reply, new ApiError('forbidden', `This token lacks the scope talk that ${TALK_LIVE_PATH} needs.`));
    }
    return undefined;
  };
}

/** Sends a JSON message if the socket is open. */
function sendJson(socket: WebSocket, message: Record<string, unknown>): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}

/** An error message: its kind, and the HTTP status the same refusal gets on the other routes. */
function sendFailure(socket: WebSocket, error: unknown): void {
  const { kind, status, message } = describeError(error);
  sendJson(socket, { type: 'error', kind, status, message });
}

type Listener = (data: Buffer, binary: boolean) => void;

/**
 * The socket's messages from the moment it opens: a listener added after an `await` would miss
 * what the client sent at once, so they wait here until someone listens.
 */
class Inbox {
  private readonly waiting: { data: Buffer; binary: boolean }[] = [];
  private listener: Listener | undefined;

  constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, binary: boolean) => (this.listener ? this.listener(data, binary) : this.waiting.push({ data, binary })));
  }

  /** Hands every message, those waiting first, to `listener` from now on. */
  listen(listener: Listener): void {
    this.listener = listener;
    for (const message of this.waiting.splice(0)) listener(message.data, message.binary);
  }

  /** The next message as JSON; undefined when the socket closes first. */
  next(timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listener = undefined;
        this.socket.off('close', onClose);
      };
      const onClose = (): void => {
        done();
        resolve(undefined);
      };
      const timer = setTimeout(() => {
        done();
        reject(new ApiError('usage', `No start message within ${timeoutMs / 1000} s.`));
      }, timeoutMs);
      this.socket.on('close', onClose);
      this.listen((data, binary) => {
        done();
        if (binary) return reject(new ApiError('usage', 'Send JSON text messages.'));
        try {
          resolve(JSON.parse(data.toString('utf8')));
        } catch {
          reject(new ApiError('usage', 'A message is not JSON.'));
        }
      });
    });
  }
}

/** The checked start message and what it names: the face photo, the identity's photo, its consent. */
async function begin(ctx: TalksContext, request: FastifyRequest, token: TokenRecord, start: TalkLiveStart, folder: string) {
  const face = await resolveTalkFace(
    ctx,
    request,
    token,
    {
      faceIdentityId: start.faceIdentityId,
      faceUploadId: start.faceUploadId,
      faceBytes: start.facePhoto !== undefined ? Buffer.from(start.facePhoto, 'base64') : undefined,
      consent: start.consent,
    },
    folder,
    { sentPhotoOnly: true },
  );
  let source: Image | undefined;
  if (start.sourceIdentityId !== undefined) {
    const identity = await ownIdentity(ctx, token, start.sourceIdentityId);
    source = await decodeImage(await readFile(identity.photos[0]!), 'the identity photo', { maxPixels: ctx.limits.maxPixels });
  }
  return { face, source };
}

export function addTalkLiveRoute(app: ApiApp, context: ContextOf<TalksContext>): void {
  let running = 0;
  // The server closes once every session has written its audit line and freed its files.
  const sessions = new Set<Promise<void>>();
  app.addHook('preClose', async () => {
    await Promise.allSettled([...sessions]);
  });
  app.get(
    TALK_LIVE_PATH,
    {
      websocket: true,
      // The token is checked by this route's own hook: a browser's WebSocket cannot send a header.
      config: { access: { scope: 'none' } },
      onRequest: authenticate(context),
    },
    async (socket: WebSocket, request: FastifyRequest) => {
      let finished!: () => void;
      const session = new Promise<void>((resolve) => (finished = resolve));
      sessions.add(session);
      void session.then(() => sessions.delete(session));
      const inbox = new Inbox(socket);
      const ctx = context();
      const token = request.token!;
      if (running >= MAX_STREAMS) {
        sendFailure(socket, new ApiError('overloaded', `This server runs ${MAX_STREAMS} live talks at once; try again shortly.`));
        socket.close(1013, 'overloaded');
        finished();
        return;
      }
      running++;
      let folder: string | undefined;
      const stop = new AbortController();
      const onClosing = (): void => stop.abort();
      ctx.closing.addEventListener('abort', onClosing, { once: true });
      socket.on('close', () => stop.abort());
      const reservations: Reserved[] = [];
      let reservedSeconds = 0;
      let stream: TalkStream | undefined;
      let summary: TalkStreamSummary | undefined;
      let failure: Error | undefined;
      let consentId: string | undefined;
      let identityId: string | undefined;
      let watermarkId: string | undefined;
      let label: { shown: boolean; text?: string } | undefined;
      let ended = false;
      try {
        folder = await mkdtemp(join(tmpdir(), 'liveswap-talk-live-'));
        const first = await inbox.next(START_TIMEOUT_MS);
        if (first === undefined) return;
        if (!Value.Check(TalkLiveStart, first)) {
          const problem = Value.Errors(TalkLiveStart, first)[0];
          throw new ApiError('usage', `The first message must be {"type":"start", …}${problem ? `: ${problem.instancePath || 'message'} ${problem.message}` : ''}.`);
        }
        const speaks = fliteVoices() !== undefined;
        if (first.voice !== undefined && !speaks) throw new ApiError('unavailable', FLITE_MISSING);
        const { face, source } = await begin(ctx, request, token, first, folder);
        consentId = face.consentId;
        identityId = face.identityId || undefined;
        const reserve = async (): Promise<void> => {
          reservations.push(await reserveQuota(ctx.home, ctx.stores.quotas, request, token, 'talkSeconds', QUOTA_BLOCK_SECONDS));
          reservedSeconds += QUOTA_BLOCK_SECONDS;
        };
        await reserve();
        const provenance = await startProvenance(ctx.home, { label: true }, 'video');
        watermarkId = provenance.watermarkId;
        label = provenance.label;
        stream = await TalkStream.open({
          ...(face.photo ? { face: face.photo } : { video: face.path }),
          ...(first.tracking !== undefined ? { tracking: first.tracking } : {}),
          ...(source ? { source } : {}),
          ...(first.fps !== undefined ? { fps: first.fps } : {}),
          ...(first.size !== undefined ? { size: first.size } : {}),
          ...(first.quality !== undefined ? { quality: first.quality } : {}),
          ...(first.voice !== undefined ? { voice: first.voice } : {}),
          marker: provenance.marker,
        });
        const live = stream;
        sendJson(socket, {
          type: 'ready',
          face: face.photo ? 'photo' : 'video',
          fps: live.fps,
          width: live.width,
          height: live.height,
          audio: { format: 's16le', sampleRate: SPEECH_RATE, channels: 1 },
          leadSeconds: STREAM_LEAD_SECONDS,
          speaks,
          watermarkId: provenance.watermarkId,
          label: provenance.label,
        });
        // Chunks are spoken one after another, in the order sent.
        let chain: Promise<void> = Promise.resolve();
        let lastMessage = performance.now();
        let lastFrameBytes = 0;
        const handle = async (message: TalkLiveMessage): Promise<void> => {
          if (message.type === 'text') {
            if (!speaks) throw new ApiError('unavailable', FLITE_MISSING);
            const placed = await live.say(message.text);
            sendJson(socket, {
              type: 'speech',
              chunk: placed.chunk,
              start: placed.startFrame / live.fps,
              duration: placed.samples.length / SPEECH_RATE,
              drivenBy: placed.drivenBy,
            });
          } else if (message.type === 'audio') {
            const samples = pcmToSpeechRate(Buffer.from(message.pcm, 'base64'), message.sampleRate);
            const phones = message.phonemes !== undefined ? parsePhoneTrack(JSON.stringify(message.phonemes), 'phonemes') : undefined;
            const placed = live.addSpeech(samples, phones);
            sendJson(socket, { type: 'speech', chunk: placed.chunk, start: placed.startFrame / live.fps, duration: samples.length / SPEECH_RATE, drivenBy: placed.drivenBy });
          } else if (message.type === 'end') {
            ended = true;
            live.end();
          } else {
            throw new ApiError('usage', 'The talk has already started.');
          }
        };
        inbox.listen((data, binary) => {
          lastMessage = performance.now();
          let message: unknown;
          try {
            if (binary) throw new ApiError('usage', 'Send JSON text messages.');
            message = JSON.parse(data.toString('utf8'));
          } catch (error) {
            sendFailure(socket, error instanceof ApiError ? error : new ApiError('usage', 'A message is not JSON.'));
            return;
          }
          if (!Value.Check(TalkLiveMessage, message)) {
            sendFailure(socket, new ApiError('usage', 'Unknown message: send {"type":"text","text":…}, {"type":"audio","pcm":…,"sampleRate":…}, or {"type":"end"}.'));
            return;
          }
          const checked = message;
          chain = chain.then(() => handle(checked).catch((error: unknown) => sendFailure(socket, error)));
        });
        summary = await live.run(
          {
            audio: (t, pcm) => {
              if (socket.readyState === socket.OPEN) socket.send(talkPacket(TALK_AUDIO, t, pcm));
            },
            video: async (t, jpeg) => {
              // The quota: the next block is reserved before the stream passes what is reserved.
              if (t + 1 / live.fps > reservedSeconds) {
                try {
                  await reserve();
                } catch (error) {
                  failure = error as Error;
                  stop.abort();
                  return;
                }
              }
              if (performance.now() - lastMessage > TALK_IDLE_MS && live.queuedSeconds === 0) live.end();
              // The freshest frame wins: while the frame before is still unsent, this one is dropped.
              if (socket.readyState !== socket.OPEN || socket.bufferedAmount > lastFrameBytes + AUDIO_BACKLOG) return false;
              const packet = talkPacket(TALK_VIDEO, t, jpeg);
              lastFrameBytes = packet.length;
              socket.send(packet);
              return true;
            },
          },
          stop.signal,
        );
        if (failure !== undefined) throw failure;
        sendJson(socket, { type: 'end', ...summary });
        socket.close(1000, 'done');
      } catch (error) {
        failure = error instanceof Error ? error : new Error('The live talk failed.');
        sendFailure(socket, error);
        if (socket.readyState === socket.OPEN) socket.close(error instanceof ApiError && error.kind === 'unauthorized' ? 1008 : 1011, describeError(error).kind);
      } finally {
        ctx.closing.removeEventListener('abort', onClosing);
        await stream?.close().catch(() => undefined);
        if (folder !== undefined) await rm(folder, { recursive: true, force: true }).catch(() => undefined);
        // What was not streamed goes back to the quota (whole seconds, as it was reserved).
        const seconds = summary?.seconds ?? 0;
        const back = reservedSeconds - Math.ceil(seconds);
        const last = reservations.at(-1);
        if (last && back > 0) await ctx.stores.quotas.refund(token.id, 'talkSeconds', back, last.at).catch(() => undefined);
        if (consentId !== undefined) {
          const outcome: AuditOutcome = failure !== undefined ? 'failed' : ended ? 'ok' : 'cancelled';
          const entry = auditEntry({
            kind: 'live-session',
            sources: [],
            watermarkId: watermarkId ?? '',
            label: label ?? { shown: false },
            credentials: 'none',
            options: {
              talk: true,
              ...(summary
                ? {
                    face: summary.face,
                    frames: summary.frames,
                    skipped: summary.skipped,
                    dropped: summary.dropped,
                    chunks: summary.chunks,
                    speechSeconds: summary.speechSeconds,
                    fps: summary.fps,
                  }
                : {}),
            },
            service: requestAudit(request, outcome, {
              consentId,
              ...(identityId !== undefined ? { identityId } : {}),
              videoSeconds: Math.round(seconds * 100) / 100,
              ...(failure !== undefined ? { reason: describeError(failure).message } : {}),
            }),
          });
          await appendAudit(ctx.home, entry).catch((error: unknown) => request.log.error({ err: error }, 'could not append the live talk to the audit log'));
        }
        running--;
        finished();
      }
    },
  );
}
