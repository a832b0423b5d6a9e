/**
 * Server-side live sessions, measured on loopback: a real `liveswap serve` (mesh engine by
 * default), a token, an identity from a fixture photo, then for each frame size a session through
 * the SDK's live helper (POST /v1/live/sessions, the WebSocket) fed the frames of a clip at its
 * pace (JPEG, 30 fps). Reports per size the frames sent and returned, the returned frame rate, the
 * round trip (send → swapped JPEG back) median and 95th percentile, the server's own time per
 * frame (decode, swap and marks, encode), the frames dropped by the freshest-frame rule, and the
 * machine's load while it ran.
 * Run: npm run bench:live-server [-- --input clip.mp4] [-- --seconds 10] [-- --sizes 640x360,1280x720] [-- --engine mesh] [-- --provider cpu] [-- --json]
 */

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { connectLiveSession, createLiveswapClient, runLiveFrames, type LiveFrameInfo, type LiveSessionRequest, type LiveWebSocketConstructor } from '../src/client/index.js';
import { fileUrlArg, lastLines, runFfmpeg } from '../src/node/media/ffmpeg-binary.js';
import { openServiceStores } from '../src/node/service/stores.js';
import type { ExecutionProvider } from '../src/pipeline/options.js';
import { createApiServer } from '../src/server/api/server.js';
import { FIXTURES } from '../test/helpers/fixtures.js';
import { homeWithModels, warmModels } from '../test/helpers/video-jobs.js';
import { faceFrames } from '../test/live-server/live-frames.js';
import { option } from './flags.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const input = option('--input', '');
const seconds = Number(option('--seconds', '10'));
const sizes = option('--sizes', '640x360,1280x720').split(',');
const engine = option('--engine', 'mesh') as NonNullable<LiveSessionRequest['engine']>;
const provider = option('--provider', 'cpu') as ExecutionProvider;
const FPS = 30;

/** The clip's frames at width×height as JPEG (quality about 90), or frames made from a fixture photo without --input. */
async function framesOf(dir: string, width: number, height: number): Promise<Buffer[]> {
  if (!input) return faceFrames(FPS * 2, { width, height, step: 1 });
  const out = join(dir, `${width}x${height}`);
  const run = await runFfmpeg([
    '-loglevel',
    'error',
    '-i',
    fileUrlArg(resolve(input)),
    '-t',
    String(seconds),
    '-vf',
    `fps=${FPS},scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height}`,
    '-q:v',
    '3',
    `${out}-%05d.jpg`,
  ]);
  if (run.code !== 0) throw new Error(`Could not read ${input}: ${lastLines(run.stderr, 4)}`);
  const names = (await readdir(dir)).filter((name) => name.startsWith(`${width}x${height}-`)).sort();
  return Promise.all(names.map((name) => readFile(join(dir, name))));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  await warmModels();
  const dir = await mkdtemp(join(tmpdir(), 'liveswap-bench-live-server-'));
  const home = await homeWithModels(join(dir, 'home'));
  const stores = await openServiceStores({ home });
  const { token } = await stores.tokens.create({ name: 'bench', scopes: ['identities:write', 'live'] });
  await stores.close();
  const server = await createApiServer({ home, port: 0, logger: false, pressure: { maxEventLoopDelay: 0 }, live: { capacity: 1, provider } });
  const results: Record<string, unknown>[] = [];
  try {
    const client = createLiveswapClient({ baseUrl: server.url, token });
    const statement = await client.consentStatement();
    const identity = await client.createIdentity([await readFile(join(FIXTURES, 'grace_hopper.jpg'))], { subject: 'self', attested: true, statementVersion: statement.version });
    for (const size of sizes) {
      const [width, height] = size.split('x').map(Number) as [number, number];
      const frames = await framesOf(dir, width, height);
      // Up to `seconds` of frames, looped when the source is shorter.
      const wanted = Math.round(seconds * FPS);
      const sequence = Array.from({ length: wanted }, (_, i) => frames[i % frames.length]!);
      const created = await client.createLiveSession({ identityId: identity.id, engine });
      const live = await connectLiveSession(created.url, { WebSocket: WebSocket as unknown as LiveWebSocketConstructor });
      const infos: LiveFrameInfo[] = [];
      const loadBefore = loadavg()[0]!;
      const summary = await runLiveFrames(live, sequence, { fps: FPS, onFrame: (frame) => infos.push(frame.info) });
      const loadAfter = loadavg()[0]!;
      await live.end();
      const last = infos.at(-1);
      results.push({
        size,
        engine: created.engine,
        provider,
        frames: { sent: summary.sent, returned: summary.received, dropped: last?.dropped ?? 0 },
        fps: Math.round(summary.fps * 10) / 10,
        roundTripMs: { median: Math.round(summary.roundTripMs.median), p95: Math.round(summary.roundTripMs.p95) },
        serverMs: {
          decode: Math.round(median(infos.map((i) => i.timings.decode)) * 10) / 10,
          swapAndMarks: Math.round(median(infos.map((i) => i.timings.process)) * 10) / 10,
          encode: Math.round(median(infos.map((i) => i.timings.encode)) * 10) / 10,
        },
        load: { before: Math.round(loadBefore * 100) / 100, after: Math.round(loadAfter * 100) / 100 },
      });
    }
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  if (json) {
    console.log(JSON.stringify({ input: input || 'fixture photo', seconds, results }, null, 2));
    return;
  }
  console.log(`bench:live-server — ${input || 'a fixture photo, drifting'}, ${seconds} s at ${FPS} fps sent over a WebSocket on loopback, engine ${engine}, provider ${provider}`);
  for (const r of results as {
    size: string;
    frames: { sent: number; returned: number; dropped: number };
    fps: number;
    roundTripMs: { median: number; p95: number };
    serverMs: { decode: number; swapAndMarks: number; encode: number };
    load: { before: number; after: number };
  }[]) {
    console.log(
      `${r.size}: ${r.fps} fps returned (${r.frames.returned} of ${r.frames.sent} sent, ${r.frames.dropped} dropped by the freshest-frame rule); round trip median ${r.roundTripMs.median} ms, p95 ${r.roundTripMs.p95} ms; server per frame: decode ${r.serverMs.decode} ms, swap + marks ${r.serverMs.swapAndMarks} ms, encode ${r.serverMs.encode} ms; load ${r.load.before} → ${r.load.after}`,
    );
  }
}

await main();
