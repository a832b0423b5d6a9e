/**
 * A server-side live session over WebRTC (WHIP): a frame session fed by a peer's camera track, its
 * swapped frames going back on the same connection, its text messages on the data channel. It ends
 * when told (DELETE, the quota clock, the server closing), when the connection fails or closes,
 * when no video came at all, or when no frame came for the idle time; `done` then gives the same
 * summary a WebSocket session gives (see live-socket.ts), so the owners audit and bill both alike.
 */

import type { FrameSession } from '../node/live/frame-session.js';
import type { WhipPeer } from '../node/live/whip-peer.js';
import { parseClientMessage, type LiveEndReason } from '../pipeline/live-wire.js';
import type { LiveSocketSummary } from './live-socket.js';

/** A session that never received a frame is ended after this long (the client never connected). */
export const WHIP_CONNECT_MS = 30_000;

export interface WhipSessionOptions {
  /** Ends the session as idle after this long without a frame; default never (the connection's state still ends it). */
  idleMs?: number;
  /** Aborts when the server closes: the session ends as server-closing. */
  signal?: AbortSignal;
  /** How many minutes the session has been billed when it ends (for the `end` message). */
  minutes?: () => number;
}

export class WhipSession {
  readonly done: Promise<LiveSocketSummary>;
  private ending: { reason: LiveEndReason; message: string } | undefined;
  private resolveEnded!: () => void;
  private readonly ended = new Promise<void>((resolve) => (this.resolveEnded = resolve));

  constructor(
    readonly peer: WhipPeer,
    readonly session: FrameSession,
    options: WhipSessionOptions = {},
  ) {
    const idleMs = options.idleMs ?? Number.POSITIVE_INFINITY;
    const check = setInterval(() => {
      if (session.stats.received === 0 && session.seconds * 1000 > WHIP_CONNECT_MS) void this.end('idle', 'No video came: the connection was never made.');
      else if (session.idleMs() > idleMs) void this.end('idle', `No frame came for ${Math.round(idleMs / 1000)} s; the session ended.`);
    }, 1000);
    check.unref();
    const onAbort = (): void => void this.end('server-closing', 'The server is shutting down.');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) queueMicrotask(onAbort);
    this.done = this.ended.then(async () => {
      clearInterval(check);
      options.signal?.removeEventListener('abort', onAbort);
      const { reason, message } = this.ending!;
      const stats = await session.close();
      const seconds = Math.round(session.seconds * 10) / 10;
      peer.sendMessage({ type: 'end', reason, message, frames: stats.processed, seconds, minutes: options.minutes?.() ?? 0 });
      peer.close();
      return { ...stats, reason, message, seconds, skipped: 0 };
    });
  }

  /** Ends the session (once); resolves with its summary. */
  end(reason: LiveEndReason, message: string): Promise<LiveSocketSummary> {
    if (!this.ending) {
      this.ending = { reason, message };
      this.resolveEnded();
    }
    return this.done;
  }

  /** The connection failed or closed. */
  gone(state: 'failed' | 'closed'): void {
    void this.end(state === 'failed' ? 'failed' : 'ended', `The WebRTC connection ${state === 'failed' ? 'failed' : 'closed'}.`);
  }

  /** A text message from the client's data channel (pipeline/live-wire.ts). */
  message(text: string, sources: boolean): void {
    const message = parseClientMessage(text);
    if (!message) this.peer.sendMessage({ type: 'error', kind: 'usage', message: 'Not a message of this protocol: send {"type": "settings" | "reset" | "end"}.' });
    else if (message.type === 'settings') this.session.updateSettings(message.settings);
    else if (message.type === 'reset') this.session.reset();
    else if (message.type === 'end') void this.end('ended', 'The client ended the session.');
    else {
      const where = sources ? 'POST it to the session\'s Location + "/source?face=N"' : "this session's identity is fixed by its ticket";
      this.peer.sendMessage({ type: 'error', kind: 'usage', message: `Over WebRTC a source photo is not sent on the data channel: ${where}.` });
    }
  }
}
