/**
 * A face finder for planner tests that needs no model: its detector reports the faces scripted for
 * each frame (largest first), counting its runs and keeping the faces it was told were followed, and its tracker, unless told to lose the face on a
 * frame, always "follows" a face to where it was, whatever the frame shows: the worst case, a
 * landmark model that finds a face on the hair of whoever stands there after a cut.
 */

import type { Image } from '../../src/core/image.js';
import type { Face } from '../../src/face/face.js';
import type { FrameFaceFinder } from '../../src/pipeline/video.js';
import { makeFace } from './synthetic-face.js';

/** See the module's comment; `canTrack` false gives a finder without a tracker. */
export function scriptedFinder(
  script: Map<Image, Face[]>,
  lose: Set<Image> = new Set(),
  canTrack = true,
): FrameFaceFinder & { detections: Image[]; known: (readonly Face[] | undefined)[] } {
  const detections: Image[] = [];
  const known: (readonly Face[] | undefined)[] = [];
  return {
    detections,
    known,
    analyze: async (image, followed) => {
      detections.push(image);
      known.push(followed);
      return script.get(image) ?? [];
    },
    ...(canTrack ? { track: async (image: Image, face: Face) => (lose.has(image) ? undefined : makeFace(face.box[0], face.box[1], face.box[2])) } : {}),
  };
}
