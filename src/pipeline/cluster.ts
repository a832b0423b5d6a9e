/**
 * Who appears in a video: per-frame face detections linked into tracklets (same face in
 * consecutive sampled frames of one shot), a cheap shot-change test, and agglomerative clustering
 * of identity descriptors into an automatic number of people.
 */

import type { Image } from '../core/image.js';
import { cosineSimilarity } from '../face/embedder.js';

/** One face found in one sampled frame. */
export interface FaceDetection {
  /** Index of the sampled frame (0, 1, 2, … in decoding order), not of the video's own frames. */
  frame: number;
  /** Time of that frame in the video, seconds. */
  seconds: number;
  /** [x, y, width, height] in frame pixels. */
  box: readonly [number, number, number, number];
  /** The face's identity descriptor (L2-normalised). */
  embedding: Float32Array;
}

/** The same face followed through consecutive sampled frames of one shot. */
export interface Tracklet {
  /** Indices into the detections given to {@link linkTracklets}, in frame order. */
  members: number[];
}

export interface LinkOptions {
  /** Sampled frame indices where a new shot starts: no tracklet continues across them. */
  shotStarts?: ReadonlySet<number>;
  /** Least box overlap (intersection over union) to link two detections. Default 0.3. */
  minIoU?: number;
}

/** Least box IoU that links a detection to the previous frame's, by default. */
export const DEFAULT_LINK_IOU = 0.3;

/** Intersection over union of two [x, y, width, height] boxes; 0 when either is empty. */
export function boxIoU(a: readonly [number, number, number, number], b: readonly [number, number, number, number]): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Links detections into tracklets: a detection continues the tracklet whose last detection is in
 * the previous sampled frame and overlaps it best (IoU ≥ minIoU), each tracklet taking at most one
 * detection per frame (greedy by IoU, ties by order). A missed frame or a shot start ends every
 * open tracklet. Tracklets come out in order of their first detection.
 */
export function linkTracklets(detections: readonly FaceDetection[], options: LinkOptions = {}): Tracklet[] {
  const minIoU = options.minIoU ?? DEFAULT_LINK_IOU;
  const shotStarts = options.shotStarts ?? new Set<number>();
  const order = detections.map((_, i) => i).sort((a, b) => detections[a]!.frame - detections[b]!.frame || a - b);
  const tracklets: Tracklet[] = [];
  let open: Tracklet[] = [];
  let openFrame = Number.NaN;
  for (let start = 0; start < order.length;) {
    const frame = detections[order[start]!]!.frame;
    let end = start;
    while (end < order.length && detections[order[end]!]!.frame === frame) end++;
    const current = order.slice(start, end);
    const candidates = frame === openFrame + 1 && !shotStarts.has(frame) ? open : [];
    const pairs: { iou: number; t: number; d: number }[] = [];
    candidates.forEach((tracklet, t) => {
      const last = detections[tracklet.members[tracklet.members.length - 1]!]!;
      current.forEach((index, d) => {
        const iou = boxIoU(last.box, detections[index]!.box);
        if (iou >= minIoU) pairs.push({ iou, t, d });
      });
    });
    pairs.sort((a, b) => b.iou - a.iou || a.t - b.t || a.d - b.d);
    const takenT = new Set<number>();
    const assigned = new Map<number, Tracklet>();
    for (const { t, d } of pairs) {
      if (takenT.has(t) || assigned.has(d)) continue;
      takenT.add(t);
      assigned.set(d, candidates[t]!);
    }
    const next: Tracklet[] = [];
    current.forEach((index, d) => {
      let tracklet = assigned.get(d);
      if (!tracklet) {
        tracklet = { members: [] };
        tracklets.push(tracklet);
      }
      tracklet.members.push(index);
      next.push(tracklet);
    });
    open = next;
    openFrame = frame;
    start = end;
  }
  return tracklets;
}

/** Mean of several descriptors, L2-normalised again (all zeros stays zeros). */
export function meanEmbedding(embeddings: readonly ArrayLike<number>[]): Float32Array {
  const size = embeddings[0]?.length ?? 0;
  const sum = new Float64Array(size);
  for (const e of embeddings) {
    if (e.length !== size) throw new RangeError(`meanEmbedding: lengths ${size} and ${e.length} differ`);
    for (let i = 0; i < size; i++) sum[i]! += e[i]!;
  }
  let norm = 0;
  for (let i = 0; i < size; i++) norm += sum[i]! * sum[i]!;
  const out = new Float32Array(size);
  if (norm === 0) return out;
  const inv = 1 / Math.sqrt(norm);
  for (let i = 0; i < size; i++) out[i] = sum[i]! * inv;
  return out;
}

const HISTOGRAM_BINS = 16;
const GRID = 3;
/** Frames are read on a sparse lattice of about this many points per side: enough for histograms. */
const SAMPLES_PER_SIDE = 96;

/**
 * Default for {@link detectShotChange}. Measured on the fixture photos at 320×240: cuts between
 * different pictures 0.43–0.63, a mirrored picture 0.48; pans of 5–30 px 0.04–0.15.
 */
export const DEFAULT_SHOT_CHANGE_THRESHOLD = 0.3;

/** Grey histograms of a 3×3 grid of regions, each normalised to sum 1. */
function regionHistograms(image: Image): Float64Array {
  const hist = new Float64Array(GRID * GRID * HISTOGRAM_BINS);
  const { width, height, channels: c, data } = image;
  const step = Math.max(1, Math.floor(Math.min(width, height) / SAMPLES_PER_SIDE));
  for (let y = 0; y < height; y += step) {
    const gy = Math.min(GRID - 1, Math.floor((y * GRID) / height));
    for (let x = 0; x < width; x += step) {
      const gx = Math.min(GRID - 1, Math.floor((x * GRID) / width));
      const p = (y * width + x) * c;
      const grey = c >= 3 ? (77 * data[p]! + 150 * data[p + 1]! + 29 * data[p + 2]!) >> 8 : data[p]!;
      hist[(gy * GRID + gx) * HISTOGRAM_BINS + ((grey * HISTOGRAM_BINS) >> 8)]! += 1;
    }
  }
  for (let r = 0; r < GRID * GRID; r++) {
    let total = 0;
    for (let b = 0; b < HISTOGRAM_BINS; b++) total += hist[r * HISTOGRAM_BINS + b]!;
    if (total > 0) for (let b = 0; b < HISTOGRAM_BINS; b++) hist[r * HISTOGRAM_BINS + b]! /= total;
  }
  return hist;
}

/**
 * How different two frames look, 0..1: the total-variation distance between grey histograms of a
 * 3×3 grid of regions, averaged. Histograms barely move under a small pan or noise but change at a
 * cut; regions catch cuts between pictures of similar overall brightness. Reads a sparse lattice
 * of pixels, so full-size frames cost about as little as thumbnails.
 */
export function frameDifference(prev: Image, next: Image): number {
  const a = regionHistograms(prev);
  const b = regionHistograms(next);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / 2 / (GRID * GRID);
}

/** Whether `next` starts a new shot after `prev`: {@link frameDifference} above the threshold. */
export function detectShotChange(prev: Image, next: Image, threshold = DEFAULT_SHOT_CHANGE_THRESHOLD): boolean {
  return frameDifference(prev, next) > threshold;
}

export interface ClusterOptions {
  /**
   * Merging stops when the most similar pair of clusters has an average cosine similarity below
   * this. FaceRes measures 0.90–0.98 for the same person and 0.30–0.40 between the fixture people.
   */
  threshold: number;
}

export interface Clustering {
  /** Cluster of each input, numbered 0… in order of each cluster's first input. */
  labels: number[];
  /** The inputs of each cluster, ascending. */
  clusters: number[][];
}

/**
 * Agglomerative clustering with average linkage on cosine similarity: every input starts alone,
 * and the most similar pair of clusters is merged while its average pairwise similarity is at
 * least `threshold`, so the number of clusters follows from the data, without a cap. Ties go to
 * the pair with the lowest indices, so the result is deterministic; distinct similarities give the
 * same partition whatever the input order. Memory is n² floats (n = inputs).
 */
export function clusterIdentities(embeddings: readonly ArrayLike<number>[], options: ClusterOptions): Clustering {
  const { threshold } = options;
  if (!Number.isFinite(threshold)) throw new RangeError(`clusterIdentities: threshold must be a finite number, got ${threshold}`);
  const n = embeddings.length;
  const sim = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const s = cosineSimilarity(embeddings[i]!, embeddings[j]!);
      sim[i * n + j] = s;
      sim[j * n + i] = s;
    }
  }
  const size = new Int32Array(n).fill(1);
  const active = new Uint8Array(n).fill(1);
  const members: number[][] = embeddings.map((_, i) => [i]);
  // Each active cluster's most similar other cluster (lowest index on ties).
  const best = new Int32Array(n).fill(-1);
  const bestSim = new Float64Array(n).fill(-Infinity);
  const refresh = (i: number): void => {
    best[i] = -1;
    bestSim[i] = -Infinity;
    for (let j = 0; j < n; j++) {
      if (j === i || !active[j]) continue;
      const s = sim[i * n + j]!;
      if (s > bestSim[i]!) {
        bestSim[i] = s;
        best[i] = j;
      }
    }
  };
  for (let i = 0; i < n; i++) refresh(i);
  for (;;) {
    let a = -1;
    for (let i = 0; i < n; i++) if (active[i] && best[i]! >= 0 && (a < 0 || bestSim[i]! > bestSim[a]!)) a = i;
    if (a < 0 || bestSim[a]! < threshold) break;
    const b = best[a]!;
    const [keep, drop] = a < b ? [a, b] : [b, a];
    // Average linkage (Lance–Williams): the merged row is the size-weighted mean of the two rows.
    const sk = size[keep]!;
    const sd = size[drop]!;
    for (let k = 0; k < n; k++) {
      if (!active[k] || k === keep || k === drop) continue;
      const s = (sk * sim[keep * n + k]! + sd * sim[drop * n + k]!) / (sk + sd);
      sim[keep * n + k] = s;
      sim[k * n + keep] = s;
    }
    size[keep] = sk + sd;
    active[drop] = 0;
    members[keep] = members[keep]!.concat(members[drop]!);
    refresh(keep);
    for (let k = 0; k < n; k++) {
      if (!active[k] || k === keep) continue;
      // A merged row is a mean of the two old rows, so it can beat a row's best only by a tie or
      // less; rows that pointed at either merged cluster are searched again.
      if (best[k] === keep || best[k] === drop) refresh(k);
      else if (sim[k * n + keep]! > bestSim[k]! || (sim[k * n + keep] === bestSim[k] && keep < best[k]!)) {
        bestSim[k] = sim[k * n + keep]!;
        best[k] = keep;
      }
    }
  }
  const clusters = members.filter((_, i) => active[i]).map((m) => m.sort((x, y) => x - y));
  clusters.sort((x, y) => x[0]! - y[0]!);
  const labels = new Array<number>(n).fill(-1);
  clusters.forEach((m, c) => m.forEach((i) => (labels[i] = c)));
  return { labels, clusters };
}
