/**
 * Faces across video frames: stable ids by box overlap, tracks that survive a few missed
 * detections, a primary face that does not flip between people, and One Euro smoothing of every
 * point set so swapped faces do not shimmer.
 */

import { invalidOption } from '../core/errors.js';
import { OneEuroFilter, validateOneEuro, type OneEuroParams } from '../core/one-euro.js';
import { boxIoU } from './cluster.js';
import { VIDEO_DEFAULTS } from './options.js';
import { faceSize, type Face, type FaceRoi } from '../face/face.js';

/** How faces are matched across frames and smoothed. */
export interface TrackerOptions {
  /** Frames a track survives without a matching face (integer ≥ 0), default 5. */
  maxMissed: number;
  /** Least IoU of boxes (frame pixels) to match a face to a track, in (0, 1], default 0.3. */
  minIou: number;
  /** Faces whose max(box width, height) is below this (frame pixels) are not tracked, default 24. */
  minFaceSize: number;
  /**
   * One Euro parameters for the landmarks, kps5 (and kps5Reference / landmarks106 when present),
   * box and roi, with speeds in face sizes per second; false for no smoothing. Default
   * {@link DEFAULT_ONE_EURO}.
   */
  smoothing: OneEuroParams | false;
}

/** One person's face in the current frame. */
export interface TrackedFace {
  /** Stable per person across frames; ids start at 0 and are never reused by a tracker. */
  id: number;
  /** Smoothed copy (its own typed arrays); for a missed frame, the last smoothed face. */
  face: Face;
  /** As observed this frame; for a missed frame, the last observed. */
  raw: Face;
  /** Whether a face matched this track this frame. */
  observed: boolean;
  /** Consecutive frames without a match. */
  missed: number;
  /** Frames since the track began (0 on its first frame). */
  age: number;
  /** Index of the frame the track began in. */
  firstFrame: number;
}

/** `maxMissed` and `minFaceSize` are a video's (`VIDEO_DEFAULTS.tracking`); `minIou` is the tracker's own. */
export const DEFAULT_TRACKER_OPTIONS: Readonly<Omit<TrackerOptions, 'smoothing'>> = Object.freeze({
  maxMissed: VIDEO_DEFAULTS.tracking.maxMissed,
  minIou: 0.3,
  minFaceSize: VIDEO_DEFAULTS.tracking.minFaceSize,
});

/** Checks tracker options (missing ones take the defaults); throws a usage error naming the bad one. */
export function validateTrackerOptions(options: Partial<TrackerOptions>): TrackerOptions {
  const maxMissed = options.maxMissed ?? DEFAULT_TRACKER_OPTIONS.maxMissed;
  const minIou = options.minIou ?? DEFAULT_TRACKER_OPTIONS.minIou;
  const minFaceSize = options.minFaceSize ?? DEFAULT_TRACKER_OPTIONS.minFaceSize;
  if (!Number.isInteger(maxMissed) || maxMissed < 0) throw invalidOption('maxMissed', 'an integer >= 0', maxMissed);
  if (typeof minIou !== 'number' || !(minIou > 0 && minIou <= 1)) throw invalidOption('minIou', 'a number in (0, 1]', minIou);
  if (typeof minFaceSize !== 'number' || !Number.isFinite(minFaceSize) || minFaceSize < 0) throw invalidOption('minFaceSize', 'a finite number >= 0 (px)', minFaceSize);
  const smoothing = options.smoothing === false ? false : validateOneEuro(options.smoothing ?? {});
  return { maxMissed, minIou, minFaceSize, smoothing };
}

type OptionalField = 'kps5Reference' | 'landmarks106';

/** One filter per field of a face, created lazily so sizes follow the face record. */
class FaceSmoother {
  private readonly filters = new Map<string, OneEuroFilter>();
  /** Radius that turns the roi angle into an arc length in pixels, fixed per track. */
  private angleRadius = 0;
  private lastAngle = 0;

  constructor(private readonly params: OneEuroParams) {}

  smooth(raw: Face, t: number): Face {
    const scale = faceSize(raw);
    const box = this.run('box', raw.box, t, scale);
    const face: Face = {
      box: [box[0]!, box[1]!, box[2]!, box[3]!],
      score: raw.score,
      meshScore: raw.meshScore,
      kps5: this.run('kps5', raw.kps5, t, scale),
      landmarks: this.run('landmarks', raw.landmarks, t, scale),
      roi: this.smoothRoi(raw.roi, t, scale),
    };
    for (const key of ['kps5Reference', 'landmarks106'] as const satisfies readonly OptionalField[]) {
      const values = raw[key];
      if (values) face[key] = this.run(key, values, t, scale);
      else this.filters.delete(key); // restarts cleanly if the field comes back
    }
    return face;
  }

  private run(key: string, values: ArrayLike<number>, t: number, scale: number): Float32Array {
    let filter = this.filters.get(key);
    if (!filter || filter.size !== values.length) {
      filter = new OneEuroFilter(values.length, this.params);
      this.filters.set(key, filter);
    }
    return filter.filter(values, t, scale, new Float32Array(values.length));
  }

  private smoothRoi(roi: FaceRoi, t: number, scale: number): FaceRoi {
    // The angle is unwrapped next to the previous one and filtered as an arc length at half the
    // region's size, so beta treats a head roll like the matching landmark motion.
    if (this.angleRadius === 0) {
      this.angleRadius = Math.max(1, roi.size / 2);
      this.lastAngle = roi.angle;
    }
    const angle = this.lastAngle + Math.atan2(Math.sin(roi.angle - this.lastAngle), Math.cos(roi.angle - this.lastAngle));
    this.lastAngle = angle;
    const r = this.run('roi', [roi.cx, roi.cy, roi.size, angle * this.angleRadius], t, scale);
    return { cx: r[0]!, cy: r[1]!, size: r[2]!, angle: r[3]! / this.angleRadius };
  }
}

interface Track {
  id: number;
  raw: Face;
  face: Face;
  smoother: FaceSmoother | undefined;
  observed: boolean;
  missed: number;
  firstFrame: number;
}

/** Copy of a face with its own typed arrays, for the unsmoothed path. */
function copyFace(face: Face): Face {
  const out: Face = { ...face, box: [...face.box], kps5: face.kps5.slice(), landmarks: face.landmarks.slice(), roi: { ...face.roi } };
  if (face.kps5Reference) out.kps5Reference = face.kps5Reference.slice();
  if (face.landmarks106) out.landmarks106 = face.landmarks106.slice();
  return out;
}

/**
 * Follows faces through a video, one {@link update} per frame in order. Holds per-track filter
 * state; {@link reset} at a shot change so faces of the next shot do not inherit it.
 */
export class FaceTracker {
  readonly options: Readonly<TrackerOptions>;
  private tracks: Track[] = [];
  private nextId = 0;
  private primary: number | undefined;

  constructor(options: Partial<TrackerOptions> = {}) {
    this.options = Object.freeze(validateTrackerOptions(options));
  }

  /**
   * One frame: the faces observed (largest first), its time in seconds (increasing) and its index.
   * Faces smaller than minFaceSize are ignored. Faces are matched to tracks greedily by box IoU,
   * highest first, down to minIou; unmatched faces start tracks (in the order given) and tracks
   * missed more than maxMissed frames in a row are dropped. Returns the live tracks, observed and
   * recently missed (which keep their last faces), ordered by id.
   */
  update(faces: readonly Face[], t: number, frame: number): TrackedFace[] {
    const { minFaceSize, minIou, maxMissed, smoothing } = this.options;
    const candidates = faces.filter((f) => faceSize(f) >= minFaceSize);

    const pairs: { iou: number; track: number; face: number }[] = [];
    for (let i = 0; i < this.tracks.length; i++) {
      for (let j = 0; j < candidates.length; j++) {
        const iou = boxIoU(this.tracks[i]!.raw.box, candidates[j]!.box);
        if (iou >= minIou) pairs.push({ iou, track: i, face: j });
      }
    }
    // Ties go to the older track and the larger face, so the order is deterministic.
    pairs.sort((a, b) => b.iou - a.iou || a.track - b.track || a.face - b.face);
    const trackTaken = new Array<boolean>(this.tracks.length).fill(false);
    const faceTaken = new Array<boolean>(candidates.length).fill(false);
    for (const { track, face } of pairs) {
      if (trackTaken[track] || faceTaken[face]) continue;
      trackTaken[track] = true;
      faceTaken[face] = true;
      this.observe(this.tracks[track]!, candidates[face]!, t);
    }

    const live: Track[] = [];
    for (let i = 0; i < this.tracks.length; i++) {
      const track = this.tracks[i]!;
      if (!trackTaken[i]) {
        track.observed = false;
        track.missed++;
        if (track.missed > maxMissed) continue;
      }
      live.push(track);
    }
    for (let j = 0; j < candidates.length; j++) {
      if (faceTaken[j]) continue;
      const raw = candidates[j]!;
      const smoother = smoothing ? new FaceSmoother(smoothing) : undefined;
      const track: Track = { id: this.nextId++, raw, face: raw, smoother, observed: false, missed: 0, firstFrame: frame };
      this.observe(track, raw, t);
      live.push(track);
    }
    this.tracks = live; // ids only grow, so appending new tracks keeps the id order

    if (this.primary === undefined || !live.some((track) => track.id === this.primary)) {
      let best: Track | undefined;
      for (const track of live) if (track.observed && (!best || faceSize(track.raw) > faceSize(best.raw))) best = track;
      this.primary = best?.id;
    }

    return live.map((track) => ({
      id: track.id,
      face: track.face,
      raw: track.raw,
      observed: track.observed,
      missed: track.missed,
      age: frame - track.firstFrame,
      firstFrame: track.firstFrame,
    }));
  }

  /**
   * The track to swap by default: the largest face when tracking starts, kept while its track
   * lives (even if another face grows larger), re-chosen as the largest observed live track only
   * when it dies. Undefined while no face is tracked.
   */
  primaryId(): number | undefined {
    return this.primary;
  }

  /** Drops every track and the primary choice (e.g. at a shot change); ids keep increasing. */
  reset(): void {
    this.tracks = [];
    this.primary = undefined;
  }

  private observe(track: Track, raw: Face, t: number): void {
    track.raw = raw;
    track.face = track.smoother ? track.smoother.smooth(raw, t) : copyFace(raw);
    track.observed = true;
    track.missed = 0;
  }
}
