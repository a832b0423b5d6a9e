/**
 * The live app's processing on the server over WebRTC (WHIP, see src/server/ui-whip.ts): it
 * speaks the worker protocol (LiveClient and the page work unchanged) but runs on the page's own
 * thread, the only place browsers offer RTCPeerConnection. Each frame LiveClient hands over is
 * drawn (mirrored when asked) onto a canvas whose captured track is the connection's sendrecv
 * video, with its frame stamp in rows under the picture (pipeline/frame-stamp.ts); the server
 * swaps, labels and watermarks it and sends it back on the same transceiver under the same stamp;
 * the picture that comes back is matched to its frame by the stamp, cropped, and handed to
 * LiveClient as a bitmap. Two to four frames are on their way at once ({@link MIN_DEPTH}),
 * answered in order; a repeat of an answer already shown is set aside. A data channel carries the settings up
 * and the server's frame, source and error messages down; a source photo is POSTed to the
 * session. The /output relay is fed from here.
 *
 * Stage times reported per frame: `read` is the drawing here, `warp` the server's work on the
 * frame (find, follow, paint, mark), `draw` the rest of the round trip (encoding, network,
 * decoding on both sides), `total` the round trip from drawing the frame to its answer shown.
 */

import { readStamp, STAMP_BITS, STAMP_MODULUS, stampBit, stampCell, stampRows } from '../pipeline/frame-stamp.js';
import { candidatesGathered, hasCandidate } from '../pipeline/ice-gathering.js';
import { UI_LIVE_PATHS, type LiveServerMessage } from '../pipeline/live-wire.js';
import { InFlightFrames, PipelineDepth } from './in-flight.js';
import { workerError, type FramePicture, type FromWorker, type ProcessSettings, type SourceState, type ToWorker } from './protocol.js';
import { Relay } from './relay.js';
import { wireSettings } from './server-settings.js';

/** How long an answer may take before the frame counts as failed (the first waits for the connection). */
const ANSWER_MS = 2000;
const FIRST_ANSWER_MS = 20_000;
/** Before the first answer, the frame on its way is sent again this often. */
const REPEAT_MS = 100;
/**
 * Frames on their way at once (see {@link PipelineDepth}), within these bounds. The round trip is
 * mostly the two video legs (encoding, pacing, the receivers' jitter buffers: about 120 ms on 2
 * cores) rather than the server's work (about 25 ms a 640×360 frame), so one frame at a time would
 * show about 7 a second.
 */
const MIN_DEPTH = 2;
const MAX_DEPTH = 4;
/** Frame messages kept for the pictures still to come (a picture may come before or after its message). */
const INFOS_KEPT = 8;
/** How long a new connection may take to open its data channel before it is tried again (once). */
const OPEN_MS = 15_000;

/** A connection that did not open (it is worth another try). */
class NotOpened extends Error {}

type FrameInfo = Extract<LiveServerMessage, { type: 'frame' }>;

/** A frame on its way: when it was drawn, the page's time for it, how long drawing took. */
interface InFlight {
  sentAt: number;
  time: number;
  drawMs: number;
}

/** Whether this page can process on the server over WebRTC. */
export function whipSupported(): boolean {
  return typeof RTCPeerConnection === 'function' && typeof HTMLCanvasElement.prototype.captureStream === 'function';
}

/** LiveClient's `createWorker` for processing on the server over WebRTC. */
export function createWhipWorker(): Worker {
  return new WhipTransport() as unknown as Worker;
}

/** The worker protocol over a WHIP session, on the page's thread. */
export class WhipTransport {
  onmessage: ((event: MessageEvent<FromWorker>) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  private peer: RTCPeerConnection | undefined;
  private channel: RTCDataChannel | undefined;
  private location: string | undefined;
  private readonly canvas = document.createElement('canvas');
  private readonly video = document.createElement('video');
  private track: CanvasCaptureMediaStreamTrack | undefined;
  private settings: ProcessSettings | undefined;
  private readonly sources = new Map<number, { state: SourceState; photo: Blob }>();
  private mainSource: number | null = null;
  /** The frames on their way by their stamp, oldest first. */
  private readonly inFlight = new InFlightFrames<InFlight>({
    skipped: () => this.post({ type: 'skipped' }),
    failed: (why) => this.post(workerError('frame', new Error(why))),
  });
  private readonly depth = new PipelineDepth(MIN_DEPTH, MAX_DEPTH);
  /** Frames sent so far: the next one's stamp. */
  private sent = 0;
  /** The server's latest frame messages by the stamp of their picture (the pictures and the messages travel apart). */
  private readonly infos = new Map<number, FrameInfo>();
  private info: FrameInfo | undefined;
  private answered = false;
  /** Until the first answer, the canvas is sent again every {@link REPEAT_MS}. */
  private warmup: ReturnType<typeof setInterval> | undefined;
  private relay: Relay | undefined;
  private closed = false;
  private queue: Promise<void> = Promise.resolve();

  constructor() {
    this.video.muted = true;
    this.video.playsInline = true;
    // In the document (but not seen) so that the browser presents its frames.
    this.video.style.cssText = 'position: fixed; left: 0; top: 0; width: 2px; height: 2px; opacity: 0; pointer-events: none';
    document.body.append(this.video);
  }

  postMessage(message: ToWorker): void {
    this.queue = this.queue.then(() => this.handle(message));
  }

  terminate(): void {
    if (this.closed) return;
    this.closed = true;
    this.inFlight.clear();
    clearInterval(this.warmup);
    this.relay?.connect(null);
    this.hangUp();
    this.video.srcObject = null;
    this.video.remove();
  }

  private post(message: FromWorker): void {
    if (this.closed) return;
    queueMicrotask(() => this.onmessage?.({ data: message } as MessageEvent<FromWorker>));
  }

  private control(message: unknown): void {
    if (this.channel?.readyState === 'open') this.channel.send(JSON.stringify(message));
  }

  /**
   * Connects (see {@link connect}); a connection that does not open is hung up and tried once more
   * with a fresh offer, since a busy machine can miss the first one's checks.
   */
  private async open(message: Extract<ToWorker, { type: 'init' }>, whip: string): Promise<void> {
    try {
      await this.connect(message, whip);
    } catch (error) {
      if (!(error instanceof NotOpened) || this.closed) throw error;
      this.hangUp();
      await this.connect(message, whip);
    }
  }

  /** The peer connection: the canvas's track up, the swapped video down, the data channel; resolves once the channel is open. */
  private async connect(message: Extract<ToWorker, { type: 'init' }>, whip: string): Promise<void> {
    const stream = this.canvas.captureStream(0);
    this.track = stream.getVideoTracks()[0] as CanvasCaptureMediaStreamTrack;
    const peer = new RTCPeerConnection();
    this.peer = peer;
    peer.addTransceiver(this.track, { direction: 'sendrecv', streams: [stream] });
    const channel = peer.createDataChannel('liveswap');
    this.channel = channel;
    channel.onmessage = (event: MessageEvent) => {
      if (typeof event.data === 'string') this.receive(JSON.parse(event.data) as LiveServerMessage);
    };
    peer.ontrack = (event) => {
      // A local stream: show each frame as soon as it is decoded rather than buffering for jitter.
      const receiver = event.receiver as RTCRtpReceiver & { jitterBufferTarget?: number | null };
      if ('jitterBufferTarget' in receiver) receiver.jitterBufferTarget = 0;
      this.watch(event.track);
    };
    await peer.setLocalDescription(await peer.createOffer());
    await gathered(peer);
    const url = `${whip}?engine=${encodeURIComponent(message.engine)}&assetId=${message.provenance.assetId}&stamp=1`;
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: peer.localDescription!.sdp });
    if (response.status !== 201) {
      const body = (await response.json().catch(() => ({}))) as { error?: string };
      throw new Error(`Could not start processing on the server over WebRTC (${response.status}): ${body.error ?? response.statusText}`);
    }
    this.location = new URL(response.headers.get('location') ?? '', location.href).href;
    const answer = await response.text();
    // Listening before the answer is applied: the channel can open before setRemoteDescription's promise settles.
    const opened = channelOpened(peer, channel);
    opened.catch(() => undefined);
    await peer.setRemoteDescription({ type: 'answer', sdp: answer });
    await opened;
    peer.onconnectionstatechange = () => {
      if (peer.connectionState === 'failed' || peer.connectionState === 'closed') this.lost(`The WebRTC connection ${peer.connectionState === 'failed' ? 'failed' : 'closed'}.`);
    };
    channel.onclose = () => this.lost('The server ended the session.');
  }

  /** Ends the connection: the server's slot is given back (DELETE) and the peer closed (a connection that never opened, or at the end). */
  private hangUp(): void {
    if (this.location) void fetch(this.location, { method: 'DELETE', keepalive: true }).catch(() => undefined);
    this.location = undefined;
    if (this.channel) this.channel.onclose = null;
    this.channel?.close();
    this.peer?.close();
    this.track?.stop();
  }

  private lost(why: string): void {
    if (this.closed) return;
    this.inFlight.fail(undefined, why);
    this.post(workerError('start', new Error(`${why} Choose "process on" again to start a new one.`)));
  }

  private receive(message: LiveServerMessage): void {
    switch (message.type) {
      case 'frame':
        this.info = message;
        if (message.stamp !== undefined) {
          this.infos.set(message.stamp, message);
          if (this.infos.size > INFOS_KEPT) this.infos.delete(this.infos.keys().next().value!);
        }
        break;
      case 'source': {
        const entry = this.mainSource === null ? undefined : this.sources.get(this.mainSource);
        if (!entry) break;
        entry.state = { ...entry.state, faces: message.faces, face: message.face, ...(message.error ? { error: message.error } : {}) };
        if (!message.error) delete entry.state.error;
        this.postSources();
        break;
      }
      case 'error':
        this.post(workerError('control', new Error(message.message)));
        break;
      case 'end':
        this.lost(message.message);
        break;
      default:
        break;
    }
  }

  /**
   * Reads the pictures coming back: each decoded frame straight from the track where the browser
   * offers MediaStreamTrackProcessor (Chromium), else each frame a <video> presents.
   */
  private watch(track: MediaStreamTrack): void {
    const Processor = (globalThis as { MediaStreamTrackProcessor?: new (init: { track: MediaStreamTrack }) => { readable: ReadableStream<VideoFrame> } }).MediaStreamTrackProcessor;
    if (Processor) {
      const reader = new Processor({ track }).readable.getReader();
      void (async () => {
        for (;;) {
          const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
          if (done || !value) return;
          if (this.closed) {
            value.close();
            return;
          }
          await this.frameBack(value);
        }
      })();
      return;
    }
    this.video.srcObject = new MediaStream([track]);
    void this.video.play().catch(() => undefined);
    const presented = (): void => {
      if (this.closed) return;
      this.video.requestVideoFrameCallback(presented);
      void this.frameBack(this.video);
    };
    this.video.requestVideoFrameCallback(presented);
  }

  /**
   * A picture came back on the video track: it answers the frame on its way whose stamp it carries
   * (the oldest, when the stamp cannot be read); a picture answering none (a repeat of one already
   * shown) is set aside, and frames sent before the one answered were lost on the way (skipped).
   * The stamp's rows are cropped off. A VideoFrame is closed here.
   */
  private async frameBack(picture: VideoFrame | HTMLVideoElement): Promise<void> {
    const release = (): void => {
      if (picture instanceof VideoFrame) picture.close();
    };
    const [width, tall] = picture instanceof VideoFrame ? [picture.displayWidth, picture.displayHeight] : [picture.videoWidth, picture.videoHeight];
    const height = tall - stampRows(width);
    if (this.inFlight.size === 0 || height <= 0) return release();
    const stamp = await stampOf(picture, width, height).catch(() => undefined);
    const key = stamp ?? this.inFlight.oldest();
    const frame = this.closed || key === undefined ? undefined : this.inFlight.answer(key);
    if (!frame) return release();
    this.answered = true;
    clearInterval(this.warmup);
    // The picture is read now (a <video> moves on) and handed over in turn, without holding up the next one's stamp.
    const read = createImageBitmap(picture, 0, 0, width, height);
    void read.then(release, release);
    this.inFlight.deliver(async () => {
      try {
        const bitmap = await read;
        // Its frame message has most likely come by now (they travel apart).
        const info = (stamp !== undefined ? this.infos.get(stamp) : undefined) ?? this.info;
        if (this.relay?.wants) this.relay.send(await createImageBitmap(bitmap));
        const roundTrip = performance.now() - frame.sentAt;
        const work = info?.timings.process ?? 0;
        const depth = this.depth.after(roundTrip, info ? info.timings.decode + info.timings.process + info.timings.encode : undefined);
        const message: FromWorker = {
          type: 'frame',
          bitmap,
          timings: {
            read: frame.drawMs,
            detect: 0,
            track: 0,
            embed: 0,
            warp: work,
            colour: 0,
            blend: 0,
            upscale: 0,
            mark: 0,
            draw: Math.max(0, roundTrip - work),
            total: roundTrip + frame.drawMs,
          },
          faces: (info?.faces ?? []).map((face, index) => ({ trackId: index + 1, box: face.box, sourceId: this.mainSource, mapEntry: null })),
          detected: false,
          time: frame.time,
          quality: { targetFps: 0, level: 0, levels: 1, scale: 1 },
          depth,
        };
        this.post(message);
      } catch (error) {
        this.post(workerError('frame', error));
      }
    });
  }

  /** Draws a frame onto the sending canvas and asks the track to send it. */
  private send(picture: FramePicture, time: number): void {
    const begin = performance.now();
    const [width, height] = 'displayWidth' in picture ? [picture.displayWidth, picture.displayHeight] : [picture.width, picture.height];
    const rows = stampRows(width);
    if (this.canvas.width !== width || this.canvas.height !== height + rows) {
      this.canvas.width = width;
      this.canvas.height = height + rows;
    }
    const context = this.canvas.getContext('2d')!;
    const mirror = this.settings?.mirror ?? false;
    context.setTransform(mirror ? -1 : 1, 0, 0, 1, mirror ? width : 0, 0);
    context.drawImage(picture, 0, 0);
    context.setTransform(1, 0, 0, 1, 0, 0);
    picture.close();
    const stamp = this.sent++ % STAMP_MODULUS;
    drawStamp(context, width, height, stamp);
    this.track!.requestFrame();
    // Until the first answer (the connection and the codecs starting) the canvas goes again; later a lost frame times out.
    if (!this.answered) {
      this.warmup ??= setInterval(() => {
        // Painted again (onto itself) so that the capture takes it again.
        context.drawImage(this.canvas, 0, 0);
        this.track?.requestFrame();
      }, REPEAT_MS);
    }
    // (With at most MAX_DEPTH on their way, no stamp still on its way comes near the modulus.)
    this.inFlight.add(stamp, { sentAt: performance.now(), time, drawMs: performance.now() - begin }, this.answered ? ANSWER_MS : FIRST_ANSWER_MS);
  }

  private postSources(): void {
    this.post({ type: 'sources', sources: [...this.sources.values()].map((s) => s.state), mainSource: this.mainSource });
  }

  /** POSTs the main source photo (with the face picked in it); its faces come back on the data channel. */
  private sendMainSource(): void {
    const main = this.mainSource === null ? undefined : this.sources.get(this.mainSource);
    if (!main || !this.location) return;
    void fetch(`${this.location}/source?face=${main.state.face}`, { method: 'POST', headers: { 'content-type': main.photo.type }, body: main.photo }).then(
      async (response) => {
        if (!response.ok) this.post(workerError('control', new Error(`The source photo was refused (${response.status}): ${await response.text()}`)));
      },
      (error: unknown) => this.post(workerError('control', error)),
    );
  }

  private async handle(message: ToWorker): Promise<void> {
    if (this.closed) {
      if (message.type === 'frame') message.picture.close();
      return;
    }
    switch (message.type) {
      case 'init':
        try {
          const whip = await fetchWhipPath();
          if (!whip) throw new Error('This server does not offer processing over WebRTC.');
          this.settings = message.settings;
          await this.open(message, whip);
          this.control({ type: 'settings', settings: wireSettings(message.settings) });
          this.post({
            type: 'ready',
            engine: message.engine === 'inswapper' ? 'inswapper' : 'mesh',
            backend: message.backend,
            notice: 'processed on the server over WebRTC',
            depth: MIN_DEPTH,
          });
        } catch (error) {
          this.post(workerError('start', error));
          this.terminate();
        }
        break;
      case 'frame':
        if (this.peer?.connectionState !== 'connected') {
          message.picture.close();
          this.post(workerError('frame', new Error('Not connected to the server.')));
          break;
        }
        this.send(message.picture, message.time);
        break;
      case 'settings':
        this.settings = message.settings;
        this.control({ type: 'settings', settings: wireSettings(message.settings) });
        break;
      case 'add-source': {
        const photo = await toPng(message.bitmap);
        this.sources.set(message.id, { state: { id: message.id, name: message.name, faces: [], face: 0 }, photo });
        this.mainSource ??= message.id;
        this.postSources();
        if (this.mainSource === message.id) this.sendMainSource();
        break;
      }
      case 'pick-face': {
        const entry = this.sources.get(message.id);
        if (!entry) break;
        entry.state = { ...entry.state, face: message.face };
        this.postSources();
        if (this.mainSource === message.id) this.sendMainSource();
        break;
      }
      case 'remove-source':
        this.sources.delete(message.id);
        if (this.mainSource === message.id) {
          this.mainSource = [...this.sources.keys()][0] ?? null;
          this.sendMainSource();
        }
        this.postSources();
        break;
      case 'main-source':
        this.mainSource = message.id;
        this.postSources();
        this.sendMainSource();
        break;
      case 'assign':
      case 'clear-map':
        // As over the WebSocket: the main source goes on the main face (or every face).
        this.post({ type: 'map', entries: [] });
        break;
      case 'source-rate':
        break;
      case 'reset':
        this.control({ type: 'reset' });
        break;
      case 'relay':
        this.relay ??= new Relay((event) => {
          if (event.type === 'watchers') this.post({ type: 'relay', watchers: event.watchers });
          else if (event.type === 'closed') this.post({ type: 'relay', watchers: 0 });
          else this.post(workerError('relay', new Error(event.message)));
        });
        this.relay.connect(message.url);
        break;
    }
  }
}

/** The server's WHIP path, or undefined when it offers none. */
async function fetchWhipPath(): Promise<string | undefined> {
  const response = await fetch(UI_LIVE_PATHS.info, { headers: { accept: 'application/json' } });
  if (!response.ok) return undefined;
  const info = (await response.json()) as { whip?: unknown };
  return typeof info.whip === 'string' ? info.whip : undefined;
}

async function toPng(bitmap: ImageBitmap): Promise<Blob> {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
  bitmap.close();
  return canvas.convertToBlob({ type: 'image/png' });
}

/**
 * Resolves when the data channel opens; rejects with {@link NotOpened} when the connection fails
 * or the channel has not opened within {@link OPEN_MS}, and when the server closes it.
 */
function channelOpened(peer: RTCPeerConnection, channel: RTCDataChannel): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const states = (): string =>
      `ICE ${peer.iceConnectionState}, connection ${peer.connectionState}, data channel ${channel.readyState}, ${hasCandidate(peer.localDescription?.sdp) ? 'with' : 'without'} candidates of its own`;
    const settle = (error?: Error): void => {
      clearTimeout(timer);
      channel.onopen = null;
      channel.onclose = null;
      peer.onconnectionstatechange = null;
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => settle(new NotOpened(`The WebRTC connection to the server did not open within ${OPEN_MS / 1000} s (${states()}).`)), OPEN_MS);
    channel.onopen = () => settle();
    channel.onclose = () => settle(new Error('The server closed the WebRTC session.'));
    peer.onconnectionstatechange = () => {
      if (peer.connectionState === 'failed') settle(new NotOpened(`The WebRTC connection to the server failed (${states()}).`));
    };
    if (channel.readyState === 'open') settle();
  });
}

/** Resolves once the peer has gathered its candidates (see pipeline/ice-gathering.ts). */
function gathered(peer: RTCPeerConnection): Promise<void> {
  return candidatesGathered(peer, (listener) => peer.addEventListener('icegatheringstatechange', listener));
}

/**
 * The frame stamp under a picture `width`×`height` (its stripe is the rows below): read from the
 * luma plane of a VideoFrame where its format allows (a copy of the stripe alone), else drawn onto
 * a canvas. Undefined when unreadable.
 */
async function stampOf(picture: VideoFrame | HTMLVideoElement, width: number, height: number): Promise<number | undefined> {
  const rows = stampRows(width);
  if (picture instanceof VideoFrame && picture.format !== null) {
    const visible = picture.visibleRect ?? { x: 0, y: 0 };
    const rect = { x: visible.x, y: visible.y + height, width, height: rows };
    const planar = /^(I4|NV12)/.test(picture.format);
    if (planar || /^(RGB|BGR)/.test(picture.format)) {
      const bytes = new Uint8Array(picture.allocationSize({ rect }));
      await picture.copyTo(bytes, { rect });
      // The luma plane comes first; RGBA and BGRA have green second.
      return planar ? readStamp(bytes, width, width) : readStamp(bytes, width, 4 * width, 4);
    }
  }
  stripeCanvas ??= document.createElement('canvas');
  stripeCanvas.width = width;
  stripeCanvas.height = rows;
  const context = stripeCanvas.getContext('2d', { willReadFrequently: true })!;
  context.drawImage(picture, 0, height, width, rows, 0, 0, width, rows);
  return readStamp(context.getImageData(0, 0, width, rows).data, width, 4 * width, 4);
}

let stripeCanvas: HTMLCanvasElement | undefined;

/** Draws frame stamp `value` under the picture (rows `height` on), laid out as pipeline/frame-stamp.ts's writeStamp lays it. */
function drawStamp(context: CanvasRenderingContext2D, width: number, height: number, value: number): void {
  for (let k = 0; k < STAMP_BITS; k++) {
    const [a, b] = stampCell(k, width);
    context.fillStyle = stampBit(value, k) ? '#fff' : '#000';
    context.fillRect(a, height, b - a, stampRows(width));
  }
}
