/** What a swap tells its caller: faces found, which were swapped, and how long each stage took. */

import type { Image } from '../core/image.js';

export interface FaceSummary {
  /** Position in the size ordering (0 = largest). */
  index: number;
  /** [x, y, width, height] in image pixels. */
  box: [number, number, number, number];
  /** Detector confidence 0..1. */
  score: number;
}

export interface SkippedFace {
  /** Index into targetFaces. */
  index: number;
  reason: string;
}

export interface SwapReport {
  engine: string;
  sourceFaces: FaceSummary[];
  targetFaces: FaceSummary[];
  /** Index (into sourceFaces) of the face used as the identity. */
  sourceFaceUsed: number;
  /** Indices (into targetFaces) of the faces swapped. */
  swappedFaces: number[];
  /** Faces chosen but left untouched, and why (e.g. turned too far for the engine). */
  skippedFaces: SkippedFace[];
  /**
   * Milliseconds per stage: source (detect + mesh of the source photo), then for the target
   * detect, mesh, identity (source texture), warp, colour, blend (summed over swapped faces).
   */
  timings: Record<string, number>;
  /** Things the user should know that are not errors (e.g. several faces in the source). */
  notices: string[];
}

export interface StillResult {
  image: Image;
  report: SwapReport;
}
