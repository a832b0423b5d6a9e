/**
 * The SDK's event-stream reader (src/client/sse.ts) on the text/event-stream format's corners:
 * fields split across network chunks (and a UTF-8 character split across them), CR, LF and CRLF
 * line ends, comment heartbeats, multi-line data, `id` and `retry`, a byte-order mark, and an
 * unterminated last event (dropped, as the format says).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSse, type SseMessage } from '../../src/client/sse.js';

/** A body that delivers `text` in the given pieces (byte offsets), as a network would. */
function body(text: string, cuts: readonly number[] = []): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const edges = [0, ...cuts, bytes.length];
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i + 1 < edges.length; i++) controller.enqueue(bytes.slice(edges[i], edges[i + 1]));
      controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<SseMessage[]> {
  const messages: SseMessage[] = [];
  for await (const message of readSse(stream)) messages.push(message);
  return messages;
}

describe('readSse', () => {
  it('reads events as the API sends them, heartbeats skipped', async () => {
    const text = ': stream open\n\nid: 1\nevent: state\ndata: {"state":"queued"}\n\n: heartbeat\n\nid: 2\nevent: progress\ndata: {"frame":3}\n\nid: 3\nevent: done\ndata: {}\n\n';
    const messages = await collect(body(text));
    assert.deepEqual(
      messages.map((m) => [m.event, m.data, m.id]),
      [
        ['state', '{"state":"queued"}', '1'],
        ['progress', '{"frame":3}', '2'],
        ['done', '{}', '3'],
      ],
    );
  });

  it('gives the same events however the bytes are cut, a character split included', async () => {
    const text = 'event: state\r\ndata: {"name":"Grüße"}\r\n\r\nevent: done\rdata: a\rdata: b\r\r';
    const whole = await collect(body(text));
    assert.deepEqual(
      whole.map((m) => [m.event, m.data]),
      [
        ['state', '{"name":"Grüße"}'],
        ['done', 'a\nb'],
      ],
    );
    const length = new TextEncoder().encode(text).length;
    for (let cut = 1; cut < length; cut++) assert.deepEqual(await collect(body(text, [cut])), whole, `cut at byte ${cut}`);
    assert.deepEqual(await collect(body(text, [1, 2, 3, 5, 8, 13, 21, 34, 40])), whole);
  });

  it('keeps the last id and retry, defaults the event name, strips a BOM and one leading space only', async () => {
    const messages = await collect(body('\uFEFFretry: 2500\nid: 7\ndata:  two spaces\n\ndata:x\n\n'));
    assert.deepEqual(messages, [
      { event: 'message', data: ' two spaces', id: '7', retry: 2500 },
      { event: 'message', data: 'x', id: '7', retry: 2500 },
    ]);
  });

  it('drops an event the stream ends in the middle of', async () => {
    assert.deepEqual(
      (await collect(body('event: state\ndata: 1\n\nevent: done\ndata: 2'))).map((m) => m.event),
      ['state'],
    );
  });
});
