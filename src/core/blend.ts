/**
 * Blending a face patch into its background: plain alpha, and Burt–Adelson multiband blending
 * (each frequency band gets a mask blurred to its own scale, so seams vanish without halos).
 */

import { createFloatImage, type FloatImage } from './image.js';
import { expandColumns, expansionTaps, pyrDown } from './pyramid.js';

/** out = mask·fg + (1 − mask)·bg per pixel (mask: width·height, 0..1). `out` may be fg or bg. */
export function alphaBlend(fg: FloatImage, bg: FloatImage, mask: Float32Array, out?: FloatImage): FloatImage {
  checkSizes(fg, bg, mask);
  const c = fg.channels;
  const dst = out ?? createFloatImage(fg.width, fg.height, c);
  const f = fg.data;
  const b = bg.data;
  const d = dst.data;
  const n = fg.width * fg.height;
  for (let i = 0; i < n; i++) {
    const a = mask[i];
    const na = 1 - a;
    for (let k = i * c, end = k + c; k < end; k++) d[k] = a * f[k] + na * b[k];
  }
  return dst;
}

/** Levels so that the coarsest band is still about 8 pixels or more across (1 … 8). */
export function defaultPyramidLevels(width: number, height: number): number {
  const m = Math.min(width, height);
  return m < 16 ? 1 : Math.min(8, Math.floor(Math.log2(m / 8)) + 1);
}

/**
 * Multiband blend of fg over bg with a soft mask; see {@link PyramidBlender}. One-off use; keep a
 * PyramidBlender to reuse its buffers across frames.
 */
export function laplacianPyramidBlend(fg: FloatImage, bg: FloatImage, mask: Float32Array, levels?: number, out?: FloatImage): FloatImage {
  return new PyramidBlender(fg.width, fg.height, fg.channels, levels).blend(fg, bg, mask, out);
}

/**
 * Burt–Adelson blending with buffers sized once for width × height × channels. Because every
 * step is linear, blending the Laplacian bands of fg and bg with the mask's Gaussian pyramid
 * equals bg + collapse(maskᵢ · Laplacianᵢ(fg − bg)): one pyramid instead of two. Levels are
 * cv2.pyrDown / cv2.pyrUp steps (ceil-halved sizes, REFLECT_101), so odd sizes need no padding.
 * A mask of all ones returns fg and all zeros returns bg (to float rounding).
 */
export class PyramidBlender {
  readonly levels: number;
  private readonly widths: number[] = [];
  private readonly heights: number[] = [];
  /** Gaussian pyramids of fg − bg and of the mask (level 0 of the mask is the caller's). */
  private readonly diff: Float32Array[] = [];
  private readonly masks: Float32Array[] = [];
  /** Collapsed result per level (level 0 goes straight to the output). */
  private readonly result: Float32Array[] = [];
  /** Row taps of the expansion from level i + 1 to level i. */
  private readonly rowTaps: { taps: Int32Array; weights: Float32Array }[] = [];
  private readonly scratchA: Float32Array;
  private readonly scratchB: Float32Array;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly channels: number,
    levels?: number,
  ) {
    this.levels = Math.max(1, Math.floor(levels ?? defaultPyramidLevels(width, height)));
    let w = width;
    let h = height;
    for (let i = 0; i < this.levels; i++) {
      this.widths.push(w);
      this.heights.push(h);
      this.diff.push(new Float32Array(w * h * channels));
      this.masks.push(new Float32Array(i === 0 ? 0 : w * h));
      this.result.push(new Float32Array(i === 0 ? 0 : w * h * channels));
      const nh = (h + 1) >> 1;
      if (i + 1 < this.levels) this.rowTaps.push(expansionTaps(nh, h));
      w = (w + 1) >> 1;
      h = nh;
    }
    this.scratchA = new Float32Array(width * height * channels);
    this.scratchB = new Float32Array(width * height * channels);
  }

  blend(fg: FloatImage, bg: FloatImage, mask: Float32Array, out?: FloatImage): FloatImage {
    checkSizes(fg, bg, mask);
    const c = this.channels;
    if (fg.width !== this.width || fg.height !== this.height || fg.channels !== c) {
      throw new RangeError(`PyramidBlender: built for ${this.width}×${this.height}×${c}, got ${fg.width}×${fg.height}×${fg.channels}`);
    }
    const dst = out ?? createFloatImage(this.width, this.height, c);
    const f = fg.data;
    const b = bg.data;
    const last = this.levels - 1;
    if (last === 0) return alphaBlend(fg, bg, mask, dst);
    const d0 = this.diff[0];
    for (let i = 0; i < d0.length; i++) d0[i] = f[i] - b[i];
    for (let i = 0; i < last; i++) {
      const w = this.widths[i];
      const h = this.heights[i];
      pyrDown(this.diff[i], w, h, c, this.diff[i + 1], this.scratchA);
      pyrDown(i === 0 ? mask : this.masks[i], w, h, 1, this.masks[i + 1], this.scratchA);
    }
    // Coarsest band: the Gaussian level itself.
    const top = this.result[last];
    const topDiff = this.diff[last];
    const topMask = this.masks[last];
    for (let p = 0, k = 0; p < topMask.length; p++) for (let e = 0; e < c; e++, k++) top[k] = topMask[p] * topDiff[k];
    for (let i = last - 1; i >= 0; i--) {
      // result[i] = up(result[i+1]) + maskᵢ · (diff[i] − up(diff[i+1])); at level 0, plus bg.
      const w = this.widths[i];
      const cw = this.widths[i + 1];
      const ch = this.heights[i + 1];
      expandColumns(this.result[i + 1], cw, ch, c, w, this.scratchA);
      expandColumns(this.diff[i + 1], cw, ch, c, w, this.scratchB);
      collapseLevel(
        this.scratchA,
        this.scratchB,
        this.diff[i],
        i === 0 ? mask : this.masks[i],
        w,
        this.heights[i],
        c,
        this.rowTaps[i],
        i === 0 ? dst.data : this.result[i],
        i === 0 ? b : null,
      );
    }
    return dst;
  }
}

/** The vertical half of two expansions fused with the band blend of one level. */
function collapseLevel(
  upR: Float32Array,
  upD: Float32Array,
  diff: Float32Array,
  mask: Float32Array,
  width: number,
  height: number,
  c: number,
  rowTaps: { taps: Int32Array; weights: Float32Array },
  out: Float32Array,
  base: Float32Array | null,
): void {
  const rowLen = width * c;
  const { taps, weights } = rowTaps;
  for (let y = 0; y < height; y++) {
    const ra = taps[3 * y] * rowLen;
    const rb = taps[3 * y + 1] * rowLen;
    const rc = taps[3 * y + 2] * rowLen;
    const wa = weights[3 * y];
    const wb = weights[3 * y + 1];
    const wc = weights[3 * y + 2];
    const o = y * rowLen;
    for (let x = 0, m = y * width; x < width; x++, m++) {
      const mv = mask[m];
      for (let k = x * c, end = k + c; k < end; k++) {
        const r = wa * upR[ra + k] + wb * upR[rb + k] + wc * upR[rc + k];
        const d = wa * upD[ra + k] + wb * upD[rb + k] + wc * upD[rc + k];
        const v = r + mv * (diff[o + k] - d);
        out[o + k] = base ? base[o + k] + v : v;
      }
    }
  }
}

function checkSizes(fg: FloatImage, bg: FloatImage, mask: Float32Array): void {
  if (fg.width !== bg.width || fg.height !== bg.height || fg.channels !== bg.channels) {
    throw new RangeError(`blend: fg is ${fg.width}×${fg.height}×${fg.channels}, bg ${bg.width}×${bg.height}×${bg.channels}`);
  }
  if (mask.length < fg.width * fg.height) throw new RangeError(`blend: mask holds ${mask.length} values, needs ${fg.width * fg.height}`);
}
