/**
 * The watermark's key-dependent half and its layout: the canonical 480×270 luma grid cut into
 * 8×8 blocks of 12 mid-frequency DCT chips, the keyed pattern that deals those chips to the 64
 * payload bits with pseudo-random signs, and the block weights of the correlation that reads a bit's
 * soft value back (the correlation itself is bit-order.ts's). Shared by the embedder (embed.ts) and
 * the detector (detect.ts). Platform-free.
 */

import { WATERMARK_BITS } from '../payload.js';

export const WATERMARK_KEY_BYTES = 32;

// Canonical grid: 480×270 luma, 60×33 blocks of 8×8 (rows 264..269 carry no chips).
export const GRID_W = 480;
export const GRID_H = 270;
export const BLOCKS_X = 60;
export const BLOCKS_Y = 33;
export const CHIP_ROWS = BLOCKS_Y * 8;
export const BLOCKS = BLOCKS_X * BLOCKS_Y;
/** AC coefficients (u horizontal, v vertical) with u+v ∈ {2,3,4}: 12 per block. */
const COEFF_SUMS = [2, 3, 4];
const COEFFS: ReadonlyArray<readonly [number, number]> = COEFF_SUMS.flatMap((sum) => Array.from({ length: sum + 1 }, (_, u) => [u, sum - u] as const));
export const PER_BLOCK = COEFFS.length;
export const SLOTS = BLOCKS * PER_BLOCK;
export const MAX_FREQ = 5; // u, v < 5

/** Orthonormal 8-point DCT-II basis rows k = 0..4: BASIS[k*8+n]. */
export const BASIS = (() => {
  const b = new Float32Array(MAX_FREQ * 8);
  for (let k = 0; k < MAX_FREQ; k++) {
    const c = k === 0 ? Math.sqrt(1 / 8) : Math.sqrt(2 / 8);
    for (let n = 0; n < 8; n++) b[k * 8 + n] = c * Math.cos(((2 * n + 1) * k * Math.PI) / 16);
  }
  return b;
})();
export const COEFF_U = Int32Array.from(COEFFS, ([u]) => u);
export const COEFF_V = Int32Array.from(COEFFS, ([, v]) => v);

// ---------------------------------------------------------------------------------------------
// Key → chip pattern

export interface ChipPattern {
  /** Payload bit (0..63) of each coefficient slot (block*12 + coefficient). */
  readonly bitOf: Uint8Array;
  /** Keyed ±1 pseudo-noise sign of each slot. */
  readonly sign: Float32Array;
}

const PATTERN_CACHE_SIZE = 16;
const patternCache = new Map<string, ChipPattern>();

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== WATERMARK_KEY_BYTES) {
    throw new RangeError(`watermark key must be a Uint8Array of ${WATERMARK_KEY_BYTES} bytes, got ${key instanceof Uint8Array ? `${key.length} bytes` : typeof key}`);
  }
}

/** murmur3's 32-bit finaliser: a bijective mix, so distinct keys give distinct seeds. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** xoshiro128** seeded from the 8 key words, one mixing lane per state word. */
function keyedRandom(key: Uint8Array): () => number {
  const s = new Uint32Array(4);
  for (let lane = 0; lane < 4; lane++) {
    let h = Math.imul(0x9e3779b9, lane + 1) >>> 0;
    for (let w = 0; w < 8; w++) {
      const word = key[w * 4] | (key[w * 4 + 1] << 8) | (key[w * 4 + 2] << 16) | (key[w * 4 + 3] << 24);
      h = fmix32((h ^ word) + Math.imul(w + 1, 0x7f4a7c15));
    }
    s[lane] = h;
  }
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return () => {
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The chip pattern of a key, derived once and kept in a small cache (embed/measure run per frame). */
export function chipPattern(key: Uint8Array): ChipPattern {
  checkKey(key);
  let hex = '';
  for (let i = 0; i < key.length; i++) hex += key[i].toString(16).padStart(2, '0');
  const cached = patternCache.get(hex);
  if (cached) return cached;
  const next = keyedRandom(key);
  // A keyed permutation of all slots, dealt round-robin to the 64 bits: each bit's chips are
  // scattered over the whole frame, 371 or 372 of them.
  const order = new Int32Array(SLOTS);
  for (let i = 0; i < SLOTS; i++) order[i] = i;
  for (let i = SLOTS - 1; i > 0; i--) {
    const j = Math.floor((next() / 4294967296) * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const bitOf = new Uint8Array(SLOTS);
  for (let i = 0; i < SLOTS; i++) bitOf[order[i]] = i % WATERMARK_BITS;
  const sign = new Float32Array(SLOTS);
  for (let i = 0; i < SLOTS; i += 32) {
    const word = next();
    for (let b = 0; b < 32 && i + b < SLOTS; b++) sign[i + b] = (word >>> b) & 1 ? 1 : -1;
  }
  const pattern = { bitOf, sign };
  if (patternCache.size >= PATTERN_CACHE_SIZE) patternCache.delete(patternCache.keys().next().value!);
  patternCache.set(hex, pattern);
  return pattern;
}

/**
 * Added to each block's host variance before inverting it into a weight, in squared DCT units of the
 * canonical grid, so flat blocks count for more than textured ones but not without bound. Chosen on
 * the bench clips: 3, 10 and 30 land within a point of bit accuracy of each other after CRF 28.
 */
const VARIANCE_FLOOR = 10;

/**
 * A block's weight in the correlation from its host power (the mean square of its 12 chip
 * coefficients): 1 / (power + floor). Host content is the noise a correlation detector fights, and
 * it varies a lot from block to block (sky against foliage); weighting by its inverse is the matched
 * filter for that. It also favours the chips a lossy encoder keeps best: x264's adaptive
 * quantisation codes flat areas at finer steps, while motion compensation smears the pattern in
 * textured ones.
 */
export function blockWeight(power: number): number {
  return 1 / (power + VARIANCE_FLOOR);
}

/** The host power a block weight was made from: {@link blockWeight}'s inverse. */
export function blockPower(weight: number): number {
  return 1 / weight - VARIANCE_FLOOR;
}
