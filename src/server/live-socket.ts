/**
 * A server-side live session on a WebSocket (the messages are in pipeline/live-wire.ts): binary
 * messages are frames (or the source photo a `source` message announced), text messages are
 * controls; swapped frames go back as a `frame` message and the picture. A client that reads
 * slowly gets frames skipped, never queued; a session that receives no frame for a while ends as
 * idle; whoever owns the session (the API's quota clock, the server closing) may end it with a
 * reason, which the client reads in an `end` message and in the close code and reason.
 */

import type { WebSocket } from '@fastify/websocket';
import type { FrameSession, FrameSessionStats } from '../node/live/frame-session.js';
import { LIVE_CLOSE_CODES, parseClientMessage, type LiveEndReason, type LiveServerMessage } from '../pipeline/live-wire.js';

/** A frame is skipped (not sent) while this much is still unsent to the client. */
export const LIVE_SEND_BACKLOG = 4 * 1024 * 1024;
/** A session that receives no frame for this long ends as idle. */
export const LIVE_IDLE_MS = 30_000;

/** How a session on a socket ended. */
export interface LiveSocketSummary extends FrameSessionStats {
  reason: LiveEndReason;
  message: string;
  seconds: number;
  /** Frames processed but not sent because the client read too slowly. */
  skipped: number;
}

type ReadyMessage = Extract<LiveServerMessage, { type: 'ready' }>;

/** Sends messages and pictures to the socket, skipping a frame while the client is behind. */
export class LiveSender {
  skipped = 0;

  constructor(private readonly socket: WebSocket) {}

  send(message: LiveServerMessage, picture?: Buffer): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (picture && this.socket.bufferedAmount > LIVE_SEND_BACKLOG) {
      this.skipped++;
      return;
    }
    this.socket.send(JSON.stringify(message));
    if (picture) this.socket.send(picture, { binary: true });
  }
}

export interface LiveSocketOptions {
  socket: WebSocket;
  sender: LiveSender;
  session: FrameSession;
  ready: Omit<ReadyMessage, 'type'>;
  /** Ends the session as idle after this long without a frame; default {@link LIVE_IDLE_MS}. */
  idleMs?: number;
  /** Aborts when the server closes: the session ends as server-closing. */
  signal?: AbortSignal;
  /** How many minutes the session has been billed when it ends (for the `end` message). */
  minutes?: () => number;
}

/** Runs a session on an open socket; `end` finishes it from outside, `done` resolves once the socket is closed. */
export class LiveSocket {
  readonly done: Promise<LiveSocketSummary>;
  private ending: { reason: LiveEndReason; message: string } | undefined;
  private expectSource: number | undefined;
  private resolveDone!: (summary: LiveSocketSummary) => void;

  constructor(private readonly options: LiveSocketOptions) {
    const { socket, session, sender } = options;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    socket.on('message', (data, isBinary) => {
      if (this.ending) return;
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (isBinary) {
        if (this.expectSource !== undefined) {
          const face = this.expectSource;
          this.expectSource = undefined;
          void session.receiveSource(bytes, face);
        } else session.receiveFrame(bytes);
        return;
      }
      const message = parseClientMessage(bytes.toString('utf8'));
      if (!message) {
        sender.send({ type: 'error', kind: 'usage', message: 'Not a message of this protocol: send {"type": "source" | "settings" | "reset" | "end"} or a binary frame.' });
        return;
      }
      if (message.type === 'source') this.expectSource = message.face ?? 0;
      else if (message.type === 'settings') session.updateSettings(message.settings);
      else if (message.type === 'reset') session.reset();
      else this.end('ended', 'The client ended the session.');
    });
    const idleMs = options.idleMs ?? LIVE_IDLE_MS;
    const idle = setInterval(
      () => {
        if (session.idleMs() > idleMs) this.end('idle', `No frame came for ${Math.round(idleMs / 1000)} s; the session ended.`);
      },
      Math.min(1000, idleMs),
    );
    const onAbort = (): void => this.end('server-closing', 'The server is shutting down.');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) queueMicrotask(onAbort);
    socket.on('close', () => {
      clearInterval(idle);
      options.signal?.removeEventListener('abort', onAbort);
      this.ending ??= { reason: 'ended', message: 'The client closed the connection.' };
      void this.finish();
    });
    socket.on('error', () => socket.terminate());
    sender.send({ type: 'ready', ...options.ready });
  }

  /** Ends the session with `reason`: the client is told, then the socket closes with the reason's code. */
  end(reason: LiveEndReason, message: string): void {
    if (this.ending) return;
    this.ending = { reason, message };
    void (async () => {
      const stats = await this.options.session.close();
      const { socket, sender } = this.options;
      sender.send({ type: 'end', reason, message, frames: stats.processed, seconds: round(this.options.session.seconds), minutes: this.options.minutes?.() ?? 0 });
      // A close reason is at most 123 bytes: the full message went in `end`.
      if (socket.readyState === socket.OPEN) socket.close(LIVE_CLOSE_CODES[reason], reason);
    })();
  }

  private async finish(): Promise<void> {
    const stats = await this.options.session.close();
    const ending = this.ending!;
    this.resolveDone({ ...stats, reason: ending.reason, message: ending.message, seconds: round(this.options.session.seconds), skipped: this.options.sender.skipped });
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}
