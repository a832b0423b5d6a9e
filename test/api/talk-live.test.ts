/**
 * The /v1/talks/live WebSocket on a live server with the real flite, driven by a scripted client
 * as an assistant would: a start message on an identity's photo, three text chunks sent as a
 * language model would write them, then the end. Checks what comes back: `ready`, a `speech`
 * message per chunk, audio (s16le, 48 kHz, one frame's worth each) and JPEG frames with the
 * visible label and the session's watermark, times that increase, audio as long as the video
 * within a frame, the end summary, talk seconds on the usage and the session's audit line. Then
 * the SDK's client on the caller's own PCM with phones, and the refusals (no token, a token in the
 * query without the talk scope, a bad start message, a photo sent without consent). Prints the
 * latency from a chunk sent to its first frame back.
 * Skipped, with the reason, only where flite is not installed outside CI.
 */

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createLiveswapClient, type WebSocketConstructor } from '../../src/client/index.js';
import { loadWatermarkKey, readAudit } from '../../src/node/provenance/output-provenance.js';
import { findLabel } from '../../src/provenance/label.js';
import { formatWatermarkId } from '../../src/provenance/payload.js';
import { WatermarkDetector } from '../../src/provenance/watermark.js';
import { TALK_AUDIO, TALK_HEADER_BYTES, TALK_VIDEO } from '../../src/server/api/talk-live.js';
import { decodeRgb, FIXTURES } from '../helpers/fixtures.js';
import { startTestApi, type TestApi } from './api-helpers.js';
import { consentStatementVersion, makeSelfIdentity, skipWithoutFlite } from '../helpers/talk-fixtures.js';

const skip = skipWithoutFlite('the live talk tests');

type Names = 'alice' | 'bob';

interface Received {
  json: Record<string, unknown>[];
  audio: { t: number; bytes: number; at: number }[];
  video: { t: number; jpeg: Buffer; at: number }[];
  close: { code: number; reason: string };
}

/** Opens a socket and collects everything until it closes; `script` runs once it is open. */
function session(url: string, headers: Record<string, string>, script: (socket: WebSocket, received: Received) => Promise<void> | void): Promise<Received> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    const received: Received = { json: [], audio: [], video: [], close: { code: 0, reason: '' } };
    socket.on('message', (data: Buffer, binary: boolean) => {
      const at = performance.now();
      if (!binary) {
        received.json.push({ ...(JSON.parse(data.toString('utf8')) as Record<string, unknown>), at });
        return;
      }
      const t = data.readDoubleLE(4);
      if (data[0] === TALK_AUDIO) received.audio.push({ t, bytes: data.length - TALK_HEADER_BYTES, at });
      else if (data[0] === TALK_VIDEO) received.video.push({ t, jpeg: data.subarray(TALK_HEADER_BYTES), at });
    });
    socket.on('open', () => void Promise.resolve(script(socket, received)).catch(reject));
    socket.on('unexpected-response', (_request, response) => {
      received.close = { code: response.statusCode ?? 0, reason: 'http' };
      resolve(received);
    });
    socket.on('close', (code, reason) => {
      received.close = { code, reason: reason.toString() };
      resolve(received);
    });
    socket.on('error', (error) => {
      if (received.close.reason !== 'http') reject(error);
    });
  });
}

describe('the /v1/talks/live WebSocket', { skip }, () => {
  let api: TestApi<Names>;
  let identityId: string;
  let statementVersion: string;
  let wsUrl: string;
  const json = async <T>(reply: Response): Promise<T> => (await reply.json()) as T;

  before(async () => {
    api = await startTestApi<Names>({
      alice: { scopes: ['identities:write', 'talk'], quotas: { talkSecondsPerDay: 600 } },
      bob: { scopes: ['identities:write'] },
    });
    wsUrl = `${api.server.url.replace('http', 'ws')}/v1/talks/live`;
    statementVersion = await consentStatementVersion(api, 'alice');
    identityId = await makeSelfIdentity(api, 'alice', statementVersion);
  });
  after(async () => api?.stop());

  it('speaks text chunks as they come: marked JPEG frames and audio in step, in real time, then the summary', async () => {
    const chunks = ['Hello, I am your assistant.', 'Here is the answer', 'to your question.'];
    const sent: number[] = [];
    const received = await session(wsUrl, api.auth('alice'), async (socket, got) => {
      socket.send(JSON.stringify({ type: 'start', faceIdentityId: identityId, voice: 'slt', fps: 25, size: 320 }));
      while (!got.json.some((m) => m.type === 'ready')) {
        if (socket.readyState !== WebSocket.OPEN) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      // A model writing its answer: a chunk, a pause, the next.
      for (const text of chunks) {
        sent.push(performance.now());
        socket.send(JSON.stringify({ type: 'text', text }));
        await new Promise((r) => setTimeout(r, 400));
      }
      socket.send(JSON.stringify({ type: 'end' }));
    });
    const errors = received.json.filter((m) => m.type === 'error');
    assert.deepEqual(errors, []);
    assert.equal(received.close.code, 1000);
    const ready = received.json.find((m) => m.type === 'ready')!;
    assert.deepEqual(ready.audio, { format: 's16le', sampleRate: 48000, channels: 1 });
    assert.equal(ready.fps, 25);
    assert.ok((ready.width as number) <= 320 && (ready.height as number) <= 320, `${String(ready.width)}x${String(ready.height)}`);
    const speech = received.json.filter((m) => m.type === 'speech');
    assert.deepEqual(
      speech.map((m) => m.chunk),
      [0, 1, 2],
    );
    for (let i = 1; i < speech.length; i++) assert.ok((speech[i]!.start as number) >= (speech[i - 1]!.start as number) + (speech[i - 1]!.duration as number) - 0.04);

    // Times increase; audio covers the video within a frame.
    const { video, audio } = received;
    assert.ok(video.length > 50, `${video.length} frames`);
    for (let i = 1; i < video.length; i++) assert.ok(video[i]!.t > video[i - 1]!.t, `frame ${i} at ${video[i]!.t} after ${video[i - 1]!.t}`);
    for (let i = 1; i < audio.length; i++) assert.ok(audio[i]!.t > audio[i - 1]!.t);
    const audioSeconds = audio.reduce((sum, a) => sum + a.bytes / 2, 0) / 48000;
    const videoSeconds = video.at(-1)!.t + 1 / 25;
    assert.ok(Math.abs(audioSeconds - videoSeconds) <= 1 / 25 + 1e-6, `audio ${audioSeconds} s, video ${videoSeconds} s`);
    const lastSpeech = speech.at(-1)!;
    assert.ok(videoSeconds >= (lastSpeech.start as number) + (lastSpeech.duration as number) - 0.04, 'the stream lasts until the last chunk is spoken');

    // Every frame a JPEG; the label on them, and the session's watermark across them.
    const key = await loadWatermarkKey(api.home);
    const detector = new WatermarkDetector(key.key);
    let labelled = 0;
    for (const [i, frame] of video.entries()) {
      assert.deepEqual([...frame.jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], `frame ${i} is a JPEG`);
      const image = await decodeRgb(frame.jpeg);
      detector.add(image);
      if (i % 10 === 0 && findLabel(image)) labelled++;
    }
    assert.equal(labelled, Math.ceil(video.length / 10), 'every frame checked carries the label');
    const detection = detector.detection(25);
    assert.ok(detection.found && detection.payload, 'the watermark is found in the frames');
    assert.equal(formatWatermarkId(detection.payload.assetId), ready.watermarkId, 'the frames carry the session watermark');

    const end = received.json.find((m) => m.type === 'end')!;
    const latencies = speech.map((m, i) => {
      const start = m.start as number;
      const firstFrame = video.find((f) => f.t >= start)!;
      return firstFrame.at - sent[i]!;
    });
    console.log(
      `# live talk: ${video.length} frames, ${videoSeconds.toFixed(2)} s of stream received in ${((video.at(-1)!.at - (ready.at as number)) / 1000).toFixed(2)} s (${String(end.skipped)} frames skipped); chunk sent → its first frame back: ${latencies.map((l) => l.toFixed(0)).join(', ')} ms (the first on an idle face; the others wait for the speech before them)`,
    );

    assert.equal(end.frames, video.length);
    assert.ok(Math.abs((end.seconds as number) - videoSeconds) < 1e-6);
    assert.equal(end.chunks, 3);
    const used = (await json<{ used: { talkSeconds: number } }>(await fetch(`${api.server.url}/v1/usage`, { headers: api.auth('alice') }))).used;
    assert.equal(used.talkSeconds, Math.ceil(videoSeconds));
    const { entries } = await readAudit(api.home);
    const line = entries.find((e) => e.kind === 'live-session' && e.options.talk === true);
    assert.ok(line, 'the session has its audit line');
    assert.equal(line.service?.outcome, 'ok');
    assert.equal(line.service?.route, 'GET /v1/talks/live');
    assert.equal(line.watermarkId, ready.watermarkId);
  });

  it("the SDK's talkLive: the caller's own PCM (16 kHz) with phones, audio and frames back, the summary", async () => {
    const client = createLiveswapClient({ baseUrl: api.server.url, token: api.tokens.alice });
    // Half a second of "aa" (a voiced tone) between pauses, at 16 kHz.
    const rate = 16000;
    const pcm = new Int16Array(rate);
    for (let i = 0; i < pcm.length; i++) {
      const t = i / rate;
      pcm[i] = t > 0.25 && t < 0.75 ? Math.round(8000 * Math.sin(2 * Math.PI * 160 * t)) : 0;
    }
    const frames: number[] = [];
    let audioSamples = 0;
    const speech: number[] = [];
    const talk = client.talkLive(
      { faceIdentityId: identityId, fps: 20, size: 256 },
      {
        onFrame: (t, jpeg) => {
          assert.equal(jpeg[0], 0xff);
          frames.push(t);
        },
        onAudio: (_t, samples) => (audioSamples += samples.length),
        onSpeech: (placed) => speech.push(placed.duration),
      },
      { WebSocket: WebSocket as unknown as WebSocketConstructor },
    );
    const ready = await talk.ready;
    assert.equal(ready.fps, 20);
    talk.sendAudio(pcm, rate, [
      { phone: 'pau', end: 0.25 },
      { phone: 'aa', end: 0.75 },
      { phone: 'pau', end: 1 },
    ]);
    talk.end();
    const summary = await talk.done;
    assert.deepEqual(speech, [1]);
    assert.equal(summary.frames, frames.length);
    assert.ok(summary.seconds >= 1, `${summary.seconds} s`);
    assert.ok(Math.abs(audioSamples / ready.audio.sampleRate - summary.seconds) < 1e-6, 'audio covers the stream');
    for (let i = 1; i < frames.length; i++) assert.ok(frames[i]! > frames[i - 1]!);
  });

  it('refuses a missing token, a token without the scope (in the query, as a browser sends it), a bad start and a photo without consent', async () => {
    const none = await session(wsUrl, {}, () => undefined);
    assert.equal(none.close.code, 401);
    const bob = await session(`${wsUrl}?access_token=${encodeURIComponent(api.tokens.bob)}`, {}, () => undefined);
    assert.equal(bob.close.code, 403);
    const bad = await session(wsUrl, api.auth('alice'), (socket) => socket.send(JSON.stringify({ type: 'text', text: 'hi' })));
    assert.equal(bad.json[0]?.type, 'error');
    assert.equal(bad.json[0]?.kind, 'usage');
    assert.equal(bad.close.code, 1011);
    const photo = (await readFile(join(FIXTURES, 'astronaut.png'))).toString('base64');
    const noConsent = await session(`${wsUrl}?access_token=${encodeURIComponent(api.tokens.alice)}`, {}, (socket) =>
      socket.send(JSON.stringify({ type: 'start', facePhoto: photo })),
    );
    assert.equal(noConsent.json[0]?.kind, 'consent-required');
    const { entries } = await readAudit(api.home);
    assert.ok(entries.some((e) => e.service?.tokenId === api.ids.bob && e.service.outcome === 'rejected-auth'));
    assert.ok(entries.some((e) => e.service?.outcome === 'rejected-consent' && e.service.route === 'GET /v1/talks/live'));
  });
});
