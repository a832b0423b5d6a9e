/**
 * The watermark's weighted correlation, the one implementation the reader (detect.ts) and the
 * embedder (embed.ts) share. Soft value per bit: the weighted mean of sign × coefficient over the
 * bit's chips, each chip weighted by its block's {@link blockWeight} (from the mean square of the
 * block's 12 chip coefficients); moving every chip of a bit by d·sign moves it by exactly d when the
 * weights stay put, which is what the ISS embedder relies on.
 *
 * Computed bit by bit: each bit's chips taken in slot order from tables built once per key, each
 * bit's sum in float32 (and its weight total in float64) in slot order, so the numbers are those of
 * the plain slot-order scatter into 64 float32 bins that the reader used before (pinned by
 * test/provenance/watermark-reader-golden.test.ts), only sooner: a bit's sum stays in a register.
 * The signed host coefficients are gathered once per frame and reused by the video embedder's
 * corrections, which change only the u+v = 2 chips. Platform-free.
 */

import { WATERMARK_BITS } from '../payload.js';
import { blockWeight, BLOCKS, PER_BLOCK, SLOTS, type ChipPattern } from './pattern.js';

/** Per key: every slot listed bit by bit (each bit's in slot order), with its block and where each slot went. */
interface BitTables {
  /** The slot at each position. */
  readonly slot: Int32Array;
  /** The block of the slot at each position. */
  readonly block: Uint16Array;
  /** Bit b's slots are at positions start[b] .. start[b + 1]. */
  readonly start: Int32Array;
  /** Each slot's position. */
  readonly position: Int32Array;
}

const tablesOf = new WeakMap<ChipPattern, BitTables>();

function bitTables(pattern: ChipPattern): BitTables {
  const cached = tablesOf.get(pattern);
  if (cached) return cached;
  const { bitOf } = pattern;
  const start = new Int32Array(WATERMARK_BITS + 1);
  for (let i = 0; i < SLOTS; i++) start[bitOf[i] + 1]++;
  for (let b = 0; b < WATERMARK_BITS; b++) start[b + 1] += start[b];
  const next = start.slice(0, WATERMARK_BITS);
  const slot = new Int32Array(SLOTS);
  const block = new Uint16Array(SLOTS);
  const position = new Int32Array(SLOTS);
  for (let i = 0; i < SLOTS; i++) {
    const j = next[bitOf[i]]++;
    slot[j] = i;
    block[j] = Math.floor(i / PER_BLOCK);
    position[i] = j;
  }
  const tables = { slot, block, start, position };
  tablesOf.set(pattern, tables);
  return tables;
}

/**
 * Reusable correlation of one key's chips: {@link loadHost} a frame's coefficients, then
 * {@link correlate}; for the embedder, {@link spreadAndWeigh} and {@link correlate} again for
 * host + change (the same numbers as loading host + change).
 */
export class BitCorrelator {
  private readonly tables: BitTables;
  /** sign × coefficient at each position (exact in float32). */
  private readonly signed = new Float32Array(SLOTS);
  /** The block weights of the last weighing. */
  readonly weights = new Float32Array(BLOCKS);
  /** Per bit, the sum of the weights over its chips in the last correlation. */
  readonly total = new Float64Array(WATERMARK_BITS);

  constructor(private readonly pattern: ChipPattern) {
    this.tables = bitTables(pattern);
  }

  /** Takes a frame's chip coefficients (slot order, 23,760 of them) and weighs their blocks. */
  loadHost(coeffs: Float32Array): void {
    const { position } = this.tables;
    const { sign } = this.pattern;
    const signed = this.signed;
    const weights = this.weights;
    for (let block = 0, i = 0; block < BLOCKS; block++) {
      let power = 0;
      for (const end = i + PER_BLOCK; i < end; i++) {
        const c = coeffs[i];
        power += c * c;
        signed[position[i]] = sign[i] * c;
      }
      weights[block] = blockWeight(power / PER_BLOCK);
    }
  }

  /**
   * Writes a change that is 0 outside the first `low` chips of each block, chip i of bit b in block
   * k getting bitScale[b] × sign[i] × blockScale[k] (in float32, into `delta`; the other chips of
   * `delta` are left as they are, 0), and weighs host + change as {@link loadHost} would; the changed
   * chips' signed values are updated to match (a later {@link loadHost} brings back the host's).
   * Returns the change's energy (Σ delta², in slot order).
   */
  spreadAndWeigh(coeffs: Float32Array, delta: Float32Array, low: number, bitScale: Float64Array, blockScale: Float32Array): number {
    const { position } = this.tables;
    const { sign, bitOf } = this.pattern;
    const signed = this.signed;
    const weights = this.weights;
    let energy = 0;
    for (let block = 0, i = 0; block < BLOCKS; block++) {
      const scale = blockScale[block];
      let power = 0;
      const end = i + PER_BLOCK;
      for (const lowEnd = i + low; i < lowEnd; i++) {
        const change = Math.fround(bitScale[bitOf[i]] * sign[i] * scale);
        delta[i] = change;
        energy += change * change;
        const v = Math.fround(coeffs[i] + change);
        power += v * v;
        signed[position[i]] = sign[i] * v;
      }
      for (; i < end; i++) power += coeffs[i] * coeffs[i];
      weights[block] = blockWeight(power / PER_BLOCK);
    }
    return energy;
  }

  /** Soft value per bit (the weighted mean of sign × coefficient over its chips) with the last weighing, into `out`. */
  correlate(out: Float32Array): Float32Array {
    // Four bits at a time: each bit's sums are a chain of dependent additions, so four chains keep
    // the core busy. Math.fround after each step: each bit's sum is a float32 sum in slot order.
    const { block, start } = this.tables;
    const signed = this.signed;
    const weights = this.weights;
    const quarter = WATERMARK_BITS / 4;
    for (let b0 = 0; b0 < quarter; b0++) {
      const b1 = b0 + quarter;
      const b2 = b1 + quarter;
      const b3 = b2 + quarter;
      let j0 = start[b0];
      let j1 = start[b1];
      let j2 = start[b2];
      let j3 = start[b3];
      const n = Math.min(start[b0 + 1] - j0, start[b1 + 1] - j1, start[b2 + 1] - j2, start[b3 + 1] - j3);
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      for (let k = 0; k < n; k++, j0++, j1++, j2++, j3++) {
        const w0 = weights[block[j0]];
        const w1 = weights[block[j1]];
        const w2 = weights[block[j2]];
        const w3 = weights[block[j3]];
        s0 = Math.fround(s0 + w0 * signed[j0]);
        s1 = Math.fround(s1 + w1 * signed[j1]);
        s2 = Math.fround(s2 + w2 * signed[j2]);
        s3 = Math.fround(s3 + w3 * signed[j3]);
        t0 += w0;
        t1 += w1;
        t2 += w2;
        t3 += w3;
      }
      this.finish(out, b0, j0, s0, t0);
      this.finish(out, b1, j1, s1, t1);
      this.finish(out, b2, j2, s2, t2);
      this.finish(out, b3, j3, s3, t3);
    }
    return out;
  }

  /** Bit b's sums from position j on (the chips left after the four-bit loop), into `out` and {@link total}. */
  private finish(out: Float32Array, b: number, j: number, sum: number, weight: number): void {
    const { block, start } = this.tables;
    for (const end = start[b + 1]; j < end; j++) {
      const w = this.weights[block[j]];
      sum = Math.fround(sum + w * this.signed[j]);
      weight += w;
    }
    this.total[b] = weight;
    out[b] = sum / weight;
  }
}
