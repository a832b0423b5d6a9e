/**
 * Hard cuts in a stream of frames, found as they arrive: each frame is reduced to a small luma
 * thumbnail and regional grey histograms (read on a sparse lattice, so a 1080p frame costs about as
 * little as a 360p one), and a frame starts a new shot only when it differs from the one before in
 * structure, in tones and in amount, all at once. Platform-free.
 */

import { invalidOption } from '../core/errors.js';
import type { Image } from '../core/image.js';

/** How different a frame must be from the previous one to start a new shot. */
export interface ShotChangeOptions {
  /**
   * Least structural change: 1 − the correlation of the two zero-mean luma thumbnails, 0..1. Blind
   * to a change of brightness or contrast (a flash of stage light), so it carries the decision.
   */
  minStructure: number;
  /** Least change of tones: the mean total-variation distance of 3×3 regional grey histograms, 0..1. */
  minHistogram: number;
  /**
   * How many times the thumbnails' mean absolute difference must exceed its recent level in the
   * shot (at least {@link MIN_LEVEL} grey levels), so steady fast motion or a pan is not a cut.
   */
  minJump: number;
}

/**
 * Measured on a 640×360 stage recording (three cuts, fast motion, telecine duplicates): cuts
 * 0.73–0.99 structure, 0.33–0.46 histogram, 7× and more jump; within shots at most 0.31, 0.11 and
 * about 3×. Moving synthetic clips (zoom, pan, noise, flashes) stay lower still (see the tests).
 */
export const DEFAULT_SHOT_CHANGE_OPTIONS: Readonly<ShotChangeOptions> = Object.freeze({ minStructure: 0.5, minHistogram: 0.2, minJump: 3 });

/** What the detector measured between the last two frames. */
export interface ShotChangeScores {
  structure: number;
  histogram: number;
  /** Mean absolute difference of the luma thumbnails, grey levels (0..255). */
  difference: number;
  /** The recent level `difference` is compared with. */
  level: number;
  cut: boolean;
}

const THUMB_WIDTH = 32;
const THUMB_HEIGHT = 18;
const GRID = 3;
const BINS = 16;
/** The lattice is spaced to read about this many pixels of a frame, whatever its size. */
const TARGET_SAMPLES = 16384;
/** Frames of the current shot whose differences make its recent level. */
const LEVEL_WINDOW = 8;
/** The level never counts as lower than this (grey levels): a still shot still has noise and compression. */
const MIN_LEVEL = 2;
/** A thumbnail with less spread than this (grey levels, standard deviation) is flat: a black or white frame. */
const FLAT_SPREAD = 2;

/** Checks shot-change options (missing ones take the defaults); throws a usage error naming the bad one. */
export function validateShotChangeOptions(options: Partial<ShotChangeOptions>): ShotChangeOptions {
  const merged = { ...DEFAULT_SHOT_CHANGE_OPTIONS, ...options };
  for (const key of ['minStructure', 'minHistogram'] as const) {
    const value = merged[key];
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw invalidOption(key, 'a number from 0 to 1', value);
  }
  if (typeof merged.minJump !== 'number' || !(merged.minJump >= 1 && Number.isFinite(merged.minJump))) throw invalidOption('minJump', 'a finite number ≥ 1', merged.minJump);
  return merged;
}

/** One frame, reduced. */
interface Signature {
  thumb: Float32Array;
  hist: Float32Array;
  width: number;
  height: number;
  channels: number;
}

/** Where each lattice column and row falls: its thumbnail column/row and its histogram region column/row. */
interface Layout {
  width: number;
  height: number;
  /** Lattice spacing, pixels. */
  step: number;
  thumbX: Int32Array;
  thumbY: Int32Array;
  gridX: Int32Array;
  gridY: Int32Array;
  /** Lattice points per thumbnail cell and per histogram region. */
  cellCount: Float32Array;
  regionCount: Float32Array;
}

function emptySignature(): Signature {
  return { thumb: new Float32Array(THUMB_WIDTH * THUMB_HEIGHT), hist: new Float32Array(GRID * GRID * BINS), width: 0, height: 0, channels: 0 };
}

/**
 * Follows one stream: {@link next} on every frame, in order. Holds two signatures and a short
 * history, nothing per pixel; {@link reset} when the stream itself changes (another camera or file).
 */
export class ShotChangeDetector {
  readonly options: Readonly<ShotChangeOptions>;
  private current = emptySignature();
  private previous = emptySignature();
  private hasPrevious = false;
  private readonly history = new Float32Array(LEVEL_WINDOW);
  private historyLength = 0;
  private historyNext = 0;
  private layout: Layout | undefined;
  private scores: ShotChangeScores = { structure: 0, histogram: 0, difference: 0, level: 0, cut: false };

  constructor(options: Partial<ShotChangeOptions> = {}) {
    this.options = Object.freeze(validateShotChangeOptions(options));
  }

  /** What was measured on the last frame given to {@link next}. */
  get last(): Readonly<ShotChangeScores> {
    return this.scores;
  }

  /** Forgets the stream: the next frame starts a shot without being counted as a cut. */
  reset(): void {
    this.hasPrevious = false;
    this.historyLength = 0;
    this.historyNext = 0;
    this.scores = { structure: 0, histogram: 0, difference: 0, level: 0, cut: false };
  }

  /**
   * Reads the next frame (RGB, RGBA or grey) and says whether it starts a new shot. The first frame
   * is not a cut; a frame whose size or channels differ from the one before always is.
   */
  next(frame: Image): boolean {
    [this.previous, this.current] = [this.current, this.previous];
    this.reduce(frame, this.current);
    if (!this.hasPrevious) {
      this.hasPrevious = true;
      this.scores = { structure: 0, histogram: 0, difference: 0, level: 0, cut: false };
      return false;
    }
    const a = this.previous;
    const b = this.current;
    if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) return this.decide({ structure: 1, histogram: 1, difference: 255, level: MIN_LEVEL, cut: true });

    const structure = structuralChange(a.thumb, b.thumb);
    let histogram = 0;
    for (let i = 0; i < a.hist.length; i++) histogram += Math.abs(a.hist[i]! - b.hist[i]!);
    histogram /= 2 * GRID * GRID;
    let difference = 0;
    for (let i = 0; i < a.thumb.length; i++) difference += Math.abs(a.thumb[i]! - b.thumb[i]!);
    difference /= a.thumb.length;
    let level = MIN_LEVEL;
    if (this.historyLength > 0) {
      let sum = 0;
      for (let i = 0; i < this.historyLength; i++) sum += this.history[i]!;
      level = Math.max(MIN_LEVEL, sum / this.historyLength);
    }
    const { minStructure, minHistogram, minJump } = this.options;
    const cut = structure >= minStructure && histogram >= minHistogram && difference >= minJump * level;
    return this.decide({ structure, histogram, difference, level, cut });
  }

  private decide(scores: ShotChangeScores): boolean {
    this.scores = scores;
    if (scores.cut) {
      // The new shot's level is its own: the jump into it says nothing about its motion.
      this.historyLength = 0;
      this.historyNext = 0;
    } else {
      this.history[this.historyNext] = scores.difference;
      this.historyNext = (this.historyNext + 1) % LEVEL_WINDOW;
      this.historyLength = Math.min(LEVEL_WINDOW, this.historyLength + 1);
    }
    return scores.cut;
  }

  /** The frame's luma thumbnail (cell means) and regional grey histograms (each summing to 1). */
  private reduce(frame: Image, out: Signature): void {
    const { width, height, channels: c, data } = frame;
    const layout = this.layoutFor(width, height);
    const { step, thumbX, thumbY, gridX, gridY, cellCount, regionCount } = layout;
    const thumb = out.thumb;
    const hist = out.hist;
    thumb.fill(0);
    hist.fill(0);
    const columns = thumbX.length;
    for (let row = 0; row < thumbY.length; row++) {
      const thumbRow = thumbY[row]! * THUMB_WIDTH;
      const regionRow = gridY[row]! * GRID;
      let p = row * step * width * c;
      for (let col = 0; col < columns; col++, p += step * c) {
        // Rec. 601 luma in 8.8 fixed point; a grey frame is its own luma.
        const luma = c >= 3 ? (77 * data[p]! + 150 * data[p + 1]! + 29 * data[p + 2]!) >> 8 : data[p]!;
        thumb[thumbRow + thumbX[col]!]! += luma;
        hist[(regionRow + gridX[col]!) * BINS + (luma >> 4)]! += 1;
      }
    }
    for (let i = 0; i < thumb.length; i++) thumb[i] = thumb[i]! / cellCount[i]!;
    for (let i = 0; i < hist.length; i++) hist[i] = hist[i]! / regionCount[(i / BINS) | 0]!;
    out.width = width;
    out.height = height;
    out.channels = c;
  }

  private layoutFor(width: number, height: number): Layout {
    if (this.layout && this.layout.width === width && this.layout.height === height) return this.layout;
    const step = Math.max(1, Math.round(Math.sqrt((width * height) / TARGET_SAMPLES)));
    const columns = Math.ceil(width / step);
    const rows = Math.ceil(height / step);
    const thumbX = new Int32Array(columns);
    const gridX = new Int32Array(columns);
    for (let col = 0; col < columns; col++) {
      thumbX[col] = Math.min(THUMB_WIDTH - 1, Math.floor((col * step * THUMB_WIDTH) / width));
      gridX[col] = Math.min(GRID - 1, Math.floor((col * step * GRID) / width));
    }
    const thumbY = new Int32Array(rows);
    const gridY = new Int32Array(rows);
    for (let row = 0; row < rows; row++) {
      thumbY[row] = Math.min(THUMB_HEIGHT - 1, Math.floor((row * step * THUMB_HEIGHT) / height));
      gridY[row] = Math.min(GRID - 1, Math.floor((row * step * GRID) / height));
    }
    // A frame smaller than the thumbnail leaves cells without samples: counted as one, they stay 0 in both frames.
    const cellCount = new Float32Array(THUMB_WIDTH * THUMB_HEIGHT);
    const regionCount = new Float32Array(GRID * GRID);
    for (let row = 0; row < rows; row++) {
      for (let col = 0; col < columns; col++) {
        cellCount[thumbY[row]! * THUMB_WIDTH + thumbX[col]!]! += 1;
        regionCount[gridY[row]! * GRID + gridX[col]!]! += 1;
      }
    }
    for (let i = 0; i < cellCount.length; i++) cellCount[i] = Math.max(1, cellCount[i]!);
    for (let i = 0; i < regionCount.length; i++) regionCount[i] = Math.max(1, regionCount[i]!);
    this.layout = { width, height, step, thumbX, thumbY, gridX, gridY, cellCount, regionCount };
    return this.layout;
  }
}

/**
 * 1 − the correlation of two thumbnails after removing each one's mean, clamped to 0..1: a gain or
 * offset of the whole picture leaves it at 0. Two flat frames are the same shot; a flat frame next
 * to a textured one (a cut to or from black) is as different as can be.
 */
function structuralChange(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < n; i++) {
    meanA += a[i]!;
    meanB += b[i]!;
  }
  meanA /= n;
  meanB /= n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - meanA;
    const db = b[i]! - meanB;
    ab += da * db;
    aa += da * da;
    bb += db * db;
  }
  const flat = FLAT_SPREAD * FLAT_SPREAD * n;
  const flatA = aa < flat;
  const flatB = bb < flat;
  if (flatA || flatB) return flatA && flatB ? 0 : 1;
  return Math.min(1, Math.max(0, 1 - ab / Math.sqrt(aa * bb)));
}
