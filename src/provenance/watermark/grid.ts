/**
 * Frame ↔ canonical grid: per frame size, the area weights that take a frame's luma down to the
 * 480×270 grid (in whole units, so colour frames are summed as integers)
 * and the bilinear taps that take a residual back up; the per-frame scratch that analyses a frame
 * into its chip coefficients (the reader's side) and synthesises and adds a residual (the writer's
 * side). Colour frames of any width go through the WebAssembly SIMD kernels of
 * ../upsample-simd.ts, or their TypeScript twins there, which give the same integers; one-channel
 * frames, frames too tall for 16-bit lane sums and residuals beyond the kernels' range take the
 * float loops here and in residual-rows.ts.
 */

import type { Image } from '../../core/image.js';
import {
  addRowReference,
  analyzeReference,
  columnWeights,
  LUMA_ONE,
  lumaRowReference,
  PADDED,
  q15,
  quantizeResidual,
  resampleColumnsReference,
  synthesizeReference,
  watermarkKernels,
  type ColumnWeights,
  type WatermarkKernels,
} from '../upsample-simd.js';
import { CHIP_ROWS, GRID_H, GRID_W, MAX_FREQ, SLOTS } from './pattern.js';
import { addRow } from './residual-rows.js';

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

/** Resampling tables for one frame size, built once per size. */
class Geometry {
  readonly cols: ReturnType<typeof areaWeights>;
  /** Per source row: the chip-carrying grid rows it feeds and their weights. */
  readonly rowStart: Int32Array;
  readonly rowTarget: Int32Array;
  readonly rowWeight: Float32Array;
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
  readonly columns: ColumnWeights;

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
    const perSource: Array<Array<[number, number]>> = Array.from({ length: height }, () => []);
    for (let r = 0; r < CHIP_ROWS; r++) {
      for (let e = this.sourceStart[r]; e < this.sourceStart[r + 1]; e++) this.sourceTotal[r] += this.sourceWeight[e];
      for (let e = this.sourceStart[r]; e < this.sourceStart[r + 1]; e++) perSource[this.sourceRow[e]].push([r, this.sourceWeight[e] / this.sourceTotal[r]]);
      most = Math.max(most, this.sourceTotal[r]);
    }
    this.lanesFit = most * 255 < 32768;
    this.rowStart = new Int32Array(height + 1);
    const flat = perSource.flat();
    this.rowTarget = Int32Array.from(flat, ([r]) => r);
    this.rowWeight = Float32Array.from(flat, ([, w]) => w);
    for (let y = 0; y < height; y++) this.rowStart[y + 1] = this.rowStart[y] + perSource[y].length;
    this.scatter = width >= GRID_W ? scatterWeights(this.cols, width) : undefined;
    this.upX = bilinearTaps(width, GRID_W);
    this.upY = bilinearTaps(height, GRID_H);
    this.columns = columnWeights(width);
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

/** Per-frame scratch: the luma grid, its chip coefficients and the residual, reused across frames. */
export class GridScratch {
  private geometry: Geometry | undefined;
  private lumaRow = new Float32Array(0);
  private lumaInteger = new Int32Array(0);
  private readonly rowSum = new Float32Array(GRID_W + 1); // +1: the scatter's second column at the right edge
  private readonly grid = new Float32Array(GRID_W * CHIP_ROWS);
  readonly coeffs = new Float32Array(SLOTS);
  private readonly residual = new Float32Array(GRID_W * GRID_H);
  private readonly fixedResidual = new Int16Array(GRID_H * PADDED);
  private readonly interp = new Float32Array(GRID_W);
  private readonly partial = new Float32Array(MAX_FREQ * GRID_W);
  /** The kernels' frame load that holds the frame last analysed, so that adding the residual need not load it again. */
  private loaded: { data: Uint8ClampedArray; load: number } | undefined;

  /** `simd: false` keeps every step in TypeScript (the same bytes, slower): for tests and benchmarks. */
  constructor(private readonly simd = true) {}

  private kernels(): WatermarkKernels | undefined {
    return this.simd ? watermarkKernels() : undefined;
  }

  /** Where the luma grid goes: the kernels' memory when they run (fetched after any frame load, which may move it), else this scratch's own. */
  private gridArray(): Float32Array {
    return this.kernels()?.grid() ?? this.grid;
  }

  private geometryFor(image: Image): Geometry {
    if (!this.geometry || this.geometry.width !== image.width || this.geometry.height !== image.height) {
      this.geometry = new Geometry(image.width, image.height);
      this.lumaRow = new Float32Array(image.width + 1);
      this.lumaInteger = new Int32Array(image.width);
    }
    return this.geometry;
  }

  /** Area-resamples the image's luma (BT.601 weights) to chip rows [r0, r1) of the canonical grid. */
  private downscale(image: Image, r0: number, r1: number): void {
    const g = this.geometryFor(image);
    const { width, channels, data } = image;
    const rowSum = this.rowSum;
    this.loaded = undefined;
    if (channels !== 1 && g.lanesFit) {
      this.downscaleColour(image, g, r0, r1);
      return;
    }
    const grid = this.gridArray();
    grid.fill(0, r0 * GRID_W, r1 * GRID_W);
    const yFirst = g.sourceRow[g.sourceStart[r0]];
    const yEnd = g.sourceRow[g.sourceStart[r1] - 1] + 1;
    for (let y = yFirst; y < yEnd; y++) {
      const e0 = g.rowStart[y];
      const e1 = g.rowStart[y + 1];
      if (e0 === e1) continue;
      this.resampleRow(data, y * width * channels, width, channels, g, rowSum);
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
   * Colour frames up to 2160 rows: per chip row, its frame rows summed byte by byte with whole-unit
   * weights and the integer luma taken once, then the horizontal area means in whole-unit weights
   * (SIMD kernels, or their TypeScript twins: the same integers and the same float32 results).
   */
  private downscaleColour(image: Image, g: Geometry, r0: number, r1: number): void {
    const { width, data } = image;
    const channels = image.channels as 3 | 4;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length);
    const kernels = this.kernels();
    const load = kernels?.loadFrame(bytes, width, channels);
    const { sourceStart, sourceRow, sourceWeight, sourceTotal } = g;
    const grid = this.gridArray();
    const whole = kernels !== undefined && load !== undefined && kernels.prepareColumns(g.columns);
    for (let r = r0; r < r1; r++) {
      const e0 = sourceStart[r];
      const e1 = sourceStart[r + 1];
      const rowScale = 1 / (sourceTotal[r] * LUMA_ONE);
      if (whole) {
        kernels.lumaRow(sourceRow, sourceWeight, e0, e1);
        kernels.resampleRow(r, rowScale);
        continue;
      }
      let luma: Int32Array = this.lumaInteger;
      if (kernels && load !== undefined) luma = kernels.lumaRow(sourceRow, sourceWeight, e0, e1);
      else lumaRowReference(bytes, width, channels, sourceRow, sourceWeight, e0, e1, luma);
      resampleColumnsReference(luma, g.columns, rowScale, grid, r * GRID_W);
    }
    if (load !== undefined) this.loaded = { data, load };
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
    const kernels = this.kernels();
    if (kernels) kernels.analyze(this.coeffs);
    else analyzeReference(this.grid, this.coeffs, this.partial);
    return this.coeffs;
  }

  /** Inverse DCT of per-slot coefficient changes into the residual grid (rows ≥ 264 stay 0). */
  synthesize(slotDelta: Float32Array): void {
    const kernels = this.kernels();
    if (kernels) kernels.synthesize(slotDelta, this.residual);
    else synthesizeReference(slotDelta, this.residual, this.partial);
  }

  /**
   * Bilinear-upsamples the residual to the frame and adds it to every colour channel (alpha kept).
   * Colour frames: in the kernels' fixed point (SIMD, or the TypeScript twin: the same bytes); grey
   * frames and residuals beyond the fixed point's range: in floats. Rows below the chips' reach
   * (their residual is 0) are left alone.
   */
  addResidual(image: Image): void {
    const g = this.geometryFor(image);
    const { width, height, channels, data } = image;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length);
    const { i0: y0, i1: y1, frac: fy } = g.upY;
    let end = height;
    while (end > 0 && y0[end - 1] >= CHIP_ROWS && y1[end - 1] >= CHIP_ROWS) end--;
    if (channels !== 1 && quantizeResidual(this.residual, this.fixedResidual)) {
      const kernels = this.kernels();
      if (kernels && kernels.prepareWidth(width, g.upX)) {
        const loaded = this.loaded;
        if (!(loaded && loaded.data === data && kernels.isLoaded(loaded.load))) kernels.loadFrame(bytes, width, channels as 3 | 4);
        this.loaded = undefined;
        kernels.setResidualRows(this.fixedResidual);
        for (let y = 0; y < end; y++) kernels.addRow(y, y0[y], y1[y], fy[y]);
        kernels.storeFrame(bytes, 0, end * width * channels);
        return;
      }
      for (let y = 0; y < end; y++) addRowReference(this.fixedResidual, bytes, y * width * channels, width, channels, g.upX, y0[y], y1[y], q15(fy[y]));
      return;
    }
    const res = this.residual;
    const interp = this.interp;
    for (let y = 0; y < end; y++) {
      const a = y0[y] * GRID_W;
      const b = y1[y] * GRID_W;
      const f = fy[y];
      for (let i = 0; i < GRID_W; i++) interp[i] = res[a + i] + f * (res[b + i] - res[a + i]);
      addRow(interp, bytes, y * width * channels, width, channels, g.upX);
    }
  }
}
