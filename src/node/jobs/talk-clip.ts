/**
 * The clip of a live talk's video face: decoded by ffmpeg a few frames ahead of the stream (scaled
 * to the stream's size, resampled to its rate), played again from its start when it ends (the
 * next pass is started before the last frames are shown, so the loop has no gap), and the face
 * followed in its frames as a talk follows it (talk-faces.ts, the video jobs' planner): FaceMesh
 * tracks it from the frame before, the detector looks for it again when it is lost (at most every
 * {@link DETECT_EVERY} frames while none is found), and what was found for a frame of the clip is
 * kept for its next passes. A clip whose frames fit in
 * {@link MAX_KEPT_BYTES} is kept decoded after its first pass and played from memory (no decoder
 * runs after that; with the faces kept too, later passes cost only the painting). With `alternate` tracking only
 * every other frame is tracked and the one between gets the mean of its neighbours' landmarks.
 * A frame the stream skips takes the clip's next frame only when it is decoded already: a stream
 * that fell behind catches up at once, and a decoder slower than real time slows the clip rather
 * than stalling the stream. Colours are converted with ffmpeg's fast path (a level or so darker
 * than the accurate one, at half the cost): it is a live preview, JPEG-compressed anyway.
 */

import { LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import type { Face } from '../../face/face.js';
import type { TimedFrame } from '../../pipeline/frame-io.js';
import { probeVideo, type VideoInfo } from '../media/ffmpeg-probe.js';
import { openVideoSource, type VideoSource } from '../media/ffmpeg-source.js';
import type { VideoFacePlanner } from '../../pipeline/video.js';
import type { NodeSwapper } from './swapper.js';
import { talkFacePlanner } from './talk-faces.js';

/** While no face is found, the detector runs on at most one frame in this many. */
export const DETECT_EVERY = 5;
/** Frames of the clip decoded ahead of the one shown. */
export const CLIP_READ_AHEAD = 3;
/** The next pass starts this many frames before the current one ends. */
const PREFETCH_FRAMES = 8;
/** A clip whose decoded frames take at most this many bytes is played from memory after its first pass. */
export const MAX_KEPT_BYTES = 64 * 1024 * 1024;
/** Faces kept for the clip's later passes at most (a longer clip is tracked on every pass after these). */
const MAX_CACHED_FRAMES = 9000;

/** How a clip's face is followed: every frame, or every other frame with the ones between interpolated. */
export type ClipTracking = 'every' | 'alternate';

/** One frame of the clip as the stream shows it. */
export interface ClipFrame {
  /** Its number in the clip (from 0 on every pass). */
  index: number;
  /** The pass it is on (0 the first). */
  pass: number;
  image: Image;
}

/** What following the face has cost so far. */
export interface ClipTrackingStats {
  /** Frames whose face came from FaceMesh tracking, the detector, an earlier pass, or interpolation. */
  tracked: number;
  detected: number;
  cached: number;
  interpolated: number;
  /** Frames shown with no face found (the clip as it is). */
  withoutFace: number;
}

/** The size a frame of `width`×`height` is scaled to so its longest side is at most `size` (even sizes, for encoders downstream). */
export function fittedSize(width: number, height: number, size: number): { width: number; height: number } {
  const scale = Math.min(1, size / Math.max(width, height));
  return { width: Math.max(2, Math.round((width * scale) / 2) * 2), height: Math.max(2, Math.round((height * scale) / 2) * 2) };
}

/** The mean of two faces' boxes and landmarks: the face of a frame between them. */
export function betweenFaces(a: Face, b: Face): Face {
  const mean = (x: Float32Array, y: Float32Array): Float32Array => x.map((v, i) => (v + y[i]!) / 2);
  return {
    box: [(a.box[0] + b.box[0]) / 2, (a.box[1] + b.box[1]) / 2, (a.box[2] + b.box[2]) / 2, (a.box[3] + b.box[3]) / 2],
    score: Math.min(a.score, b.score),
    meshScore: Math.min(a.meshScore, b.meshScore),
    kps5: mean(a.kps5, b.kps5),
    landmarks: mean(a.landmarks, b.landmarks),
    roi: a.roi,
  };
}

export interface TalkClipOptions {
  /** The longest side of the frames; the clip is scaled down to it (never up). */
  size: number;
  fps: number;
  ffmpegPath?: string;
  tracking?: ClipTracking;
  /** The clip's probe, when the caller has it. */
  probed?: VideoInfo;
}

/** A video face played in a loop, its face followed; see the file's comment. */
export class TalkClip {
  readonly width: number;
  readonly height: number;
  readonly tracking: ClipTracking;
  readonly stats: ClipTrackingStats = { tracked: 0, detected: 0, cached: 0, interpolated: 0, withoutFace: 0 };
  /** Frames of one pass: estimated from the probe until the first pass has ended. */
  private length: number;
  private pass = 0;
  private index = 0;
  private source: VideoSource | undefined;
  private frames: AsyncIterator<TimedFrame> | undefined;
  private following: { source: VideoSource; frames: AsyncIterator<TimedFrame>; first: Promise<IteratorResult<TimedFrame>> } | undefined;
  /** The frame read ahead (by prime() or an interpolation), shown next. */
  private peeked: ClipFrame | undefined;
  /** A read in flight that skip() did not wait for, and whether it has finished. */
  private pending: Promise<ClipFrame> | undefined;
  private pendingDone = false;
  /** The faces found per frame of the clip (null: looked for, none there). */
  private readonly faces = new Map<number, Face | null>();
  /** The last face found and its frame: where an interpolation starts from. */
  private previous: { pass: number; index: number; face: Face } | undefined;
  /** The face of the frame read ahead, found for an interpolation. */
  private aheadFace: { pass: number; index: number; face: Face | undefined } | undefined;
  /** Follows the face from frame to frame, made with the first swapper that asks. */
  private planner: VideoFacePlanner | undefined;
  /** Whether a frame's face was taken from an earlier pass since the planner last planned one. */
  private fromMemorySincePlanned = false;
  private closed = false;
  /** The first pass's frames while they fit in MAX_KEPT_BYTES (undefined once they do not). */
  private kept: Image[] | undefined = [];
  /** The whole clip decoded, once its first pass ended within MAX_KEPT_BYTES. */
  private memory: Image[] | undefined;

  private constructor(
    private readonly path: string,
    private readonly info: VideoInfo,
    private readonly options: TalkClipOptions,
  ) {
    ({ width: this.width, height: this.height } = fittedSize(info.width, info.height, options.size));
    this.tracking = options.tracking ?? 'every';
    this.length = Math.max(1, Math.round(info.durationSeconds * options.fps));
  }

  /** Probes the clip (an unreadable file fails here) and readies the first pass; nothing is decoded until the first frame is asked for. */
  static async open(path: string, options: TalkClipOptions): Promise<TalkClip> {
    const info = options.probed ?? (await probeVideo(path, options.ffmpegPath !== undefined ? { ffmpegPath: options.ffmpegPath } : {}));
    return new TalkClip(path, info, options);
  }

  private openPass(): Promise<VideoSource> {
    return openVideoSource(this.path, {
      probed: this.info,
      width: this.width,
      height: this.height,
      fps: this.options.fps,
      readAhead: CLIP_READ_AHEAD,
      colorConversion: 'fast',
      ...(this.options.ffmpegPath !== undefined ? { ffmpegPath: this.options.ffmpegPath } : {}),
    });
  }

  /** Starts the next pass's decoder (its first frame read) so the loop has no gap. */
  private async prefetch(): Promise<void> {
    if (this.following) return;
    const source = await this.openPass();
    const frames = source[Symbol.asyncIterator]();
    this.following = { source, frames, first: frames.next() };
    // Read when its turn comes; a close before then must not leave a rejection unheard.
    this.following.first.catch(() => undefined);
  }

  /** The next frame of the loop from the decoder. */
  private async read(): Promise<ClipFrame> {
    if (this.closed) throw new LiveswapError('internal', 'The talk clip is closed.');
    if (this.memory) {
      const frame = { index: this.index, pass: this.pass, image: this.memory[this.index]! };
      if (++this.index >= this.memory.length) {
        this.index = 0;
        this.pass++;
      }
      return frame;
    }
    for (;;) {
      let result: IteratorResult<TimedFrame>;
      if (this.frames) {
        result = await this.frames.next();
      } else if (this.following) {
        const { source, frames, first } = this.following;
        this.following = undefined;
        this.source = source;
        this.frames = frames;
        result = await first;
      } else {
        this.source = await this.openPass();
        this.frames = this.source[Symbol.asyncIterator]();
        result = await this.frames.next();
      }
      if (!result.done) {
        const frame = { index: this.index++, pass: this.pass, image: result.value.image };
        this.keep(frame);
        // A clip that will be kept needs no next pass decoded.
        const keeping = this.kept !== undefined && this.length * frame.image.data.byteLength <= MAX_KEPT_BYTES;
        if (!keeping && this.index >= this.length - PREFETCH_FRAMES) await this.prefetch();
        return frame;
      }
      // The pass has ended: from its start again.
      await this.source?.close();
      this.source = undefined;
      this.frames = undefined;
      if (this.index === 0) throw new LiveswapError('input-unreadable', 'The face video decodes to no frames.');
      this.length = this.index;
      this.index = 0;
      this.pass++;
      if (this.kept) {
        // The whole clip is in memory: no more decoding.
        this.memory = this.kept;
        this.kept = undefined;
        await this.dropFollowing();
        return this.read();
      }
    }
  }

  /** Keeps a frame of the first pass while the pass fits in MAX_KEPT_BYTES. */
  private keep(frame: ClipFrame): void {
    if (!this.kept) return;
    if (frame.pass > 0 || (this.kept.length + 1) * frame.image.data.byteLength > MAX_KEPT_BYTES) this.kept = undefined;
    else this.kept.push(frame.image);
  }

  /** Whether the clip now plays from memory (its first pass kept decoded). */
  get fromMemory(): boolean {
    return this.memory !== undefined;
  }

  /** Stops the next pass's decoder started ahead. */
  private async dropFollowing(): Promise<void> {
    const following = this.following;
    this.following = undefined;
    if (!following) return;
    await following.first.catch(() => undefined);
    await following.source.close();
  }

  /** The next frame from the decoder: the read in flight, or a new one. */
  private pull(): Promise<ClipFrame> {
    const pending = this.pending;
    this.pending = undefined;
    return pending ?? this.read();
  }

  /**
   * Starts the decoder, waits for the first frame and finds its face (the models' first run, which
   * is slow, happens here), so the stream starts on time.
   */
  async prime(swapper: NodeSwapper): Promise<void> {
    if (this.peeked) return;
    const frame = await this.pull();
    this.peeked = frame;
    this.aheadFace = { pass: frame.pass, index: frame.index, face: await this.find(frame, swapper) };
  }

  /** The next frame of the clip, read ahead by the decoder; the clip starts again after its last. */
  async next(): Promise<ClipFrame> {
    const frame = this.peeked ?? (await this.pull());
    this.peeked = undefined;
    return frame;
  }

  /** Passes over a frame the stream does not show: the next one is taken if it is decoded already, else the clip waits. */
  async skip(): Promise<void> {
    if (this.peeked) {
      this.peeked = undefined;
      return;
    }
    if (!this.pending) {
      const pending = this.read();
      this.pending = pending;
      this.pendingDone = false;
      pending.then(
        () => (this.pendingDone = this.pending === pending),
        () => (this.pendingDone = this.pending === pending),
      );
    }
    // Frames decoded ahead arrive as messages from the reader's thread: let them in first.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.pendingDone) await this.pull();
  }

  /** The face in `frame` (the frame just taken with next()), or undefined where none is found. */
  async faceOf(frame: ClipFrame, swapper: NodeSwapper): Promise<Face | undefined> {
    const ahead = this.aheadFace;
    this.aheadFace = undefined;
    if (ahead && ahead.pass === frame.pass && ahead.index === frame.index) return this.shown(frame, ahead.face);
    const known = this.faces.get(frame.index);
    if (known !== undefined) {
      this.stats.cached++;
      this.fromMemorySincePlanned = true;
      return this.shown(frame, known ?? undefined);
    }
    // Every other frame, right after a face: the mean of the face before and the one after.
    const before = this.previous;
    if (this.tracking === 'alternate' && frame.index % 2 === 1 && before && before.pass === frame.pass && before.index === frame.index - 1) {
      const after = await this.faceAhead(swapper);
      if (after) {
        this.stats.interpolated++;
        const face = betweenFaces(before.face, after);
        this.remember(frame.index, face);
        // Tracking goes on from the frame after, found already.
        return face;
      }
    }
    return this.shown(frame, await this.find(frame, swapper));
  }

  /** Counts a frame shown with or without its face, and follows on from it. */
  private shown(frame: ClipFrame, face: Face | undefined): Face | undefined {
    if (face) this.previous = { pass: frame.pass, index: frame.index, face };
    else this.stats.withoutFace++;
    return face;
  }

  /** Finds the face in the frame after the current one (read ahead); undefined at the loop's seam or without a face. */
  private async faceAhead(swapper: NodeSwapper): Promise<Face | undefined> {
    this.peeked ??= await this.pull();
    const frame = this.peeked;
    // Across the loop's seam the clip jumps: no interpolation there.
    if (frame.index === 0) return undefined;
    const known = this.faces.get(frame.index);
    if (known !== undefined) this.fromMemorySincePlanned = true;
    const face = known !== undefined ? (known ?? undefined) : await this.find(frame, swapper);
    this.aheadFace = { pass: frame.pass, index: frame.index, face };
    if (face) this.previous = { pass: frame.pass, index: frame.index, face };
    return face;
  }

  private remember(index: number, face: Face | null): void {
    if (this.faces.size < MAX_CACHED_FRAMES || this.faces.has(index)) this.faces.set(index, face);
  }

  /**
   * The face followed into this frame (see talk-faces.ts: tracked from the last one, the detector
   * when it is lost, throttled while it is missing); the result is kept for later passes. The
   * planner follows on only from the last frame it planned (or the one before, with an interpolated
   * frame between): at the loop's seam, and on a later pass where frames shown from memory came
   * since (before a frame whose face was not kept, since the detector skipped it), it starts
   * afresh, so no face is carried in from another part of the clip.
   */
  private async find(frame: ClipFrame, swapper: NodeSwapper): Promise<Face | undefined> {
    this.planner ??= talkFacePlanner(swapper, { shotChange: false, searchEvery: DETECT_EVERY });
    const at = frame.pass * this.length + frame.index;
    if (frame.index === 0 || this.fromMemorySincePlanned) this.planner.reset();
    this.fromMemorySincePlanned = false;
    const plan = await this.planner.plan(frame.image, at / this.options.fps, at);
    const face = plan.faces[0]?.face;
    if (!face) this.previous = undefined;
    // While it is missing, the detector runs now and then only; those frames are looked at again on the next pass.
    if (!face && !plan.detected) return undefined;
    if (face && plan.detected) this.stats.detected++;
    else if (face) this.stats.tracked++;
    this.remember(frame.index, face ?? null);
    return face;
  }

  /** Stops the decoders. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pending?.catch(() => undefined);
    await this.source?.close();
    await this.dropFollowing();
  }
}
