/**
 * How a talk follows the face that talks in a video, and how its measure finds the same face: the
 * video jobs' planner (pipeline/video.ts) set for one face. The detector's largest face is the one
 * followed; FaceMesh tracks it from the frame before, never re-detecting on a schedule; when it is
 * lost the detector looks on that same frame (while none is found, on at most one frame in
 * `searchEvery`); a cut (when `shotChange` is on) starts afresh with the new shot's largest face.
 */

import { DEFAULT_SHOT_CHANGE_OPTIONS } from '../../pipeline/shot-change.js';
import { VideoFacePlanner, type FrameFaceFinder } from '../../pipeline/video.js';

/** The detector runs only when the face is lost (or at a cut): its interval is never reached. */
const NEVER = Number.MAX_SAFE_INTEGER;

export interface TalkFaceOptions {
  /** Start afresh at a cut (the new shot's largest face talks); default true. */
  shotChange?: boolean;
  /** While no face is followed, the detector runs on at most one frame in this many; default 1. */
  searchEvery?: number;
}

/** A planner that follows the one face a talk moves (see the file's comment); `finder` is the engine's face finder. */
export function talkFacePlanner(finder: FrameFaceFinder, options: TalkFaceOptions = {}): VideoFacePlanner {
  const largest: FrameFaceFinder = {
    analyze: async (image) => (await finder.analyze(image)).slice(0, 1),
    ...(finder.track ? { track: finder.track } : {}),
  };
  return new VideoFacePlanner(largest, {
    selection: { kind: 'primary' },
    detectEvery: NEVER,
    smoothing: false,
    maxMissed: 0,
    minFaceSize: 0,
    minSharpness: 0,
    holdFrames: 0,
    shotChange: options.shotChange === false ? false : DEFAULT_SHOT_CHANGE_OPTIONS,
    detectWhenLost: true,
    searchEvery: options.searchEvery ?? 1,
  });
}
