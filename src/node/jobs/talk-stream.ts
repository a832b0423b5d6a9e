/**
 * A talking portrait in real time, for assistants whose language model writes the answer while it
 * is spoken: speech arrives in chunks (text spoken by flite as it comes, or the caller's own PCM
 * with an optional phone track), each chunk is placed on the stream's clock right after the speech
 * before it (or at once, when the face is idle), and the face is painted frame by frame at the
 * frame rate: mouth from the chunk's phones (or its loudness), the label and the watermark on
 * every frame, JPEG out. The face is a photo (idle sway and blinks throughout) or a video clip,
 * played in a loop with its own motion, its face followed frame by frame and its own mouth
 * replaced by the speech's (see talk-clip.ts; the offline talk does the same). Audio goes out beside the frames, one
 * frame's worth of mono s16le PCM at {@link SPEECH_RATE} per frame (silence between chunks), so
 * audio and video always cover the same time.
 *
 * The pacing is the caller's wall clock: frame f (time f / fps) is sent no earlier than
 * {@link STREAM_LEAD_SECONDS} before its time, so the stream never runs ahead of real time by more
 * than that buffer; a renderer that falls behind skips frames (their audio is still sent), and a
 * video face's clip goes on meanwhile, so its motion keeps real time. Nothing is queued: a frame
 * is rendered when it is due, or skipped; its JPEG is encoded (off the main thread) and handed on
 * while the next one is painted, and no more than that one frame is ever in hand.
 */

import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LiveswapError } from '../../core/errors.js';
import { cloneImage, createImage, type Image } from '../../core/image.js';
import { resizeBilinear } from '../../core/resize.js';
import type { Face } from '../../face/face.js';
import { resolveSwapOptions, type EngineChoice, type SwapOptions } from '../../pipeline/options.js';
import type { PreparedSource } from '../../pipeline/still.js';
import { idleMotion, loudness, mouthFromEnvelope, mouthFromPhones, speechEnvelope, type MouthTrack } from '../../pipeline/talk-timeline.js';
import { renderTalkingFace, rigFace, type TalkRig } from '../../pipeline/talk-render.js';
import { shapeOf, type MouthShape, type TimedPhone } from '../../pipeline/talk-visemes.js';
import type { FrameMarker } from '../../provenance/marks.js';
import { createTemporaryFolder } from '../files/output.js';
import { encodeImage } from '../media/image-io.js';
import { openNodeSwapper, type OpenSwapper } from './image-job.js';
import type { NodeSwapper } from './swapper.js';
import { TalkClip, type ClipFrame, type ClipTracking, type ClipTrackingStats } from './talk-clip.js';
import { checkFlite, resampleToSpeechRate, SPEECH_RATE, speakWithFlite, type Speech } from './talk-speech.js';

/** How far ahead of real time frames may be sent (seconds): the client's jitter buffer. */
export const STREAM_LEAD_SECONDS = 0.1;
/** Speech may be queued at most this far ahead of the frame being shown (seconds). */
export const MAX_QUEUED_SECONDS = 120;
/** The longest text of one chunk (characters). */
export const MAX_CHUNK_CHARACTERS = 2000;
/** Sample rates a caller's PCM may come at (mono s16le); it is resampled to {@link SPEECH_RATE}. */
export const STREAM_INPUT_RATES = [16000, 22050, 24000, 44100, 48000] as const;

export interface TalkStreamOptions {
  /** The photo that talks (a still: it sways and blinks). Exactly one of `face` and `video`. */
  face?: Image;
  /** A video of the face that talks, played in a loop: its own motion is kept, its mouth replaced. */
  video?: string;
  /** With `video`: how its face is followed (see TalkClip); default `every` frame tracked. */
  tracking?: ClipTracking;
  /** Another person's photo: the face gets this identity first. */
  source?: Image;
  /** Frames per second, 5–30; default 25. */
  fps?: number;
  /** The longest side of the frames sent (the photo or the video is scaled down to it); default 512. */
  size?: number;
  /** flite's voice for text chunks. */
  voice?: string;
  flite?: string;
  ffmpegPath?: string;
  /** Marks every frame (label and watermark), as every output is. */
  marker: FrameMarker;
  engine?: EngineChoice;
  open?: OpenSwapper;
  /** JPEG quality, 1–100; default 80. */
  quality?: number;
}

/** One piece of speech placed on the stream's clock. */
export interface ScheduledSpeech {
  /** Its number, from 0 in the order given. */
  chunk: number;
  /** Its first frame: it starts at startFrame / fps seconds. */
  startFrame: number;
  frames: number;
  samples: Float32Array;
  mouth: MouthTrack;
  drivenBy: 'flite' | 'phone track' | 'audio envelope';
}

/** What a stream sends: audio for a frame's time, then the frame. `t` is seconds on the stream's clock. */
export interface TalkStreamSink {
  audio(t: number, pcm: Buffer): void | Promise<void>;
  /** A frame; answers false when it was not delivered (a slow receiver: the frame is dropped, not queued). */
  video(t: number, jpeg: Buffer, frame: number): void | boolean | Promise<void | boolean>;
}

export interface TalkStreamSummary {
  frames: number;
  /** Frames rendered too late to be worth sending (their audio was still sent). */
  skipped: number;
  /** Frames rendered but not delivered: the receiver had not taken the frame before. */
  dropped: number;
  /** What talked: a photo, or a video clip. */
  face: 'photo' | 'video';
  /** With a video face: how its face was followed across the frames shown. */
  tracking?: ClipTrackingStats & { mode: ClipTracking };
  seconds: number;
  audioSeconds: number;
  chunks: number;
  speechSeconds: number;
  width: number;
  height: number;
  fps: number;
  watermarkId: string;
}

function checkFps(fps: number): number {
  if (!(Number.isFinite(fps) && fps >= 5 && fps <= 30)) throw new LiveswapError('usage', `fps must be between 5 and 30 for a live talk (got ${fps}).`);
  return fps;
}

/** Scales `image` so its longest side is at most `size` (even sizes, for encoders downstream). */
function fit(image: Image, size: number): Image {
  const scale = Math.min(1, size / Math.max(image.width, image.height));
  if (scale >= 1 && image.width % 2 === 0 && image.height % 2 === 0) return image;
  const width = Math.max(2, Math.round((image.width * scale) / 2) * 2);
  const height = Math.max(2, Math.round((image.height * scale) / 2) * 2);
  return resizeBilinear(image, width, height);
}

/** Mono s16le PCM at `rate` to float samples at {@link SPEECH_RATE} (linear interpolation). */
export function pcmToSpeechRate(pcm: Uint8Array, rate: number): Float32Array {
  if (!(STREAM_INPUT_RATES as readonly number[]).includes(rate)) throw new LiveswapError('usage', `sampleRate must be one of ${STREAM_INPUT_RATES.join(', ')} (got ${rate}).`);
  if (pcm.length % 2 !== 0) throw new LiveswapError('usage', 'The PCM is not whole 16-bit samples (odd byte count).');
  const view = new DataView(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const n = pcm.length >> 1;
  const input = new Float32Array(n);
  for (let i = 0; i < n; i++) input[i] = view.getInt16(2 * i, true) / 32768;
  return resampleToSpeechRate(input, rate);
}

/** A photo that talks: scaled, identity swapped on, rigged once. */
interface StillFace {
  kind: 'photo';
  image: Image;
  rig: TalkRig;
}

/** A video that talks: its clip, and the identity painted on each frame when there is one. */
interface VideoFace {
  kind: 'video';
  clip: TalkClip;
  paint: SwapOptions;
  identity?: PreparedSource;
  /** The frame with the identity painted on (reused). */
  swapped: Image;
}

/** A live talking face: open it, give it speech, and let {@link run} send frames and audio until {@link end}. */
export class TalkStream {
  readonly fps: number;
  readonly width: number;
  readonly height: number;
  private readonly queue: ScheduledSpeech[] = [];
  private nextChunk = 0;
  /** The first frame not yet rendered. */
  private frame = 0;
  /** The frame the speech queued so far ends at. */
  private speechEnd = 0;
  private ending = false;
  private speechSeconds = 0;
  private wake: (() => void) | undefined;
  private folder: string | undefined;

  private constructor(
    private readonly options: TalkStreamOptions,
    private readonly swapper: NodeSwapper,
    private readonly face: StillFace | VideoFace,
  ) {
    this.fps = checkFps(options.fps ?? 25);
    this.width = face.kind === 'photo' ? face.image.width : face.clip.width;
    this.height = face.kind === 'photo' ? face.image.height : face.clip.height;
  }

  /**
   * Finds the face (and swaps the identity on), rigs it; a photo with no face is a `no-face` error.
   * A video is probed and its first frame decoded; its face is looked for frame by frame as it plays.
   */
  static async open(options: TalkStreamOptions): Promise<TalkStream> {
    const fps = checkFps(options.fps ?? 25);
    if ((options.face === undefined) === (options.video === undefined)) throw new LiveswapError('usage', 'A live talk needs exactly one face: a photo or a video.');
    if (options.voice !== undefined || options.flite !== undefined) checkFlite(options.voice, options.flite);
    const swapper = await (options.open ?? openNodeSwapper)({ provider: 'cpu', threads: 1, engine: options.engine ?? 'mesh' });
    if (options.video !== undefined) {
      let clip: TalkClip | undefined;
      try {
        clip = await TalkClip.open(options.video, {
          size: options.size ?? 512,
          fps,
          ...(options.tracking !== undefined ? { tracking: options.tracking } : {}),
          ...(options.ffmpegPath !== undefined ? { ffmpegPath: options.ffmpegPath } : {}),
        });
        // The decoder is started and the first face found now, so the stream starts on time.
        await clip.prime(swapper);
        const paint = resolveSwapOptions({ engine: options.engine ?? 'mesh' });
        const identity = options.source ? await swapper.prepareSource(options.source, paint) : undefined;
        return new TalkStream(options, swapper, { kind: 'video', clip, paint, ...(identity ? { identity } : {}), swapped: createImage(clip.width, clip.height, 3) });
      } catch (error) {
        await clip?.close();
        await swapper.close();
        throw error;
      }
    }
    const face = fit(options.face!, options.size ?? 512);
    try {
      const found = (await swapper.analyze(face))[0];
      if (!found) throw new LiveswapError('no-face', 'No face was found in the photo, so there is no mouth to move.');
      let image = face;
      let base = found;
      if (options.source) {
        const paint = resolveSwapOptions({ engine: options.engine ?? 'mesh' });
        const identity = await swapper.prepareSource(options.source, paint);
        image = cloneImage(face);
        await swapper.paintFaces(image, [{ face: found, identity: identity.identity }], paint);
        base = (swapper.track ? await swapper.track(image, found) : (await swapper.analyze(image))[0]) ?? found;
      }
      return new TalkStream(options, swapper, { kind: 'photo', image, rig: rigFace(base, image, 'keep') });
    } catch (error) {
      await swapper.close();
      throw error;
    }
  }

  /** Seconds of speech queued ahead of the frame being shown. */
  get queuedSeconds(): number {
    return Math.max(0, this.speechEnd - this.frame) / this.fps;
  }

  /** Speaks `text` with flite and queues it; resolves with where it was placed. */
  async say(text: string): Promise<ScheduledSpeech> {
    if (this.ending) throw new LiveswapError('usage', 'The talk has ended; no more speech is taken.');
    if (text.trim() === '') throw new LiveswapError('usage', 'The text chunk is empty.');
    if (text.length > MAX_CHUNK_CHARACTERS) throw new LiveswapError('usage', `A text chunk holds at most ${MAX_CHUNK_CHARACTERS} characters (got ${text.length}).`);
    this.checkRoom();
    this.folder ??= await createTemporaryFolder('talk-stream');
    const speech = await speakWithFlite(text, this.folder, {
      inline: true,
      ...(this.options.ffmpegPath !== undefined ? { ffmpegPath: this.options.ffmpegPath } : {}),
      ...(this.options.voice !== undefined ? { voice: this.options.voice } : {}),
      ...(this.options.flite !== undefined ? { flite: this.options.flite } : {}),
    });
    return this.schedule(speech, 'flite');
  }

  /** Queues the caller's speech (float samples at {@link SPEECH_RATE}) with its phones (times from the chunk's start), or none. */
  addSpeech(samples: Float32Array, phones?: readonly TimedPhone[]): ScheduledSpeech {
    if (this.ending) throw new LiveswapError('usage', 'The talk has ended; no more speech is taken.');
    if (samples.length < SPEECH_RATE * 0.02) throw new LiveswapError('usage', 'The audio chunk is shorter than 20 ms.');
    this.checkRoom();
    return this.schedule({ samples, sampleRate: SPEECH_RATE, phones: phones ? [...phones] : undefined }, phones ? 'phone track' : 'audio envelope');
  }

  private checkRoom(): void {
    if (this.queuedSeconds > MAX_QUEUED_SECONDS) {
      throw new LiveswapError('input-too-large', `Over ${MAX_QUEUED_SECONDS} s of speech is already waiting to be spoken; send more once some has played.`);
    }
  }

  private schedule(speech: Speech, drivenBy: ScheduledSpeech['drivenBy']): ScheduledSpeech {
    const fps = this.fps;
    const frames = Math.max(1, Math.ceil((speech.samples.length / SPEECH_RATE) * fps - 1e-6));
    const envelope = speechEnvelope(speech.samples, SPEECH_RATE, fps, frames);
    const phones = speech.phones?.map((p) => (shapeOf(p.phone) ? p : { ...p, phone: 'pau' }));
    const mouth = phones ? mouthFromPhones(phones, fps, frames, { loudness: loudness(envelope) }) : mouthFromEnvelope(envelope, fps);
    // Right after the speech before, or, when the face is idle, at the next frame not yet rendered.
    const startFrame = Math.max(this.speechEnd, this.frame + 1);
    const scheduled: ScheduledSpeech = { chunk: this.nextChunk++, startFrame, frames, samples: speech.samples, mouth, drivenBy };
    this.queue.push(scheduled);
    this.speechEnd = startFrame + frames;
    this.speechSeconds += speech.samples.length / SPEECH_RATE;
    this.wake?.();
    return scheduled;
  }

  /** No more speech: {@link run} ends once what is queued has been spoken, with one closing frame. */
  end(): void {
    this.ending = true;
    this.wake?.();
  }

  /** The audio of frame f: its samples from the speech playing then, silence elsewhere. */
  private audioOf(f: number): Buffer {
    const a = Math.round((f * SPEECH_RATE) / this.fps);
    const b = Math.round(((f + 1) * SPEECH_RATE) / this.fps);
    const pcm = Buffer.alloc(2 * (b - a));
    for (const s of this.queue) {
      const s0 = Math.round((s.startFrame * SPEECH_RATE) / this.fps);
      const from = Math.max(a, s0);
      const to = Math.min(b, s0 + s.samples.length);
      for (let i = from; i < to; i++) pcm.writeInt16LE(Math.round(Math.max(-1, Math.min(1, s.samples[i - s0]!)) * 32767), 2 * (i - a));
    }
    return pcm;
  }

  private mouthOf(f: number): MouthShape {
    for (const s of this.queue) {
      const k = f - s.startFrame;
      if (k >= 0 && k < s.frames) return { open: s.mouth.open[k]!, wide: s.mouth.wide[k]!, round: s.mouth.round[k]! };
    }
    return { open: 0, wide: 0, round: 0 };
  }

  /**
   * Sends frames and audio in real time from now until {@link end} has been called and the queued
   * speech has played (then one closing frame), or `signal` aborts. Idle stretches show the face
   * at rest with silence. Resolves with the summary.
   */
  async run(sink: TalkStreamSink, signal?: AbortSignal): Promise<TalkStreamSummary> {
    const fps = this.fps;
    const face = this.face;
    // Two pictures: one is JPEG-encoded (off the main thread) and sent while the next is painted.
    const channels = face.kind === 'photo' ? face.image.channels : 3;
    const pictures = [createImage(this.width, this.height, channels), createImage(this.width, this.height, channels)];
    let painted = 0;
    let sending: Promise<void> = Promise.resolve();
    const quality = this.options.quality ?? 80;
    const t0 = performance.now();
    let sent = 0;
    let skipped = 0;
    let dropped = 0;
    let closing = -1;
    for (;;) {
      if (signal?.aborted) break;
      const f = this.frame;
      if (closing < 0 && this.ending && f >= this.speechEnd) closing = f;
      const due = t0 + (f / fps - STREAM_LEAD_SECONDS) * 1000;
      const wait = due - performance.now();
      if (wait > 0) {
        // Woken early by new speech or the end: look again.
        await this.pause(wait, signal);
        continue;
      }
      const t = f / fps;
      await sink.audio(t, this.audioOf(f));
      // Later than a frame behind real time: skip the picture, keep the sound (a video's clip plays on).
      const late = performance.now() - (t0 + ((f + 1) / fps) * 1000);
      if (late > 0 && f !== closing) {
        if (face.kind === 'video') await face.clip.skip();
        skipped++;
      } else {
        const out = pictures[painted++ % 2]!;
        if (face.kind === 'photo') renderTalkingFace(face.image, face.rig, { mouth: this.mouthOf(f), motion: idleMotion(t) }, out);
        else await this.paintClipFrame(face, await face.clip.next(), this.mouthOf(f), out);
        this.options.marker.mark(out);
        // The frame before goes first (order kept; never more than one frame in hand).
        await sending;
        sending = encodeImage(out, 'jpeg', { quality }).then(async (jpeg) => {
          if ((await sink.video(t, jpeg, f)) === false) dropped++;
          else sent++;
        });
        // Awaited before the next frame or at the end; a failure meanwhile is not an unhandled one.
        sending.catch(() => undefined);
      }
      this.frame = f + 1;
      while (this.queue.length > 0 && this.queue[0]!.startFrame + this.queue[0]!.frames <= this.frame) this.queue.shift();
      if (f === closing) break;
    }
    await sending;
    const frames = this.frame;
    return {
      frames: sent,
      skipped,
      dropped,
      face: face.kind,
      ...(face.kind === 'video' ? { tracking: { mode: face.clip.tracking, ...face.clip.stats } } : {}),
      seconds: frames / fps,
      audioSeconds: frames / fps,
      chunks: this.nextChunk,
      speechSeconds: Math.round(this.speechSeconds * 1000) / 1000,
      width: this.width,
      height: this.height,
      fps,
      watermarkId: this.options.marker.watermarkId,
    };
  }

  /**
   * Paints one frame of the video face: its face found (tracked from the frame before), given the
   * identity when there is one, its own mouth replaced by `mouth`; a frame with no face is shown as it is.
   */
  private async paintClipFrame(face: VideoFace, frame: ClipFrame, mouth: MouthShape, out: Image): Promise<void> {
    const found = await face.clip.faceOf(frame, this.swapper);
    if (!found) {
      out.data.set(frame.image.data);
      return;
    }
    let image = frame.image;
    let base: Face = found;
    if (face.identity) {
      // The identity goes on the face as it is, and the swapped face then talks (as in the offline talk).
      face.swapped.data.set(frame.image.data);
      await this.swapper.paintFaces(face.swapped, [{ face: found, identity: face.identity.identity }], face.paint);
      image = face.swapped;
      base = (this.swapper.track ? await this.swapper.track(image, found) : undefined) ?? found;
    }
    renderTalkingFace(image, rigFace(base, image, 'replace'), { mouth }, out);
  }

  /** Waits `ms`, or less when speech arrives or the talk ends (a waiting run re-checks its frame). */
  private async pause(ms: number, signal?: AbortSignal): Promise<void> {
    const woken = new Promise<void>((resolve) => (this.wake = resolve));
    await Promise.race([sleep(ms, undefined, signal ? { signal } : {}).catch(() => undefined), woken]);
    this.wake = undefined;
  }

  /** Releases the engine, the clip's decoders and the temporary files. */
  async close(): Promise<void> {
    if (this.face.kind === 'video') await this.face.clip.close();
    await this.swapper.close();
    if (this.folder) await rm(this.folder, { recursive: true, force: true }).catch(() => undefined);
  }
}
