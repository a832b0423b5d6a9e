/**
 * A video face on the /v1/talks/live WebSocket, on a real server on loopback: a small zooming clip
 * made here is uploaded with consent, a scripted client sends the caller's own PCM with a phone
 * track, and the frames that come back are read with FaceMesh: the mouth opens on the open vowels
 * and closes on the pauses and the "m", the clip's zoom is there frame for frame (the clip loops
 * when the speech outlasts it), every frame carries the label and the session's watermark. Then
 * the refusals: an upload without consent, a video sent as the start message's photo, a token
 * whose daily talk seconds are too few. And the clip player alone: tracking every other frame
 * interpolates the ones between, and a second pass reuses the faces of the first and, the clip
 * being small, its decoded frames.
 */

import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createLiveswapClient, type TalkLiveReady, type TalkLiveSummary, type WebSocketConstructor } from '../../src/client/index.js';
import { expression } from '../../src/eval/attributes.js';
import type { Face } from '../../src/face/face.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { TalkClip } from '../../src/node/jobs/talk-clip.js';
import { readFrames } from '../../src/node/media/ffmpeg-read.js';
import { loadWatermarkKey, readAudit } from '../../src/node/provenance/output-provenance.js';
import { findLabel } from '../../src/provenance/label.js';
import { formatWatermarkId } from '../../src/provenance/payload.js';
import { WatermarkDetector } from '../../src/provenance/watermark.js';
import { startTestApi, type TestApi } from '../api/api-helpers.js';
import { makeClip } from '../helpers/clips.js';
import { decodeRgb, TEST_HOME } from '../helpers/fixtures.js';
import { consentStatementVersion } from '../helpers/talk-fixtures.js';
import type { Image } from '../../src/core/image.js';

type Names = 'alice' | 'tight';

const FPS = 10;
const CLIP_FRAMES = 12;
const RATE = 16000;
/** The scripted speech: phones with their ends (seconds from the chunk's start). */
const PHONES = [
  { phone: 'pau', end: 0.6 },
  { phone: 'aa', end: 1.8 },
  { phone: 'm', end: 2.8 },
  { phone: 'aa', end: 4.0 },
  { phone: 'pau', end: 4.8 },
];

/** A voiced tone while the phones are not pauses, silence in them, at 16 kHz. */
function speechPcm(): Int16Array {
  const pcm = new Int16Array(Math.round(PHONES.at(-1)!.end * RATE));
  for (let i = 0; i < pcm.length; i++) {
    const t = i / RATE;
    const phone = PHONES.find((p) => t < p.end)!.phone;
    pcm[i] = phone === 'pau' ? 0 : Math.round((phone === 'm' ? 3000 : 9000) * Math.sin(2 * Math.PI * 150 * t));
  }
  return pcm;
}

/** The phone said at `t` seconds from the speech's start. */
function phoneAt(t: number): string | undefined {
  return t < 0 ? undefined : PHONES.find((p) => t < p.end)?.phone;
}

/** Mean absolute difference (levels) of two same-sized pictures over their upper 40 %, where a talking mouth changes nothing. */
function upperDifference(a: Image, b: Image): number {
  const n = Math.floor(a.height * 0.4) * a.width * a.channels;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / n;
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

describe('a video face on /v1/talks/live', () => {
  let api: TestApi<Names>;
  let dir: string;
  let clip: string;
  let statementVersion: string;
  let swapper: NodeSwapper;
  const WebSocketClass = WebSocket as unknown as WebSocketConstructor;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveswap-talk-live-video-'));
    clip = await makeClip({ motion: 'zoom', width: 320, height: 360, fps: FPS, frames: CLIP_FRAMES, dir, name: 'face' });
    const scopes = ['uploads', 'talk'] as const;
    api = await startTestApi<Names>({ alice: { scopes, quotas: { talkSecondsPerDay: 600 } }, tight: { scopes, quotas: { talkSecondsPerDay: 5 } } });
    statementVersion = await consentStatementVersion(api, 'alice');
    swapper = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
  });
  after(async () => {
    await api?.stop();
    await swapper?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The face in each image, followed from one to the next as a viewer's FaceMesh would. */
  const facesIn = async (images: readonly Image[]): Promise<(Face | undefined)[]> => {
    const faces: (Face | undefined)[] = [];
    let previous: Face | undefined;
    for (const image of images) {
      let face = previous && swapper.track ? await swapper.track(image, previous) : undefined;
      face ??= (await swapper.analyze(image))[0];
      faces.push(face);
      previous = face;
    }
    return faces;
  };

  it('plays the uploaded clip in a loop with its own motion, the mouth following the phones, every frame marked', async () => {
    const client = createLiveswapClient({ baseUrl: api.server.url, token: api.tokens.alice });
    const upload = await client.uploadVideo(await readFile(clip));
    const frames: { t: number; jpeg: Uint8Array }[] = [];
    let audioSamples = 0;
    let speechStart = -1;
    const talk = client.talkLive(
      { faceUploadId: upload.id, consent: { subject: 'self', attested: true, statementVersion }, fps: FPS, size: 360 },
      {
        onFrame: (t, jpeg) => void frames.push({ t, jpeg: jpeg.slice() }),
        onAudio: (_t, pcm) => void (audioSamples += pcm.length),
        onSpeech: (speech) => void (speechStart = speech.start),
      },
      { WebSocket: WebSocketClass },
    );
    const ready: TalkLiveReady = await talk.ready;
    assert.equal(ready.face, 'video');
    assert.deepEqual([ready.width, ready.height], [320, 360]);
    talk.sendAudio(speechPcm(), RATE, PHONES);
    talk.end();
    const summary: TalkLiveSummary = await talk.done;
    console.log(
      `# video face live: ${frames.length} frames of ${Math.round(summary.seconds * FPS)} sent (${summary.skipped} skipped, ${summary.dropped} dropped); face ${JSON.stringify(summary.tracking)}`,
    );
    assert.equal(summary.face, 'video');
    assert.equal(summary.frames, frames.length);
    assert.ok(Math.abs(audioSamples / ready.audio.sampleRate - summary.seconds) < 1e-6, 'audio covers the stream');
    const total = Math.round(summary.seconds * FPS);
    assert.ok(total > CLIP_FRAMES, `${total} frames: the ${CLIP_FRAMES}-frame clip plays again`);
    assert.equal(summary.frames + summary.skipped + summary.dropped, total);
    // A busy machine skips frames (their sound still goes); what is checked below needs a few.
    assert.ok(frames.length >= 8, `${frames.length} of ${total} frames arrived`);
    assert.ok(summary.tracking, 'the summary says how the face was followed');
    assert.equal(summary.tracking.withoutFace, 0);

    const images = await Promise.all(frames.map((f) => decodeRgb(Buffer.from(f.jpeg))));
    // Marked: the label on every frame, the session's watermark across them.
    const key = await loadWatermarkKey(api.home);
    const detector = new WatermarkDetector(key.key);
    for (const [i, image] of images.entries()) {
      assert.ok(findLabel(image), `frame ${i} carries the label`);
      detector.add(image);
    }
    const detection = detector.detection(FPS);
    assert.ok(detection.found && detection.payload, 'the watermark is found in the frames');
    assert.equal(formatWatermarkId(detection.payload.assetId), ready.watermarkId);

    // The mouth follows the phones: open on "aa", closed on the pauses and the "m".
    const faces = await facesIn(images);
    assert.ok(
      faces.every((f) => f),
      'a face in every frame',
    );
    const open: number[] = [];
    const closed: number[] = [];
    frames.forEach((frame, i) => {
      // Half a phone's edge either side is a ramp (coarticulation): only the middles are compared.
      const t = frame.t - speechStart;
      const phone = phoneAt(t);
      const settled = phone !== undefined && phoneAt(t - 0.08) === phone && phoneAt(t + 0.08) === phone;
      if (!settled) return;
      const opening = expression(faces[i]!).mouthOpen;
      if (phone === 'aa') open.push(opening);
      else closed.push(opening);
    });
    assert.ok(open.length >= 2 && closed.length >= 2, `${open.length} open and ${closed.length} closed frames measured`);
    assert.ok(mean(open) > mean(closed) + 0.1, `mouth opening on "aa" ${mean(open).toFixed(3)}, on pauses and "m" ${mean(closed).toFixed(3)}`);
    assert.ok(
      Math.min(...open) > Math.max(...closed),
      `every "aa" frame more open (min ${Math.min(...open).toFixed(3)}) than every closed one (max ${Math.max(...closed).toFixed(3)})`,
    );

    // The clip's own motion: each frame shows a frame of the clip (the nearest by the picture above
    // the mouth, which the speech does not move), in the clip's order, from its start again once it
    // has played, never ahead of the stream's time (a busy machine may make the clip lag, not jump).
    const clipImages: Image[] = [];
    for await (const image of readFrames(clip, { width: 320, height: 360 })) clipImages.push(image);
    assert.equal(clipImages.length, CLIP_FRAMES);
    let pass = 0;
    let last = -1;
    /** The clip's frames shown, counted over its passes. */
    const shown: number[] = [];
    for (const [i, frame] of frames.entries()) {
      const differences = clipImages.map((c) => upperDifference(images[i]!, c));
      const index = differences.indexOf(Math.min(...differences));
      const others = differences.filter((_, k) => Math.abs(k - index) > 1);
      assert.ok(differences[index]! * 2 < Math.min(...others), `frame at ${frame.t} s matches the clip's frame ${index} (${differences[index]!.toFixed(2)}) clearly`);
      // Each frame shown is a new frame of the clip: the first pass that puts it after the last one shown.
      while (pass * CLIP_FRAMES + index <= last) pass++;
      const played = pass * CLIP_FRAMES + index;
      assert.ok(played <= Math.round(frame.t * FPS), `frame at ${frame.t} s shows the clip's frame ${played}: ahead of the stream (shown so far: ${shown.join(' ')})`);
      shown.push(played);
      last = played;
    }
    assert.ok(pass >= 1, `the clip played again from its start (frames shown: ${shown.join(' ')})`);

    const { entries } = await readAudit(api.home);
    const line = entries.find((e) => e.kind === 'live-session' && e.options.talk === true);
    assert.ok(line, 'the session has its audit line');
    assert.equal(line.options.face, 'video');
    assert.equal(line.service?.outcome, 'ok');
    assert.equal(line.watermarkId, ready.watermarkId);
  });

  it('refuses an uploaded clip without consent, a video sent as the photo, and a token short of talk seconds', async () => {
    const failure = async (name: Names, start: Record<string, unknown>): Promise<{ kind: string; status: number }> => {
      const client = createLiveswapClient({ baseUrl: api.server.url, token: api.tokens[name] });
      const talk = client.talkLive(start, {}, { WebSocket: WebSocketClass });
      const error = (await talk.ready.then(
        () => assert.fail('the talk started'),
        (e: unknown) => e,
      )) as { kind: string; status: number };
      return { kind: error.kind, status: error.status };
    };
    const bytes = await readFile(clip);
    const consent = { subject: 'self', attested: true, statementVersion };
    const mine = await createLiveswapClient({ baseUrl: api.server.url, token: api.tokens.alice }).uploadVideo(bytes);
    assert.deepEqual(await failure('alice', { faceUploadId: mine.id }), { kind: 'consent-required', status: 400 });
    assert.deepEqual(await failure('alice', { facePhoto: new Uint8Array(bytes), consent }), { kind: 'usage', status: 400 });
    const theirs = await createLiveswapClient({ baseUrl: api.server.url, token: api.tokens.tight }).uploadVideo(bytes);
    assert.deepEqual(await failure('tight', { faceUploadId: theirs.id, consent }), { kind: 'quota-exceeded', status: 429 });
    const { entries } = await readAudit(api.home);
    assert.ok(entries.some((e) => e.service?.outcome === 'rejected-consent' && e.service.route === 'GET /v1/talks/live'));
    assert.ok(entries.some((e) => e.service?.outcome === 'rejected-quota' && e.service.tokenId === api.ids.tight));
  });

  it('tracks every other frame and interpolates the ones between; a second pass reuses the first pass’s faces', async () => {
    const player = await TalkClip.open(clip, { size: 360, fps: FPS, tracking: 'alternate' });
    try {
      const found: (Face | undefined)[] = [];
      for (let f = 0; f < CLIP_FRAMES + 6; f++) found.push(await player.faceOf(await player.next(), swapper));
      assert.ok(found.every((f) => f));
      const { stats } = player;
      assert.equal(stats.withoutFace, 0);
      assert.equal(stats.detected, 1, 'the detector ran once, on the first frame');
      assert.ok(stats.interpolated >= CLIP_FRAMES / 2 - 2, `${stats.interpolated} frames interpolated`);
      assert.equal(stats.detected + stats.tracked + stats.interpolated, CLIP_FRAMES, 'each frame of the first pass found once');
      assert.equal(stats.cached, 6, 'the second pass reuses them');
      assert.ok(player.fromMemory, 'a clip this small plays from memory after its first pass');
      // An interpolated face lies between its neighbours (the zoom grows the face frame by frame).
      const w = found.map((f) => f!.box[2]);
      assert.ok(w[1]! > w[0]! && w[1]! < w[2]!, `${w[0]} < ${w[1]} < ${w[2]}`);
      assert.equal(w[CLIP_FRAMES], w[0], 'the loop starts again from the first frame');
    } finally {
      await player.close();
    }
  });
});
