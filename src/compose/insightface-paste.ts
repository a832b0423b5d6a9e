/**
 * insightface 0.7.3's INSwapper paste-back (spec §6.3), pixel for pixel, computed only over the
 * face's neighbourhood: outside it the reference leaves the frame unchanged, so nothing is lost.
 */

import { invertAffine, type Affine } from '../core/affine.js';
import { createMaskBlurScratch, gaussianBlur, gaussianBlurRows } from '../core/filters.js';
import type { FloatImage, Image, Rect } from '../core/image.js';
import { clearOutsideRows, createMaskRows, sizeMaskRows } from '../core/mask-rows.js';
import { createErodeMaskScratch, erode, erodeRows } from '../core/morphology.js';
import { createWarpSampler, warpAffine } from '../core/warp.js';
import { warpBlendKernel } from '../core/warp-blend-kernel.js';

export interface InsightfacePasteOptions {
  /**
   * warpAffine variant (spec §1.3): 'float32' (default) as OpenCV ≥ 4.11 in both reference stacks,
   * 'fixed-point' as OpenCV ≤ 4.10 (the golden fixtures' Debian 4.6).
   */
  precision?: 'float32' | 'fixed-point';
  /**
   * 'face' (default): only the neighbourhood of the pasted crop; 'frame': the whole frame, as the
   * reference does. Both give the same pixels; 'frame' exists to check that and to benchmark.
   */
  region?: 'face' | 'frame';
}

/** The intermediate planes of one paste-back, all over `rect` (frame pixels), row-major. */
export interface InsightfacePasteStages {
  /** The part of the frame computed; outside it the paste leaves the frame as it was. */
  rect: Rect;
  /** The crop warped back into the frame (F6.12), rect-sized. */
  fakeFull: Image;
  /** The warped white mask (F6.13), then thresholded (F6.14), eroded (F6.16), blurred (F6.17). */
  maskWarp: Float32Array;
  maskThresh: Float32Array;
  maskErode: Float32Array;
  maskBlur: Float32Array;
  /** int(sqrt(mask_h · mask_w)) of F6.15, and the erode and blur kernel sizes it gives. */
  maskSize: number;
  erodeSize: number;
  blurSize: number;
}

/**
 * Paste `swapped` (the swapper's crop, same channel order as `frame`) into `frame` in place, as
 * insightface's INSwapper.get(…, paste_back=True) does. `matrix` maps frame to crop in OpenCV's
 * pixel convention (norm_crop2's M). Throws when the crop lies entirely outside the frame (the
 * reference fails there too). A wrapper over a fresh {@link InsightfacePaster}.
 */
export function pasteBackInsightface(frame: Image, swapped: Image, matrix: Affine, options: InsightfacePasteOptions = {}): void {
  new InsightfacePaster().paste(frame, swapped, matrix, options);
}

/** The paste-back's mask and warped crop over the region it affects, without touching `frame`. */
export function insightfacePasteStages(frame: Image, swapped: Image, matrix: Affine, options: InsightfacePasteOptions = {}): InsightfacePasteStages {
  return new InsightfacePaster().stages(frame, swapped, matrix, options);
}

/**
 * Owns the planes of the paste-back and reuses them from one call to the next (one per video
 * stream). The white mask is warped only over the crop's footprint, with bilinear weights only on
 * its border band (255 inside it); the erosion and the blur work on the mask's row spans
 * (core/mask-rows.ts), computing only the windows not known to be 0 or flat; the crop itself is
 * warped only where the blurred mask is non-zero, inside the blend, through the WebAssembly row
 * kernel where its taps lie inside the crop (float32). The pixels are those of the full
 * computation (spec §6.3), to the bit.
 */
export class InsightfacePaster {
  private fake = new Uint8ClampedArray(0);
  private fakeRow = new Uint8ClampedArray(0);
  private mask = new Float32Array(0);
  private eroded = new Float32Array(0);
  private blurred = new Float32Array(0);
  private readonly erodeScratch = createErodeMaskScratch();
  private readonly blurScratch = createMaskBlurScratch();
  private readonly threshRows = createMaskRows();
  private readonly erodeRows = createMaskRows();
  private readonly blurRows = createMaskRows();
  /** Per plane row, the frame columns (less rect.x0) where all four taps of the crop lie inside it. */
  private interiorLo = new Int32Array(0);
  private interiorHi = new Int32Array(0);
  private white: FloatImage | undefined;

  /** {@link pasteBackInsightface} with this paster's buffers. */
  paste(frame: Image, swapped: Image, matrix: Affine, options: InsightfacePasteOptions = {}): void {
    if (options.region === 'frame') {
      const st = fullFrameStages(frame, swapped, matrix, options);
      blendTruncated(frame, st.fakeFull, st.maskBlur, st.rect);
      return;
    }
    const run = this.run(frame, swapped, matrix, options, false);
    // The crop is warped only where the blurred mask is non-zero, row span by row span, straight
    // into the blend: the same pixels as warping the whole rectangle first (F6.12, F6.19).
    const { rect, maskBlur, blurRows } = run;
    const rw = rect.x1 - rect.x0;
    const c = frame.channels;
    const precision = options.precision ?? 'float32';
    const sampler = createWarpSampler(swapped, run.im, frame.width, { precision });
    if (this.fakeRow.length < rw * c) this.fakeRow = new Uint8ClampedArray(rw * c);
    const kd = this.fakeRow;
    const fd = frame.data;
    const W = frame.width;
    // The row in runs: where α = 1 the sum is the warped byte itself, so the crop is warped
    // straight into the frame; elsewhere it is warped into a row buffer and blended.
    const span = (y: number, mrow: number, a: number, b: number): void => {
      while (a < b && maskBlur[mrow + a] === 0) a++;
      while (b > a && maskBlur[mrow + b - 1] === 0) b--;
      while (a < b) {
        let e = a;
        if (maskBlur[mrow + a] === 255) {
          while (e < b && maskBlur[mrow + e] === 255) e++;
          sampler.row(y, a, e, fd, (y * W + a) * c);
        } else {
          while (e < b && maskBlur[mrow + e] !== 255) e++;
          sampler.row(y, a, e, kd, 0);
          blendRun(fd, (y * W + a) * c, kd, maskBlur, mrow + a, e - a, c);
        }
        a = e;
      }
    };
    // Inside the crop (all four taps in it, as for the white mask's 255 run of the row) the float32
    // warp goes to the WebAssembly kernel, straight in or blended; the rest through the sampler.
    const kernel = precision === 'float32' ? warpBlendKernel() : undefined;
    const inv = invertAffine(run.im);
    const [m0, m1, m2, m3, m4, m5] = inv.map((v) => Math.fround(v));
    kernel?.load(swapped, W);
    const { interiorLo, interiorHi } = this;
    const put = (py: number, mrow: number, a: number, b: number, blend: boolean): void => {
      const y = py + rect.y0;
      if (blend) {
        while (a < b && maskBlur[mrow + a] === 0) a++;
        while (b > a && maskBlur[mrow + b - 1] === 0) b--;
      }
      const ia = kernel ? Math.min(b, Math.max(a, interiorLo[py] + rect.x0)) : b;
      const ib = kernel ? Math.max(ia, Math.min(b, interiorHi[py] + rect.x0)) : b;
      for (const [from, to] of [
        [a, ia],
        [ib, b],
      ]) {
        if (to <= from) continue;
        if (blend) span(y, mrow, from, to);
        else sampler.row(y, from, to, fd, (y * W + from) * c);
      }
      if (ib > ia) kernel!.row(frame, y, ia, ib, m0, m3, m1 * y + m2, m4 * y + m5, blend ? maskBlur : undefined, mrow + ia);
    };
    // Only the blurred mask's spans are non-zero; their flat runs (255 for every kernel size the
    // paste-back uses) are warped straight in without reading the mask.
    for (let py = blurRows.y0; py < blurRows.y1; py++) {
      const lo = blurRows.lo[py];
      const hi = blurRows.hi[py];
      if (hi <= lo) continue;
      const mrow = py * rw - rect.x0;
      const fl = blurRows.flatLo[py];
      const fh = blurRows.flatHi[py];
      if (blurRows.flat !== 255 || fh <= fl) {
        put(py, mrow, lo + rect.x0, hi + rect.x0, true);
        continue;
      }
      put(py, mrow, lo + rect.x0, fl + rect.x0, true);
      put(py, mrow, fl + rect.x0, fh + rect.x0, false);
      put(py, mrow, fh + rect.x0, hi + rect.x0, true);
    }
  }

  /** {@link insightfacePasteStages}; the planes returned are copies the caller owns. */
  stages(frame: Image, swapped: Image, matrix: Affine, options: InsightfacePasteOptions = {}): InsightfacePasteStages {
    if (options.region === 'frame') return fullFrameStages(frame, swapped, matrix, options);
    const run = this.run(frame, swapped, matrix, options, true);
    const { rect, maskSize, erodeSize, blurSize } = run;
    const fakeFull: Image = { width: run.fakeFull.width, height: run.fakeFull.height, channels: run.fakeFull.channels, data: run.fakeFull.data.slice() };
    return {
      rect,
      fakeFull,
      maskWarp: run.maskWarp ?? new Float32Array(0),
      maskThresh: run.mask.slice(),
      maskErode: run.maskErode.slice(),
      maskBlur: run.maskBlur.slice(),
      maskSize,
      erodeSize,
      blurSize,
    };
  }

  private run(frame: Image, swapped: Image, matrix: Affine, options: InsightfacePasteOptions, keepWarp: boolean) {
    if (swapped.channels !== frame.channels) throw new RangeError(`pasteBackInsightface: swapped has ${swapped.channels} channels, frame ${frame.channels}`);
    const W = frame.width;
    const H = frame.height;
    const im = invertAffine(matrix);
    const precision = options.precision ?? 'float32';
    const foot = footprint(im, swapped.width, swapped.height);
    const rect = grow(foot, W, H);
    const rw = rect.x1 - rect.x0;
    const rh = rect.y1 - rect.y0;
    if (rw <= 0 || rh <= 0) throw new RangeError('pasteBackInsightface: the crop lies outside the frame');
    const n = rw * rh;
    const c = frame.channels;
    if (this.mask.length < n) {
      this.mask = new Float32Array(n);
      this.eroded = new Float32Array(n);
      this.blurred = new Float32Array(n);
    }
    // Outside the footprint both warps are exactly 0 (every tap is the constant border).
    const fp = {
      x0: Math.max(rect.x0, foot.x0),
      y0: Math.max(rect.y0, foot.y0),
      x1: Math.min(rect.x1, foot.x1),
      y1: Math.min(rect.y1, foot.y1),
    };
    // paste() warps the crop inside its blend; only stages() needs the whole warped plane.
    if (keepWarp && this.fake.length < n * c) this.fake = new Uint8ClampedArray(n * c);
    const fakeFull: Image = { width: rw, height: rh, channels: c, data: this.fake.subarray(0, keepWarp ? n * c : 0) };
    const mask = this.mask.subarray(0, n);
    // The filters read the mask only on the spans in `rows`, which the warp covers: the planes are
    // cleared outside them only when they are handed out.
    const rows = sizeMaskRows(this.threshRows, rh, 255);
    if (this.interiorLo.length < rh) {
      this.interiorLo = new Int32Array(rh);
      this.interiorHi = new Int32Array(rh);
    } else {
      this.interiorLo.fill(0, 0, rh);
      this.interiorHi.fill(0, 0, rh);
    }
    rows.y0 = Math.max(0, fp.y0 - rect.y0);
    rows.y1 = Math.max(rows.y0, fp.y1 - rect.y0);
    let maskWarp: Float32Array | undefined;
    if (keepWarp) {
      fakeFull.data.fill(0);
      mask.fill(0);
      maskWarp = new Float32Array(n);
    }
    let minX = Infinity;
    let maxX = -Infinity;
    let minY = Infinity;
    let maxY = -Infinity;
    if (fp.x1 > fp.x0 && fp.y1 > fp.y0) {
      if (!this.white || this.white.width !== swapped.width || this.white.height !== swapped.height) {
        this.white = { width: swapped.width, height: swapped.height, channels: 1, data: new Float32Array(swapped.width * swapped.height).fill(255) };
      }
      if (maskWarp) {
        warpAffine(swapped, im, W, H, { precision, window: rect, rect: fp, out: fakeFull });
        warpAffine(this.white, im, W, H, { precision, window: rect, rect: fp, out: { width: rw, height: rh, channels: 1, data: maskWarp } });
      }
      // F6.13–F6.14 row by row: 255 exactly where all four taps fall inside the crop, bilinear
      // weights only on the border band, where the threshold is applied.
      const white = createWarpSampler(this.white, im, W, { precision, uniform: true });
      const threshold = (y: number, from: number, to: number): void => {
        for (let x = from, i = y * rw + from; x < to; x++, i++) {
          if (mask[i] > 20) {
            mask[i] = 255;
            if (x < minX) minX = x;
            if (x > maxX) maxX = x;
            if (y < minY) minY = y;
            maxY = y;
          }
        }
      };
      for (let fy = fp.y0; fy < fp.y1; fy++) {
        const y = fy - rect.y0;
        // Only the row's cut through the crop's parallelogram is sampled; the rest of the
        // footprint's row is 0 (every tap is the constant border there).
        const [x0, x1] = rowSpan(matrix, swapped.width, swapped.height, fy, fp.x0, fp.x1);
        const at = y * rw - rect.x0;
        if (x1 <= x0) continue;
        white.row(fy, x0, x1, mask, at + x0);
        const a = white.interiorX0 - rect.x0;
        const b = white.interiorX1 - rect.x0;
        this.interiorLo[y] = a;
        this.interiorHi[y] = Math.max(a, b);
        threshold(y, x0 - rect.x0, a);
        if (b > a) {
          if (a < minX) minX = a;
          if (b - 1 > maxX) maxX = b - 1;
          if (y < minY) minY = y;
          maxY = y;
        }
        threshold(y, b, x1 - rect.x0);
        // The row's span less the zeros at its ends (the tighter, the less the erosion scans).
        let lo = x0 - rect.x0;
        let hi = x1 - rect.x0;
        while (lo < (b > a ? a : hi) && mask[y * rw + lo] === 0) lo++;
        while (hi > (b > a ? b : lo) && mask[y * rw + hi - 1] === 0) hi--;
        if (hi <= lo) continue;
        rows.lo[y] = lo;
        rows.hi[y] = hi;
        rows.flatLo[y] = b > a ? a : lo;
        rows.flatHi[y] = b > a ? b : lo;
      }
    }
    if (maxX < 0) throw new RangeError('pasteBackInsightface: no pixel of the frame is fully covered by the crop');
    // F6.15: extents without +1, then int(sqrt(·)) of their product.
    const maskSize = Math.floor(Math.sqrt((maxY - minY) * (maxX - minX)));
    const erodeSize = Math.max(Math.floor(maskSize / 10), 10);
    const blurSize = 2 * Math.max(Math.floor(maskSize / 20), 5) + 1;
    const maskErode = this.eroded.subarray(0, n);
    const maskBlur = this.blurred.subarray(0, n);
    const erodedRows = erodeRows(mask, rw, rh, erodeSize, rows, maskErode, this.erodeRows, this.erodeScratch);
    const blurRows = gaussianBlurRows(maskErode, rw, rh, blurSize, erodedRows, maskBlur, this.blurRows, this.blurScratch);
    if (keepWarp) {
      clearOutsideRows(maskErode, rw, rh, erodedRows);
      clearOutsideRows(maskBlur, rw, rh, blurRows);
    }
    return { im, rect, fakeFull, maskWarp, mask, maskErode, maskBlur, blurRows, maskSize, erodeSize, blurSize };
  }
}

/**
 * The reference's computation as written (spec F6.20: every plane frame-sized, plain filters),
 * kept to check the fast path against and to benchmark it.
 */
function fullFrameStages(frame: Image, swapped: Image, matrix: Affine, options: InsightfacePasteOptions): InsightfacePasteStages {
  if (swapped.channels !== frame.channels) throw new RangeError(`pasteBackInsightface: swapped has ${swapped.channels} channels, frame ${frame.channels}`);
  const W = frame.width;
  const H = frame.height;
  const im = invertAffine(matrix);
  const precision = options.precision ?? 'float32';
  const rect = { x0: 0, y0: 0, x1: W, y1: H };
  const fakeFull = warpAffine(swapped, im, W, H, { precision });
  const white: FloatImage = { width: swapped.width, height: swapped.height, channels: 1, data: new Float32Array(swapped.width * swapped.height).fill(255) };
  const maskWarp = warpAffine(white, im, W, H, { precision }).data;
  const mask = maskWarp.slice();
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let y = 0; y < H; y++) {
    for (let x = 0, i = y * W; x < W; x++, i++) {
      if (mask[i] > 20) mask[i] = 255;
      if (mask[i] === 255) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  if (maxX < 0) throw new RangeError('pasteBackInsightface: no pixel of the frame is fully covered by the crop');
  const maskThresh = mask.slice();
  const maskSize = Math.floor(Math.sqrt((maxY - minY) * (maxX - minX)));
  const erodeSize = Math.max(Math.floor(maskSize / 10), 10);
  const blurSize = 2 * Math.max(Math.floor(maskSize / 20), 5) + 1;
  const maskErode = erode(mask, W, H, erodeSize);
  const maskBlur = gaussianBlur(maskErode, W, H, 1, blurSize, 0);
  return { rect, fakeFull, maskWarp, maskThresh, maskErode: maskErode.slice(), maskBlur, maskSize, erodeSize, blurSize };
}

/**
 * The frame rectangle outside which the full-frame computation gives α = 0 exactly, grown so that
 * inside it the erosion and the blur see the same values as on the whole frame. The warped mask is
 * non-zero only where the crop coordinates lie in [−1, size) (F1.9), inside the box B of that
 * parallelogram; the erosion reads up to k_e pixels further and the blur 2·r (its output spreads r
 * past B, and the rectangle's reflected border must stay r away from that). k_e and r are bounded
 * from B's size, which bounds mask_size.
 */
function footprint(im: Affine, cropW: number, cropH: number): Rect {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const [u, v] of [
    [-1, -1],
    [cropW, -1],
    [-1, cropH],
    [cropW, cropH],
  ] as const) {
    const x = im[0] * u + im[1] * v + im[2];
    const y = im[3] * u + im[4] * v + im[5];
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  // Two pixels for the float32 / 1/32-pixel rounding of the source coordinates.
  return { x0: Math.floor(x0) - 2, y0: Math.floor(y0) - 2, x1: Math.ceil(x1) + 3, y1: Math.ceil(y1) + 3 };
}

/**
 * The columns [x0, x1) of frame row y, within [from, to), where `matrix` (frame → crop) puts the
 * point inside [−1, cropW] × [−1, cropH], widened by two pixels each way (the float32 rounding of
 * the warp's coordinates moves a point by far less): outside them a bilinear tap of the crop
 * cannot be inside it, so the warped mask is 0 there.
 */
function rowSpan(matrix: Affine, cropW: number, cropH: number, y: number, from: number, to: number): [number, number] {
  let lo = -Infinity;
  let hi = Infinity;
  for (const [a, b, limit] of [
    [matrix[0], matrix[1] * y + matrix[2], cropW],
    [matrix[3], matrix[4] * y + matrix[5], cropH],
  ] as const) {
    // −1 ≤ a·x + b ≤ limit
    if (a === 0) {
      if (b < -1 - 1e-3 || b > limit + 1e-3) return [from, from];
      continue;
    }
    const u = (-1 - b) / a;
    const v = (limit - b) / a;
    lo = Math.max(lo, Math.min(u, v));
    hi = Math.min(hi, Math.max(u, v));
  }
  const x0 = Math.max(from, Math.floor(lo) - 2);
  const x1 = Math.min(to, Math.ceil(hi) + 3);
  return x1 > x0 ? [x0, x1] : [from, from];
}

/** The footprint grown by the erosion's and the blur's reach, clamped to the frame. */
function grow(foot: Rect, W: number, H: number): Rect {
  const { x0, y0, x1, y1 } = foot;
  const sizeBound = Math.floor(Math.sqrt(Math.max(0, x1 - x0) * Math.max(0, y1 - y0)));
  const margin = Math.max(Math.floor(sizeBound / 10), 10) + 2 * Math.max(Math.floor(sizeBound / 20), 5) + 2;
  return {
    x0: Math.max(0, Math.min(W, x0 - margin)),
    y0: Math.max(0, Math.min(H, y0 - margin)),
    x1: Math.max(0, Math.min(W, x1 + margin)),
    y1: Math.max(0, Math.min(H, y1 + margin)),
  };
}

/**
 * {@link blendTruncated}'s arithmetic over one run of `count` pixels: frame bytes from `fi`, warped
 * bytes from 0 in `kd`, mask values from `mi`; α = 0 leaves the frame byte as it is.
 */
function blendRun(fd: Uint8ClampedArray, fi: number, kd: Uint8ClampedArray, mask: Float32Array, mi: number, count: number, c: number): void {
  const f = Math.fround;
  for (let n = 0, ki = 0; n < count; n++, ki += c, fi += c) {
    const m = mask[mi + n];
    if (m === 0) continue;
    const alpha = f(m / 255);
    const beta = f(1 - alpha);
    for (let k = 0; k < c; k++) {
      const v = f(f(alpha * kd[ki + k]) + f(beta * fd[fi + k]));
      fd[fi + k] = v >= 255 ? 255 : v > 0 ? Math.floor(v) : 0;
    }
  }
}

/**
 * The reference's final blend over `rect`: frame = uint8(α·fake + (1 − α)·frame) in float32 with
 * α = mask/255, truncating. Exported so callers can shape the mask (opacity, mouth) first.
 * `within` (a part of `rect` outside which the mask is 0) only saves time.
 */
export function blendTruncated(frame: Image, fake: Image, maskBlur: Float32Array, rect: Rect, within: Rect = rect): void {
  const c = frame.channels;
  const rw = rect.x1 - rect.x0;
  const fd = frame.data;
  const kd = fake.data;
  const f = Math.fround;
  for (let y = within.y0; y < within.y1; y++) {
    const mrow = (y - rect.y0) * rw;
    for (let x = within.x0; x < within.x1; x++) {
      const m = maskBlur[mrow + x - rect.x0];
      if (m === 0) continue; // α = 0 gives the frame back exactly
      const alpha = f(m / 255);
      const beta = f(1 - alpha);
      const fi = (y * frame.width + x) * c;
      const ki = (mrow + x - rect.x0) * c;
      for (let k = 0; k < c; k++) {
        const v = f(f(alpha * kd[ki + k]) + f(beta * fd[fi + k]));
        fd[fi + k] = v >= 255 ? 255 : v > 0 ? Math.floor(v) : 0;
      }
    }
  }
}
