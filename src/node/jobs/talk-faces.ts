/**
 * How a talk follows the face that talks in a video, and how its measure finds the same face: the
 * video jobs' planner (pipeline/video.ts) set for one face. FaceMesh tracks the face from the frame
 * before, never re-detecting on a schedule; when it is lost the detector looks on that same frame
 * (while none is found, on at most one frame in `searchEvery`); a cut (when `shotChange` is on)
 * starts afresh.
 *
 * Which face talks: only the shot's main face (see {@link mainFace}), a face at least
 * {@link MIN_MAIN_FACE_SHARE} of the frame's height, found with a score of at least
 * {@link MIN_MAIN_FACE_SCORE}, and at least {@link MAIN_FACE_DOMINANCE} times as tall as the next
 * largest face found with it. The rule is applied wherever the detector picks a
 * face (a shot's start, a face lost and looked for again); a face picked is then held while it is
 * tracked, whatever else comes into view. A shot whose first faces found include no main face (an
 * audience, two people side by side) has no speaker: nothing talks in it, and the detector looks
 * again only on every {@link SPEAKERLESS_RECHECK_FRAMES}-th frame until the next cut (with
 * `shotChange` off, every search decides afresh). Frames without
 * a face that talks are shown as they are.
 */

import type { Image } from '../../core/image.js';
import type { Face } from '../../face/face.js';
import { DEFAULT_SHOT_CHANGE_OPTIONS, ShotChangeDetector } from '../../pipeline/shot-change.js';
import { VideoFacePlanner, type FramePlan, type FrameFaceFinder, type PlanTimings } from '../../pipeline/video.js';

/** The detector runs only when the face is lost (or at a cut): its interval is never reached. */
const NEVER = Number.MAX_SAFE_INTEGER;

/**
 * A face that talks is at least this share of the frame's height (its box): 29 px in a 360-line
 * frame. The stage clip's wide shot of the singer (13% of the height) talks; a face in the far
 * background, a few percent of the frame, does not.
 */
export const MIN_MAIN_FACE_SHARE = 0.08;

/**
 * A face that talks is at least this many times as tall as the next largest face found with it
 * (2.25 times its area). The stage clip's audience shot has two or three faces within 6% of each
 * other's height (no speaker); a speaker with a smaller face behind (a pianist, a listener) clears it.
 */
export const MAIN_FACE_DOMINANCE = 1.5;

/**
 * A face that talks is one the detector is sure of (its score): a face in plain view. In the stage
 * clip the singer scores 0.85 to 0.96, in the wide shot as in the close one; the audience's dim,
 * half-hidden faces score 0.52 to 0.69, near the detector's own floor, so that on some frames only
 * one of them is found and it would pass for the shot's only face.
 */
export const MIN_MAIN_FACE_SCORE = 0.75;

/**
 * A shot found without a speaker is looked at again on every this many-th frame (about half a
 * second at 25 fps), so a speaker whose first frames were unclear (turning, blurred, half in view)
 * still talks once the face is plain, while an audience costs the detector one frame in this many.
 */
export const SPEAKERLESS_RECHECK_FRAMES = 12;

export interface TalkFaceOptions {
  /** Start afresh at a cut (the new shot's main face talks, if it has one); default true. */
  shotChange?: boolean;
  /** While no face is followed, the detector runs on at most one frame in this many; default 1. */
  searchEvery?: number;
}

/**
 * The face that talks among `faces` (one frame's detections, largest first) in a frame `frameHeight`
 * pixels tall: the largest, when it is tall enough, sure enough and dominant enough (see
 * {@link MIN_MAIN_FACE_SHARE}, {@link MIN_MAIN_FACE_SCORE}, {@link MAIN_FACE_DOMINANCE}); undefined when there is none.
 */
export function mainFace(faces: readonly Face[], frameHeight: number): Face | undefined {
  const [first, ...others] = faces;
  if (!first || first.box[3] < MIN_MAIN_FACE_SHARE * frameHeight || first.score < MIN_MAIN_FACE_SCORE) return undefined;
  const next = Math.max(0, ...others.map((face) => face.box[3]));
  return first.box[3] >= MAIN_FACE_DOMINANCE * next ? first : undefined;
}

/**
 * The video planner for a talk: the detections it is given are narrowed to the main face, and a
 * shot found to have none is left alone until the next cut, which this planner finds itself (the
 * video planner under it runs with its own cut detection off and is reset at each cut).
 */
class TalkFacePlanner extends VideoFacePlanner {
  private readonly cuts: ShotChangeDetector | undefined;
  /** Whether the current shot was found to have faces but no main one (with cuts on only). */
  private speakerless = false;
  /** Frames planned since the detector last looked at a shot without a speaker. */
  private sinceCheck = 0;

  constructor(finder: FrameFaceFinder, options: TalkFaceOptions) {
    const shotChange = options.shotChange !== false;
    const main: FrameFaceFinder = {
      analyze: async (image: Image) => {
        if (this.speakerless && this.sinceCheck < SPEAKERLESS_RECHECK_FRAMES) return [];
        const faces = await finder.analyze(image);
        const face = mainFace(faces, image.height);
        this.speakerless = !face && shotChange && (this.speakerless || faces.length > 0);
        this.sinceCheck = 0;
        return face ? [face] : [];
      },
      ...(finder.track ? { track: finder.track } : {}),
    };
    super(main, {
      selection: { kind: 'primary' },
      detectEvery: NEVER,
      smoothing: false,
      maxMissed: 0,
      minFaceSize: 0,
      minSharpness: 0,
      holdFrames: 0,
      shotChange: false,
      detectWhenLost: true,
      searchEvery: options.searchEvery ?? 1,
    });
    this.cuts = shotChange ? new ShotChangeDetector(DEFAULT_SHOT_CHANGE_OPTIONS) : undefined;
  }

  override async plan(frame: Image, t: number, index: number, timings?: PlanTimings): Promise<FramePlan> {
    const cut = this.cuts?.next(frame) ?? false;
    if (cut) {
      // A new shot: every track dropped, its speaker decided afresh.
      super.reset();
      this.speakerless = false;
    }
    this.sinceCheck++;
    const plan = await super.plan(frame, t, index, timings);
    return cut ? { ...plan, cut } : plan;
  }

  override reset(): void {
    super.reset();
    this.cuts?.reset();
    this.speakerless = false;
  }
}

/** A planner that follows the one face a talk moves (see the file's comment); `finder` is the engine's face finder. */
export function talkFacePlanner(finder: FrameFaceFinder, options: TalkFaceOptions = {}): VideoFacePlanner {
  return new TalkFacePlanner(finder, options);
}
