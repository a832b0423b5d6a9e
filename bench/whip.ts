/**
 * What the WebRTC round trip of server-side processing (WHIP, `liveswap ui`'s /api/live/whip) adds
 * to the picture's delay, and the frame rate that comes back. Headless Chromium plays the camera:
 * a canvas showing a photo with a face, at 30 fps, each frame with its number painted into its
 * top-left corner (16 black or white blocks) and its paint time noted; the canvas's track goes to
 * the server on a sendrecv connection, the server swaps (mesh engine), labels and watermarks each
 * frame it takes (the freshest wins) and sends it back on the same connection, and the page reads
 * the number back from each frame that arrives and notes when, on the same clock. Reported per
 * size: median and p95 of arrived − painted (encode, network, decode, swap, marks, encode,
 * network, decode), the frames back per second, and the server's own share (its frame messages).
 * Chromium gathers no ICE candidates on loopback alone, so the bench re-runs itself in a network
 * namespace with a veth pair (root). Needs Chromium.
 * Run: npm run bench:whip [-- --seconds 20] [-- --sizes 640x360,1280x720] [-- --json]
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { UI_LIVE_PATHS } from '../src/pipeline/live-wire.js';
import { createUiServer } from '../src/server/ui-server.js';
import { buildWebApp, launchChromium, newContext } from '../test/helpers/browser.js';
import { framedPhoto } from '../test/helpers/clips.js';
import { encodePng } from '../test/helpers/fixtures.js';
import { freshHome } from '../test/helpers/live-home.js';
import { enterNamespace } from '../test/helpers/netns.js';
import { option } from './flags.js';

const args = process.argv.slice(2);
const seconds = Number(option('--seconds', '20'));
const sizes = option('--sizes', '640x360').split(',');
const json = args.includes('--json');
const WARM_UP_S = 6;
const BITS = 16;
const BLOCK = 16;

// Into a network namespace with a veth pair first (see the module comment).
enterNamespace();

/** The page: paints numbered frames at 30 fps into the sent track, reads the numbers of the frames coming back. */
const CAMERA = (photo: string, width: number, height: number): string => `(async () => {
  const photo = new Image();
  photo.src = ${JSON.stringify(photo)};
  await photo.decode();
  const canvas = document.createElement('canvas');
  canvas.width = ${width};
  canvas.height = ${height};
  const context = canvas.getContext('2d');
  const stream = canvas.captureStream(30);
  window.__sent = new Map();
  window.__seen = [];
  window.__server = [];
  let n = 0;
  setInterval(() => {
    n = (n + 1) & 0xffff;
    context.drawImage(photo, 0, 0);
    for (let bit = 0; bit < ${BITS}; bit++) {
      context.fillStyle = (n >> bit) & 1 ? '#fff' : '#000';
      context.fillRect(bit * ${BLOCK}, 0, ${BLOCK}, ${BLOCK});
    }
    window.__sent.set(n, performance.timeOrigin + performance.now());
  }, 1000 / 30);
  const peer = new RTCPeerConnection();
  window.__peer = peer;
  peer.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendrecv', streams: [stream] });
  const channel = peer.createDataChannel('liveswap');
  channel.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'frame') window.__server.push(message.timings);
  };
  const small = new OffscreenCanvas(${BITS * BLOCK}, ${BLOCK});
  const read = small.getContext('2d', { willReadFrequently: true });
  peer.ontrack = async (event) => {
    if ('jitterBufferTarget' in event.receiver) event.receiver.jitterBufferTarget = 0;
    const reader = new MediaStreamTrackProcessor({ track: event.track }).readable.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const at = performance.timeOrigin + performance.now();
      // The encoder may send a smaller picture than the canvas (its bandwidth or CPU): the blocks scale with it.
      const scale = value.displayWidth / ${width};
      read.drawImage(value, 0, 0, ${BITS * BLOCK} * scale, ${BLOCK} * scale, 0, 0, ${BITS * BLOCK}, ${BLOCK});
      value.close();
      const pixels = read.getImageData(0, 0, ${BITS * BLOCK}, ${BLOCK}).data;
      let seen = 0;
      for (let bit = 0; bit < ${BITS}; bit++) {
        const o = (${BLOCK / 2} * ${BITS * BLOCK} + bit * ${BLOCK} + ${BLOCK / 2}) * 4;
        if (pixels[o] + pixels[o + 1] + pixels[o + 2] > 384) seen |= 1 << bit;
      }
      window.__seen.push([seen, at]);
    }
  };
  await peer.setLocalDescription(await peer.createOffer());
  await new Promise((resolve) => {
    if (peer.iceGatheringState === 'complete') return resolve();
    peer.onicegatheringstatechange = () => peer.iceGatheringState === 'complete' && resolve();
    setTimeout(resolve, 2000);
  });
  return peer.localDescription.sdp;
})()`;

interface Row {
  size: string;
  backPerSecond: number;
  latencyMs: { median: number; p95: number };
  serverMs: { median: number; p95: number };
  frames: number;
  load1: number;
}

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

async function measure(size: string, web: string, home: string): Promise<Row> {
  const [width, height] = size.split('x').map(Number) as [number, number];
  const photo = `data:image/png;base64,${(await encodePng(await framedPhoto('astronaut.png', width, height))).toString('base64')}`;
  const server = await createUiServer({ home, port: 0, webRoot: web });
  const base = server.url.replace(/\/$/, '');
  const browser = await launchChromium({ camera: false, allowCamera: false });
  let location: string | null = null;
  try {
    const session = await fetch(`${base}/api/provenance/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ engine: 'mesh', label: { shown: true }, sources: [] }),
    });
    const { assetId } = (await session.json()) as { assetId: number };
    const page = await (await newContext(browser, false)).newPage();
    // A page of the server's own origin (a small JSON answer), so nothing else runs in it.
    await page.goto(`${base}${UI_LIVE_PATHS.info}`);
    const offer = (await page.evaluate(CAMERA(photo, width, height))) as string;
    const answer = await fetch(`${base}${UI_LIVE_PATHS.whip}?engine=mesh&assetId=${assetId}`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer });
    if (answer.status !== 201) throw new Error(`the WHIP route answered ${answer.status}: ${await answer.text()}`);
    location = answer.headers.get('location');
    await page.evaluate(`window.__peer.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(await answer.text())} })`);
    // The source photo: the page's own face goes on the astronaut.
    const source = await fetch(`${base}${location}/source?face=0`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: await encodePng(await framedPhoto('grace_hopper.jpg', 320, 320)),
    });
    if (source.status !== 202) throw new Error(`the source photo was refused: ${source.status}`);
    await new Promise((r) => setTimeout(r, WARM_UP_S * 1000));
    await page.evaluate('window.__seen.length = 0; window.__server.length = 0');
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const { sent, seen, timings } = (await page.evaluate('({ sent: [...window.__sent], seen: window.__seen, timings: window.__server })')) as {
      sent: [number, number][];
      seen: [number, number][];
      timings: { total: number }[];
    };
    const sentAt = new Map(sent);
    const latencies: number[] = [];
    const unique = new Set<number>();
    for (const [n, at] of seen) {
      const painted = sentAt.get(n);
      if (painted === undefined || unique.has(n)) continue;
      unique.add(n);
      latencies.push(at - painted);
    }
    const server = timings.map((t) => t.total);
    return {
      size,
      backPerSecond: Math.round((unique.size / seconds) * 10) / 10,
      latencyMs: { median: Math.round(quantile(latencies, 0.5)), p95: Math.round(quantile(latencies, 0.95)) },
      serverMs: { median: Math.round(quantile(server, 0.5)), p95: Math.round(quantile(server, 0.95)) },
      frames: unique.size,
      load1: Math.round(loadavg()[0]! * 10) / 10,
    };
  } finally {
    if (location) await fetch(`${base}${location}`, { method: 'DELETE' }).catch(() => undefined);
    await browser.close();
    await server.close();
  }
}

const web = await buildWebApp();
const dir = await mkdtemp(join(tmpdir(), 'liveswap-bench-whip-'));
const rows: Row[] = [];
try {
  const home = await freshHome(dir);
  for (const size of sizes) rows.push(await measure(size, web, home));
} finally {
  await rm(dir, { recursive: true, force: true });
}
if (json) console.log(JSON.stringify(rows));
else {
  for (const row of rows) {
    console.log(
      `webrtc/whip ${row.size.padEnd(10)} back ${String(row.backPerSecond).padStart(5)} fps   round trip median ${row.latencyMs.median} ms, p95 ${row.latencyMs.p95} ms   server's share median ${row.serverMs.median} ms, p95 ${row.serverMs.p95} ms   (${row.frames} frames, load ${row.load1})`,
    );
  }
  console.log(
    'Round trip: from a frame painted in the page (30 fps) to the swapped, marked frame arriving back in it; same clock. Server share: arrival to swapped frame handed to WebRTC.',
  );
}
// libwebrtc's bindings crash while Node tears down by itself.
process.exit(0);
