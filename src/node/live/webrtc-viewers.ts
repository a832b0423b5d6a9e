/**
 * WebRTC playback of a live run, the media side of a WHEP endpoint (RFC 9725's playback twin):
 * every viewer is a peer connection of libwebrtc (through @roamhq/wrtc) holding one video track,
 * and every track is fed from one source with each swapped, marked frame as I420. libwebrtc
 * encodes (VP8) and paces on its own threads, so a viewer costs the swap little. Signalling is
 * non-trickle: the answer carries every candidate, gathered for two seconds (longer while there
 * is none). A viewer whose offer takes audio also gets the input's sound, from one audio source,
 * each 10 ms sent when the picture of its moment is shown (webrtc-audio.ts).
 */

import { randomUUID } from 'node:crypto';
import { LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { candidatesGathered } from '../../pipeline/ice-gathering.js';
import type { LiveSink, OutputStatus } from './live-output.js';
import { LIVE_AUDIO } from './live-args.js';
import { AUDIO_FRAME_SAMPLES, AudioPacer } from './webrtc-audio.js';

/** Viewers at once; one more is refused (the HTTP side answers 503). */
export const MAX_WEBRTC_VIEWERS = 8;

/** The parts of @roamhq/wrtc's peer connection used here and by WHIP's peer (its own types lean on the DOM's). */
export interface PeerConnection {
  iceGatheringState: string;
  connectionState: string;
  localDescription: { type: string; sdp: string } | null;
  onicegatheringstatechange: (() => void) | null;
  onconnectionstatechange: (() => void) | null;
  addTrack(track: unknown, ...streams: unknown[]): unknown;
  setRemoteDescription(description: { type: 'offer'; sdp: string }): Promise<void>;
  createAnswer(): Promise<{ type: string; sdp: string }>;
  setLocalDescription(description: { type: string; sdp: string }): Promise<void>;
  close(): void;
}
/** A track of libwebrtc's (video or audio), as far as it is used here. */
interface Track {
  stop(): void;
}
interface VideoSource {
  createTrack(): Track;
  onFrame(frame: { width: number; height: number; data: Uint8Array }): void;
}
interface AudioSource {
  createTrack(): Track;
  onData(data: { samples: Int16Array; sampleRate: number; bitsPerSample: number; channelCount: number; numberOfFrames: number }): void;
}
interface Wrtc {
  RTCPeerConnection: new (config?: object) => PeerConnection;
  MediaStream: new (tracks?: unknown[]) => unknown;
  nonstandard: { RTCVideoSource: new () => VideoSource; RTCAudioSource: new () => AudioSource };
}

/** The run's timing and sound, for the viewers' audio. */
export interface WebRtcViewersOptions {
  /** The run's frame rate (its frames' slots are at this rate). */
  fps: number;
  /** Whether the run has sound to send. */
  audio: boolean;
  /** The run's --output-delay (sound later, or earlier when negative). */
  audioDelayMs?: number;
}

/** How often the sound's pacer looks for frames whose moment has come. */
const AUDIO_TICK_MS = 5;

let loaded: Promise<Wrtc> | undefined;

/**
 * Whether libwebrtc's bindings were loaded in this process. They crash while Node tears itself
 * down once its event loop has drained, so a process that loaded them leaves with process.exit
 * (the CLI does, after flushing its output).
 */
export function webrtcLoaded(): boolean {
  return loaded !== undefined;
}

/** Loads libwebrtc's bindings once; a platform without them gets a clear error. */
export function loadWrtc(): Promise<Wrtc> {
  loaded ??= import('@roamhq/wrtc').then(
    (module) => (module as { default: unknown }).default as Wrtc,
    (cause: unknown) => {
      loaded = undefined;
      throw new LiveswapError('output', `WebRTC playback needs @roamhq/wrtc, which could not be loaded here (${cause instanceof Error ? cause.message : String(cause)}).`, {
        cause,
      });
    },
  );
  return loaded;
}

/** I420 (BT.601, limited range, chroma averaged over 2×2) of an RGB or RGBA image with even sides, into `out`. */
export function rgbToI420(image: Image, out: Uint8Array): Uint8Array {
  const { width, height, channels, data } = image;
  const ySize = width * height;
  const cw = width >> 1;
  const uBase = ySize;
  const vBase = ySize + cw * (height >> 1);
  for (let y = 0; y < height; y++) {
    let p = y * width * channels;
    let o = y * width;
    for (let x = 0; x < width; x++, p += channels) out[o++] = (66 * data[p]! + 129 * data[p + 1]! + 25 * data[p + 2]! + 128 + 4096) >> 8;
  }
  for (let y = 0; y < height >> 1; y++) {
    const row0 = 2 * y * width * channels;
    const row1 = row0 + width * channels;
    for (let x = 0; x < cw; x++) {
      const a = row0 + 2 * x * channels;
      const b = row1 + 2 * x * channels;
      const r = (data[a]! + data[a + channels]! + data[b]! + data[b + channels]! + 2) >> 2;
      const g = (data[a + 1]! + data[a + channels + 1]! + data[b + 1]! + data[b + channels + 1]! + 2) >> 2;
      const bl = (data[a + 2]! + data[a + channels + 2]! + data[b + 2]! + data[b + channels + 2]! + 2) >> 2;
      out[uBase + y * cw + x] = (-38 * r - 74 * g + 112 * bl + 128 + 32768) >> 8;
      out[vBase + y * cw + x] = (112 * r - 94 * g - 18 * bl + 128 + 32768) >> 8;
    }
  }
  return out;
}

interface Viewer {
  peer: PeerConnection;
  track: Track;
  audioTrack: Track | undefined;
}

/** The viewers of one run, and the run's output that feeds them. */
export class WebRtcViewers implements LiveSink {
  readonly status: OutputStatus;
  private readonly viewers = new Map<string, Viewer>();
  private i420 = new Uint8Array(0);
  private closed = false;

  private readonly pacer: AudioPacer | undefined;
  private readonly audioSource: AudioSource | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;

  private constructor(
    private readonly wrtc: Wrtc,
    private readonly source: VideoSource,
    name: string,
    options: WebRtcViewersOptions | undefined,
  ) {
    this.status = { name, kind: 'whep', state: 'live', frames: 0, skipped: 0, reconnects: 0 };
    if (options?.audio) {
      const audioSource = new wrtc.nonstandard.RTCAudioSource();
      this.audioSource = audioSource;
      this.pacer = new AudioPacer({
        fps: options.fps,
        delayMs: options.audioDelayMs ?? 0,
        send: (samples) => {
          if (this.listeners === 0) return;
          audioSource.onData({ samples, sampleRate: LIVE_AUDIO.sampleRate, bitsPerSample: 16, channelCount: LIVE_AUDIO.channels, numberOfFrames: AUDIO_FRAME_SAMPLES });
        },
      });
    }
  }

  /** Viewers and their sound (`options` absent or without audio: pictures only). */
  static async create(name: string, options?: WebRtcViewersOptions): Promise<WebRtcViewers> {
    const wrtc = await loadWrtc();
    return new WebRtcViewers(wrtc, new wrtc.nonstandard.RTCVideoSource(), name, options);
  }

  /** Viewers taking the sound. */
  private get listeners(): number {
    let n = 0;
    for (const viewer of this.viewers.values()) if (viewer.audioTrack) n++;
    return n;
  }

  get count(): number {
    return this.viewers.size;
  }

  /** Whether a new viewer is taken now: 'full' at {@link MAX_WEBRTC_VIEWERS}, 'ended' once the run has ended. */
  get accepting(): 'yes' | 'full' | 'ended' {
    if (this.closed) return 'ended';
    return this.viewers.size >= MAX_WEBRTC_VIEWERS ? 'full' : 'yes';
  }

  /**
   * Answers a viewer's SDP offer (it must take video: recvonly or sendrecv). Resolves with the
   * viewer's id (for {@link hangUp}) and the complete answer. Check {@link accepting} first; a
   * bad offer is a `usage` error.
   */
  async answer(offer: string): Promise<{ id: string; sdp: string }> {
    if (this.accepting !== 'yes') throw new LiveswapError('usage', this.closed ? 'The stream has ended.' : `${MAX_WEBRTC_VIEWERS} viewers are watching already.`);
    if (!/^v=0/m.test(offer) || !/^m=video /m.test(offer)) throw new LiveswapError('usage', 'The offer must be an SDP offer with a video section.');
    const peer = new this.wrtc.RTCPeerConnection({ iceServers: [] });
    const track = this.source.createTrack();
    // The sound goes to a viewer whose offer has an audio section.
    const audioTrack = this.audioSource && /^m=audio /m.test(offer) ? this.audioSource.createTrack() : undefined;
    const id = randomUUID();
    try {
      // One stream for both, so that the player lines the sound up with the pictures.
      const stream = new this.wrtc.MediaStream();
      peer.addTrack(track, stream);
      if (audioTrack) peer.addTrack(audioTrack, stream);
      await peer.setRemoteDescription({ type: 'offer', sdp: offer });
      await peer.setLocalDescription(await peer.createAnswer());
      await gathered(peer);
    } catch (error) {
      track.stop();
      audioTrack?.stop();
      peer.close();
      if (error instanceof LiveswapError) throw error;
      throw new LiveswapError('usage', `The offer could not be answered: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    peer.onconnectionstatechange = () => {
      if (peer.connectionState === 'failed' || peer.connectionState === 'closed') this.hangUp(id);
    };
    this.viewers.set(id, { peer, track, audioTrack });
    return { id, sdp: peer.localDescription!.sdp };
  }

  /** Ends one viewer's connection; false when there was none by that id. */
  hangUp(id: string): boolean {
    const viewer = this.viewers.get(id);
    if (!viewer) return false;
    this.viewers.delete(id);
    viewer.track.stop();
    viewer.audioTrack?.stop();
    viewer.peer.close();
    return true;
  }

  write(image: Image, slot: number): Promise<void> {
    if (this.viewers.size === 0 || this.closed) return Promise.resolve();
    const width = image.width & ~1;
    const height = image.height & ~1;
    const frame = width === image.width && height === image.height ? image : { ...image, width, height, data: evenCrop(image, width, height) };
    const size = (width * height * 3) >> 1;
    if (this.i420.length !== size) this.i420 = new Uint8Array(size);
    this.source.onFrame({ width, height, data: rgbToI420(frame, this.i420) });
    this.pacer?.shown(slot, performance.now());
    this.status.frames++;
    return Promise.resolve();
  }

  audio(pcm: Buffer, firstSample: number): void {
    if (!this.pacer || this.closed) return;
    this.pacer.push(pcm, firstSample);
    if (this.ticker) return;
    this.ticker = setInterval(() => {
      this.pacer!.tick(performance.now());
      if (this.pacer!.drained) this.stopTicker();
    }, AUDIO_TICK_MS);
    this.ticker.unref();
  }

  endAudio(): void {
    this.pacer?.end();
  }

  finish(): Promise<void> {
    this.end('finished');
    return Promise.resolve();
  }

  abort(): Promise<void> {
    this.end('failed');
    return Promise.resolve();
  }

  private stopTicker(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  private end(state: OutputStatus['state']): void {
    this.closed = true;
    this.stopTicker();
    for (const id of [...this.viewers.keys()]) this.hangUp(id);
    this.status.state = state;
  }
}

/**
 * Resolves once the peer has gathered its candidates, or after two seconds with what it has
 * (WHEP's and WHIP's answers carry them all: no trickle). An answer without a single candidate
 * cannot connect, so while it has none it waits on (see pipeline/ice-gathering.ts).
 */
export function gathered(peer: Pick<PeerConnection, 'iceGatheringState' | 'onicegatheringstatechange' | 'localDescription'>): Promise<void> {
  return candidatesGathered(peer, (listener) => (peer.onicegatheringstatechange = listener));
}

/** The top-left width×height of an image (odd sides lose their last row or column). */
function evenCrop(image: Image, width: number, height: number): Uint8ClampedArray {
  const c = image.channels;
  const out = new Uint8ClampedArray(width * height * c);
  for (let y = 0; y < height; y++) out.set(image.data.subarray(y * image.width * c, (y * image.width + width) * c), y * width * c);
  return out;
}
