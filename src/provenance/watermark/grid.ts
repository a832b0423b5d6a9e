/**
 * Frame ↔ canonical grid: per frame size, the area weights that take a frame's luma down to the
 * 480×270 grid (rows in whole units, so colour rows can be summed in integer lanes; columns by
 * prefix sums) and the bilinear taps that take a residual back up; the per-frame scratch that
 * analyses a frame into its chip coefficients (the reader's side) and synthesises and adds a
 * residual (the writer's side). The row kernels of each side are in luma-rows.ts and residual-rows.ts.
 */

import type { Image } from '../../core/image.js';
import { upsampleKernel } from '../upsample-simd.js';
import { accumulateWords, boxBlockRow, boxRow, boxRowTimesFour, LITTLE_ENDIAN, lumaFromLanes, lumaPrefixRow } from './luma-rows.js';
import { BASIS, BLOCKS_X, BLOCKS_Y, CHIP_ROWS, COEFF_U, COEFF_V, GRID_H, GRID_W, MAX_FREQ, PER_BLOCK, SLOTS } from './pattern.js';
import { addRow, addRowTimesFour } from './residual-rows.js';

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

/**
 * Units per frame row of the vertical weights for a frame `scale` times the grid's height: as many
 * as keep a chip row's summed weights × 255 under 2^15 (see {@link Geometry.lanesFit}), at least 4.
 */
function rowUnits(scale: number): number {
  return Math.max(4, Math.min(256, Math.floor(32000 / 255 / (scale + 1))));
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

/**
 * Per grid column, the frame pixels [a, b) it covers, as whole pixels from floor(a) to floor(b)
 * and the fractions to take off the first and add of the last: the column's area sum is
 * prefix[B] − prefix[A] − startFrac·luma[A] + endFrac·luma[B].
 */
function columnSpans(width: number): { spanStart: Int32Array; spanEnd: Int32Array; startFrac: Float32Array; endFrac: Float32Array } {
  const spanStart = new Int32Array(GRID_W);
  const spanEnd = new Int32Array(GRID_W);
  const startFrac = new Float32Array(GRID_W);
  const endFrac = new Float32Array(GRID_W);
  for (let i = 0; i < GRID_W; i++) {
    const a = (i * width) / GRID_W;
    const b = Math.min(width, ((i + 1) * width) / GRID_W);
    spanStart[i] = Math.floor(a);
    spanEnd[i] = Math.min(width, Math.floor(b));
    startFrac[i] = a - spanStart[i];
    endFrac[i] = spanEnd[i] < width ? b - spanEnd[i] : 0;
  }
  return { spanStart, spanEnd, startFrac, endFrac };
}

/** Per chip: where its column transform goes in the synthesis scratch (u · 8), and where its vertical basis row starts (v · 8). */
const SYNTH_UP = Int32Array.from(COEFF_U, (u) => u * 8);
const SYNTH_VP = Int32Array.from(COEFF_V, (v) => v * 8);

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
  /** Per chip row of the grid: its source rows and their weights in whole units ({@link rowUnits}), and the weights' sum. */
  readonly sourceStart: Int32Array;
  readonly sourceRow: Int32Array;
  readonly sourceWeight: Int32Array;
  readonly sourceTotal: Int32Array;
  /** Whether every chip row's summed weights keep 255 × them under 2^15 in a lane, so the words stay positive int32 (frames up to 2160 rows). */
  readonly lanesFit: boolean;
  readonly spans: ReturnType<typeof columnSpans>;
  /** Most frame rows any chip row takes from. */
  readonly mostSources: number;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.cols = areaWeights(width, GRID_W);
    // Rows: area weights in whole units (rowUnits per frame row), normalised per chip row. Every path
    // uses these same weights, and whole units let colour rows be summed in integer lanes.
    const rows = areaWeights(height, GRID_H);
    const scale = height / GRID_H;
    const units = rowUnits(scale);
    this.sourceStart = rows.start.slice(0, CHIP_ROWS + 1);
    const end = this.sourceStart[CHIP_ROWS];
    this.sourceRow = rows.index.slice(0, end);
    this.sourceWeight = Int32Array.from(rows.weight.subarray(0, end), (w) => Math.round(units * w * scale));
    this.sourceTotal = new Int32Array(CHIP_ROWS);
    let most = 0;
    let sources = 0;
    const perSource: Array<Array<[number, number]>> = Array.from({ length: height }, () => []);
    for (let r = 0; r < CHIP_ROWS; r++) {
      for (let e = this.sourceStart[r]; e < this.sourceStart[r + 1]; e++) this.sourceTotal[r] += this.sourceWeight[e];
      for (let e = this.sourceStart[r]; e < this.sourceStart[r + 1]; e++) perSource[this.sourceRow[e]].push([r, this.sourceWeight[e] / this.sourceTotal[r]]);
      most = Math.max(most, this.sourceTotal[r]);
      sources = Math.max(sources, this.sourceStart[r + 1] - this.sourceStart[r]);
    }
    this.lanesFit = most * 255 < 32768;
    this.mostSources = sources;
    this.rowStart = new Int32Array(height + 1);
    const flat = perSource.flat();
    this.rowTarget = Int32Array.from(flat, ([r]) => r);
    this.rowWeight = Float32Array.from(flat, ([, w]) => w);
    for (let y = 0; y < height; y++) this.rowStart[y + 1] = this.rowStart[y] + perSource[y].length;
    this.boxWidth = width % GRID_W === 0 ? width / GRID_W : 0;
    this.scatter = width >= GRID_W ? scatterWeights(this.cols, width) : undefined;
    this.upX = bilinearTaps(width, GRID_W);
    this.upY = bilinearTaps(height, GRID_H);
    this.spans = columnSpans(width);
  }
}

export function checkImage(image: Image, what: string, channels: readonly number[]): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 16) {
    throw new RangeError(`${what}: the image must be at least 16×16 pixels, got ${width}×${height}`);
  }
  if (!channels.includes(image.channels)) throw new RangeError(`${what}: expected ${channels.join(', ')} channels, got ${image.channels}`);
  if (data.length !== width * height * image.channels) {
    throw new RangeError(`${what}: data holds ${data.length} bytes, expected ${width}×${height}×${image.channels}`);
  }
}

/** 1080p-style frames (4 pixels per grid column, colour, word-aligned) as 32-bit words, else undefined. */
function wordView(image: Image, g: Geometry): Int32Array | undefined {
  const { data, channels } = image;
  if (!LITTLE_ENDIAN || g.boxWidth !== 4 || channels === 1 || (data.byteOffset & 3) !== 0) return undefined;
  return new Int32Array(data.buffer, data.byteOffset, data.length >> 2);
}

/** Colour frames whose rows are whole 32-bit words (RGBA, or RGB 4k pixels wide) as words, for the lane sums; else undefined. */
function laneView(image: Image, g: Geometry): Int32Array | undefined {
  const { data, channels, width } = image;
  if (!LITTLE_ENDIAN || !g.lanesFit || channels === 1 || ((width * channels) & 3) !== 0 || (data.byteOffset & 3) !== 0) return undefined;
  return new Int32Array(data.buffer, data.byteOffset, data.length >> 2);
}

/** Per-frame scratch: the luma grid, its chip coefficients and the residual, reused across frames. */
export class GridScratch {
  private geometry: Geometry | undefined;
  private lumaRow = new Float32Array(0);
  private readonly rowSum = new Float32Array(GRID_W + 1); // +1: the scatter's second column at the right edge
  private readonly grid = new Float32Array(GRID_W * CHIP_ROWS);
  readonly coeffs = new Float32Array(SLOTS);
  private readonly residual = new Float32Array(GRID_W * GRID_H);
  private readonly interp = new Float32Array(GRID_W);
  private readonly rows = new Float32Array(8 * MAX_FREQ);
  private prefix = new Float64Array(0);
  private even = new Int32Array(0);
  private odd = new Int32Array(0);

  private geometryFor(image: Image): Geometry {
    if (!this.geometry || this.geometry.width !== image.width || this.geometry.height !== image.height) {
      this.geometry = new Geometry(image.width, image.height);
      this.lumaRow = new Float32Array(image.width + 1);
      this.prefix = new Float64Array(image.width + 1);
    }
    return this.geometry;
  }

  /** Area-resamples the image's luma (BT.601 weights) to chip rows [r0, r1) of the canonical grid. */
  private downscale(image: Image, r0: number, r1: number): void {
    const g = this.geometryFor(image);
    const { width, height, channels, data } = image;
    const rowSum = this.rowSum;
    const grid = this.grid;
    const words = wordView(image, g);
    grid.fill(0, r0 * GRID_W, r1 * GRID_W);
    if (words && height === 4 * GRID_H) {
      // 1080p: each chip row is the mean of a 4×4 box; four frame rows at a time.
      const stride = (width * channels) >> 2;
      for (let r = r0; r < r1; r++) boxBlockRow(words, 4 * r * stride, stride, channels === 4, grid, r * GRID_W);
      return;
    }
    const lanes = laneView(image, g);
    if (lanes) {
      this.downscaleLanes(lanes, width, channels as 3 | 4, g, r0, r1);
      return;
    }
    const yFirst = g.sourceRow[g.sourceStart[r0]];
    const yEnd = g.sourceRow[g.sourceStart[r1] - 1] + 1;
    for (let y = yFirst; y < yEnd; y++) {
      const e0 = g.rowStart[y];
      const e1 = g.rowStart[y + 1];
      if (e0 === e1) continue;
      const p0 = y * width * channels;
      if (words) boxRowTimesFour(words, p0 >> 2, channels, rowSum);
      else if (g.boxWidth > 0 && channels !== 1) boxRow(data, p0, channels, g.boxWidth, rowSum);
      else this.resampleRow(data, p0, width, channels, g, rowSum);
      for (let e = e0; e < e1; e++) {
        const target = g.rowTarget[e];
        if (target < r0 || target >= r1) continue;
        const w = g.rowWeight[e];
        const o = target * GRID_W;
        for (let i = 0; i < GRID_W; i++) grid[o + i] += w * rowSum[i];
      }
    }
  }

  /**
   * Any size but 1080p: per chip row, its frame rows summed byte by byte in 16-bit lanes (weights in
   * whole units), then the luma and the horizontal resampling once per chip row.
   */
  private downscaleLanes(lanes: Int32Array, width: number, channels: 3 | 4, g: Geometry, r0: number, r1: number): void {
    const count = (width * channels) >> 2;
    if (this.even.length < count) {
      this.even = new Int32Array(count);
      this.odd = new Int32Array(count);
    }
    const { even, odd, lumaRow, rowSum, grid, prefix } = this;
    if (g.mostSources <= 4) {
      // Up to four frame rows per chip row (frames up to 1080 rows): one fused pass per chip row.
      const { sourceStart, sourceRow, sourceWeight } = g;
      for (let r = r0; r < r1; r++) {
        const e = sourceStart[r];
        const n = sourceStart[r + 1] - e;
        const at = (k: number): number => (k < n ? sourceRow[e + k] : sourceRow[e]) * count;
        const q = (k: number): number => (k < n ? sourceWeight[e + k] : 0);
        lumaPrefixRow(lanes, at(0), at(1), at(2), at(3), q(0), q(1), q(2), q(3), width, channels === 4, g.sourceTotal[r], prefix);
        this.resamplePrefix(prefix, width, g, rowSum);
        grid.set(rowSum.subarray(0, GRID_W), r * GRID_W);
      }
      return;
    }
    for (let r = r0; r < r1; r++) {
      even.fill(0, 0, count);
      odd.fill(0, 0, count);
      for (let e = g.sourceStart[r]; e < g.sourceStart[r + 1]; e++) accumulateWords(lanes, g.sourceRow[e] * count, count, g.sourceWeight[e], even, odd);
      lumaFromLanes(even, odd, width, channels, g.sourceTotal[r], lumaRow);
      this.resampleLuma(lumaRow, width, g, rowSum);
      grid.set(rowSum.subarray(0, GRID_W), r * GRID_W);
    }
  }

  /**
   * A row of luma values area-resampled to the 480 grid columns by prefix sums, any width: each
   * column is the difference of the running sum at its two ends (the end pixels weighted by the
   * part they overlap), one add per pixel.
   */
  private resampleLuma(luma: Float32Array, width: number, g: Geometry, rowSum: Float32Array): void {
    const prefix = this.prefix;
    let running = 0;
    prefix[0] = 0;
    for (let x = 0; x < width; x++) {
      running += luma[x];
      prefix[x + 1] = running;
    }
    this.resamplePrefix(prefix, width, g, rowSum);
  }

  /** The 480 area means from a row's running luma sum (pixel x's luma is prefix[x + 1] − prefix[x]). */
  private resamplePrefix(prefix: Float64Array, width: number, g: Geometry, rowSum: Float32Array): void {
    const { spanStart, spanEnd, startFrac, endFrac } = g.spans;
    const inverse = GRID_W / width;
    for (let i = 0; i < GRID_W; i++) {
      const a = spanStart[i];
      const b = spanEnd[i];
      const first = prefix[a + 1] - prefix[a];
      const last = b < width ? prefix[b + 1] - prefix[b] : 0;
      rowSum[i] = inverse * (prefix[b] - prefix[a] - startFrac[i] * first + endFrac[i] * last);
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
    this.downscale(image, 0, CHIP_ROWS);
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
          const a0 = grid[o],
            a1 = grid[o + 1],
            a2 = grid[o + 2],
            a3 = grid[o + 3];
          const a4 = grid[o + 4],
            a5 = grid[o + 5],
            a6 = grid[o + 6],
            a7 = grid[o + 7];
          for (let u = 0, r = y * MAX_FREQ; u < MAX_FREQ; u++, r++) {
            const b = u * 8;
            rows[r] = basis[b] * a0 + basis[b + 1] * a1 + basis[b + 2] * a2 + basis[b + 3] * a3 + basis[b + 4] * a4 + basis[b + 5] * a5 + basis[b + 6] * a6 + basis[b + 7] * a7;
          }
        }
        for (let k = 0; k < PER_BLOCK; k++) {
          const u = cu[k];
          const b = cv[k] * 8;
          coeffs[slot + k] =
            basis[b] * rows[u] +
            basis[b + 1] * rows[MAX_FREQ + u] +
            basis[b + 2] * rows[2 * MAX_FREQ + u] +
            basis[b + 3] * rows[3 * MAX_FREQ + u] +
            basis[b + 4] * rows[4 * MAX_FREQ + u] +
            basis[b + 5] * rows[5 * MAX_FREQ + u] +
            basis[b + 6] * rows[6 * MAX_FREQ + u] +
            basis[b + 7] * rows[7 * MAX_FREQ + u];
        }
      }
    }
    return coeffs;
  }

  /** Inverse DCT of per-slot coefficient changes into the residual grid (rows ≥ 264 stay 0). */
  synthesize(slotDelta: Float32Array): void {
    const res = this.residual;
    const t = this.rows; // per block: t[u * 8 + y], the column transforms
    const up = SYNTH_UP;
    const vp = SYNTH_VP;
    for (let by = 0, slot = 0; by < BLOCKS_Y; by++) {
      for (let bx = 0; bx < BLOCKS_X; bx++, slot += PER_BLOCK) {
        t.fill(0);
        for (let k = 0; k < PER_BLOCK; k++) {
          const d = slotDelta[slot + k];
          const a = up[k];
          const b = vp[k];
          t[a] += d * BASIS[b];
          t[a + 1] += d * BASIS[b + 1];
          t[a + 2] += d * BASIS[b + 2];
          t[a + 3] += d * BASIS[b + 3];
          t[a + 4] += d * BASIS[b + 4];
          t[a + 5] += d * BASIS[b + 5];
          t[a + 6] += d * BASIS[b + 6];
          t[a + 7] += d * BASIS[b + 7];
        }
        // Row transforms: res[y][x] = Σ_u t[u][y] · BASIS[u][x].
        for (let y = 0, o = by * 8 * GRID_W + bx * 8; y < 8; y++, o += GRID_W) {
          const t0 = t[y],
            t1 = t[8 + y],
            t2 = t[16 + y],
            t3 = t[24 + y],
            t4 = t[32 + y];
          for (let x = 0; x < 8; x++) res[o + x] = t0 * BASIS[x] + t1 * BASIS[8 + x] + t2 * BASIS[16 + x] + t3 * BASIS[24 + x] + t4 * BASIS[32 + x];
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
