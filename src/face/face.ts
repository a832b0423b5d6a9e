/** The face record every stage passes along. All coordinates are frame pixels, continuous
 * (pixel (i, j) covers [i, i+1) × [j, j+1); its centre is at i + 0.5, j + 0.5). */

/** A square, rotated region of interest around a face: what the landmark model looks at. */
export interface FaceRoi {
  cx: number;
  cy: number;
  /** Side length in frame pixels. */
  size: number;
  /** Rotation in radians of the face's eye line, clockwise in image coordinates (y down). */
  angle: number;
}

export interface Face {
  /** [x, y, width, height] of the landmarks' bounding box, frame pixels. */
  box: [number, number, number, number];
  /** Detector confidence 0..1. */
  score: number;
  /** Landmark model's face confidence 0..1. */
  meshScore: number;
  /** Left eye, right eye, nose tip, left mouth corner, right mouth corner (image-left first), x,y pairs. */
  kps5: Float32Array;
  /**
   * The same five points exactly as a reference detector (SCRFD) gave them, in OpenCV's convention
   * (pixel centres at integers), for pipelines that must align bit for bit like the reference.
   */
  kps5Reference?: Float32Array;
  /**
   * 106 × (x, y): insightface's 2d106det landmarks, when that model is installed, in OpenCV's
   * convention like kps5Reference. Deep-Live-Cam's mouth mask reads its lip outline from them.
   */
  landmarks106?: Float32Array;
  /** 468 × (x, y, z): FaceMesh landmarks; z is relative depth in the same pixel scale as x. */
  landmarks: Float32Array;
  /** The region the landmarks were computed in. */
  roi: FaceRoi;
}

export const MESH_POINTS = 468;

export function faceSize(face: Face): number {
  return Math.max(face.box[2], face.box[3]);
}
