/**
 * Head pose from the 468-point mesh: what the evaluation compares between output and target, and
 * what the mesh engine reads to decide how far a face is turned.
 */

import { MESH_POINTS } from './face.js';
import { POINT } from './mesh-indices.js';

export interface HeadPose {
  /** Degrees: turning left/right (positive: the face turns towards image right). */
  yaw: number;
  /** Degrees: nodding (positive: chin up). */
  pitch: number;
  /** Degrees: tilting in the image plane (positive: clockwise in the image). */
  roll: number;
}

type Vec3 = [number, number, number];

function point(m: Float32Array, i: number): Vec3 {
  return [m[3 * i], m[3 * i + 1], m[3 * i + 2]];
}
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const scale = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const normalise = (a: Vec3): Vec3 => scale(a, 1 / (Math.hypot(...a) || 1));
const degrees = (r: number) => (r * 180) / Math.PI;

/**
 * The face's own axes from the mesh: x from the image-left eye's outer corner to the other's, y
 * from the forehead down to the chin made orthogonal to x, z = x × y (into the image for a
 * frontal face, since image y points down). Angles are the intrinsic rotations of that frame.
 * FaceMesh depth is only roughly in pixel units, so yaw and pitch are estimates: compare them
 * between two meshes measured the same way rather than reading them as absolute angles.
 */
export function headPoseOf(m: Float32Array): HeadPose {
  if (m.length < MESH_POINTS * 3) throw new RangeError('headPose needs the 468-point mesh');
  const x = normalise(sub(point(m, POINT.leftEyeOuter), point(m, POINT.rightEyeOuter)));
  const down = sub(point(m, POINT.chin), point(m, POINT.foreheadTop));
  const y = normalise(sub(down, scale(x, dot(down, x))));
  const z = cross(x, y);
  return {
    roll: degrees(Math.atan2(x[1], x[0])),
    yaw: degrees(Math.asin(Math.max(-1, Math.min(1, -z[0])))),
    pitch: degrees(Math.asin(Math.max(-1, Math.min(1, z[1])))),
  };
}

/** Degrees the face is turned left or right (positive: towards image right): {@link headPoseOf}'s yaw. */
export function faceYaw(m: Float32Array): number {
  return headPoseOf(m).yaw;
}
