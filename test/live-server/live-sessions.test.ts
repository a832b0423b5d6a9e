/**
 * POST /v1/live/sessions and its WebSocket on a real `liveswap serve` (loopback, real mesh engine,
 * real JPEG frames made from the fixture photos) through the SDK's live helper: 401 without a
 * token, 403 without the `live` scope, swapped frames come back labelled and watermarked with the
 * session's id, a ticket works once and expires unused (its slot coming back), beyond capacity 503
 * with Retry-After, live minutes counted against the quota and a session ended with the reason
 * `quota-exceeded` when they run out, and each session's start and end in the audit log.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import {
  connectLiveSession,
  createLiveswapClient,
  LiveswapApiError,
  runLiveFrames,
  type LiveFrame,
  type LiveSessionCreated,
  type LiveWebSocketConstructor,
} from '../../src/client/index.js';
import { loadWatermarkKey, readAudit, type AuditEntry } from '../../src/node/provenance/output-provenance.js';
import { verifyFile } from '../../src/node/provenance/verify.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { homeWithModels, warmModels } from '../helpers/video-jobs.js';
import { multipart, startTestApi, type TestApi } from '../api/api-helpers.js';
import { faceFrames } from './live-frames.js';

type Names = 'alice' | 'metered' | 'nolive';
const Socket = WebSocket as unknown as LiveWebSocketConstructor;
/** A billed minute in these tests. */
const MINUTE_MS = 1500;

describe('live sessions (POST /v1/live/sessions and the WebSocket)', () => {
  let dir: string;
  let api: TestApi<Names>;
  let frames: Buffer[];
  const identities: Partial<Record<Names, string>> = {};

  const client = (name: Names) => createLiveswapClient({ baseUrl: api.server.url, token: api.tokens[name] });
  const liveLines = async (sessionId: string): Promise<AuditEntry[]> =>
    (await readAudit(api.home)).entries.filter((e) => e.kind === 'live-session' && e.options.sessionId === sessionId);
  /** The audit lines of a session once its end line is written (it follows the socket's close). */
  const endedLines = async (sessionId: string): Promise<AuditEntry[]> => {
    for (let i = 0; i < 100; i++) {
      const lines = await liveLines(sessionId);
      if (lines.some((line) => line.options.event === 'end')) return lines;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return liveLines(sessionId);
  };
  /** A session, waiting while the slot of a session that just closed is given back. */
  const create = async (name: Names): Promise<LiveSessionCreated> => {
    for (let i = 0; ; i++) {
      try {
        return await client(name).createLiveSession({ identityId: identities[name]!, engine: 'mesh' });
      } catch (error) {
        if (!(error instanceof LiveswapApiError) || error.status !== 503 || i >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  /** The HTTP status a WebSocket upgrade is refused with. */
  const refusedUpgrade = (url: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.on('unexpected-response', (_request, response) => {
        resolve(response.statusCode ?? 0);
        socket.terminate();
      });
      socket.on('open', () => {
        socket.close();
        reject(new Error('the upgrade was accepted'));
      });
      socket.on('error', () => undefined);
    });

  before(async () => {
    await warmModels();
    dir = await mkdtemp(join(tmpdir(), 'liveswap-live-server-'));
    frames = await faceFrames(8);
    api = await startTestApi<Names>(
      {
        alice: { scopes: ['identities:write', 'live'] },
        metered: { scopes: ['identities:write', 'live'], quotas: { liveMinutesPerDay: 2 } },
        nolive: { scopes: ['identities:write'] },
      },
      { home: await homeWithModels(join(dir, 'home')), live: { capacity: 1, ticketSeconds: 5, minuteMs: MINUTE_MS } },
    );
    const statement = (await (await fetch(`${api.server.url}/v1/consent/statement`, { headers: api.auth('alice') })).json()) as { version: string };
    const astronaut = await readFile(join(FIXTURES, 'astronaut.png'));
    for (const name of ['alice', 'metered', 'nolive'] as const) {
      const { body, contentType } = multipart([
        { name: 'consent', value: JSON.stringify({ subject: 'self', attested: true, statementVersion: statement.version }) },
        { name: 'photo', filename: 'a.png', type: 'image/png', bytes: astronaut },
      ]);
      const reply = await fetch(`${api.server.url}/v1/identities`, { method: 'POST', headers: { ...api.auth(name), 'content-type': contentType }, body });
      assert.equal(reply.status, 201, await reply.clone().text());
      identities[name] = ((await reply.json()) as { id: string }).id;
    }
  });
  after(async () => {
    await api?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 401 without a token and 403 without the live scope', async () => {
    const none = await fetch(`${api.server.url}/v1/live/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identityId: identities.alice }),
    });
    assert.equal(none.status, 401);
    await assert.rejects(client('nolive').createLiveSession({ identityId: identities.nolive! }), (error: LiveswapApiError) => error.status === 403 && error.kind === 'forbidden');
  });

  it('swaps the frames sent and sends them back labelled and watermarked; the ticket works once; start and end are audited', async () => {
    const created = await create('alice');
    assert.match(created.url, /^ws:\/\/127\.0\.0\.1:\d+\/v1\/live\/sessions\/[\w-]+\/socket\?ticket=/);
    assert.deepEqual(created.capacity, { sessions: 1, inUse: 1 });
    assert.equal(created.minutesLeft, null);
    const live = await connectLiveSession(created.url, { WebSocket: Socket });
    assert.equal(live.ready.sessionId, created.sessionId);
    assert.equal(live.ready.watermarkId, created.watermarkId);
    assert.equal(live.ready.label.shown, true);
    assert.equal(live.ready.sources, false);
    // The ticket is spent: a second connection is refused before the upgrade.
    assert.equal(await refusedUpgrade(created.url), 401);

    const back: LiveFrame[] = [];
    const summary = await runLiveFrames(live, frames, { fps: 15, onFrame: (frame) => back.push(frame) });
    assert.ok(summary.received >= 2, `${summary.received} frames came back of ${summary.sent}`);
    assert.equal(back.at(-1)!.info.seq, summary.sent, 'the last frame sent is always answered');
    assert.equal(summary.received + back.at(-1)!.info.dropped, summary.sent, 'every frame is answered or dropped, none queued');
    const last = back.at(-1)!;
    assert.equal(last.info.width, 640);
    assert.ok(last.info.faces.length >= 1, 'a face was swapped');
    const file = join(dir, 'frame.jpg');
    await writeFile(file, last.picture);
    const report = await verifyFile(file, { key: await loadWatermarkKey(api.home) });
    assert.equal(report.watermark.found, true, report.summary);
    assert.equal(report.watermark.watermarkId, created.watermarkId);
    assert.equal(report.label.found, true, report.summary);

    const closed = await live.end();
    assert.equal(closed.code, 1000);
    assert.equal(closed.end?.reason, 'ended');
    const lines = await endedLines(created.sessionId);
    assert.deepEqual(
      lines.map((line) => line.options.event),
      ['start', 'end'],
    );
    const [start, end] = lines as [AuditEntry, AuditEntry];
    assert.equal(start.watermarkId, created.watermarkId);
    assert.equal(start.service?.tokenId, api.ids.alice);
    assert.equal(start.service?.identityId, identities.alice);
    assert.ok(start.service?.consentId);
    assert.equal(start.sources.length, 1);
    assert.equal(end.options.frames, summary.received);
    // A minute is counted as it starts (1.5 s here).
    assert.ok((end.options.minutes as number) >= 1);
    assert.equal(end.options.minutes, closed.end?.minutes);
    assert.equal(end.options.maxWaiting, 1);
    assert.equal(end.service?.outcome, 'ok');
  });

  it('refuses a session beyond capacity with 503 and Retry-After; an unused ticket expires and gives its slot back', async () => {
    const held = await create('alice');
    const refused = await fetch(`${api.server.url}/v1/live/sessions`, {
      method: 'POST',
      headers: { ...api.auth('alice'), 'content-type': 'application/json' },
      body: JSON.stringify({ identityId: identities.alice }),
    });
    assert.equal(refused.status, 503);
    assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal(((await refused.json()) as { error: { kind: string } }).error.kind, 'overloaded');
    const { entries } = await readAudit(api.home);
    assert.ok(entries.some((e) => e.kind === 'refusal' && e.service?.outcome === 'rejected-limit' && e.service.route === 'POST /v1/live/sessions'));
    // Unused, the ticket expires (5 s here): it is refused, and the slot is free again.
    await new Promise((resolve) => setTimeout(resolve, 5500));
    assert.equal(await refusedUpgrade(held.url), 401);
    const again = await client('alice').createLiveSession({ identityId: identities.alice! });
    const live = await connectLiveSession(again.url, { WebSocket: Socket });
    await live.end();
  });

  it('counts live minutes against the quota and ends the session with quota-exceeded when they run out', async () => {
    const created = await create('metered');
    assert.equal(created.minutesLeft, 2);
    const live = await connectLiveSession(created.url, { WebSocket: Socket });
    assert.equal(live.ready.minutesLeft, 2);
    // Frames keep coming (a frame every 200 ms) until the server ends the session.
    let stop = false;
    void (async () => {
      for (let i = 0; !stop; i++) {
        live.send(frames[i % frames.length]!);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const closed = await live.closed;
    stop = true;
    assert.equal(closed.code, 4002);
    assert.equal(closed.reason, 'quota-exceeded');
    assert.equal(closed.end?.reason, 'quota-exceeded');
    assert.match(closed.end?.message ?? '', /liveMinutesPerDay \(2\)/);
    assert.equal(closed.end?.minutes, 2);
    const usage = await client('metered').usage();
    assert.equal(usage.used.liveMinutes, 2);
    const [, end] = await endedLines(created.sessionId);
    assert.equal(end?.options.endReason, 'quota-exceeded');
    assert.equal(end?.options.minutes, 2);
    assert.equal(end?.service?.outcome, 'rejected-quota');
    // No minute left today: a new session is refused.
    await assert.rejects(create('metered'), (error: LiveswapApiError) => error.status === 429 && error.kind === 'quota-exceeded');
  });
});
