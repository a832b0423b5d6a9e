/**
 * Invisible video watermark (improved spread spectrum, Malvar & Florêncio 2003): the 64 payload
 * bits are spread over keyed mid-frequency DCT chips of a canonical 480×270 luma grid, each block's
 * chips weighted by the inverse of its host variance, and a detector sums per-frame soft
 * correlations over windows of frames before deciding. Platform-free:
 * typed arrays only, so it runs in Node and in a browser Worker.
 */

import type { Image } from '../core/image.js';
import { WATERMARK_BITS, decodePayload, encodePayload, type WatermarkPayload } from './payload.js';
import { upsampleKernel } from './upsample-simd.js';

export const WATERMARK_KEY_BYTES = 32;
/**
 * ISS target correlation for video frames (DCT units of the canonical grid); votes over frames do
 * the rest. 3.75 keeps PSNR-Y near 45.5 dB on 1080p clips (the spec's floor is 45); 3.5 gives
 * 46 dB but lets a hard H.265 CRF 28 clip drop a bit in a 1-s window.
 */
export const DEFAULT_VIDEO_STRENGTH = 3.75;
/**
 * Stills get one frame and no votes. On the 512-px fixture photos, JPEG q75 + 0.5× resize leaves
 * them narrower than the 480-column grid, so the higher chips are lost: 5 is the smallest strength
 * that recovers every bit with a little margin, 6 leaves more (PSNR-Y ≈ 41 dB on those photos).
 */
export const DEFAULT_STILL_STRENGTH = 6;

export interface WatermarkOptions {
  /** ISS target |correlation| per bit on the canonical grid. Default {@link DEFAULT_VIDEO_STRENGTH}. */
  strength?: number;
}

// Canonical grid: 480×270 luma, 60×33 blocks of 8×8 (rows 264..269 carry no chips).
const GRID_W = 480;
const GRID_H = 270;
const BLOCKS_X = 60;
const BLOCKS_Y = 33;
const CHIP_ROWS = BLOCKS_Y * 8;
const BLOCKS = BLOCKS_X * BLOCKS_Y;
/** AC coefficients (u horizontal, v vertical) with u+v ∈ {2,3,4}: 12 per block. */
const COEFF_SUMS = [2, 3, 4];
const COEFFS: ReadonlyArray<readonly [number, number]> = COEFF_SUMS.flatMap((sum) => Array.from({ length: sum + 1 }, (_, u) => [u, sum - u] as const));
const PER_BLOCK = COEFFS.length;
const SLOTS = BLOCKS * PER_BLOCK;
const MAX_FREQ = 5; // u, v < 5

/** Orthonormal 8-point DCT-II basis rows k = 0..4: BASIS[k*8+n]. */
const BASIS = (() => {
  const b = new Float32Array(MAX_FREQ * 8);
  for (let k = 0; k < MAX_FREQ; k++) {
    const c = k === 0 ? Math.sqrt(1 / 8) : Math.sqrt(2 / 8);
    for (let n = 0; n < 8; n++) b[k * 8 + n] = c * Math.cos(((2 * n + 1) * k * Math.PI) / 16);
  }
  return b;
})();
const COEFF_U = Int32Array.from(COEFFS, ([u]) => u);
const COEFF_V = Int32Array.from(COEFFS, ([, v]) => v);

// ---------------------------------------------------------------------------------------------
// Key → chip pattern

interface ChipPattern {
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
function chipPattern(key: Uint8Array): ChipPattern {
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
 * Per-block weights 1 / (variance + floor), the variance being the mean square of the block's 12
 * chip coefficients. Host content is the noise a correlation detector fights, and it varies a lot
 * from block to block (sky against foliage); weighting by its inverse is the matched filter for
 * that. It also favours the chips a lossy encoder keeps best: x264's adaptive quantisation codes
 * flat areas at finer steps, while motion compensation smears the pattern in textured ones.
 */
function blockWeights(coeffs: Float32Array, out: Float32Array): Float32Array {
  for (let block = 0, i = 0; block < BLOCKS; block++) {
    let power = 0;
    for (const end = i + PER_BLOCK; i < end; i++) power += coeffs[i] * coeffs[i];
    out[block] = 1 / (power / PER_BLOCK + VARIANCE_FLOOR);
  }
  return out;
}

/** Reusable buffers of {@link correlate}. */
class CorrelationScratch {
  readonly weights = new Float32Array(BLOCKS);
  readonly total = new Float64Array(WATERMARK_BITS);
}

/**
 * Soft value per bit: the weighted mean of sign × coefficient over the bit's chips, with the
 * {@link blockWeights} of the same coefficients. Moving every chip of a bit by d·sign moves it by
 * exactly d, which is what the ISS embedder relies on.
 */
function correlate(pattern: ChipPattern, coeffs: Float32Array, out = new Float32Array(WATERMARK_BITS), scratch = new CorrelationScratch()): Float32Array {
  const { bitOf, sign } = pattern;
  const weights = blockWeights(coeffs, scratch.weights);
  const total = scratch.total;
  out.fill(0);
  total.fill(0);
  for (let block = 0, i = 0; block < BLOCKS; block++) {
    const w = weights[block];
    for (const end = i + PER_BLOCK; i < end; i++) {
      const bit = bitOf[i];
      out[bit] += w * sign[i] * coeffs[i];
      total[bit] += w;
    }
  }
  for (let b = 0; b < WATERMARK_BITS; b++) out[b] /= total[b];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Frame ↔ canonical grid

/** Area-resampling weights from `src` samples to `dst` samples, per destination sample. */
function areaWeights(src: number, dst: number): { start: Int32Array; index: Int32Array; weight: Float32Array } {
  const scale = src / dst;
  const start = new Int32Array(dst + 1);
  const index: number[] = [];
  const weight: number[] = [];
  for (let i = 0; i < dst; i++) {
    const a = i * scale;
    const b = (i + 1) * scale;
    for (let j = Math.floor(a); j < Math.min(src, Math.ceil(b)); j++) {
      const overlap = Math.min(b, j + 1) - Math.max(a, j);
      if (overlap > 1e-9) {
        index.push(j);
        weight.push(overlap / scale);
      }
    }
    start[i + 1] = index.length;
  }
  return { start, index: Int32Array.from(index), weight: Float32Array.from(weight) };
}

/** Bilinear sample positions on a `grid`-sample axis for each of `size` frame pixels (centres aligned). */
function bilinearTaps(size: number, grid: number): { i0: Int32Array; i1: Int32Array; frac: Float32Array } {
  const i0 = new Int32Array(size);
  const i1 = new Int32Array(size);
  const frac = new Float32Array(size);
  for (let x = 0; x < size; x++) {
    const g = Math.min(grid - 1, Math.max(0, ((x + 0.5) * grid) / size - 0.5));
    const lo = Math.floor(g);
    i0[x] = lo;
    i1[x] = Math.min(grid - 1, lo + 1);
    frac[x] = g - lo;
  }
  return { i0, i1, frac };
}

/** The column weights turned around: per source pixel, the (at most two) grid columns it feeds. */
function scatterWeights(cols: ReturnType<typeof areaWeights>, width: number): { col: Int32Array; w0: Float32Array; w1: Float32Array } {
  const col = new Int32Array(width).fill(-1);
  const w0 = new Float32Array(width);
  const w1 = new Float32Array(width);
  for (let i = 0; i < GRID_W; i++) {
    for (let k = cols.start[i]; k < cols.start[i + 1]; k++) {
      const x = cols.index[k];
      if (col[x] < 0) {
        col[x] = i;
        w0[x] = cols.weight[k];
      } else {
        w1[x] = cols.weight[k]; // the next column, i === col[x] + 1
      }
    }
  }
  for (let x = 0; x < width; x++) if (col[x] < 0) col[x] = GRID_W - 1; // cannot happen: every pixel is covered
  return { col, w0, w1 };
}

/** Resampling tables for one frame size, built once per size. */
class Geometry {
  readonly cols: ReturnType<typeof areaWeights>;
  /** Per source row: the chip-carrying grid rows it feeds and their weights. */
  readonly rowStart: Int32Array;
  readonly rowTarget: Int32Array;
  readonly rowWeight: Float32Array;
  /** Pixels per grid column when the width is a whole multiple of 480, else 0. */
  readonly boxWidth: number;
  /** For frames at least as wide as the grid: per source pixel, its first grid column and two weights. */
  readonly scatter: { col: Int32Array; w0: Float32Array; w1: Float32Array } | undefined;
  readonly upX: ReturnType<typeof bilinearTaps>;
  readonly upY: ReturnType<typeof bilinearTaps>;

  constructor(readonly width: number, readonly height: number) {
    this.cols = areaWeights(width, GRID_W);
    const rows = areaWeights(height, GRID_H);
    const perSource: Array<Array<[number, number]>> = Array.from({ length: height }, () => []);
    for (let r = 0; r < CHIP_ROWS; r++) {
      for (let e = rows.start[r]; e < rows.start[r + 1]; e++) perSource[rows.index[e]].push([r, rows.weight[e]]);
    }
    this.rowStart = new Int32Array(height + 1);
    const flat = perSource.flat();
    this.rowTarget = Int32Array.from(flat, ([r]) => r);
    this.rowWeight = Float32Array.from(flat, ([, w]) => w);
    for (let y = 0; y < height; y++) this.rowStart[y + 1] = this.rowStart[y] + perSource[y].length;
    this.boxWidth = width % GRID_W === 0 ? width / GRID_W : 0;
    this.scatter = width >= GRID_W ? scatterWeights(this.cols, width) : undefined;
    this.upX = bilinearTaps(width, GRID_W);
    this.upY = bilinearTaps(height, GRID_H);
  }
}

function checkImage(image: Image, what: string, channels: readonly number[]): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 16) {
    throw new RangeError(`${what}: the image must be at least 16×16 pixels, got ${width}×${height}`);
  }
  if (!channels.includes(image.channels)) throw new RangeError(`${what}: expected ${channels.join(', ')} channels, got ${image.channels}`);
  if (data.length !== width * height * image.channels) {
    throw new RangeError(`${what}: data holds ${data.length} bytes, expected ${width}×${height}×${image.channels}`);
  }
}

/** Offset that keeps rounded deltas positive for the `| 0` truncation, and the clamp table it indexes. */
const DELTA_BIAS = 384;
const CLAMP = (() => {
  const t = new Uint8Array(256 + 2 * DELTA_BIAS);
  for (let i = 0; i < t.length; i++) t[i] = Math.max(0, Math.min(255, i - DELTA_BIAS));
  return t;
})();

/**
 * One frame row of a 4× bilinear upsample of `interp` (pixel centres aligned, edges clamped) added
 * to the colour channels: fixed fractions, no tap tables. Same result as the general path. No
 * test for a zero delta: whether a pixel's delta rounds to 0 is close to random, and the branch
 * mispredictions cost more than the writes they would save.
 */
function addRowTimesFour(interp: Float32Array, bytes: Uint8Array, row: number, c: number): void {
  let p = row;
  for (let i = 0; i < GRID_W; i++) {
    const mid = interp[i];
    const lo = i > 0 ? interp[i - 1] : mid;
    const hi = i < GRID_W - 1 ? interp[i + 1] : mid;
    const left = mid - lo;
    const right = hi - mid;
    const base = mid + DELTA_BIAS + 0.5;
    const d0 = (base - 0.375 * left) | 0;
    const d1 = (base - 0.125 * left) | 0;
    const d2 = (base + 0.125 * right) | 0;
    const d3 = (base + 0.375 * right) | 0;
    bytes[p] = CLAMP[bytes[p] + d0];
    bytes[p + 1] = CLAMP[bytes[p + 1] + d0];
    bytes[p + 2] = CLAMP[bytes[p + 2] + d0];
    p += c;
    bytes[p] = CLAMP[bytes[p] + d1];
    bytes[p + 1] = CLAMP[bytes[p + 1] + d1];
    bytes[p + 2] = CLAMP[bytes[p + 2] + d1];
    p += c;
    bytes[p] = CLAMP[bytes[p] + d2];
    bytes[p + 1] = CLAMP[bytes[p + 1] + d2];
    bytes[p + 2] = CLAMP[bytes[p + 2] + d2];
    p += c;
    bytes[p] = CLAMP[bytes[p] + d3];
    bytes[p + 1] = CLAMP[bytes[p + 1] + d3];
    bytes[p + 2] = CLAMP[bytes[p + 2] + d3];
    p += c;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const EVEN_BYTES = 0x00ff00ff;

/** 1080p-style frames (4 pixels per grid column, colour, word-aligned) as 32-bit words, else undefined. */
function wordView(image: Image, g: Geometry): Int32Array | undefined {
  const { data, channels } = image;
  if (!LITTLE_ENDIAN || g.boxWidth !== 4 || channels === 1 || (data.byteOffset & 3) !== 0) return undefined;
  return new Int32Array(data.buffer, data.byteOffset, data.length >> 2);
}

/**
 * One chip row of a 1920×1080 frame: the BT.601 luma mean of each 4×4 box. Four frame rows are
 * summed word by word in 16-bit lanes (even and odd bytes apart, at most 4 × 255 per lane), and the
 * channels are pulled out of the lanes once per box instead of once per row.
 */
function boxBlockRow(words: Int32Array, q0: number, stride: number, rgba: boolean, grid: Float32Array, o: number): void {
  const kr = 0.299 / 16;
  const kg = 0.587 / 16;
  const kb = 0.114 / 16;
  const q1 = q0 + stride;
  const q2 = q1 + stride;
  const q3 = q2 + stride;
  if (!rgba) {
    for (let i = 0, q = 0; i < GRID_W; i++, q += 3) {
      // Word k of the box's run in each row, even bytes (lanes 0, 2) and odd bytes (lanes 1, 3).
      let a = words[q0 + q], b = words[q1 + q], c = words[q2 + q], d = words[q3 + q];
      const e0 = (a & EVEN_BYTES) + (b & EVEN_BYTES) + (c & EVEN_BYTES) + (d & EVEN_BYTES);
      const o0 = ((a >>> 8) & EVEN_BYTES) + ((b >>> 8) & EVEN_BYTES) + ((c >>> 8) & EVEN_BYTES) + ((d >>> 8) & EVEN_BYTES);
      a = words[q0 + q + 1]; b = words[q1 + q + 1]; c = words[q2 + q + 1]; d = words[q3 + q + 1];
      const e1 = (a & EVEN_BYTES) + (b & EVEN_BYTES) + (c & EVEN_BYTES) + (d & EVEN_BYTES);
      const o1 = ((a >>> 8) & EVEN_BYTES) + ((b >>> 8) & EVEN_BYTES) + ((c >>> 8) & EVEN_BYTES) + ((d >>> 8) & EVEN_BYTES);
      a = words[q0 + q + 2]; b = words[q1 + q + 2]; c = words[q2 + q + 2]; d = words[q3 + q + 2];
      const e2 = (a & EVEN_BYTES) + (b & EVEN_BYTES) + (c & EVEN_BYTES) + (d & EVEN_BYTES);
      const o2 = ((a >>> 8) & EVEN_BYTES) + ((b >>> 8) & EVEN_BYTES) + ((c >>> 8) & EVEN_BYTES) + ((d >>> 8) & EVEN_BYTES);
      // Bytes R0 G0 B0 R1 | G1 B1 R2 G2 | B2 R3 G3 B3: even lanes hold bytes 0 and 2, odd 1 and 3.
      const r = (e0 & 0xffff) + (o0 >>> 16) + (e1 >>> 16) + (o2 & 0xffff);
      const gr = (o0 & 0xffff) + (e1 & 0xffff) + (o1 >>> 16) + (e2 >>> 16);
      const bl = (e0 >>> 16) + (o1 & 0xffff) + (e2 & 0xffff) + (o2 >>> 16);
      grid[o + i] = kr * r + kg * gr + kb * bl;
    }
    return;
  }
  for (let i = 0, q = 0; i < GRID_W; i++) {
    let even = 0; // R in lane 0, B in lane 2
    let odd = 0; // G in lane 1 (alpha in lane 3, unused)
    for (let k = 0; k < 4; k++, q++) {
      const a = words[q0 + q], b = words[q1 + q], c = words[q2 + q], d = words[q3 + q];
      even += (a & EVEN_BYTES) + (b & EVEN_BYTES) + (c & EVEN_BYTES) + (d & EVEN_BYTES);
      odd += ((a >>> 8) & 0xff) + ((b >>> 8) & 0xff) + ((c >>> 8) & 0xff) + ((d >>> 8) & 0xff);
    }
    grid[o + i] = kr * (even & 0xffff) + kg * odd + kb * (even >>> 16);
  }
}

/** Mean luma of each run of `k` colour pixels in one row (frames whose width is k × 480). */
function boxRow(data: Uint8ClampedArray, p0: number, channels: number, k: number, rowSum: Float32Array): void {
  const step = k * channels;
  const scale = 1 / k;
  for (let i = 0, p = p0; i < GRID_W; i++, p += step) {
    let r = 0;
    let gr = 0;
    let b = 0;
    for (let q = p; q < p + step; q += channels) {
      r += data[q];
      gr += data[q + 1];
      b += data[q + 2];
    }
    rowSum[i] = scale * (0.299 * r + 0.587 * gr + 0.114 * b);
  }
}

/**
 * {@link boxRow} for k = 4 from 32-bit little-endian words: RGB packs 4 pixels in 3 words, RGBA
 * one pixel per word. A quarter of the loads of byte access, which is what the downscale costs.
 */
function boxRowTimesFour(words: Int32Array, q0: number, channels: number, rowSum: Float32Array): void {
  const kr = 0.299 / 4;
  const kg = 0.587 / 4;
  const kb = 0.114 / 4;
  if (channels === 3) {
    for (let i = 0, q = q0; i < GRID_W; i++, q += 3) {
      const w0 = words[q];
      const w1 = words[q + 1];
      const w2 = words[q + 2];
      const r = (w0 & 255) + (w0 >>> 24) + ((w1 >>> 16) & 255) + ((w2 >>> 8) & 255);
      const gr = ((w0 >>> 8) & 255) + (w1 & 255) + (w1 >>> 24) + ((w2 >>> 16) & 255);
      const b = ((w0 >>> 16) & 255) + ((w1 >>> 8) & 255) + (w2 & 255) + (w2 >>> 24);
      rowSum[i] = kr * r + kg * gr + kb * b;
    }
  } else {
    for (let i = 0, q = q0; i < GRID_W; i++, q += 4) {
      const w0 = words[q];
      const w1 = words[q + 1];
      const w2 = words[q + 2];
      const w3 = words[q + 3];
      const r = (w0 & 255) + (w1 & 255) + (w2 & 255) + (w3 & 255);
      const gr = ((w0 >>> 8) & 255) + ((w1 >>> 8) & 255) + ((w2 >>> 8) & 255) + ((w3 >>> 8) & 255);
      const b = ((w0 >>> 16) & 255) + ((w1 >>> 16) & 255) + ((w2 >>> 16) & 255) + ((w3 >>> 16) & 255);
      rowSum[i] = kr * r + kg * gr + kb * b;
    }
  }
}

/** Per-frame scratch: the luma grid, its chip coefficients and the residual, reused across frames. */
class GridScratch {
  private geometry: Geometry | undefined;
  private lumaRow = new Float32Array(0);
  private readonly rowSum = new Float32Array(GRID_W + 1); // +1: the scatter's second column at the right edge
  private readonly grid = new Float32Array(GRID_W * CHIP_ROWS);
  readonly coeffs = new Float32Array(SLOTS);
  private readonly residual = new Float32Array(GRID_W * GRID_H);
  private readonly interp = new Float32Array(GRID_W);
  private readonly rows = new Float32Array(8 * MAX_FREQ);

  private geometryFor(image: Image): Geometry {
    if (!this.geometry || this.geometry.width !== image.width || this.geometry.height !== image.height) {
      this.geometry = new Geometry(image.width, image.height);
      this.lumaRow = new Float32Array(image.width);
    }
    return this.geometry;
  }

  /** Area-resamples the image's luma (BT.601 weights) to the chip rows of the canonical grid. */
  private downscale(image: Image): void {
    const g = this.geometryFor(image);
    const { width, height, channels, data } = image;
    const rowSum = this.rowSum;
    const grid = this.grid;
    const words = wordView(image, g);
    grid.fill(0);
    if (words && height === 4 * GRID_H) {
      // 1080p: each chip row is the mean of a 4×4 box; four frame rows at a time.
      const stride = (width * channels) >> 2;
      for (let r = 0; r < CHIP_ROWS; r++) boxBlockRow(words, 4 * r * stride, stride, channels === 4, grid, r * GRID_W);
      return;
    }
    for (let y = 0; y < height; y++) {
      const e0 = g.rowStart[y];
      const e1 = g.rowStart[y + 1];
      if (e0 === e1) continue;
      const p0 = y * width * channels;
      if (words) boxRowTimesFour(words, p0 >> 2, channels, rowSum);
      else if (g.boxWidth > 0 && channels !== 1) boxRow(data, p0, channels, g.boxWidth, rowSum);
      else this.resampleRow(data, p0, width, channels, g, rowSum);
      for (let e = e0; e < e1; e++) {
        const w = g.rowWeight[e];
        const o = g.rowTarget[e] * GRID_W;
        for (let i = 0; i < GRID_W; i++) grid[o + i] += w * rowSum[i];
      }
    }
  }

  /** One row's luma area-resampled to 480 columns, any width. */
  private resampleRow(data: Uint8ClampedArray, p0: number, width: number, channels: number, g: Geometry, rowSum: Float32Array): void {
    if (g.scatter) {
      // Each source pixel overlaps at most two grid columns: scatter its luma with two weights.
      const { col, w0, w1 } = g.scatter;
      rowSum.fill(0);
      if (channels === 1) {
        for (let x = 0; x < width; x++) {
          const l = data[p0 + x];
          const o = col[x];
          rowSum[o] += w0[x] * l;
          rowSum[o + 1] += w1[x] * l;
        }
        return;
      }
      for (let x = 0, p = p0; x < width; x++, p += channels) {
        const l = 0.299 * data[p] + 0.587 * data[p + 1] + 0.114 * data[p + 2];
        const o = col[x];
        rowSum[o] += w0[x] * l;
        rowSum[o + 1] += w1[x] * l;
      }
      return;
    }
    // Narrower than the grid: each grid column reads one or two source pixels.
    const luma = this.lumaRow;
    const { start, index, weight } = g.cols;
    for (let x = 0, p = p0; x < width; x++, p += channels) luma[x] = channels === 1 ? data[p] : 0.299 * data[p] + 0.587 * data[p + 1] + 0.114 * data[p + 2];
    for (let i = 0; i < GRID_W; i++) {
      let s = 0;
      for (let k = start[i]; k < start[i + 1]; k++) s += weight[k] * luma[index[k]];
      rowSum[i] = s;
    }
  }

  /** The 12 chip coefficients of every block (slot = block*12 + k), into `this.coeffs`. */
  analyze(image: Image): Float32Array {
    this.downscale(image);
    const grid = this.grid;
    const rows = this.rows;
    const coeffs = this.coeffs;
    const basis = BASIS;
    const cu = COEFF_U;
    const cv = COEFF_V;
    for (let by = 0, slot = 0; by < BLOCKS_Y; by++) {
      for (let bx = 0; bx < BLOCKS_X; bx++, slot += PER_BLOCK) {
        const base = by * 8 * GRID_W + bx * 8;
        // Row transforms for u = 0..4, then column transforms for the 12 (u, v).
        for (let y = 0; y < 8; y++) {
          const o = base + y * GRID_W;
          const a0 = grid[o], a1 = grid[o + 1], a2 = grid[o + 2], a3 = grid[o + 3];
          const a4 = grid[o + 4], a5 = grid[o + 5], a6 = grid[o + 6], a7 = grid[o + 7];
          for (let u = 0, r = y * MAX_FREQ; u < MAX_FREQ; u++, r++) {
            const b = u * 8;
            rows[r] = basis[b] * a0 + basis[b + 1] * a1 + basis[b + 2] * a2 + basis[b + 3] * a3 +
              basis[b + 4] * a4 + basis[b + 5] * a5 + basis[b + 6] * a6 + basis[b + 7] * a7;
          }
        }
        for (let k = 0; k < PER_BLOCK; k++) {
          const u = cu[k];
          const b = cv[k] * 8;
          coeffs[slot + k] = basis[b] * rows[u] + basis[b + 1] * rows[MAX_FREQ + u] + basis[b + 2] * rows[2 * MAX_FREQ + u] +
            basis[b + 3] * rows[3 * MAX_FREQ + u] + basis[b + 4] * rows[4 * MAX_FREQ + u] + basis[b + 5] * rows[5 * MAX_FREQ + u] +
            basis[b + 6] * rows[6 * MAX_FREQ + u] + basis[b + 7] * rows[7 * MAX_FREQ + u];
        }
      }
    }
    return coeffs;
  }

  /** Inverse DCT of per-slot coefficient changes into the residual grid (rows ≥ 264 stay 0). */
  synthesize(slotDelta: Float32Array): void {
    const res = this.residual;
    const t = this.rows;
    for (let by = 0, slot = 0; by < BLOCKS_Y; by++) {
      for (let bx = 0; bx < BLOCKS_X; bx++, slot += PER_BLOCK) {
        t.fill(0);
        for (let k = 0; k < PER_BLOCK; k++) {
          const d = slotDelta[slot + k];
          const u = COEFF_U[k];
          const v = COEFF_V[k];
          for (let y = 0; y < 8; y++) t[y * MAX_FREQ + u] += d * BASIS[v * 8 + y];
        }
        const base = by * 8 * GRID_W + bx * 8;
        for (let y = 0; y < 8; y++) {
          const o = base + y * GRID_W;
          const r = y * MAX_FREQ;
          for (let x = 0; x < 8; x++) {
            res[o + x] = t[r] * BASIS[x] + t[r + 1] * BASIS[8 + x] + t[r + 2] * BASIS[16 + x] + t[r + 3] * BASIS[24 + x] + t[r + 4] * BASIS[32 + x];
          }
        }
      }
    }
  }

  /** Bilinear-upsamples the residual to the frame and adds it to every colour channel (alpha kept). */
  addResidual(image: Image): void {
    const g = this.geometryFor(image);
    const { width, height, channels, data } = image;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length);
    const res = this.residual;
    const interp = this.interp;
    const { i0: y0, i1: y1, frac: fy } = g.upY;
    const fourWide = g.boxWidth === 4 && channels !== 1;
    const kernel = channels !== 1 ? upsampleKernel() : undefined;
    const simd = kernel !== undefined && kernel.prepareWidth(width, g.upX) && kernel.setResidual(res);
    for (let y = 0; y < height; y++) {
      const a = y0[y] * GRID_W;
      const b = y1[y] * GRID_W;
      if (a >= CHIP_ROWS * GRID_W && b >= CHIP_ROWS * GRID_W) continue; // no chips below row 264
      const f = fy[y];
      const row = y * width * channels;
      if (simd) {
        kernel.addRow(bytes, row, channels as 3 | 4, y0[y], y1[y], f);
        continue;
      }
      for (let i = 0; i < GRID_W; i++) interp[i] = res[a + i] + f * (res[b + i] - res[a + i]);
      if (fourWide) addRowTimesFour(interp, bytes, row, channels);
      else addRow(interp, bytes, row, width, channels, g.upX);
    }
  }
}

/**
 * One frame row of the bilinear upsample added to the colour channels. The delta is rounded once
 * per pixel (floor(v + 0.5) for |v| < 384) and clamped through a table: integer work instead of
 * three float→clamped-byte conversions per pixel.
 */
function addRow(interp: Float32Array, bytes: Uint8Array, row: number, width: number, channels: number, taps: ReturnType<typeof bilinearTaps>): void {
  const { i0, i1, frac } = taps;
  if (channels === 1) {
    for (let x = 0, p = row; x < width; x++, p++) {
      const lo = interp[i0[x]];
      bytes[p] = CLAMP[bytes[p] + ((lo + frac[x] * (interp[i1[x]] - lo) + DELTA_BIAS + 0.5) | 0)];
    }
    return;
  }
  for (let x = 0, p = row; x < width; x++, p += channels) {
    const lo = interp[i0[x]];
    const d = (lo + frac[x] * (interp[i1[x]] - lo) + DELTA_BIAS + 0.5) | 0;
    bytes[p] = CLAMP[bytes[p] + d];
    bytes[p + 1] = CLAMP[bytes[p + 1] + d];
    bytes[p + 2] = CLAMP[bytes[p + 2] + d];
  }
}

// ---------------------------------------------------------------------------------------------
// Embedding and measuring

/** Writes one payload with one key into frames, in place; holds its scratch, so reuse it across frames. */
export class WatermarkEmbedder {
  private readonly pattern: ChipPattern;
  private readonly signs = new Float32Array(WATERMARK_BITS);
  private readonly strength: number;
  private readonly scratch = new GridScratch();
  private readonly correlation = new CorrelationScratch();
  private readonly soft = new Float32Array(WATERMARK_BITS);
  private readonly bitDelta = new Float32Array(WATERMARK_BITS);
  private readonly slotDelta = new Float32Array(SLOTS);

  constructor(key: Uint8Array, payload: WatermarkPayload, options: WatermarkOptions = {}) {
    this.pattern = chipPattern(key);
    const strength = options.strength ?? DEFAULT_VIDEO_STRENGTH;
    if (!Number.isFinite(strength) || strength <= 0) throw new RangeError(`strength must be a positive number, got ${String(strength)}`);
    this.strength = strength;
    const bits = encodePayload(payload);
    for (let b = 0; b < WATERMARK_BITS; b++) this.signs[b] = bits[b] ? 1 : -1;
  }

  /**
   * Embeds in place into an RGB or RGBA Image (grey also works), any size ≥ 16×16: the same luma
   * delta goes to R, G and B (chroma unchanged), clipped to 0..255; alpha is untouched.
   */
  embed(image: Image): void {
    checkImage(image, 'WatermarkEmbedder.embed', [1, 3, 4]);
    const coeffs = this.scratch.analyze(image);
    const soft = correlate(this.pattern, coeffs, this.soft, this.correlation);
    // ISS: move each bit's correlation to ±strength; a host already beyond it is left alone.
    for (let b = 0; b < WATERMARK_BITS; b++) {
      const target = this.strength * this.signs[b];
      this.bitDelta[b] = soft[b] * this.signs[b] >= this.strength ? 0 : target - soft[b];
    }
    const { bitOf, sign } = this.pattern;
    const slotDelta = this.slotDelta;
    const bitDelta = this.bitDelta;
    for (let i = 0; i < SLOTS; i++) slotDelta[i] = bitDelta[bitOf[i]] * sign[i];
    this.scratch.synthesize(slotDelta);
    this.scratch.addResidual(image);
  }
}

/** The key-independent part of a measurement: the 23,760 chip coefficients of a frame (RGB/RGBA/grey). */
export function frameCoefficients(image: Image): Float32Array {
  checkImage(image, 'frameCoefficients', [1, 3, 4]);
  return new GridScratch().analyze(image);
}

/** Per-bit soft correlations for one key from {@link frameCoefficients} (cheap: one pass over the chips). */
export function correlateCoefficients(key: Uint8Array, coefficients: Float32Array): Float32Array {
  if (coefficients.length !== SLOTS) throw new RangeError(`expected ${SLOTS} coefficients, got ${coefficients.length}`);
  return correlate(chipPattern(key), coefficients);
}

/** Per-frame soft correlations for the 64 bits (Float32Array(64)), from an RGB/RGBA/grey Image. */
export function measureFrame(key: Uint8Array, image: Image): Float32Array {
  return correlateCoefficients(key, frameCoefficients(image));
}

// ---------------------------------------------------------------------------------------------
// Deciding

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
  private readonly correlation = new CorrelationScratch();
  private readonly pattern: ChipPattern;
  private readonly perFrame: Float32Array[] = [];

  constructor(key: Uint8Array) {
    this.pattern = chipPattern(key);
  }

  /** Measures one decoded frame (RGB/RGBA/grey) and keeps its soft values. */
  add(image: Image): Float32Array {
    checkImage(image, 'WatermarkDetector.add', [1, 3, 4]);
    const soft = correlate(this.pattern, this.scratch.analyze(image), new Float32Array(WATERMARK_BITS), this.correlation);
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

/** PSNR of the BT.601 luma of two same-size images, in dB (Infinity when identical). */
export function psnrLuma(a: Image, b: Image): number {
  if (a.width !== b.width || a.height !== b.height) throw new RangeError(`psnrLuma: sizes differ, ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  const n = a.width * a.height;
  const ca = a.channels;
  const cb = b.channels;
  const luma = (d: Uint8ClampedArray, p: number, c: number): number => (c < 3 ? d[p] : 0.299 * d[p] + 0.587 * d[p + 1] + 0.114 * d[p + 2]);
  let se = 0;
  for (let i = 0; i < n; i++) {
    const e = luma(a.data, i * ca, ca) - luma(b.data, i * cb, cb);
    se += e * e;
  }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * n) / se);
}
