/**
 * Which faces of a video frame get swapped, and where exactly: detection every few frames with
 * tracking in between, per-person tracks with smoothed landmarks, a fresh start at every cut, and
 * the choice of people (the main face, every face, one reference person, or a map of people to
 * source photos). Platform-free: the models come in through {@link FrameFaceFinder}.
 */

import { invalidOption } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { cosineSimilarity } from '../face/embedder.js';
import type { Face } from '../face/face.js';
import { faceSharpness } from '../face/quality.js';
import { resolveTrackingOptions, VIDEO_DEFAULTS, type TrackingOptions } from './options.js';
import { ShotChangeDetector } from './shot-change.js';
import { FaceTracker, type TrackedFace, type TrackerOptions } from './tracker.js';

/** What a video needs from an engine's face finder. */
export interface FrameFaceFinder {
  /**
   * Faces in a frame (the detector and landmarks), largest first. `known`: the faces followed from
   * the frame before, for a detector that looks for a face it finds again where it was (one
   * landmark pass rather than two).
   */
  analyze(image: Image, known?: readonly Face[]): Promise<Face[]>;
  /** Follows a face into the next frame without the detector; absent: detect on every frame. */
  track?: (image: Image, face: Face) => Promise<Face | undefined>;
  /** An identity descriptor (L2-normalised), for choosing people by who they are. */
  embed?: (image: Image, face: Face) => Promise<Float32Array>;
}

/** Who is swapped. `slot` in the plan says which source goes on a face. */
export type FaceSelection =
  /** The main face (the largest when it first appears), followed while it stays: slot 0. */
  | { kind: 'primary' }
  /** Every face: slot 0. */
  | { kind: 'all' }
  /** Faces of one person: those within `maxDistance` (1 − cosine similarity) of `embedding`; slot 0. */
  | { kind: 'reference'; embedding: Float32Array; maxDistance: number }
  /**
   * Each person of a map gets its own slot (the identity's index). Faces matching none are left
   * alone, or (`unmatched`) get slot `embeddings.length`: the main face only ('primary'), or all.
   */
  | { kind: 'map'; embeddings: readonly Float32Array[]; minSimilarity: number; unmatched?: 'skip' | 'primary' | 'all' };

/** Tracking (see {@link TrackingOptions}) and who is swapped. */
export interface VideoFaceOptions extends TrackingOptions {
  selection: FaceSelection;
  /**
   * When tracking loses every face followed on a frame, the detector looks on that frame too (by
   * default it looks from the next frame on). A talking face's clip, which has one face to follow.
   */
  detectWhenLost?: boolean;
  /** While no face is followed, the detector runs on at most one frame in this many (default 1: every frame). */
  searchEvery?: number;
}

/** A video's tracking defaults without the smoothing (the caller picks it): `VIDEO_DEFAULTS.tracking`. */
export const DEFAULT_VIDEO_FACE_OPTIONS: Readonly<Omit<VideoFaceOptions, 'smoothing' | 'selection'>> = Object.freeze(withoutSmoothing(VIDEO_DEFAULTS.tracking));

function withoutSmoothing({ smoothing: _, ...rest }: TrackingOptions): Omit<TrackingOptions, 'smoothing'> {
  return rest;
}

/** Every frame without a tracker; with one, a detection every this many frames finds new faces. */
export const AUTO_DETECT_EVERY = 5;
/** Identity descriptors averaged per track, one taken every this many frames. */
const EMBED_SAMPLES = 3;
const EMBED_EVERY = 10;

/** One face to paint on the frame, with the source slot that goes on it. */
export interface PlannedFace {
  trackId: number;
  face: Face;
  slot: number;
}

export interface FramePlan {
  faces: PlannedFace[];
  /** Every face followed this frame (observed or held), painted or not, with its smoothed face. */
  tracks: readonly { trackId: number; face: Face; raw: Face; observed: boolean }[];
  /** Faces followed this frame (observed or held). */
  tracked: number;
  /** Whether the detector ran on this frame. */
  detected: boolean;
  /** Whether this frame starts a new shot (a cut): every earlier track was dropped before it was planned. */
  cut: boolean;
  /** Faces left alone for being too blurred this frame. */
  blurred: number;
}

export interface PlanTimings {
  detect: number;
  track: number;
  embed: number;
}

interface TrackState {
  embeddingSum?: Float32Array;
  samples: number;
  lastSample: number;
  /** The slot decided from the embedding, -1 when the person is not one to swap. */
  slot: number;
  /** Too blurred to swap, as last measured. */
  blurred?: boolean;
}

/** Checks the video face options (tracking with `resolveTrackingOptions`, then who); throws a usage error naming the bad one. */
export function validateVideoFaceOptions(options: VideoFaceOptions): VideoFaceOptions {
  resolveTrackingOptions(options);
  const s = options.selection;
  if (s.kind === 'reference' && !(s.maxDistance >= 0 && s.maxDistance <= 2)) throw invalidOption('similarFaceDistance', 'a number between 0 and 2', s.maxDistance);
  if (s.kind === 'map' && !(s.minSimilarity >= -1 && s.minSimilarity <= 1)) throw invalidOption('threshold', 'a similarity between -1 and 1', s.minSimilarity);
  if (options.searchEvery !== undefined && !(Number.isInteger(options.searchEvery) && options.searchEvery >= 1))
    throw invalidOption('searchEvery', 'a whole number ≥ 1', options.searchEvery);
  return options;
}

/**
 * Plans each frame of one video, in order: {@link plan} returns the smoothed faces to paint. One
 * planner per stream; it keeps the tracks.
 */
export class VideoFacePlanner {
  private readonly tracker: FaceTracker;
  private readonly shots: ShotChangeDetector | undefined;
  private readonly states = new Map<number, TrackState>();
  private detectEvery: number;
  private sinceDetection = Infinity;
  /** Frames planned since the detector last ran (for `searchEvery`). */
  private sinceSearch = Infinity;
  private last: TrackedFace[] = [];
  private readonly sharpnessScratch = new Float32Array(64 * 64 * 2);

  constructor(
    private readonly finder: FrameFaceFinder,
    private options: VideoFaceOptions,
  ) {
    validateVideoFaceOptions(options);
    const tracker: Partial<TrackerOptions> = { maxMissed: options.maxMissed, minFaceSize: options.minFaceSize, smoothing: options.smoothing };
    this.tracker = new FaceTracker(tracker);
    this.shots = options.shotChange === false ? undefined : new ShotChangeDetector(options.shotChange);
    this.detectEvery = options.detectEvery === 'auto' ? (finder.track ? AUTO_DETECT_EVERY : 1) : options.detectEvery;
    if ((options.selection.kind === 'reference' || options.selection.kind === 'map') && !finder.embed) {
      throw invalidOption('selection', 'a face finder that can embed faces', options.selection.kind);
    }
  }

  /**
   * Another detection interval from the next frame on (`auto`: the engine's default), keeping the
   * faces followed and their numbers: the live app's quality controller turns this while it runs.
   */
  setDetectEvery(detectEvery: number | 'auto'): void {
    validateVideoFaceOptions({ ...this.options, detectEvery });
    this.options = { ...this.options, detectEvery };
    this.detectEvery = detectEvery === 'auto' ? (this.finder.track ? AUTO_DETECT_EVERY : 1) : detectEvery;
  }

  /** The faces to paint on frame `index` (shown at `t` seconds); `timings` (ms) is added to. */
  async plan(frame: Image, t: number, index: number, timings: PlanTimings = { detect: 0, track: 0, embed: 0 }): Promise<FramePlan> {
    const cut = this.shots?.next(frame) ?? false;
    if (cut) this.dropTracks();
    const start = performance.now();
    let observed: Face[];
    // Detect on schedule, when nothing is followed, or when a face was lost since the last frame
    // (those two at most every `searchEvery` frames).
    const lost = this.last.some((track) => !track.observed);
    const searchEvery = this.options.searchEvery ?? 1;
    const searching = (this.last.length === 0 || lost) && this.sinceSearch + 1 >= searchEvery;
    let detected = !this.finder.track || this.sinceDetection + 1 >= this.detectEvery || searching;
    if (detected) {
      observed = await this.finder.analyze(
        frame,
        this.last.filter((track) => track.observed).map((track) => track.raw),
      );
      this.sinceDetection = 0;
      timings.detect += performance.now() - start;
    } else {
      observed = [];
      const followed = this.last.filter((track) => track.observed);
      for (const track of followed) {
        const face = await this.finder.track!(frame, track.raw);
        if (face) observed.push(face);
      }
      this.sinceDetection++;
      timings.track += performance.now() - start;
      if (this.options.detectWhenLost && followed.length > 0 && observed.length === 0 && this.sinceSearch + 1 >= searchEvery) {
        const again = performance.now();
        observed = await this.finder.analyze(frame);
        detected = true;
        this.sinceDetection = 0;
        timings.detect += performance.now() - again;
      }
    }
    this.sinceSearch = detected ? 0 : this.sinceSearch + 1;
    const tracks = this.tracker.update(observed, t, index);
    this.last = tracks;
    for (const id of [...this.states.keys()]) if (!tracks.some((track) => track.id === id)) this.states.delete(id);

    const chosen = await this.choose(frame, tracks, index, timings);
    const faces: PlannedFace[] = [];
    let blurred = 0;
    for (const { track, slot } of chosen) {
      // What the detector did not find on its own frame is not there: no hold paints it.
      if (!track.observed && (detected || track.missed > this.options.holdFrames)) continue;
      if (this.options.minSharpness > 0 && this.isBlurred(frame, track, detected)) {
        blurred++;
        continue;
      }
      faces.push({ trackId: track.id, face: track.face, slot });
    }
    const followed = tracks.map((track) => ({ trackId: track.id, face: track.face, raw: track.raw, observed: track.observed }));
    return { faces, tracks: followed, tracked: tracks.length, detected, cut, blurred };
  }

  private stateOf(id: number): TrackState {
    let state = this.states.get(id);
    if (!state) {
      state = { samples: 0, lastSample: -Infinity, slot: -1 };
      this.states.set(id, state);
    }
    return state;
  }

  /** Sharpness is measured on detection frames (and a track's first), then kept for the track. */
  private isBlurred(frame: Image, track: TrackedFace, detected: boolean): boolean {
    const state = this.stateOf(track.id);
    if (track.observed && (detected || state.blurred === undefined)) state.blurred = faceSharpness(frame, track.raw, this.sharpnessScratch) < this.options.minSharpness;
    return state.blurred ?? false;
  }

  /**
   * Chooses people another way from the next frame on (a live app's map changing); tracks are
   * kept, and who each is will be decided again.
   */
  select(selection: FaceSelection): void {
    validateVideoFaceOptions({ ...this.options, selection });
    if ((selection.kind === 'reference' || selection.kind === 'map') && !this.finder.embed) {
      throw invalidOption('selection', 'a face finder that can embed faces', selection.kind);
    }
    this.options = { ...this.options, selection };
    this.states.clear();
  }

  /**
   * Starts afresh on another stream (a live app's new camera, video or picture): every track, its
   * smoothing and identity, and the cut detector's memory of the last frame are dropped, so the
   * next frame is detected afresh and nothing of the old stream is painted on it.
   */
  reset(): void {
    this.dropTracks();
    this.shots?.reset();
  }

  /** Drops every track and what was learnt about it (a cut): the next plan detects afresh. */
  private dropTracks(): void {
    this.tracker.reset();
    this.states.clear();
    this.last = [];
    this.sinceDetection = Infinity;
    this.sinceSearch = Infinity;
  }

  private async choose(frame: Image, tracks: readonly TrackedFace[], index: number, timings: PlanTimings): Promise<{ track: TrackedFace; slot: number }[]> {
    const selection = this.options.selection;
    if (selection.kind === 'primary') {
      const id = this.tracker.primaryId();
      const track = tracks.find((tr) => tr.id === id);
      return track ? [{ track, slot: 0 }] : [];
    }
    if (selection.kind === 'all') return tracks.map((track) => ({ track, slot: 0 }));
    const result: { track: TrackedFace; slot: number }[] = [];
    const unmatched = selection.kind === 'map' ? (selection.unmatched ?? 'skip') : 'skip';
    const primary = this.tracker.primaryId();
    for (const track of tracks) {
      const state = await this.identify(frame, track, index, timings);
      if (state.slot >= 0) result.push({ track, slot: state.slot });
      else if (selection.kind === 'map' && (unmatched === 'all' || (unmatched === 'primary' && track.id === primary))) {
        result.push({ track, slot: selection.embeddings.length });
      }
    }
    return result;
  }

  /** Averages a few descriptors of the track's face over time and decides who it is. */
  private async identify(frame: Image, track: TrackedFace, index: number, timings: PlanTimings): Promise<TrackState> {
    const state = this.stateOf(track.id);
    if (track.observed && state.samples < EMBED_SAMPLES && index - state.lastSample >= EMBED_EVERY) {
      const t = performance.now();
      const embedding = await this.finder.embed!(frame, track.raw);
      timings.embed += performance.now() - t;
      state.embeddingSum ??= new Float32Array(embedding.length);
      for (let i = 0; i < embedding.length; i++) state.embeddingSum[i] += embedding[i]!;
      state.samples++;
      state.lastSample = index;
      state.slot = this.slotFor(state.embeddingSum);
    }
    return state;
  }

  private slotFor(embedding: Float32Array): number {
    const selection = this.options.selection;
    if (selection.kind === 'reference') {
      return 1 - cosineSimilarity(embedding, selection.embedding) <= selection.maxDistance ? 0 : -1;
    }
    if (selection.kind !== 'map') return 0;
    let best = -1;
    let bestSimilarity = -Infinity;
    for (const [i, candidate] of selection.embeddings.entries()) {
      const similarity = cosineSimilarity(embedding, candidate);
      if (similarity >= selection.minSimilarity && similarity > bestSimilarity) {
        best = i;
        bestSimilarity = similarity;
      }
    }
    return best;
  }
}
