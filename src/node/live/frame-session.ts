/**
 * A server-side live session: pictures a client sends (camera frames, JPEG/PNG/WebP, or I420 video
 * frames a WebRTC track decoded to) go through one frame processor in stream mode (faces found,
 * followed, painted, then labelled and watermarked) and come back as JPEG, or as I420 for the
 * video track going back. The freshest frame wins: one frame is processed at a time and at most
 * one waits; a newer frame replaces the waiting one (counted as dropped), so a slow engine shows
 * fewer frames, never older ones, and nothing queues. Transport-free: the WebSocket binding
 * (src/server/live-socket.ts) and the WHIP binding (src/server/ui-whip.ts) hand frames in and send
 * what {@link FrameSessionOptions.send} (or `sendVideo`) gets.
 */

import { LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { FrameProcessor } from '../../pipeline/frame-processor.js';
import { DEFAULT_LIVE_WIRE_SETTINGS, type LiveServerMessage, type LiveWireSettings } from '../../pipeline/live-wire.js';
import { effectivePixelBoost } from '../../pipeline/live-options.js';
import { ENGINE_NAMES, LIVE_DEFAULTS, resolveSwapOptions, type EngineName, type SwapOptions } from '../../pipeline/options.js';
import type { PreparedSource } from '../../pipeline/still.js';
import { FrameMarker } from '../../provenance/marks.js';
import { WATERMARK_VERSION } from '../../provenance/payload.js';
import type { NodeSwapper } from '../jobs/swapper.js';
import { frameEngineOf } from '../jobs/video-swap.js';
import { decodeImage, encodeImage } from '../media/image-io.js';
import type { OutputProvenance } from '../provenance/output-provenance.js';
import { i420ToImage, imageToI420, type I420Frame } from './i420.js';

/** JPEG quality of the frames sent back (the relay to /output uses about the same). */
export const LIVE_JPEG_QUALITY = 85;

export interface FrameSessionOptions {
  /** An open engine; the caller owns it (a warm slot of the server) and closes it. */
  swapper: NodeSwapper;
  /** The identity painted from the first frame (a `liveswap serve` ticket's); else the first source photo's. */
  identity?: PreparedSource;
  /** Whether source photos may be sent (`liveswap ui`: the user's own machine). */
  acceptSources: boolean;
  /** Whether the client may turn the visible label off (the watermark stays on regardless). */
  labelOptional: boolean;
  /** The session's marks: its watermark key, asset id and label choices (see startProvenance). */
  provenance: OutputProvenance;
  /** The largest picture accepted, in pixels. */
  maxPixels: number;
  settings?: Partial<LiveWireSettings>;
  /** Sends a message, and for `frame` the swapped picture (JPEG) right after it. */
  send(message: LiveServerMessage, picture?: Buffer): void;
  /** When given, swapped frames go here as I420 (for a video track) with their `frame` message, not to `send` as JPEG. */
  sendVideo?(message: FrameMessage, frame: I420Frame): void;
}

/** What is said about each swapped frame. */
export type FrameMessage = Extract<LiveServerMessage, { type: 'frame' }>;

/** The counts of a session so far. */
export interface FrameSessionStats {
  /** Frames received, processed (sent back), dropped (a fresher one came first) and failed. */
  received: number;
  processed: number;
  dropped: number;
  failed: number;
  /** The most frames ever waiting (the freshest-frame rule keeps it at 1). */
  maxWaiting: number;
}

interface Waiting {
  seq: number;
  /** An encoded picture, or a decoded video frame. */
  input: Buffer | I420Frame;
  arrivedAt: number;
  /** The client's frame stamp (WebRTC sessions that carry them), given back with the answer. */
  stamp?: number;
}

export class FrameSession {
  readonly engine: string;
  private readonly processor: FrameProcessor;
  private settings: LiveWireSettings;
  private readonly counts: FrameSessionStats = { received: 0, processed: 0, dropped: 0, failed: 0, maxWaiting: 0 };
  private waiting: Waiting | undefined;
  private pumping: Promise<void> | undefined;
  /** Engine work one call at a time (a source photo is prepared between frames). */
  private engineTurn: Promise<unknown> = Promise.resolve();
  private readonly startedAt = performance.now();
  /** The I420 buffer of the frames sent back, reused while the size stays. */
  private videoOut: Uint8Array | undefined;
  private lastReceivedAt = performance.now();
  private closed = false;

  constructor(private readonly options: FrameSessionOptions) {
    this.engine = options.swapper.engine;
    this.settings = { ...DEFAULT_LIVE_WIRE_SETTINGS, ...options.settings };
    if (!options.labelOptional) this.settings.label = true;
    this.processor = FrameProcessor.create(
      frameEngineOf(options.swapper),
      { mode: 'stream', paint: this.paint(), tracking: { ...LIVE_DEFAULTS.tracking, selection: this.selection() }, marks: this.marker() },
      [options.identity],
    );
  }

  /** The session's counts so far. */
  get stats(): Readonly<FrameSessionStats> {
    return { ...this.counts };
  }

  /** Seconds since the session started. */
  get seconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  /** The marks every frame carries. */
  get marks(): { watermarkId: string; label: { shown: boolean; text?: string } } {
    const label = this.settings.label ? this.options.provenance.label : { shown: false };
    return { watermarkId: this.options.provenance.watermarkId, label };
  }

  private paint(): SwapOptions {
    const s = this.settings;
    const engine = this.options.swapper.engine as EngineName;
    return resolveSwapOptions({
      ...LIVE_DEFAULTS.paint,
      engine: (ENGINE_NAMES as readonly string[]).includes(engine) ? engine : 'mesh',
      manyFaces: s.manyFaces,
      mouthMask: s.mouthMask,
      opacity: s.opacity,
      sharpness: s.sharpness,
      colorMatch: s.colorMatch,
      maxPixels: this.options.maxPixels,
      // The masks, the enhancer and the pixel boost, as the browser's LiveSession applies them.
      maskRegions: s.maskRegions ?? undefined,
      keepRegions: s.keepRegions ?? undefined,
      maskStrength: s.maskStrength,
      faceParser: s.faceParser ?? undefined,
      occlusionMask: s.occlusionMask ?? undefined,
      faceEnhancer: s.faceEnhancer ?? undefined,
      faceEnhancerBlend: s.faceEnhancerBlend,
      faceEnhancerWeight: s.faceEnhancerWeight,
      pixelBoost: s.pixelBoost ? effectivePixelBoost(engine, s.pixelBoost) : undefined,
    });
  }

  private selection(): { kind: 'all' } | { kind: 'primary' } {
    return this.settings.manyFaces ? { kind: 'all' } : { kind: 'primary' };
  }

  /** The session's marker: the provenance's own, or the same watermark without the label when the user turned it off. */
  private marker(): FrameMarker {
    const provenance = this.options.provenance;
    if (this.settings.label && provenance.label.shown) return provenance.marker;
    return new FrameMarker({ label: false, watermark: { key: provenance.key.key, payload: { assetId: provenance.assetId, version: WATERMARK_VERSION } }, media: 'video' });
  }

  /** Changes the paint options (and the label, where the session allows) from the next frame on. */
  updateSettings(settings: Partial<LiveWireSettings>): void {
    const labelBefore = this.settings.label;
    this.settings = { ...this.settings, ...settings };
    if (!this.options.labelOptional) this.settings.label = true;
    this.processor.setPaint(this.paint());
    this.processor.select(this.selection());
    if (this.settings.label !== labelBefore) this.processor.setMarks(this.marker());
  }

  /** The picture changed (another camera or video): faces are looked for afresh. */
  reset(): void {
    this.processor.reset();
  }

  /**
   * One frame from the client, encoded (JPEG, PNG, WebP) or as a decoded I420 video frame (whose
   * bytes must stay as they are: it is converted only if processed). Processed at once when idle,
   * else it waits in the single slot (replacing, and dropping, a waiting one). `stamp`, the
   * client's frame stamp, goes back in the answer's message.
   */
  receiveFrame(input: Buffer | I420Frame, stamp?: number): void {
    if (this.closed) return;
    const seq = ++this.counts.received;
    this.lastReceivedAt = performance.now();
    if (this.waiting) this.counts.dropped++;
    this.waiting = { seq, input, arrivedAt: performance.now(), ...(stamp !== undefined ? { stamp } : {}) };
    this.counts.maxWaiting = Math.max(this.counts.maxWaiting, 1);
    this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
  }

  /** A source photo (only where {@link FrameSessionOptions.acceptSources}): its faces are answered, and `face` of them is painted from the next frame on. */
  async receiveSource(bytes: Buffer, face = 0): Promise<void> {
    if (!this.options.acceptSources) {
      this.options.send({ type: 'error', kind: 'forbidden', message: "This session's identity is fixed by its ticket; source photos are not taken." });
      return;
    }
    try {
      const image = await decodeImage(bytes, 'the source photo', { maxPixels: this.options.maxPixels });
      const { faces, prepared } = await this.onEngine(async () => {
        const found = await this.options.swapper.analyze(image);
        if (found.length === 0) return { faces: found, prepared: undefined };
        const chosen = Math.min(face, found.length - 1);
        return { faces: found, prepared: await this.options.swapper.prepareSource(image, { sourceFace: chosen, maxPixels: this.options.maxPixels }) };
      });
      const boxes = faces.map((f) => ({ box: f.box.map((v) => Math.round(v)) as [number, number, number, number], score: Math.round(f.score * 1000) / 1000 }));
      if (!prepared) {
        this.options.send({ type: 'source', faces: boxes, face: 0, error: 'No face was found in the source photo.' });
        return;
      }
      this.processor.setIdentities([prepared]);
      this.options.send({ type: 'source', faces: boxes, face: Math.min(face, faces.length - 1) });
    } catch (error) {
      this.options.send({ type: 'source', faces: [], face: 0, error: error instanceof Error ? error.message : String(error) });
    }
  }

  private onEngine<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.engineTurn.then(work, work);
    this.engineTurn = turn.catch(() => undefined);
    return turn;
  }

  private async pump(): Promise<void> {
    while (this.waiting && !this.closed) {
      const frame = this.waiting;
      this.waiting = undefined;
      try {
        await this.processOne(frame);
      } catch (error) {
        this.counts.failed++;
        const kind = error instanceof LiveswapError ? error.kind : 'internal';
        this.options.send({ type: 'error', kind, message: error instanceof Error ? error.message : String(error), seq: frame.seq });
      }
    }
  }

  private async processOne(frame: Waiting): Promise<void> {
    const begin = performance.now();
    const wait = Math.max(0, begin - frame.arrivedAt);
    const { input } = frame;
    const image: Image = Buffer.isBuffer(input)
      ? await decodeImage(input, `frame ${frame.seq}`, { maxPixels: this.options.maxPixels })
      : i420ToImage(input, this.options.maxPixels);
    const decoded = performance.now();
    const result = await this.onEngine(() => this.processor.process(image, (frame.arrivedAt - this.startedAt) / 1000));
    const processed = performance.now();
    if (this.closed) return;
    const picture = this.options.sendVideo ? imageToI420(result.image, this.videoOut) : await encodeImage(result.image, 'jpeg', { quality: LIVE_JPEG_QUALITY });
    if (!Buffer.isBuffer(picture)) this.videoOut = picture.data;
    const encoded = performance.now();
    if (this.closed) return;
    this.counts.processed++;
    const faces = result.painted.map((p) => ({ box: p.face.box.map((v) => Math.round(v)) as [number, number, number, number] }));
    const ms = (v: number): number => Math.round(v * 10) / 10;
    const message: FrameMessage = {
      type: 'frame',
      seq: frame.seq,
      width: image.width,
      height: image.height,
      faces,
      timings: { wait: ms(wait), decode: ms(decoded - begin), process: ms(processed - decoded), encode: ms(encoded - processed), total: ms(encoded - frame.arrivedAt) },
      received: this.counts.received,
      processed: this.counts.processed,
      dropped: this.counts.dropped,
      ...(frame.stamp !== undefined ? { stamp: frame.stamp } : {}),
    };
    if (Buffer.isBuffer(picture)) this.options.send(message, picture);
    else this.options.sendVideo?.(message, picture);
  }

  /** Milliseconds since the last frame came in (or since the start). */
  idleMs(now = performance.now()): number {
    return now - this.lastReceivedAt;
  }

  /** Stops taking frames and waits for the one being processed; the engine stays open (its owner closes it). */
  async close(): Promise<FrameSessionStats> {
    this.closed = true;
    this.waiting = undefined;
    await this.pumping?.catch(() => undefined);
    await this.engineTurn;
    this.processor.close();
    return this.stats;
  }
}
