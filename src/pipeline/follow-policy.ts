/**
 * How a live session follows faces from frame to frame, apart from the planner that matches them
 * to tracks: when a lost face is looked for (the face-search budget), which faces are tracked on
 * which frames (a face followed but not painted on every other frame only) and where the tracker
 * looks (a face's region moved on by its motion). The session hands it each frame's budget before
 * the frame and the plan's tracks after it; the planner calls {@link FollowPolicy.find} in place of
 * the detector and {@link FollowPolicy.follow} in place of the tracker. Platform-free and model-free:
 * the detector and tracker are given.
 */

import type { Image } from '../core/image.js';
import type { Face } from '../face/face.js';

/** The detector and (optionally) the tracker faces are followed with. */
export interface FollowEngine {
  /** Finds the faces of a frame afresh; `known`: the faces followed from the frame before (see FrameFaceFinder). */
  detect(image: Image, known?: readonly Face[]): Promise<Face[]>;
  /** Finds a face again near where it was; without one, faces are only detected. */
  track?: ((image: Image, face: Face) => Promise<Face | undefined>) | undefined;
}

/** What a frame may spend on following faces (the session's settings and the quality controller's budget). */
export interface FollowBudget {
  /** The planner's detection interval in frames (1: it detects on every frame). */
  detectInterval: number;
  /** While no face is followed (or a lost one is looked for), the detector runs on every N-th frame only. */
  searchEvery: number;
  /** Whether one face only is painted (no map, not "many faces"): the faces followed but not painted are tracked on every other frame. */
  onePainted: boolean;
}

/** A track as the planner hands it back after a frame. */
export interface FollowedTrack {
  trackId: number;
  /** The face as last observed (what the planner hands the tracker on the next frame). */
  raw: Face;
  /** Whether the face was seen on this frame. */
  observed: boolean;
}

/**
 * With one face painted, a face followed but not painted is tracked on every N-th frame only, and
 * kept where it was in between: its box and number stay on the preview, and a crowd costs the
 * tracker one face a frame and a share of the others, not all of them.
 */
export const UNPAINTED_TRACK_EVERY = 2;

/** A face's motion older than this (ms) is not carried forward: after a longer gap the tracker looks where the face was last seen. */
export const MOTION_MAX_GAP_MS = 200;

/** The most the tracker's region is moved ahead of where a face was last seen, as a share of the region's side. */
export const MOTION_MAX_SHIFT = 0.25;

/** Where a followed face's centre was last seen (working-frame pixels), when (ms), and how fast it moved there (pixels a millisecond). */
interface FaceMotion {
  cx: number;
  cy: number;
  at: number;
  vx: number;
  vy: number;
}

/** No budget: the detector runs whenever the planner asks, and every face is tracked on every frame. */
const UNBUDGETED: FollowBudget = { detectInterval: 1, searchEvery: 1, onePainted: false };

/** The face-following state of a live session (see the module's comment). */
export class FollowPolicy {
  private budget: FollowBudget = UNBUDGETED;
  /** Whether the last frame followed no face it saw (nothing, or only faces held while lost). */
  private searching = true;
  /** Frames the detector was skipped on since it last ran while searching; ∞: run on the next. */
  private searchSkipped = Number.POSITIVE_INFINITY;
  /** The size faces were last followed at (the working frame's): faces followed at another are found afresh. */
  private followedAt = '';
  /** The last frame's followed faces (as the planner hands them to the tracker) by track, and those of them painted. */
  private readonly trackOf = new Map<Face, number>();
  private readonly paintedFaces = new Set<Face>();
  /** Frames ended, for spreading the unpainted faces' tracking over frames. */
  private frames = 0;
  /** The followed faces' motion by track, for placing the tracker's region where a moving face will be ({@link ahead}). */
  private readonly motion = new Map<number, FaceMotion>();
  /** Per track, the landmarks handed to the tracker when its face is moved ahead: one buffer reused from frame to frame. */
  private readonly aheadLandmarks = new Map<number, Float32Array>();
  /** The time (ms) of the frame being processed. */
  private now = 0;
  /** Frames since the planner last asked for a detection (as the planner counts them; ∞: none yet). */
  private sinceFind = Number.POSITIVE_INFINITY;
  /** The last frame's faces seen (as the planner hands them to the tracker), and whether a face it followed was lost. */
  private lastFollowed: { observed: Face[]; lost: boolean } = { observed: [], lost: false };

  constructor(private readonly engine: FollowEngine) {}

  /**
   * Starts a frame at `time` (ms) on a working frame of `size` (any key, e.g. "640x360") with this
   * frame's budget. Returns true when the size differs from the last frame's: the caller restarts
   * its tracks (and calls {@link forget}), as faces followed at one size are found afresh at another.
   */
  beginFrame(time: number, size: string, budget: FollowBudget): boolean {
    const resized = size !== this.followedAt && this.followedAt !== '';
    this.followedAt = size;
    this.now = time;
    this.budget = budget;
    return resized;
  }

  /** Ends the frame with the planner's tracks, whether it detected faces afresh and which tracks were painted. */
  endFrame(tracks: readonly FollowedTrack[], detected: boolean, paintedIds: ReadonlySet<number>): void {
    this.searching = tracks.every((track) => !track.observed);
    this.frames++;
    if (!detected) this.sinceFind++;
    this.lastFollowed = { observed: tracks.filter((t) => t.observed).map((t) => t.raw), lost: tracks.some((t) => !t.observed) };
    this.recordMotion(tracks);
    this.trackOf.clear();
    this.paintedFaces.clear();
    for (const track of tracks) {
      this.trackOf.set(track.raw, track.trackId);
      if (paintedIds.has(track.trackId)) this.paintedFaces.add(track.raw);
    }
  }

  /** What the last frame followed is forgotten (the caller's tracks restarted): nothing of it is tracked on the next frame in place of a detection. */
  forget(): void {
    this.trackOf.clear();
    this.paintedFaces.clear();
    this.motion.clear();
    this.aheadLandmarks.clear();
    this.lastFollowed = { observed: [], lost: false };
  }

  /** The next frame that searches runs the detector whatever the search budget (a new target, new tracks). */
  searchAtOnce(): void {
    this.searchSkipped = Number.POSITIVE_INFINITY;
  }

  /**
   * The detector when the planner asks for it, except while searching (no face followed): then it
   * runs on every `searchEvery`-th frame, and the frames between find nothing, as the last did.
   * Likewise while a face is lost and others are still followed (a head turned away in a crowd):
   * the planner asks for a detection on every frame until the lost face comes back or is dropped;
   * outside the detection schedule it runs on every `searchEvery`-th frame, and the frames between
   * track the faces still followed instead. When none of them is found there (a cut came with the
   * loss), the detector runs at once.
   */
  async find(image: Image, known?: readonly Face[]): Promise<Face[]> {
    const { detectInterval, searchEvery } = this.budget;
    const scheduled = this.sinceFind + 1 >= detectInterval;
    this.sinceFind = 0;
    if (this.searching && this.searchSkipped + 1 < searchEvery) {
      this.searchSkipped++;
      return [];
    }
    const followed = this.lastFollowed;
    if (!scheduled && followed.observed.length > 0 && followed.lost && this.engine.track && this.searchSkipped + 1 < searchEvery) {
      const faces: Face[] = [];
      for (const face of followed.observed) {
        const found = await this.follow(image, face);
        if (found) faces.push(found);
      }
      if (faces.length > 0) {
        this.searchSkipped++;
        return faces;
      }
    }
    this.searchSkipped = 0;
    return this.engine.detect(image, known);
  }

  /**
   * The tracker, except for a face not painted while only one face is (see UNPAINTED_TRACK_EVERY):
   * on the frames it skips, that face is kept where the last frame had it. Needs the engine's tracker.
   */
  follow(image: Image, face: Face): Promise<Face | undefined> {
    const track = this.engine.track;
    if (!track) return Promise.reject(new Error('FollowPolicy.follow: the engine has no tracker'));
    const trackId = this.trackOf.get(face);
    if (this.budget.onePainted && trackId !== undefined && !this.paintedFaces.has(face) && (this.frames + trackId) % UNPAINTED_TRACK_EVERY !== 0) return Promise.resolve(face);
    return track(image, trackId === undefined ? face : this.ahead(face, trackId));
  }

  /**
   * The face moved on by its motion since it was last seen, for the tracker to look at. FaceMesh
   * runs a second time when the region it was given was off the face (see FaceAnalyzer.refine), as
   * it mostly is for a face that moves between frames: looking where the face is going saves many
   * of those second runs. Only the landmarks the tracker's region is taken from are moved, into a
   * buffer kept per track and reused on every frame: the face returned is valid until that track is
   * moved ahead again (the tracker reads it before it returns).
   */
  private ahead(face: Face, trackId: number): Face {
    const seen = this.motion.get(trackId);
    const gap = seen ? this.now - seen.at : Number.POSITIVE_INFINITY;
    if (!seen || gap <= 0 || gap > MOTION_MAX_GAP_MS) return face;
    const limit = face.roi.size * MOTION_MAX_SHIFT;
    const dx = Math.max(-limit, Math.min(limit, seen.vx * gap));
    const dy = Math.max(-limit, Math.min(limit, seen.vy * gap));
    if (Math.hypot(dx, dy) < 0.5) return face;
    const source = face.landmarks;
    let landmarks = this.aheadLandmarks.get(trackId);
    if (landmarks?.length !== source.length) {
      landmarks = new Float32Array(source.length);
      this.aheadLandmarks.set(trackId, landmarks);
    }
    for (let i = 0; i < source.length; i += 3) {
      landmarks[i] = source[i]! + dx;
      landmarks[i + 1] = source[i + 1]! + dy;
      landmarks[i + 2] = source[i + 2]!;
    }
    return { ...face, landmarks };
  }

  /** Records where each face seen on this frame is and how fast it moved; faces no longer followed are dropped. */
  private recordMotion(tracks: readonly FollowedTrack[]): void {
    const time = this.now;
    const followed = new Set<number>();
    for (const { trackId, raw, observed } of tracks) {
      followed.add(trackId);
      if (!observed) continue;
      const { cx, cy } = raw.roi;
      const last = this.motion.get(trackId);
      const gap = last ? time - last.at : 0;
      const moving = last !== undefined && gap > 0 && gap <= MOTION_MAX_GAP_MS;
      this.motion.set(trackId, { cx, cy, at: time, vx: moving ? (cx - last.cx) / gap : 0, vy: moving ? (cy - last.cy) / gap : 0 });
    }
    for (const id of [...this.motion.keys()]) if (!followed.has(id)) this.motion.delete(id);
    for (const id of [...this.aheadLandmarks.keys()]) if (!followed.has(id)) this.aheadLandmarks.delete(id);
  }
}
