/**
 * The live app's worker when the page processes on the server: it speaks the same messages as
 * live-worker.ts (so LiveClient and the page work unchanged), but instead of running models it
 * sends each frame, JPEG-encoded, over a WebSocket to `liveswap ui` (pipeline/live-wire.ts) and
 * hands back the swapped, labelled and watermarked picture the server returns. The main source
 * photo goes to the server too (its faces come back for the face picker). One to three frames are
 * on their way at once ({@link PipelineDepth}: enough to cover the round trip at the rate the
 * server takes them), answered in order: the server numbers the frames it receives (`seq`, 1 for
 * the first), so its answer names its frame, and frames before it that it dropped (the freshest
 * wins) are reported skipped. The /output relay is fed from here as in the browser mode. Not
 * offered here: the multi-face map and a custom label text (the server draws `liveswap ui
 * --label-text`).
 *
 * Stage times reported per frame: `read` is the JPEG encoding here, `warp` the server's work on the
 * frame (find, follow, paint, mark), `draw` the server's decoding and encoding and the decoding
 * here, `total` the round trip from sending the frame to its picture decoded.
 */

import { UI_LIVE_PATHS, type LiveServerMessage } from '../pipeline/live-wire.js';
import { InFlightFrames, PipelineDepth } from './in-flight.js';
import { workerError, type FramePicture, type FromWorker, type ProcessSettings, type SourceState, type ToWorker } from './protocol.js';
import { Relay } from './relay.js';
import { wireSettings } from './server-settings.js';

interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  location: { href: string };
}
const scope = self as unknown as WorkerScope;

let socket: WebSocket | undefined;
let settings: ProcessSettings | undefined;
const canvas = new OffscreenCanvas(1, 1);
const sources = new Map<number, { state: SourceState; photo: Blob }>();
let mainSource: number | null = null;
/** Source ids waiting for the server's answer, in the order sent. */
const sourceReplies: number[] = [];
/** A frame on its way: when it was sent, the page's time for it, its encoding time. */
interface Sent {
  sentAt: number;
  time: number;
  encodeMs: number;
}
type FrameInfo = Extract<LiveServerMessage, { type: 'frame' }>;
/** Frames at most on their way at once: one being processed, one travelling, one waiting there. */
const MAX_DEPTH = 3;
/** The frames on their way by their number on this connection (the server's `seq`). */
let inFlight = frameBook();
let depth = new PipelineDepth(1, MAX_DEPTH);
/** Frames sent on this connection: the last one's number. */
let sent = 0;
/** The frame whose picture the next binary message is (its server message came first). */
let answering: { frame: Sent; info: FrameInfo } | undefined;
let relay: Relay | undefined;

/** A fresh book of the frames on their way (each connection numbers its frames from 1). */
function frameBook(): InFlightFrames<Sent> {
  return new InFlightFrames<Sent>({ skipped: () => post({ type: 'skipped' }), failed: (why) => post(workerError('frame', new Error(why))) });
}

function post(message: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

function control(message: unknown): void {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

/** A picture drawn (mirrored when asked) and encoded; the picture is closed. */
async function encode(picture: FramePicture | ImageBitmap, mirror: boolean, type: string): Promise<Blob> {
  const [width, height] = 'displayWidth' in picture ? [picture.displayWidth, picture.displayHeight] : [picture.width, picture.height];
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const context = canvas.getContext('2d')!;
  context.setTransform(mirror ? -1 : 1, 0, 0, 1, mirror ? width : 0, 0);
  context.drawImage(picture, 0, 0);
  context.setTransform(1, 0, 0, 1, 0, 0);
  picture.close();
  return canvas.convertToBlob({ type, quality: 0.85 });
}

function postSources(): void {
  post({ type: 'sources', sources: [...sources.values()].map((s) => s.state), mainSource });
}

/** Sends the main source photo (with the face picked in it) for the server to paint from the next frame on. */
function sendMainSource(): void {
  const main = mainSource === null ? undefined : sources.get(mainSource);
  if (!main || socket?.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({ type: 'source', face: main.state.face }));
  socket.send(main.photo);
  sourceReplies.push(main.state.id);
}

function connect(message: Extract<ToWorker, { type: 'init' }>): Promise<Extract<LiveServerMessage, { type: 'ready' }>> {
  const url = new URL(`${UI_LIVE_PATHS.socket}?engine=${encodeURIComponent(message.engine)}&assetId=${message.provenance.assetId}`, scope.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const opened = new WebSocket(url.href);
  opened.binaryType = 'arraybuffer';
  socket = opened;
  inFlight = frameBook();
  depth = new PipelineDepth(1, MAX_DEPTH);
  sent = 0;
  answering = undefined;
  return new Promise((resolve, reject) => {
    let ready = false;
    opened.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== 'string') {
        frameBack(event.data as ArrayBuffer);
        return;
      }
      const reply = JSON.parse(event.data) as LiveServerMessage;
      if (reply.type === 'ready') {
        ready = true;
        resolve(reply);
      } else receive(reply);
    };
    opened.onclose = (event: CloseEvent) => {
      if (socket !== opened) return;
      socket = undefined;
      const why = `The server ended the session${event.reason ? ` (${event.reason})` : ''}.`;
      if (!ready) reject(new Error(`Could not start processing on the server: ${why}`));
      else {
        inFlight.fail(undefined, why);
        answering = undefined;
        post(workerError('start', new Error(`${why} Choose "process on" again to start a new one.`)));
      }
    };
  });
}

function receive(message: LiveServerMessage): void {
  switch (message.type) {
    case 'frame': {
      // Its picture is the next binary message; frames sent before it were dropped on the way.
      const frame = inFlight.answer(message.seq);
      answering = frame ? { frame, info: message } : undefined;
      break;
    }
    case 'source': {
      const id = sourceReplies.shift();
      const entry = id === undefined ? undefined : sources.get(id);
      if (!entry) break;
      entry.state = { ...entry.state, faces: message.faces, face: message.face, ...(message.error ? { error: message.error } : {}) };
      if (!message.error) delete entry.state.error;
      postSources();
      break;
    }
    case 'error':
      if (message.seq !== undefined && inFlight.answer(message.seq)) inFlight.deliver(() => post(workerError('frame', new Error(message.message))));
      else post(workerError('control', new Error(message.message)));
      break;
    default:
      break;
  }
}

/** The picture of the frame the server's last message named: decoded now, handed over in turn. */
function frameBack(bytes: ArrayBuffer): void {
  if (!answering) return;
  const { frame, info } = answering;
  answering = undefined;
  const blob = new Blob([bytes], { type: 'image/jpeg' });
  const read = createImageBitmap(blob);
  read.catch(() => undefined);
  inFlight.deliver(async () => {
    try {
      const bitmap = await read;
      if (relay?.wants) relay.send(await createImageBitmap(blob));
      const roundTrip = performance.now() - frame.sentAt;
      const { timings, faces } = info;
      post(
        {
          type: 'frame',
          bitmap,
          timings: {
            read: frame.encodeMs,
            detect: 0,
            track: 0,
            embed: 0,
            warp: timings.process,
            colour: 0,
            blend: 0,
            upscale: 0,
            mark: 0,
            draw: timings.decode + timings.encode + Math.max(0, roundTrip - frame.encodeMs - timings.total),
            total: roundTrip,
          },
          faces: faces.map((face, index) => ({ trackId: index + 1, box: face.box, sourceId: mainSource, mapEntry: null })),
          detected: false,
          time: frame.time,
          quality: { targetFps: 0, level: 0, levels: 1, scale: 1 },
          depth: depth.after(roundTrip, timings.decode + timings.process + timings.encode),
        },
        [bitmap],
      );
    } catch (error) {
      post(workerError('frame', error));
    }
  });
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'init':
      try {
        settings = message.settings;
        const ready = await connect(message);
        control({ type: 'settings', settings: wireSettings(message.settings) });
        post({ type: 'ready', engine: ready.engine === 'inswapper' ? 'inswapper' : 'mesh', backend: message.backend, notice: 'processed on the server' });
      } catch (error) {
        post(workerError('start', error));
      }
      break;
    case 'frame': {
      if (socket?.readyState !== WebSocket.OPEN) {
        message.picture.close();
        post(workerError('frame', new Error('Not connected to the server.')));
        break;
      }
      const begin = performance.now();
      try {
        const blob = await encode(message.picture, settings?.mirror ?? false, 'image/jpeg');
        inFlight.add(++sent, { sentAt: performance.now(), time: message.time, encodeMs: performance.now() - begin });
        socket.send(blob);
      } catch (error) {
        inFlight.deliver(() => post(workerError('frame', error)));
      }
      break;
    }
    case 'settings':
      settings = message.settings;
      control({ type: 'settings', settings: wireSettings(message.settings) });
      break;
    case 'add-source': {
      const photo = await encode(message.bitmap, false, 'image/png');
      sources.set(message.id, { state: { id: message.id, name: message.name, faces: [], face: 0 }, photo });
      mainSource ??= message.id;
      postSources();
      if (mainSource === message.id) sendMainSource();
      break;
    }
    case 'pick-face': {
      const entry = sources.get(message.id);
      if (!entry) break;
      entry.state = { ...entry.state, face: message.face };
      postSources();
      if (mainSource === message.id) sendMainSource();
      break;
    }
    case 'remove-source':
      sources.delete(message.id);
      if (mainSource === message.id) {
        mainSource = [...sources.keys()][0] ?? null;
        sendMainSource();
      }
      postSources();
      break;
    case 'main-source':
      mainSource = message.id;
      postSources();
      sendMainSource();
      break;
    case 'assign':
    case 'clear-map':
      // The multi-face map needs the face recogniser in the browser; on the server the main source goes on the main face (or every face).
      post({ type: 'map', entries: [] });
      break;
    case 'source-rate':
      break;
    case 'reset':
      control({ type: 'reset' });
      break;
    case 'relay':
      relay ??= new Relay((event) => {
        if (event.type === 'watchers') post({ type: 'relay', watchers: event.watchers });
        else if (event.type === 'closed') post({ type: 'relay', watchers: 0 });
        else post(workerError('relay', new Error(event.message)));
      });
      relay.connect(message.url);
      break;
  }
}

// One message at a time, in order (as the browser worker does).
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (event: MessageEvent<ToWorker>) => {
  queue = queue.then(() => handle(event.data));
};
