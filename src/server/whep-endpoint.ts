/**
 * `liveswap live --output whep`: a WHEP endpoint (WebRTC playback, RFC 9725's signalling) for the
 * swapped stream, on loopback. `POST /whep` with an SDP offer (`application/sdp`) answers `201`
 * with the complete SDP answer and a `Location` to `DELETE` when done; trickle ICE (`PATCH`) is not
 * offered (405). Beyond the viewer limit the answer is 503 with `Retry-After`. `GET /` is a small
 * player page for a browser on this machine; a player whose offer takes audio gets the input's sound
 * too (in step with the pictures). Requests from other web pages are refused (they could
 * otherwise watch the stream); players that send no Origin (OBS, ffmpeg, GStreamer) are served.
 */

import type { LiveSink } from '../node/live/live-output.js';
import { WebRtcViewers, type WebRtcViewersOptions } from '../node/live/webrtc-viewers.js';
import { LiveswapError } from '../core/errors.js';
import { loopbackServer } from './output-page.js';
import { hostHeaderOf } from './origin.js';

export const WHEP_PATH = '/whep';
/** Largest SDP offer taken. */
const MAX_OFFER_BYTES = 64 * 1024;

export interface WhepEndpoint {
  /** Where players POST their offers, e.g. http://127.0.0.1:7862/whep */
  url: string;
  /** The player page for a browser, e.g. http://127.0.0.1:7862/ */
  playerUrl: string;
  sink: LiveSink;
  /** Viewers connected now. */
  readonly viewers: number;
  close(): Promise<void>;
}

/** What a WHEP endpoint is started with: where, and the run's timing and sound (pictures only without `media`). */
export interface WhepEndpointOptions {
  port: number;
  name?: string;
  media?: WebRtcViewersOptions;
}

/** Starts the endpoint on 127.0.0.1 at `port` (0: any free one); the run's frames and sound go to its sink. */
export async function startWhepEndpoint(options: WhepEndpointOptions): Promise<WhepEndpoint> {
  const viewers = await WebRtcViewers.create(options.name ?? 'whep', options.media);
  const server = await loopbackServer({ allow: ['GET', 'HEAD', 'POST', 'DELETE', 'PATCH', 'OPTIONS'], what: 'a WHEP endpoint' });
  const { app } = server;
  app.addContentTypeParser('application/sdp', { parseAs: 'string', bodyLimit: MAX_OFFER_BYTES }, (_request, body, done) => done(null, body));
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(PLAYER_PAGE));
  app.post(WHEP_PATH, async (request, reply) => {
    if (!String(request.headers['content-type'] ?? '').startsWith('application/sdp')) {
      return reply.code(415).send({ error: 'POST an SDP offer with Content-Type: application/sdp.' });
    }
    const accepting = viewers.accepting;
    if (accepting === 'ended') return reply.code(503).send({ error: 'The stream has ended.' });
    if (accepting === 'full') return reply.code(503).header('Retry-After', '10').send({ error: 'As many viewers as this stream takes are watching; try again later.' });
    try {
      const answer = await viewers.answer(typeof request.body === 'string' ? request.body : '');
      return reply.code(201).type('application/sdp').header('Location', `${WHEP_PATH}/${answer.id}`).header('Cache-Control', 'no-store').send(answer.sdp);
    } catch (error) {
      if (error instanceof LiveswapError && error.kind === 'usage') return reply.code(400).send({ error: error.message });
      throw error;
    }
  });
  app.delete<{ Params: { id: string } }>(`${WHEP_PATH}/:id`, async (request, reply) =>
    viewers.hangUp(request.params.id) ? reply.code(200).send({ ended: true }) : reply.code(404).send({ error: 'No such viewer.' }),
  );
  app.patch(`${WHEP_PATH}/:id`, async (_request, reply) =>
    reply.code(405).header('Allow', 'DELETE').send({ error: 'Trickle ICE is not offered: the answer holds every candidate.' }),
  );
  app.options(WHEP_PATH, async (_request, reply) => reply.code(204).header('Allow', 'POST, OPTIONS').send());
  const port = await server.listen(options.port, 'whep');
  let closed = false;
  const base = `http://${hostHeaderOf('127.0.0.1', port)}`;
  return {
    url: `${base}${WHEP_PATH}`,
    playerUrl: `${base}/`,
    sink: {
      status: viewers.status,
      write: (image, slot) => viewers.write(image, slot),
      audio: (pcm, firstSample) => viewers.audio(pcm, firstSample),
      endAudio: () => viewers.endAudio(),
      finish: async () => {
        await viewers.finish();
        await close();
      },
      abort: async () => {
        await viewers.abort();
        await close();
      },
    },
    get viewers() {
      return viewers.count;
    },
    close,
  };

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await viewers.finish();
    await server.close();
  }
}

/** The player: a recvonly peer connection, the offer POSTed once its candidates are in, the answer applied. */
const PLAYER_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>liveswap WHEP player</title>
    <style>
      html, body { margin: 0; height: 100%; background: #000; }
      video { display: block; width: 100vw; height: 100vh; object-fit: contain; }
      p { position: fixed; inset: auto 0 0 0; margin: 0; padding: 8px; color: #8a8f98; font: 14px system-ui, sans-serif; }
      button { position: fixed; top: 8px; right: 8px; padding: 6px 10px; font: 14px system-ui, sans-serif; }
    </style>
  </head>
  <body data-frames="0" data-sound="none">
    <video id="video" autoplay muted playsinline></video>
    <p id="state" role="status">Connecting…</p>
    <button id="unmute" type="button" hidden>Turn the sound on</button>
    <script type="module">
      const video = document.getElementById('video');
      const state = document.getElementById('state');
      const unmute = document.getElementById('unmute');
      const peer = new RTCPeerConnection();
      // For players and tests that look at the connection's statistics.
      globalThis.whepPeer = peer;
      peer.addTransceiver('video', { direction: 'recvonly' });
      // ?audio=0: pictures only, shown sooner (with sound the browser keeps them in step with it).
      if (new URLSearchParams(location.search).get('audio') !== '0') peer.addTransceiver('audio', { direction: 'recvonly' });
      const stream = new MediaStream();
      video.srcObject = stream;
      // The sound plays where the browser lets a page play it unasked (OBS's browser source does); elsewhere a click turns it on.
      const sound = async () => {
        video.muted = false;
        try { await video.play(); document.body.dataset.sound = 'on'; unmute.hidden = true; }
        catch { video.muted = true; document.body.dataset.sound = 'muted'; unmute.hidden = false; }
      };
      unmute.onclick = () => void sound();
      peer.ontrack = (event) => stream.addTrack(event.track);
      peer.onconnectionstatechange = () => { state.textContent = peer.connectionState; if (peer.connectionState === 'connected') state.hidden = true; };
      const count = () => { document.body.dataset.frames = String(Number(document.body.dataset.frames) + 1); video.requestVideoFrameCallback(count); };
      video.requestVideoFrameCallback(count);
      await peer.setLocalDescription(await peer.createOffer());
      await new Promise((resolve) => {
        if (peer.iceGatheringState === 'complete') return resolve();
        peer.onicegatheringstatechange = () => peer.iceGatheringState === 'complete' && resolve();
        setTimeout(resolve, 2000);
      });
      const response = await fetch('${WHEP_PATH}', { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: peer.localDescription.sdp });
      if (response.status !== 201) { state.textContent = 'Refused: ' + (await response.text()); }
      else {
        const location = response.headers.get('location');
        await peer.setRemoteDescription({ type: 'answer', sdp: await response.text() });
        const hearing = peer.getTransceivers().some((t) => t.receiver.track.kind === 'audio' && t.currentDirection === 'recvonly');
        if (hearing) void sound();
        // Pictures only, from a local stream: each frame shown as soon as it is decoded rather than
        // buffered for jitter. With sound the browser holds the pictures back to the sound's pace.
        if (!hearing) {
          for (const receiver of peer.getReceivers()) {
            if (receiver.track.kind !== 'video') continue;
            if ('jitterBufferTarget' in receiver) receiver.jitterBufferTarget = 0;
            if ('playoutDelayHint' in receiver) receiver.playoutDelayHint = 0;
          }
        }
        addEventListener('pagehide', () => fetch(location, { method: 'DELETE', keepalive: true }));
      }
    </script>
  </body>
</html>
`;
