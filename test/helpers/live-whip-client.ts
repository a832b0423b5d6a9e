/**
 * Run inside a network namespace with a veth pair (see test/live-server/live-whip.test.ts):
 * `liveswap serve` with live sessions, and a WebRTC client in Node (@roamhq/wrtc) that takes a
 * ticket (POST /v1/live/sessions), POSTs its offer to the session's WHIP path, sends camera-like
 * I420 frames and reads the swapped ones coming back on the same connection; then a metered token's
 * session runs out of live minutes over WebRTC. Prints one JSON line with what was seen.
 * Arguments: HOME
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { i420ToImage, imageToI420, stampedI420, unstampedI420, type I420Frame } from '../../src/node/live/i420.js';
import { readAudit } from '../../src/node/provenance/output-provenance.js';
import { findLabel } from '../../src/provenance/label.js';
import { multipart, startTestApi } from '../api/api-helpers.js';
import { framedPhoto } from './clips.js';
import { FIXTURES } from './fixtures.js';

/** The parts of @roamhq/wrtc used here. */
interface Wrtc {
  RTCPeerConnection: new (config?: object) => {
    addTransceiver(track: unknown, init: object): unknown;
    createDataChannel(label: string): { onmessage: ((event: { data: string }) => void) | null };
    ontrack: ((event: { track: unknown }) => void) | null;
    createOffer(): Promise<{ type: string; sdp: string }>;
    setLocalDescription(description: { type: string; sdp: string }): Promise<void>;
    setRemoteDescription(description: { type: string; sdp: string }): Promise<void>;
    localDescription: { sdp: string } | null;
    iceGatheringState: string;
    onicegatheringstatechange: (() => void) | null;
    close(): void;
  };
  nonstandard: {
    RTCVideoSource: new () => { createTrack(): { stop(): void }; onFrame(frame: I420Frame): void };
    RTCVideoSink: new (track: unknown) => { onframe: ((event: { frame: I420Frame }) => void) | null; stop(): void };
  };
}

const [home] = process.argv.slice(2) as [string];
const MINUTE_MS = 1500;
const result: Record<string, unknown> = {};
const wrtc = (await import('@roamhq/wrtc')).default as unknown as Wrtc;
const api = await startTestApi<'alice' | 'metered'>(
  { alice: { scopes: ['identities:write', 'live'] }, metered: { scopes: ['identities:write', 'live'], quotas: { liveMinutesPerDay: 2 } } },
  { home, live: { capacity: 1, ticketSeconds: 10, minuteMs: MINUTE_MS } },
);
const base = api.server.url;

/** A client's connection: frames sent at `fps` (15), with frame stamps counting from 0 when `stamped`; frames and messages received. */
async function connect(
  whipUrl: string,
  fps = 15,
  stamped = false,
): Promise<{ status: number; location: string | null; back: I420Frame[]; messages: { type: string; reason?: string; faces?: unknown[]; stamp?: number }[]; stop(): void }> {
  const peer = new wrtc.RTCPeerConnection({ iceServers: [] });
  const source = new wrtc.nonstandard.RTCVideoSource();
  const track = source.createTrack();
  peer.addTransceiver(track, { direction: 'sendrecv' });
  const messages: { type: string }[] = [];
  peer.createDataChannel('liveswap').onmessage = ({ data }) => messages.push(JSON.parse(data) as { type: string });
  const back: I420Frame[] = [];
  let sink: InstanceType<Wrtc['nonstandard']['RTCVideoSink']> | undefined;
  peer.ontrack = ({ track: remote }) => {
    sink = new wrtc.nonstandard.RTCVideoSink(remote);
    sink.onframe = ({ frame }) => back.push({ width: frame.width, height: frame.height, data: frame.data.slice() });
  };
  await peer.setLocalDescription(await peer.createOffer());
  await new Promise<void>((resolve) => {
    if (peer.iceGatheringState === 'complete') return resolve();
    peer.onicegatheringstatechange = () => peer.iceGatheringState === 'complete' && resolve();
    setTimeout(resolve, 2000);
  });
  const response = await fetch(whipUrl, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: peer.localDescription!.sdp });
  const location = response.headers.get('location');
  if (response.status === 201) await peer.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  else await response.text();
  const camera = imageToI420(await framedPhoto('grace_hopper.jpg', 640, 360));
  let sent = 0;
  const timer = setInterval(() => source.onFrame(stamped ? stampedI420(camera, sent++) : camera), 1000 / fps);
  return {
    status: response.status,
    location,
    back,
    messages: messages as never,
    stop: () => {
      clearInterval(timer);
      sink?.stop();
      track.stop();
      peer.close();
    },
  };
}

const wait = async (until: () => boolean, ms: number): Promise<void> => {
  for (let waited = 0; waited < ms && !until(); waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
};

try {
  const statement = (await (await fetch(`${base}/v1/consent/statement`, { headers: api.auth('alice') })).json()) as { version: string };
  const photo = await readFile(join(FIXTURES, 'astronaut.png'));
  const identities: Record<string, string> = {};
  for (const name of ['alice', 'metered'] as const) {
    const { body, contentType } = multipart([
      { name: 'consent', value: JSON.stringify({ subject: 'self', attested: true, statementVersion: statement.version }) },
      { name: 'photo', filename: 'a.png', type: 'image/png', bytes: photo },
    ]);
    const reply = await fetch(`${base}/v1/identities`, { method: 'POST', headers: { ...api.auth(name), 'content-type': contentType }, body });
    identities[name] = ((await reply.json()) as { id: string }).id;
  }
  const create = async (name: 'alice' | 'metered'): Promise<{ status: number; body: { sessionId: string; ticket: string; watermarkId: string } }> => {
    const reply = await fetch(`${base}/v1/live/sessions`, {
      method: 'POST',
      headers: { ...api.auth(name), 'content-type': 'application/json' },
      body: JSON.stringify({ identityId: identities[name], engine: 'mesh' }),
    });
    return { status: reply.status, body: (await reply.json()) as never };
  };
  const whipOf = (created: { sessionId: string; ticket: string }): string => `${base}/v1/live/sessions/${created.sessionId}/whip?ticket=${created.ticket}`;

  const first = await create('alice');
  result.badOffer = (await fetch(whipOf(first.body), { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' })).status;
  result.badTicket = (
    await fetch(`${base}/v1/live/sessions/${first.body.sessionId}/whip?ticket=nope`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: await connectOffer() })
  ).status;
  const client = await connect(whipOf(first.body));
  result.status = client.status;
  result.location = client.location;
  result.full = (await create('alice')).status;
  await wait(() => client.back.length >= 8, 30_000);
  result.back = client.back.length;
  const last = client.back.at(-1);
  result.size = last ? [last.width, last.height] : null;
  result.label = last ? findLabel(i420ToImage(last)) !== undefined : false;
  result.faces = client.messages.filter((m) => m.type === 'frame').at(-1)?.faces?.length ?? 0;
  result.reused = (await fetch(whipOf(first.body), { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: await connectOffer() })).status;
  result.deleted = (await fetch(`${base}${client.location}`, { method: 'DELETE' })).status;
  client.stop();
  const meteredSession = await create('metered');
  result.afterDelete = meteredSession.status;

  // Out of minutes over WebRTC: the minute clock ends the session with quota-exceeded, the data channel says so.
  // This client stamps its frames (and asks for them back) and sends 4 a second, so the server repeats each answer in between.
  const metered = await connect(`${whipOf(meteredSession.body)}&stamp=1`, 4, true);
  await wait(() => metered.messages.some((m) => m.type === 'end'), 20_000);
  result.meteredEnd = metered.messages.find((m) => m.type === 'end') ?? null;
  result.meteredBack = metered.back.length;
  result.stamped = {
    sizes: [...new Set(metered.back.map((f) => `${f.width}x${f.height}`))],
    stamps: metered.back.map((f) => unstampedI420(f).stamp ?? null),
    messageStamps: metered.messages.filter((m) => m.type === 'frame').map((m) => m.stamp ?? null),
    label: metered.back.length > 0 && findLabel(i420ToImage(unstampedI420(metered.back.at(-1)!).picture)) !== undefined,
  };
  metered.stop();
  const audit = async (): Promise<{ options: Record<string, unknown>; service?: { outcome?: string } }[]> =>
    (await readAudit(home)).entries.filter((e) => e.kind === 'live-session') as never;
  for (let i = 0; i < 50 && !(await audit()).some((e) => e.options.sessionId === meteredSession.body.sessionId && e.options.event === 'end'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const lines = await audit();
  result.meteredAudit = lines
    .filter((e) => e.options.sessionId === meteredSession.body.sessionId && e.options.event === 'end')
    .map((e) => ({ transport: e.options.transport, minutes: e.options.minutes, endReason: e.options.endReason, outcome: e.service?.outcome }));
  result.firstAudit = lines
    .filter((e) => e.options.sessionId === first.body.sessionId)
    .map((e) => ({ event: e.options.event, transport: e.options.transport, frames: e.options.frames, endReason: e.options.endReason }));
} catch (error) {
  result.error = error instanceof Error ? error.message : String(error);
}
console.log(JSON.stringify(result));
await api.stop().catch(() => undefined);
process.exit(0);

/** A valid sendrecv offer (the peer is closed at once). */
async function connectOffer(): Promise<string> {
  const peer = new wrtc.RTCPeerConnection({ iceServers: [] });
  const track = new wrtc.nonstandard.RTCVideoSource().createTrack();
  peer.addTransceiver(track, { direction: 'sendrecv' });
  const offer = await peer.createOffer();
  peer.close();
  track.stop();
  return offer.sdp;
}
