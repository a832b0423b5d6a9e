/**
 * The media side of a WHIP-style session (RFC 9725's signalling, with liveswap's sendrecv
 * extension): one peer connection of libwebrtc (through @roamhq/wrtc) that receives the client's
 * camera track, decoded to I420 frames, and sends frames back on the same video transceiver; a data
 * channel the client opens carries the session's text messages both ways. Signalling is
 * non-trickle: the answer holds every candidate, gathered for two seconds (longer while there is none).
 */

import { LiveswapError } from '../../core/errors.js';
import { stampRows } from '../../pipeline/frame-stamp.js';
import type { FrameMessage } from './frame-session.js';
import { stampedI420, unstampedI420, type I420Frame } from './i420.js';
import { gathered, loadWrtc, type PeerConnection as ViewerPeerConnection } from './webrtc-viewers.js';

/** The last frame sent back goes again this often until a newer one comes. */
const REPEAT_MS = 100;

/** The parts of @roamhq/wrtc used here (its own types lean on the DOM's). */
interface Track {
  kind: string;
  stop(): void;
}
interface DataChannel {
  readyState: string;
  onmessage: ((event: { data: unknown }) => void) | null;
  send(text: string): void;
  close(): void;
}
/** WHEP's peer connection, with what receiving adds: the client's track and data channel. */
interface PeerConnection extends ViewerPeerConnection {
  ontrack: ((event: { track: Track }) => void) | null;
  ondatachannel: ((event: { channel: DataChannel }) => void) | null;
}
interface VideoSink {
  onframe: ((event: { frame: I420Frame }) => void) | null;
  stop(): void;
}
interface WhipWrtc {
  RTCPeerConnection: new (config?: object) => PeerConnection;
  nonstandard: {
    RTCVideoSource: new () => { createTrack(): Track; onFrame(frame: I420Frame): void };
    RTCVideoSink: new (track: Track) => VideoSink;
  };
}

export interface WhipPeerHandlers {
  /** A camera frame, decoded, and its frame stamp where the session has them (see pipeline/frame-stamp.ts); its bytes are the handler's to keep. */
  onFrame(frame: I420Frame, stamp?: number): void;
  /** A text message on the data channel. */
  onMessage(text: string): void;
  /** The connection failed or closed (not called after {@link WhipPeer.close}). */
  onGone(state: 'failed' | 'closed'): void;
}

/** Checks that an offer can be a WHIP session: SDP with one video section that sends and receives. */
export function checkWhipOffer(offer: string): void {
  if (!/^v=0\r?$/m.test(offer)) throw new LiveswapError('usage', 'The body must be an SDP offer (it starts with v=0).');
  const video = offer.split(/^(?=m=)/m).find((section) => section.startsWith('m=video '));
  if (!video) throw new LiveswapError('usage', 'The offer has no video section: add a sendrecv video transceiver with the camera track.');
  const direction = /^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m.exec(video)?.[1] ?? 'sendrecv';
  if (direction !== 'sendrecv') {
    throw new LiveswapError('usage', `The offer's video is ${direction}: it must be sendrecv (the camera goes up, the swapped picture comes back on the same transceiver).`);
  }
}

export class WhipPeer {
  private sink: VideoSink | undefined;
  private channel: DataChannel | undefined;
  private closed = false;
  private repeat: ReturnType<typeof setInterval> | undefined;
  /** The stamped picture's buffer, reused. */
  private stamped: Uint8Array | undefined;

  private constructor(
    private readonly peer: PeerConnection,
    private readonly source: { onFrame(frame: I420Frame): void },
    private readonly track: Track,
    /** The complete SDP answer. */
    readonly sdp: string,
    /** Whether the pictures both ways carry frame stamps (see pipeline/frame-stamp.ts). */
    private readonly stamp: boolean,
  ) {}

  /**
   * Answers a client's offer (see {@link checkWhipOffer}); a bad offer is a `usage` error. With
   * `stamp` (the client asked for it), the client's frames have a frame stamp in rows under the
   * picture, which {@link WhipPeerHandlers.onFrame} gets apart from it, and each answer carries the
   * stamp of the frame it answers (its message's `stamp`).
   */
  static async answer(offer: string, handlers: WhipPeerHandlers, options: { stamp?: boolean } = {}): Promise<WhipPeer> {
    checkWhipOffer(offer);
    const wrtc = (await loadWrtc()) as unknown as WhipWrtc;
    const peer = new wrtc.RTCPeerConnection({ iceServers: [] });
    const source = new wrtc.nonstandard.RTCVideoSource();
    const track = source.createTrack();
    // Set once answered; the callbacks before that keep what they made for it.
    const made: { whip?: WhipPeer } = {};
    let sink: VideoSink | undefined;
    let channel: DataChannel | undefined;
    peer.ontrack = (event) => {
      if (event.track.kind !== 'video' || sink) return;
      sink = new wrtc.nonstandard.RTCVideoSink(event.track);
      sink.onframe = ({ frame }) => {
        if (made.whip?.closed) return;
        if (!options.stamp) return handlers.onFrame({ width: frame.width, height: frame.height, data: frame.data });
        // A frame that cannot hold a stamp is passed on as it is (the session refuses it, or it is the client's bug).
        let split: { picture: I420Frame; stamp: number | undefined } = { picture: frame, stamp: undefined };
        try {
          if (frame.height > stampRows(frame.width)) split = unstampedI420(frame);
        } catch {
          // Not an I420 frame of its size: as it is.
        }
        handlers.onFrame(split.picture, split.stamp);
      };
      if (made.whip) made.whip.sink = sink;
    };
    peer.ondatachannel = (event) => {
      channel = event.channel;
      channel.onmessage = ({ data }) => {
        if (typeof data === 'string' && !made.whip?.closed) handlers.onMessage(data);
      };
      if (made.whip) made.whip.channel = channel;
    };
    try {
      await peer.setRemoteDescription({ type: 'offer', sdp: offer });
      // The transceiver the offer made takes the track that sends the swapped frames back.
      peer.addTrack(track);
      await peer.setLocalDescription(await peer.createAnswer());
      await gathered(peer);
    } catch (error) {
      sink?.stop();
      track.stop();
      peer.close();
      throw new LiveswapError('usage', `The offer could not be answered: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const whip = new WhipPeer(peer, source, track, peer.localDescription!.sdp, options.stamp ?? false);
    made.whip = whip;
    whip.sink = sink;
    whip.channel = channel;
    peer.onconnectionstatechange = () => {
      const state = peer.connectionState;
      if ((state === 'failed' || state === 'closed') && !whip.closed) handlers.onGone(state);
    };
    return whip;
  }

  /**
   * Sends a frame back to the client on the video track (and again every {@link REPEAT_MS} until
   * the next, under the same stamp: a lone frame may be held back by the encoder), then its
   * `frame` message on the data channel. With stamps, the picture carries the message's `stamp`
   * (the frame it answers).
   */
  sendAnswer(message: FrameMessage, frame: I420Frame): void {
    clearInterval(this.repeat);
    let copy: I420Frame;
    if (this.stamp) {
      // The source copies what it is given, so one stamped buffer serves the frame and its repeats.
      frame = stampedI420(frame, message.stamp, this.stamped);
      this.stamped = frame.data;
      copy = frame;
    } else copy = { width: frame.width, height: frame.height, data: frame.data.slice() };
    this.repeat = setInterval(() => {
      if (!this.closed) this.source.onFrame(copy);
    }, REPEAT_MS);
    if (!this.closed) this.source.onFrame(frame);
    this.sendMessage(message);
  }

  /** Sends a text message on the data channel, when the client opened one and it is open. */
  sendMessage(message: object): void {
    if (this.closed || this.channel?.readyState !== 'open') return;
    try {
      this.channel.send(JSON.stringify(message));
    } catch {
      // The channel closed meanwhile: the session is ending.
    }
  }

  /** Ends the connection (the client sees it close). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.repeat);
    this.sink?.stop();
    this.track.stop();
    this.channel?.close();
    this.peer.close();
  }
}
