/**
 * A server-side live session from a program: connect to the WebSocket URL that
 * `createLiveSession` answers, send frames (JPEG, PNG or WebP bytes), receive the swapped frames
 * (JPEG, labelled and watermarked) with their round-trip time. Runs in browsers (their WebSocket)
 * and in Node (Node 22 has a global WebSocket; on Node 20 pass the `ws` package's class as
 * `WebSocket`). The messages are those of the server's live-wire protocol, repeated here because
 * the SDK imports nothing of the server.
 *
 * ```ts
 * const created = await client.createLiveSession({ identityId });
 * const live = await connectLiveSession(created.url, { WebSocket });
 * live.onFrame((frame) => show(frame.picture, frame.roundTripMs));
 * live.send(jpegBytes);
 * const end = await live.end();
 * ```
 */

/** Why a session ended (the `end` message and the close reason). */
export type LiveEndReason = 'ended' | 'quota-exceeded' | 'idle' | 'server-closing' | 'failed' | 'protocol';

/** The paint options a client may change during a session. */
export interface LiveSettings {
  manyFaces: boolean;
  mouthMask: boolean;
  opacity: number;
  sharpness: number;
  colorMatch: boolean;
  label: boolean;
}

export interface LiveReady {
  type: 'ready';
  sessionId: string;
  engine: string;
  watermarkId: string;
  label: { shown: boolean; text?: string };
  maxFrameBytes: number;
  maxPixels: number;
  sources: boolean;
  minutesLeft: number | null;
}

export interface LiveFrameInfo {
  type: 'frame';
  seq: number;
  width: number;
  height: number;
  faces: { box: [number, number, number, number] }[];
  timings: { wait: number; decode: number; process: number; encode: number; total: number };
  received: number;
  processed: number;
  dropped: number;
}

export interface LiveEnd {
  type: 'end';
  reason: LiveEndReason;
  message: string;
  frames: number;
  seconds: number;
  minutes: number;
}

type ServerMessage =
  | LiveReady
  | LiveFrameInfo
  | LiveEnd
  | { type: 'source'; faces: { box: [number, number, number, number]; score: number }[]; face: number; error?: string }
  | { type: 'error'; kind: string; message: string; seq?: number };

/** A swapped frame back from the server. */
export interface LiveFrame {
  info: LiveFrameInfo;
  /** The JPEG. */
  picture: Uint8Array;
  /** Milliseconds from sending the frame to receiving its swapped picture. */
  roundTripMs: number;
}

/** How the socket closed: its code and reason, and the server's `end` message when one came. */
export interface LiveClosed {
  code: number;
  reason: string;
  end?: LiveEnd;
}

/** The parts of a WebSocket this helper uses (the browser's, Node 22's and the `ws` package's all have them). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string | ArrayBufferView | ArrayBuffer | Blob): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: never) => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface ConnectLiveOptions {
  /** The WebSocket class; default the global one. */
  WebSocket?: WebSocketConstructor;
}

/** An open live session. */
export interface LiveConnection {
  readonly ready: LiveReady;
  /** Sends one frame; returns its number (the server numbers frames the same way). */
  send(frame: Uint8Array | Blob): number;
  /** Bytes the socket still holds unsent (skip a frame while it grows). */
  readonly bufferedAmount: number;
  onFrame(listener: (frame: LiveFrame) => void): () => void;
  /** A failed frame or message (the session goes on). */
  onError(listener: (error: { kind: string; message: string; seq?: number }) => void): () => void;
  settings(settings: Partial<LiveSettings>): void;
  /** The picture changed (another camera or video): faces are looked for afresh. */
  reset(): void;
  /** Asks the server to end the session; resolves once the socket is closed. */
  end(): Promise<LiveClosed>;
  /** Resolves once the socket is closed, whoever closed it. */
  readonly closed: Promise<LiveClosed>;
}

/** Connects to a live session's WebSocket URL (from createLiveSession) and waits for its `ready` message. */
export function connectLiveSession(url: string, options: ConnectLiveOptions = {}): Promise<LiveConnection> {
  const Socket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Socket) throw new Error('No WebSocket class: pass one as options.WebSocket (on Node 20, the `ws` package).');
  const socket = new Socket(url);
  socket.binaryType = 'arraybuffer';
  const frameListeners = new Set<(frame: LiveFrame) => void>();
  const errorListeners = new Set<(error: { kind: string; message: string; seq?: number }) => void>();
  const sentAt = new Map<number, number>();
  let seq = 0;
  let pending: LiveFrameInfo | undefined;
  let endMessage: LiveEnd | undefined;
  let resolveClosed!: (closed: LiveClosed) => void;
  const closed = new Promise<LiveClosed>((resolve) => (resolveClosed = resolve));
  return new Promise((resolve, reject) => {
    let ready: LiveReady | undefined;
    socket.addEventListener('message', (event: { data: unknown }) => {
      if (typeof event.data === 'string') {
        let message: ServerMessage;
        try {
          message = JSON.parse(event.data) as ServerMessage;
        } catch {
          return;
        }
        if (message.type === 'ready') {
          ready = message;
          resolve(connection(message));
        } else if (message.type === 'frame') pending = message;
        else if (message.type === 'end') endMessage = message;
        else if (message.type === 'error') for (const listener of errorListeners) listener(message);
        return;
      }
      const info = pending;
      pending = undefined;
      if (!info) return;
      const bytes =
        event.data instanceof ArrayBuffer
          ? new Uint8Array(event.data)
          : ArrayBuffer.isView(event.data)
            ? new Uint8Array(event.data.buffer, event.data.byteOffset, event.data.byteLength)
            : undefined;
      if (!bytes) return;
      const now = performance.now();
      const roundTripMs = now - (sentAt.get(info.seq) ?? now);
      for (const old of sentAt.keys()) if (old <= info.seq) sentAt.delete(old);
      for (const listener of frameListeners) listener({ info, picture: bytes, roundTripMs });
    });
    socket.addEventListener('close', (event: { code: number; reason: string }) => {
      const result: LiveClosed = { code: event.code, reason: event.reason, ...(endMessage ? { end: endMessage } : {}) };
      resolveClosed(result);
      if (!ready)
        reject(
          new Error(`The live session's socket closed before the session started (${event.code}${event.reason ? ` ${event.reason}` : ''}): the ticket may be used or expired.`),
        );
    });
    socket.addEventListener('error', () => {
      if (!ready) reject(new Error(`Could not open the live session's socket at ${url.replace(/ticket=[^&]*/, 'ticket=…')}.`));
    });
  });

  function connection(ready: LiveReady): LiveConnection {
    const control = (message: unknown): void => {
      if (socket.readyState === 1) socket.send(JSON.stringify(message));
    };
    return {
      ready,
      send(frame) {
        seq++;
        sentAt.set(seq, performance.now());
        socket.send(frame);
        return seq;
      },
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
      onFrame(listener) {
        frameListeners.add(listener);
        return () => frameListeners.delete(listener);
      },
      onError(listener) {
        errorListeners.add(listener);
        return () => errorListeners.delete(listener);
      },
      settings: (settings) => control({ type: 'settings', settings }),
      reset: () => control({ type: 'reset' }),
      end() {
        control({ type: 'end' });
        return closed;
      },
      closed,
    };
  }
}

/** What {@link runLiveFrames} measured. */
export interface LiveRunSummary {
  sent: number;
  received: number;
  /** Round trip (send → swapped picture back), ms. */
  roundTripMs: { median: number; p95: number };
  /** Swapped frames received per second. */
  fps: number;
  seconds: number;
}

/**
 * Sends `frames` at `fps` (a frame is skipped, not queued, while the socket holds over a megabyte)
 * and collects what comes back; resolves once every frame was offered and the last answer came
 * (or `settleMs` passed without one). Calls `onFrame` for each swapped frame.
 */
export async function runLiveFrames(
  live: LiveConnection,
  frames: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  options: { fps: number; onFrame?: (frame: LiveFrame) => void; settleMs?: number },
): Promise<LiveRunSummary> {
  const trips: number[] = [];
  let lastAt = performance.now();
  const stop = live.onFrame((frame) => {
    trips.push(frame.roundTripMs);
    lastAt = performance.now();
    options.onFrame?.(frame);
  });
  const started = performance.now();
  let sent = 0;
  let lastSeq = 0;
  let lastAnswered = 0;
  const stopSeq = live.onFrame((frame) => (lastAnswered = frame.info.seq));
  const step = 1000 / options.fps;
  for await (const frame of frames) {
    const due = started + sent * step;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (live.bufferedAmount > 1 << 20) continue;
    lastSeq = live.send(frame);
    sent++;
  }
  const settleMs = options.settleMs ?? 3000;
  while (lastAnswered < lastSeq && performance.now() - lastAt < settleMs) await new Promise((resolve) => setTimeout(resolve, 10));
  stop();
  stopSeq();
  const seconds = (lastAt - started) / 1000;
  const sorted = [...trips].sort((a, b) => a - b);
  const at = (p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
  return { sent, received: trips.length, roundTripMs: { median: at(0.5), p95: at(0.95) }, fps: trips.length / Math.max(seconds, 1e-3), seconds };
}
