/**
 * The live talk (/v1/talks/live) measured on loopback: a real `liveswap serve`, a token, the face
 * (an identity from a fixture photo, or with --face-video a clip uploaded with consent, which plays
 * in a loop with its mouth replaced), then one session through the SDK's talkLive that sends
 * sentences one at a time, each once the one before has been spoken (so each meets an idle face,
 * as an assistant's answer does). Reports per sentence the latency from sending it to its first
 * frame back (flite speaking it, the frames already sent ahead, delivery); for the session the
 * frames sent, skipped (rendered too late) and dropped (the client had not taken the one before)
 * against the stream's length, the frames per second received, how late frames arrive against the
 * stream's clock (from the earliest one), how a video's face was followed, and the machine's load.
 * Run: npm run bench:talk-live [-- --fps 25] [--size 320] [--voice slt] [--sentences 5] [--json]
 *      [--face-video [CLIP.mp4] [--tracking every|alternate]]   (--size defaults to 640 with a video;
 *      without a path, a 3 s 640x360 clip zooming into the bundled grace_hopper.jpg)
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createLiveswapClient, type TalkLiveSpeech, type TalkLiveStart, type WebSocketConstructor } from '../src/client/index.js';
import { openServiceStores } from '../src/node/service/stores.js';
import { createApiServer } from '../src/server/api/server.js';
import { makeClip } from '../test/helpers/clips.js';
import { FIXTURES } from '../test/helpers/fixtures.js';
import { option } from './flags.js';

const args = process.argv.slice(2);
const fps = Number(option('--fps', '25'));
/** --face-video alone: a 3 s zooming clip made here from the bundled photo. */
const faceVideoArg = args.includes('--face-video') ? option('--face-video', '') : undefined;
const faceVideo = faceVideoArg?.startsWith('--') ? '' : faceVideoArg;
const size = Number(option('--size', faceVideo !== undefined ? '640' : '320'));
const tracking = option('--tracking', 'every');
if (tracking !== 'every' && tracking !== 'alternate') throw new Error('--tracking takes every or alternate');
const voice = option('--voice', 'slt');
const count = Number(option('--sentences', '5'));
const SENTENCES = [
  'Hello, I am the assistant you asked for.',
  'The answer to your question comes in three parts.',
  'First, the weather will be dry tomorrow.',
  'Second, the trains run on time.',
  'And third, the shop closes at six.',
];

const home = await mkdtemp(join(tmpdir(), 'liveswap-bench-talk-'));
const stores = await openServiceStores({ home });
const token = (await stores.tokens.create({ name: 'bench', scopes: ['identities:write', 'talk', 'uploads'] })).token;
await stores.close();
const server = await createApiServer({ home, port: 0, logger: false, pressure: { maxEventLoopDelay: 0 } });
try {
  const client = createLiveswapClient({ baseUrl: server.url, token });
  const statement = await client.consentStatement();
  const consent = { subject: 'self', attested: true, statementVersion: statement.version } as const;
  const clip = faceVideo === '' ? await makeClip({ motion: 'zoom', width: 640, height: 360, fps: 25, frames: 75, dir: home, name: 'bundled' }) : faceVideo;
  const face: TalkLiveStart = clip
    ? { faceUploadId: (await client.uploadVideo(await readFile(clip))).id, consent, tracking }
    : { faceIdentityId: (await client.createIdentity([await readFile(join(FIXTURES, 'grace_hopper.jpg'))], consent)).id };
  const frames: { t: number; at: number }[] = [];
  const placed: (TalkLiveSpeech & { at: number })[] = [];
  const load = loadavg()[0]!;
  const talk = client.talkLive(
    { ...face, voice, fps, size },
    { onFrame: (t) => void frames.push({ t, at: performance.now() }), onSpeech: (speech) => void placed.push({ ...speech, at: performance.now() }) },
    { WebSocket: WebSocket as unknown as WebSocketConstructor },
  );
  await talk.ready;
  const latencies: number[] = [];
  const flite: number[] = [];
  for (let i = 0; i < count; i++) {
    const sent = performance.now();
    talk.say(SENTENCES[i % SENTENCES.length]!);
    while (placed.length <= i) await new Promise((r) => setTimeout(r, 5));
    const speech = placed[i]!;
    flite.push(speech.at - sent);
    while (!frames.some((f) => f.t >= speech.start)) await new Promise((r) => setTimeout(r, 5));
    latencies.push(frames.find((f) => f.t >= speech.start)!.at - sent);
    // Wait until it has been spoken, so the next one meets an idle face.
    while (!frames.some((f) => f.t >= speech.start + speech.duration + 0.2)) await new Promise((r) => setTimeout(r, 20));
  }
  talk.end();
  const summary = await talk.done;
  const sorted = [...latencies].sort((a, b) => a - b);
  // How late each frame arrives against the stream's clock, from the earliest one (which sets the clock's origin here).
  const offsets = frames.map((f) => f.at - f.t * 1000);
  const origin = Math.min(...offsets);
  const lag = offsets.map((o) => o - origin).sort((a, b) => a - b);
  const total = Math.round(summary.seconds * summary.fps);
  const result = {
    face: clip ? `video (${tracking}${faceVideo === '' ? ', bundled photo zooming' : ''})` : 'photo',
    fps,
    receivedFps: Math.round((summary.frames / summary.seconds) * 10) / 10,
    size: `${summary.width}x${summary.height}`,
    sentences: count,
    latencyMs: { median: Math.round(sorted[Math.floor(sorted.length / 2)]!), min: Math.round(sorted[0]!), max: Math.round(sorted.at(-1)!) },
    fliteAndPlacementMs: flite.map(Math.round),
    frames: summary.frames,
    ofFrames: total,
    skipped: summary.skipped,
    dropped: summary.dropped,
    frameLagMs: { median: Math.round(lag[Math.floor(lag.length / 2)]!), p95: Math.round(lag[Math.floor(lag.length * 0.95)]!), max: Math.round(lag.at(-1)!) },
    ...(summary.tracking ? { tracking: summary.tracking } : {}),
    seconds: summary.seconds,
    load: { before: Math.round(load * 100) / 100, after: Math.round(loadavg()[0]! * 100) / 100 },
  };
  if (args.includes('--json')) console.log(JSON.stringify(result));
  else {
    console.log(`live talk, ${result.face} face at ${result.size}, ${fps} fps, voice ${voice} (load ${result.load.before} → ${result.load.after})`);
    console.log(`  sentence sent → its first frame back: median ${result.latencyMs.median} ms (min ${result.latencyMs.min}, max ${result.latencyMs.max})`);
    console.log(`  of which flite and placing it: ${result.fliteAndPlacementMs.join(', ')} ms`);
    console.log(
      `  frames ${summary.frames} of ${total} sent (${result.receivedFps} fps), ${summary.skipped} skipped as late, ${summary.dropped} dropped for the client, over ${summary.seconds.toFixed(2)} s`,
    );
    console.log(`  frame arrival behind the stream's clock (from the earliest): median ${result.frameLagMs.median} ms, p95 ${result.frameLagMs.p95}, max ${result.frameLagMs.max}`);
    if (summary.tracking) {
      const t = summary.tracking;
      console.log(
        `  face followed (${t.mode}): ${t.tracked} tracked, ${t.detected} detected, ${t.interpolated} interpolated, ${t.cached} from an earlier pass, ${t.withoutFace} without a face`,
      );
    }
  }
} finally {
  await server.close();
  await rm(home, { recursive: true, force: true });
}
