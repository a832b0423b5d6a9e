/**
 * Server-sent events read from a fetch response body, because browsers cannot set an
 * Authorization header on EventSource. Parses the text/event-stream format (fields `event`,
 * `data`, `id`, `retry`; comment lines are heartbeats) into one message per blank line.
 */

/** One dispatched event. */
export interface SseMessage {
  /** The `event:` field; `message` when the server sent none. */
  event: string;
  /** The `data:` lines joined with newlines. */
  data: string;
  /** The last `id:` seen on the stream (for Last-Event-ID on a reconnect). */
  id: string | undefined;
  /** The `retry:` delay in milliseconds, when the server set one. */
  retry: number | undefined;
}

/** The messages of an event stream, in order, until the body ends. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let lastId: string | undefined;
  let retry: number | undefined;
  let started = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      if (!started && buffer.length > 0) {
        // A leading byte-order mark is not part of the first field.
        if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
        started = true;
      }
      for (;;) {
        const end = lineEnd(buffer, done);
        if (end === undefined) break;
        const line = buffer.slice(0, end.at);
        buffer = buffer.slice(end.at + end.length);
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), id: lastId, retry };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id' && !value.includes('\0')) lastId = value;
        else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
      }
      // An event not closed by a blank line when the stream ends is dropped, as the format says.
      if (done) return;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** Where the first line of `buffer` ends (CR, LF or CRLF); a lone CR at the end waits for more unless the stream is done. */
function lineEnd(buffer: string, done: boolean): { at: number; length: number } | undefined {
  for (let i = 0; i < buffer.length; i++) {
    const c = buffer.charCodeAt(i);
    if (c === 10) return { at: i, length: 1 };
    if (c === 13) {
      if (i + 1 < buffer.length) return { at: i, length: buffer.charCodeAt(i + 1) === 10 ? 2 : 1 };
      return done ? { at: i, length: 1 } : undefined;
    }
  }
  return done && buffer.length > 0 ? { at: buffer.length, length: 0 } : undefined;
}
