/**
 * Detection: per-frame soft correlations for a key, and the decision over windows of frames with
 * Chase soft decoding, its false-positive budget accounted for. Platform-free.
 */

import type { Image } from '../../core/image.js';
import { WATERMARK_BITS, decodePayload, type WatermarkPayload } from '../payload.js';
import { checkImage, GridScratch } from './grid.js';
import { BitCorrelator } from './bit-order.js';
import { chipPattern, SLOTS } from './pattern.js';

/** The key-independent part of a measurement: the 23,760 chip coefficients of a frame (RGB/RGBA/grey). */
export function frameCoefficients(image: Image): Float32Array {
  checkImage(image, 'frameCoefficients', [1, 3, 4]);
  return new GridScratch().analyze(image);
}

/** Per-bit soft correlations for one key from {@link frameCoefficients} (cheap: one pass over the chips). */
export function correlateCoefficients(key: Uint8Array, coefficients: Float32Array): Float32Array {
  if (coefficients.length !== SLOTS) throw new RangeError(`expected ${SLOTS} coefficients, got ${coefficients.length}`);
  const chips = new BitCorrelator(chipPattern(key));
  chips.loadHost(coefficients);
  return chips.correlate(new Float32Array(WATERMARK_BITS));
}

/** Per-frame soft correlations for the 64 bits (Float32Array(64)), from an RGB/RGBA/grey Image. */
export function measureFrame(key: Uint8Array, image: Image): Float32Array {
  return correlateCoefficients(key, frameCoefficients(image));
}

export interface WatermarkDetection {
  found: boolean;
  /** The decoded payload, when found. */
  payload?: WatermarkPayload;
  /** The 64 bits of the decision that succeeded, corrections applied (the whole clip's hard bits when none did). */
  bits: Uint8Array;
  /** Chance that unmarked media gives a valid payload in any of the candidates tried (candidates × 2^-32); 1 when not found. */
  pValue: number;
  /** Frames summed in the decision that succeeded (all frames when none did). */
  framesUsed: number;
  /** Index of the first frame of that window. */
  firstFrame: number;
  /** How many windows were tried. */
  decisions: number;
  /** Up to how many of a window's least reliable bits were tried flipped (fewer as windows grow more numerous). */
  flipsAllowed: number;
  /** How many bits the successful decision flipped (0 when the hard bits were already a valid payload). */
  bitsFlipped: number;
}

/** Chance that random bits pass the CRC-24 and name version 1. */
const FALSE_ACCEPT = 2 ** -32;
/** The false-positive budget per clip that the correction is sized to: candidates × 2^-32 stays under it. */
const FALSE_POSITIVE_BUDGET = 1e-6;
/** Most least-reliable bits tried flipped in one window (2^4 = 16 candidates). */
const MAX_FLIPS = 4;

/**
 * How many least-reliable bits each of `windows` decisions may try flipped so that all the
 * candidates together stay within {@link FALSE_POSITIVE_BUDGET}: 4 for clips up to a few minutes,
 * fewer for longer ones, none past about 70 minutes of 1-s windows.
 */
export function flipsFor(windows: number): number {
  const perWindow = FALSE_POSITIVE_BUDGET / (Math.max(1, windows) * FALSE_ACCEPT);
  return Math.max(0, Math.min(MAX_FLIPS, Math.floor(Math.log2(perWindow))));
}

/**
 * Soft decoding of one window (Chase's algorithm): the hard bits of the summed soft values, and if
 * they are not a valid payload, every pattern of flips among the `flips` least reliable bits (the
 * smallest |sum|). Of the valid candidates, the one whose flipped bits were least reliable in total
 * wins. Every candidate tried is a chance of 2^-32 for an unmarked window; the caller accounts for
 * them.
 */
export function decodeWindow(sum: ArrayLike<number>, flips: number): { payload: WatermarkPayload; bits: Uint8Array; bitsFlipped: number } | undefined {
  if (sum.length !== WATERMARK_BITS) throw new RangeError(`expected ${WATERMARK_BITS} sums, got ${sum.length}`);
  const bits = Uint8Array.from({ length: WATERMARK_BITS }, (_, b) => (sum[b] > 0 ? 1 : 0));
  const plain = decodePayload(bits);
  if (plain) return { payload: plain, bits, bitsFlipped: 0 };
  if (flips <= 0) return undefined;
  const order = Array.from({ length: WATERMARK_BITS }, (_, b) => b).sort((a, b) => Math.abs(sum[a]) - Math.abs(sum[b]));
  const weakest = order.slice(0, flips);
  let best: { payload: WatermarkPayload; bits: Uint8Array; bitsFlipped: number; cost: number } | undefined;
  for (let mask = 1; mask < 1 << flips; mask++) {
    const candidate = bits.slice();
    let cost = 0;
    let count = 0;
    for (let k = 0; k < flips; k++) {
      if (!(mask & (1 << k))) continue;
      candidate[weakest[k]] ^= 1;
      cost += Math.abs(sum[weakest[k]]);
      count++;
    }
    const payload = decodePayload(candidate);
    if (payload && (!best || cost < best.cost)) best = { payload, bits: candidate, bitsFlipped: count, cost };
  }
  return best && { payload: best.payload, bits: best.bits, bitsFlipped: best.bitsFlipped };
}

/**
 * Decides from per-frame soft values: tries the whole clip, then sliding windows of `windowFrames`
 * (default round(fps), step half a window), then 2·fps windows (step fps); succeeds on the first
 * window that {@link decodeWindow} turns into a valid payload, with the flips {@link flipsFor} allows
 * for that many windows. fps defaults to 30.
 */
export function decideWatermark(perFrame: readonly Float32Array[], options: { fps?: number; windowFrames?: number } = {}): WatermarkDetection {
  const fps = options.fps ?? 30;
  if (!Number.isFinite(fps) || fps <= 0) throw new RangeError(`fps must be a positive number, got ${String(fps)}`);
  const windowFrames = options.windowFrames ?? Math.max(1, Math.round(fps));
  if (!Number.isInteger(windowFrames) || windowFrames < 1) throw new RangeError(`windowFrames must be a positive integer, got ${String(windowFrames)}`);
  for (const frame of perFrame) {
    if (frame.length !== WATERMARK_BITS) throw new RangeError(`each frame needs ${WATERMARK_BITS} soft values, got ${frame.length}`);
  }
  const n = perFrame.length;
  const windows: Array<[number, number]> = [];
  const seen = new Set<string>();
  const add = (first: number, count: number): void => {
    const id = `${first}:${count}`;
    if (count > 0 && !seen.has(id)) {
      seen.add(id);
      windows.push([first, count]);
    }
  };
  add(0, n);
  const slide = (size: number, step: number): void => {
    if (size >= n) return;
    for (let first = 0; first + size <= n; first += step) add(first, size);
    add(n - size, size); // the tail when the steps do not land on it
  };
  slide(windowFrames, Math.max(1, Math.floor(windowFrames / 2)));
  const twoSeconds = Math.max(1, Math.round(2 * fps));
  slide(twoSeconds, Math.max(1, Math.floor(twoSeconds / 2)));
  const flipsAllowed = flipsFor(windows.length);
  const candidatesPerWindow = 2 ** flipsAllowed;

  const sum = new Float64Array(WATERMARK_BITS);
  const sumOver = (first: number, count: number): Float64Array => {
    sum.fill(0);
    for (let f = first; f < first + count; f++) {
      const soft = perFrame[f];
      for (let b = 0; b < WATERMARK_BITS; b++) sum[b] += soft[b];
    }
    return sum;
  };
  let decisions = 0;
  for (const [first, count] of windows) {
    decisions++;
    const decoded = decodeWindow(sumOver(first, count), flipsAllowed);
    if (decoded) {
      const pValue = Math.min(1, decisions * candidatesPerWindow * FALSE_ACCEPT);
      return { found: true, payload: decoded.payload, bits: decoded.bits, pValue, framesUsed: count, firstFrame: first, decisions, flipsAllowed, bitsFlipped: decoded.bitsFlipped };
    }
  }
  const bits = Uint8Array.from(sumOver(0, n), (s) => (s > 0 ? 1 : 0));
  return { found: false, bits, pValue: 1, framesUsed: n, firstFrame: 0, decisions, flipsAllowed, bitsFlipped: 0 };
}

/** Collects per-frame measurements for one key and decides on demand. */
export class WatermarkDetector {
  private readonly scratch = new GridScratch();
  private readonly chips: BitCorrelator;
  private readonly perFrame: Float32Array[] = [];

  constructor(key: Uint8Array) {
    this.chips = new BitCorrelator(chipPattern(key));
  }

  /** Measures one decoded frame (RGB/RGBA/grey) and keeps its soft values. */
  add(image: Image): Float32Array {
    checkImage(image, 'WatermarkDetector.add', [1, 3, 4]);
    this.chips.loadHost(this.scratch.analyze(image));
    const soft = this.chips.correlate(new Float32Array(WATERMARK_BITS));
    this.perFrame.push(soft);
    return soft;
  }

  get frameCount(): number {
    return this.perFrame.length;
  }

  /** The decision over the frames added so far (see {@link decideWatermark}). */
  detection(fps?: number): WatermarkDetection {
    return decideWatermark(this.perFrame, fps === undefined ? {} : { fps });
  }
}
