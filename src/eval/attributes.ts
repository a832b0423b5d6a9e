/**
 * What a swap must keep from the target: head pose and expression, read from a 468-point mesh.
 * The same measurement on the target and on the output tells how well the swap preserved them.
 */

import { MESH_POINTS, type Face } from '../face/face.js';
import { POINT } from '../face/mesh-indices.js';
import { headPoseOf, type HeadPose } from '../face/pose.js';

export type { HeadPose };

export interface Expression {
  /** Lip gap over mouth width, 0 for closed lips. */
  mouthOpen: number;
  /** Lid gap over eye width, each eye (image left, image right). */
  leftEyeOpen: number;
  rightEyeOpen: number;
}

const distance2d = (m: Float32Array, i: number, j: number) => Math.hypot(m[3 * i] - m[3 * j], m[3 * i + 1] - m[3 * j + 1]);

/** Head pose of a face's 468-point mesh (see {@link headPoseOf}). */
export function headPose(face: Face): HeadPose {
  return headPoseOf(face.landmarks);
}

export function expression(face: Face): Expression {
  const m = face.landmarks;
  return {
    mouthOpen: distance2d(m, POINT.upperLipInner, POINT.lowerLipInner) / distance2d(m, POINT.mouthRight, POINT.mouthLeft),
    leftEyeOpen: distance2d(m, 159, 145) / distance2d(m, POINT.rightEyeOuter, POINT.rightEyeInner),
    rightEyeOpen: distance2d(m, 386, 374) / distance2d(m, POINT.leftEyeOuter, POINT.leftEyeInner),
  };
}

export interface AttributeDifference {
  /** Absolute differences in degrees. */
  yaw: number;
  pitch: number;
  roll: number;
  /** Absolute differences of the openness ratios. */
  mouthOpen: number;
  eyesOpen: number;
  /**
   * The same differences relative to the target's openness: |O − T| / max(T, OPENNESS_FLOOR), so
   * 0.15 means the output opens 15 % more or less than the target. Eyes: the mean of both eyes.
   */
  mouthOpenRelative: number;
  eyesOpenRelative: number;
  /** RMS distance between the two meshes' (x, y) points over the target face's size. */
  landmarkError: number;
}

/**
 * Openness below which lips or lids count as closed: a relative difference is measured against
 * this rather than a near-zero gap, where a pixel of landmark noise would read as 100 %.
 */
export const OPENNESS_FLOOR = 0.1;

function relativeDifference(output: number, target: number): number {
  return Math.abs(output - target) / Math.max(target, OPENNESS_FLOOR);
}

/** How far the output's pose and expression are from the target's. */
export function attributeDifference(output: Face, target: Face): AttributeDifference {
  const a = headPose(output);
  const b = headPose(target);
  const ea = expression(output);
  const eb = expression(target);
  let sum = 0;
  for (let i = 0; i < MESH_POINTS; i++) {
    sum += (output.landmarks[3 * i] - target.landmarks[3 * i]) ** 2 + (output.landmarks[3 * i + 1] - target.landmarks[3 * i + 1]) ** 2;
  }
  return {
    yaw: Math.abs(a.yaw - b.yaw),
    pitch: Math.abs(a.pitch - b.pitch),
    roll: Math.abs(a.roll - b.roll),
    mouthOpen: Math.abs(ea.mouthOpen - eb.mouthOpen),
    eyesOpen: (Math.abs(ea.leftEyeOpen - eb.leftEyeOpen) + Math.abs(ea.rightEyeOpen - eb.rightEyeOpen)) / 2,
    mouthOpenRelative: relativeDifference(ea.mouthOpen, eb.mouthOpen),
    eyesOpenRelative: (relativeDifference(ea.leftEyeOpen, eb.leftEyeOpen) + relativeDifference(ea.rightEyeOpen, eb.rightEyeOpen)) / 2,
    landmarkError: Math.sqrt(sum / MESH_POINTS) / Math.max(target.box[2], target.box[3]),
  };
}
