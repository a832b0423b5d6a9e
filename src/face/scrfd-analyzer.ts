/**
 * Faces for the InSwapper engine: SCRFD (det_10g) finds them and gives the five keypoints the
 * reference aligns with; FaceMesh then adds the 468-point mesh on the region SCRFD found, for the
 * mouth mask, colour statistics and the evaluation. Boxes and keypoints are SCRFD's own. With
 * insightface's 2d106det installed, each face also gets its 106 landmarks (Deep-Live-Cam's mouth mask).
 */

import type { Image } from '../core/image.js';
import { finiteFace, regionFor, type AnalyzeTimings, type FaceAnalyzer } from './analyzer.js';
import type { Face } from './face.js';
import { MESH_POINTS } from './face.js';
import type { Landmark106 } from './landmark106.js';
import { lineAngle } from './roi.js';
import type { ScrfdDetector } from './scrfd.js';

export class ScrfdAnalyzer {
  constructor(
    private readonly detector: ScrfdDetector,
    /** Only its `refine` (FaceMesh on a given region) is used. */
    private readonly mesh: FaceAnalyzer,
    /** insightface's 2d106det, when installed: adds `landmarks106` to every face. */
    private readonly landmarks106?: Landmark106,
  ) {}

  /** Faces largest first, like FaceAnalyzer.analyze. A face FaceMesh cannot follow keeps meshScore 0. */
  async analyze(image: Image, _options?: unknown, timings?: AnalyzeTimings, known?: readonly Face[]): Promise<Face[]> {
    let t = performance.now();
    const detections = await this.detector.detect(image);
    if (timings) timings.detect += performance.now() - t;
    t = performance.now();
    const faces: Face[] = [];
    const unclaimed = known ? [...known] : [];
    for (const d of detections) {
      if (!d.kps5) continue; // a detector without keypoints cannot align for the swapper
      // SCRFD works in OpenCV's pixel-centre convention; the project's is corner-based.
      const [x1, y1, x2, y2] = d.box.map((v) => v + 0.5);
      const kps5 = d.kps5.map((v) => v + 0.5);
      const roi = { cx: (x1 + x2) / 2, cy: (y1 + y2) / 2, size: Math.max(x2 - x1, y2 - y1) * 1.5, angle: lineAngle(kps5[0], kps5[1], kps5[2], kps5[3]) };
      const meshed = await this.mesh.refine(image, regionFor(roi, unclaimed), d.score);
      const found106 = this.landmarks106 ? await this.landmarks106.detect(image, d.box) : undefined;
      // Optional points a damaged 2d106det made NaN are left out: the mouth mask then follows FaceMesh.
      const landmarks106 = found106?.every(Number.isFinite) ? found106 : undefined;
      const face: Face = {
        box: [x1, y1, x2 - x1, y2 - y1],
        score: d.score,
        meshScore: meshed?.meshScore ?? 0,
        kps5,
        kps5Reference: d.kps5,
        ...(landmarks106 ? { landmarks106 } : {}),
        landmarks: meshed?.landmarks ?? new Float32Array(MESH_POINTS * 3),
        roi: meshed?.roi ?? roi,
      };
      // The detector drops non-finite boxes; this also catches a region its keypoints could not turn.
      if (finiteFace(face)) faces.push(face);
    }
    if (timings) timings.mesh += performance.now() - t;
    faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
    return faces;
  }
}
