/**
 * The live talk (/v1/talks/live) measured on loopback: a real `liveswap serve`, a token, an
 * identity from a fixture photo, then one session through the SDK's talkLive that sends sentences
 * one at a time, each once the one before has been spoken (so each meets an idle face, as an
 * assistant's answer does). Reports per sentence the latency from sending it to its first frame
 * back (flite speaking it, the frames already sent ahead, delivery) and, for the session, the frames
 * sent and skipped against the stream's length, and the machine's load.
 * Run: npm run bench:talk-live [-- --fps 25] [--size 320] [--voice slt] [--sentences 5] [--json]
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createLiveswapClient, type TalkLiveSpeech, type WebSocketConstructor } from '../src/client/index.js';
import { openServiceStores } from '../src/node/service/stores.js';
import { createApiServer } from '../src/server/api/server.js';
import { FIXTURES } from '../test/helpers/fixtures.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const fps = Number(option('--fps', '25'));
const size = Number(option('--size', '320'));
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
const token = (await stores.tokens.create({ name: 'bench', scopes: ['identities:write', 'talk'] })).token;
await stores.close();
const server = await createApiServer({ home, port: 0, logger: false, pressure: { maxEventLoopDelay: 0 } });
try {
  const client = createLiveswapClient({ baseUrl: server.url, token });
  const statement = await client.consentStatement();
  const identity = await client.createIdentity([await readFile(join(FIXTURES, 'grace_hopper.jpg'))], { subject: 'self', attested: true, statementVersion: statement.version });
  const frames: { t: number; at: number }[] = [];
  const placed: (TalkLiveSpeech & { at: number })[] = [];
  const load = loadavg()[0]!;
  const talk = client.talkLive(
    { faceIdentityId: identity.id, voice, fps, size },
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
  const result = {
    fps,
    size: `${summary.width}x${summary.height}`,
    sentences: count,
    latencyMs: { median: Math.round(sorted[Math.floor(sorted.length / 2)]!), min: Math.round(sorted[0]!), max: Math.round(sorted.at(-1)!) },
    fliteAndPlacementMs: flite.map(Math.round),
    frames: summary.frames,
    skipped: summary.skipped,
    seconds: summary.seconds,
    load: { before: Math.round(load * 100) / 100, after: Math.round(loadavg()[0]! * 100) / 100 },
  };
  if (args.includes('--json')) console.log(JSON.stringify(result));
  else {
    console.log(`live talk at ${result.size}, ${fps} fps, voice ${voice} (load ${result.load.before} → ${result.load.after})`);
    console.log(`  sentence sent → its first frame back: median ${result.latencyMs.median} ms (min ${result.latencyMs.min}, max ${result.latencyMs.max})`);
    console.log(`  of which flite and placing it: ${result.fliteAndPlacementMs.join(', ')} ms`);
    console.log(`  frames ${summary.frames} sent, ${summary.skipped} skipped as late, over ${summary.seconds.toFixed(2)} s`);
  }
} finally {
  await server.close();
  await rm(home, { recursive: true, force: true });
}
