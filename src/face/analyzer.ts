/**
 * Finds faces and their 468-point meshes: BlazeFace proposes regions and FaceMesh places the
 * landmarks, again on a re-centred region when the first one was off (as MediaPipe tracks).
 */

import type { Image } from '../core/image.js';
import { pointBounds } from '../core/polygon.js';
import type { InferenceSession } from '../models/runtime.js';
import { BlazeFaceDetector, DEFAULT_DETECTOR_OPTIONS, type Detection, type DetectorOptions } from './blazeface.js';
import type { Face, FaceRoi } from './face.js';
import { FaceMeshModel, type MeshResult } from './facemesh.js';
import { LEFT_EYE, POINT, RIGHT_EYE } from './mesh-indices.js';
import { lineAngle, roiFromPoints } from './roi.js';

/** MediaPipe enlarges both the detection box and the landmarks' box by 1.5 to make the mesh region. */
const ROI_SCALE = 1.5;
const MIN_MESH_SCORE = 0.5;

export interface AnalyzeTimings {
  detect: number;
  mesh: number;
}

function meanOf(landmarks: Float32Array, indices: readonly number[], axis: 0 | 1): number {
  let sum = 0;
  for (const i of indices) sum += landmarks[3 * i + axis];
  return sum / indices.length;
}

function kps5FromLandmarks(m: Float32Array): Float32Array {
  const p = (i: number, axis: 0 | 1) => m[3 * i + axis];
  return Float32Array.from([
    meanOf(m, RIGHT_EYE, 0),
    meanOf(m, RIGHT_EYE, 1),
    meanOf(m, LEFT_EYE, 0),
    meanOf(m, LEFT_EYE, 1),
    p(POINT.noseTip, 0),
    p(POINT.noseTip, 1),
    p(POINT.mouthRight, 0),
    p(POINT.mouthRight, 1),
    p(POINT.mouthLeft, 0),
    p(POINT.mouthLeft, 1),
  ]);
}

function landmarkBox(m: Float32Array): [number, number, number, number] {
  const { x0, y0, x1, y1 } = pointBounds(m, 3);
  return [x0, y0, x1 - x0, y1 - y0];
}

export function roiFromLandmarks(m: Float32Array): FaceRoi {
  const angle = lineAngle(m[3 * POINT.rightEyeOuter], m[3 * POINT.rightEyeOuter + 1], m[3 * POINT.leftEyeOuter], m[3 * POINT.leftEyeOuter + 1]);
  const xs = new Float32Array(m.length / 3);
  const ys = new Float32Array(m.length / 3);
  for (let i = 0; i < xs.length; i++) {
    xs[i] = m[3 * i];
    ys[i] = m[3 * i + 1];
  }
  return roiFromPoints(xs, ys, angle, ROI_SCALE);
}

/**
 * Regions close enough that a second FaceMesh pass would move the landmarks by no more than
 * FaceMesh's own variation between nearby regions: centres within 6 % of the size, sizes within
 * 10 %, angles within 3°. Measured on the stage clip of the evaluation set (a singer moving in
 * close-up, regions of 135–170 px, every tracked frame run both ways): a second pass on a region
 * whose centre was 4–6 % off moved the landmarks by 0.3–0.7 % of the region (about a pixel), as
 * much as one on a region under 2 % off (0.22 % on average), with no lag behind the motion; beyond
 * 6 % it moved them up to 1.4 %. The threshold was 4 % before (from the fixtures' stills).
 */
function similarRegions(a: FaceRoi, b: FaceRoi): boolean {
  const shift = Math.hypot(a.cx - b.cx, a.cy - b.cy) / b.size;
  const scale = a.size / b.size;
  const turn = Math.abs(Math.atan2(Math.sin(a.angle - b.angle), Math.cos(a.angle - b.angle)));
  return shift < SIMILAR_SHIFT && scale > 0.9 && scale < 1.1 && turn < 0.05;
}

/** How far (a share of the region's size) the region FaceMesh was given may be from the one its landmarks make before it runs again. */
export const SIMILAR_SHIFT = 0.06;

/**
 * Where FaceMesh first looks for a detected face: its region on the frame before (the one its
 * landmarks made) when it is one of the `known` faces followed from there (centres within a quarter of the
 * region's size, sizes within 30 %; that face is then taken from `known`), else the detector's
 * region. A face followed needs one FaceMesh pass from its own landmarks' region and two from the
 * detector's, whose first lands 1–2.4 % of the region off where a second puts the landmarks (the
 * stage clip of the evaluation set, median by how far the detector's angle was off): a detection
 * frame then costs a pass less and its landmarks do not jump from the frames tracked around it.
 */
export function regionFor(detected: FaceRoi, known: Face[]): FaceRoi {
  let best = -1;
  let bestShift = KNOWN_MAX_SHIFT;
  for (let i = 0; i < known.length; i++) {
    const region = known[i]!.roi;
    const shift = Math.hypot(region.cx - detected.cx, region.cy - detected.cy) / region.size;
    const scale = detected.size / region.size;
    if (shift < bestShift && scale > 1 / KNOWN_MAX_SCALE && scale < KNOWN_MAX_SCALE) {
      best = i;
      bestShift = shift;
    }
  }
  if (best < 0) return detected;
  return known.splice(best, 1)[0]!.roi;
}

/** How far a detection may be from a face followed and still be it: its centre, as a share of the region's size, and its size, as a ratio. */
const KNOWN_MAX_SHIFT = 0.25;
const KNOWN_MAX_SCALE = 1.3;

function roiFromDetection(d: Detection): FaceRoi {
  const k = d.keypoints;
  return {
    cx: (d.x0 + d.x1) / 2,
    cy: (d.y0 + d.y1) / 2,
    size: Math.max(d.x1 - d.x0, d.y1 - d.y0) * ROI_SCALE,
    angle: lineAngle(k[0], k[1], k[2], k[3]),
  };
}

/**
 * A mesh worth keeping: confident, and every landmark a number. A damaged model gives NaN, which
 * fails every comparison, so a plain `score < MIN_MESH_SCORE` would let it through.
 */
function usableMesh(result: MeshResult): boolean {
  return Number.isFinite(result.score) && result.score >= MIN_MESH_SCORE && result.landmarks.every(Number.isFinite);
}

function finiteRoi(roi: FaceRoi): boolean {
  return [roi.cx, roi.cy, roi.size, roi.angle].every(Number.isFinite) && roi.size > 0;
}

/** Every number a later stage reads (box, scores, points, region) is finite: faces are only made so. */
export function finiteFace(face: Face): boolean {
  return (
    face.box.every(Number.isFinite) &&
    Number.isFinite(face.score) &&
    Number.isFinite(face.meshScore) &&
    face.kps5.every(Number.isFinite) &&
    face.landmarks.every(Number.isFinite) &&
    (face.kps5Reference?.every(Number.isFinite) ?? true) &&
    (face.landmarks106?.every(Number.isFinite) ?? true) &&
    finiteRoi(face.roi)
  );
}

export class FaceAnalyzer {
  /** The models reuse their input buffers, so overlapping calls wait for each other. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly detector: BlazeFaceDetector,
    private readonly mesh: FaceMeshModel,
  ) {}

  static create(detector: InferenceSession, mesh: InferenceSession): FaceAnalyzer {
    return new FaceAnalyzer(BlazeFaceDetector.create(detector), FaceMeshModel.create(mesh));
  }

  /**
   * Faces in the image, largest first. `timings` (ms) is added to when given. Calls are serialised.
   * `known`: faces followed from the frame before; a detection that is one of them is refined from
   * that face's landmarks (see {@link regionFor}).
   */
  analyze(image: Image, options: DetectorOptions = DEFAULT_DETECTOR_OPTIONS, timings?: AnalyzeTimings, known?: readonly Face[]): Promise<Face[]> {
    return this.serialised(() => this.analyzeNow(image, options, timings, known));
  }

  private async analyzeNow(image: Image, options: DetectorOptions, timings?: AnalyzeTimings, known?: readonly Face[]): Promise<Face[]> {
    let t = performance.now();
    const detections = await this.detector.detect(image, options);
    if (timings) timings.detect += performance.now() - t;
    t = performance.now();
    const faces: Face[] = [];
    const unclaimed = known ? [...known] : [];
    for (const d of detections) {
      const face = await this.refineNow(image, regionFor(roiFromDetection(d), unclaimed), d.score);
      if (face) faces.push(face);
    }
    if (timings) timings.mesh += performance.now() - t;
    faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
    return faces;
  }

  /**
   * Landmarks for a face in a known region (also how a tracker follows a face between detections).
   * When the landmarks say the region was off-centre, too large or small, or turned, FaceMesh runs
   * again on the region they imply: it is most accurate on the framing it was trained on.
   */
  refine(image: Image, roi: FaceRoi, score: number): Promise<Face | undefined> {
    return this.serialised(() => this.refineNow(image, roi, score));
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async refineNow(image: Image, roi: FaceRoi, score: number): Promise<Face | undefined> {
    if (!Number.isFinite(score) || !finiteRoi(roi)) return undefined;
    let result = await this.mesh.run(image, roi);
    if (!usableMesh(result)) return undefined;
    let region = roiFromLandmarks(result.landmarks);
    if (!similarRegions(roi, region)) {
      result = await this.mesh.run(image, region);
      if (!usableMesh(result)) return undefined;
      region = roiFromLandmarks(result.landmarks);
    }
    const landmarks = result.landmarks;
    const face: Face = { box: landmarkBox(landmarks), score, meshScore: result.score, kps5: kps5FromLandmarks(landmarks), landmarks, roi: region };
    return finiteFace(face) ? face : undefined;
  }
}
