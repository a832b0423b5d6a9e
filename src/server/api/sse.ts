/**
 * Server-sent events written by hand on the raw response (no plugin: @fastify/sse wants a newer
 * Node): `id:`, `event:` and `data:` lines, a heartbeat comment every so often so proxies and idle
 * timers keep the stream open, and an end when the client goes or the server closes.
 */

import type { ServerResponse } from 'node:http';

export interface SseStream {
  send(event: string, data: unknown): void;
  /** Aborts when the client disconnects or the stream is ended. */
  readonly signal: AbortSignal;
  end(): void;
}

/** Starts an event stream on `res` (the caller has hijacked the reply). */
export function openSse(res: ServerResponse, heartbeatSeconds: number, headers: Record<string, string> = {}): SseStream {
  const controller = new AbortController();
  res.writeHead(200, {
    ...headers,
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
    'X-Content-Type-Options': 'nosniff',
  });
  // The connection's idle timeout would cut a quiet stream; the heartbeat keeps it honest instead.
  res.socket?.setTimeout(0);
  res.write(': stream open\n\n');
  let sequence = 0;
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatSeconds * 1000);
  heartbeat.unref();
  const finish = (): void => {
    clearInterval(heartbeat);
    if (!controller.signal.aborted) controller.abort();
  };
  res.on('close', finish);
  return {
    signal: controller.signal,
    send(event, data) {
      if (controller.signal.aborted) return;
      sequence += 1;
      res.write(`id: ${sequence}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end() {
      finish();
      if (!res.writableEnded) res.end();
    },
  };
}
