/**
 * sRGB ⇄ CIE L*a*b* (D65) on a region of an 8-bit image, with OpenCV's float-path constants
 * (L 0..100, a/b about −128..127), and weighted channel statistics for colour matching.
 */

import { createFloatImage, type FloatImage, type Image, type Rect } from './image.js';

// sRGB → XYZ (D65) rows, each divided by the white point so that white maps to (1, 1, 1).
const XN = 0.950456;
const ZN = 1.088754;
const RX = 0.412453 / XN;
const GX = 0.35758 / XN;
const BX = 0.180423 / XN;
const RY = 0.212671;
const GY = 0.71516;
const BY = 0.072169;
const RZ = 0.019334 / ZN;
const GZ = 0.119193 / ZN;
const BZ = 0.950227 / ZN;
// XYZ → sRGB, OpenCV's published inverse (not our matrix's exact inverse: it is what cv2 uses).
const XR = 3.240479;
const YR = -1.53715;
const ZR = -0.498535;
const XG = -0.969256;
const YG = 1.875991;
const ZG = 0.041556;
const XB = 0.055648;
const YB = -0.204043;
const ZB = 1.057311;

const T_LIN = 0.008856; // below this, f(t) is the linear segment
const K_LIN = 7.787;
const F_OFF = 16 / 116;
const L_LIN = 903.3;
const F_THRESH = K_LIN * T_LIN + F_OFF;
const L_THRESH = L_LIN * T_LIN;

function decodeSrgb(v: number): number {
  return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
}

/** Linear value of each 8-bit sRGB level: the only pow() the forward conversion needs. */
const TO_LINEAR = new Float64Array(256);
/** TO_LINEAR at the midpoints: level k is the answer for linear values in [EDGE[k-1], EDGE[k]). */
const EDGE = new Float64Array(256);
/** First candidate level for a linear value in bin floor(v·BINS); at most a few steps from the answer. */
const BINS = 4096;
const START = new Uint8Array(BINS + 1);
for (let k = 0; k < 256; k++) {
  TO_LINEAR[k] = decodeSrgb(k / 255);
  EDGE[k] = k === 255 ? Infinity : decodeSrgb((k + 0.5) / 255);
}
for (let i = 0, k = 0; i <= BINS; i++) {
  while (k < 255 && i / BINS >= EDGE[k]) k++;
  START[i] = k;
}

/** The conversion's constants and tables, for the SIMD colour kernel (simd-kernels.ts) to share. */
export const LAB_CONSTANTS = {
  /** sRGB → XYZ/white, by column: the X, Y and Z weights of R, of G and of B. */
  toXyz: [
    [RX, RY, RZ],
    [GX, GY, GZ],
    [BX, BY, BZ],
  ],
  /** XYZ → linear sRGB, by column: the R, G and B weights of X, of Y and of Z. */
  toRgb: [
    [XR, XG, XB],
    [YR, YG, YB],
    [ZR, ZG, ZB],
  ],
  white: [XN, 1, ZN],
  tLin: T_LIN,
  kLin: K_LIN,
  fOff: F_OFF,
  lLin: L_LIN,
  fThresh: F_THRESH,
  lThresh: L_THRESH,
  toLinear: TO_LINEAR,
  edge: EDGE,
  start: START,
  bins: BINS,
} as const;

/**
 * Cube root for the range the conversion needs (XYZ/white is 0..1): a 1024-entry table gives a
 * start within 6e-4 (relative, at the smallest argument used, 0.0089), one Halley step brings it
 * to ~1e-10. About 4× faster than Math.cbrt, which dominated rgbToLab.
 */
const CBRT_BINS = 1024;
const CBRT_RANGE = 1.25;
const CBRT_TABLE = new Float64Array(CBRT_BINS + 2);
for (let i = 0; i < CBRT_TABLE.length; i++) CBRT_TABLE[i] = Math.cbrt((i * CBRT_RANGE) / CBRT_BINS);

function cbrt(t: number): number {
  if (!(t < CBRT_RANGE)) return Math.cbrt(t);
  const u = t * (CBRT_BINS / CBRT_RANGE);
  const i = u | 0;
  const y = CBRT_TABLE[i] + (u - i) * (CBRT_TABLE[i + 1] - CBRT_TABLE[i]);
  const y3 = y * y * y;
  return (y * (y3 + 2 * t)) / (2 * y3 + t);
}

/** Nearest 8-bit sRGB level of a linear value (clamped to 0..1), exact, without pow(). */
function encodeLinear(v: number): number {
  if (!(v > 0)) return 0;
  if (v >= 1) return 255;
  let k = START[(v * BINS) | 0];
  while (v >= EDGE[k]) k++;
  return k;
}

/**
 * L*a*b* of the pixels of `rect` (3 channels, rect-sized; reuses `out` when its size matches).
 * Grey images are read as R = G = B; alpha is ignored.
 */
export function rgbToLab(src: Image, rect: Rect, out?: FloatImage): FloatImage {
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  const lab = out && out.width === w && out.height === h && out.channels === 3 ? out : createFloatImage(w, h, 3);
  const c = src.channels;
  const g = c === 1 ? 0 : 1;
  const bo = c === 1 ? 0 : 2;
  const sd = src.data;
  const d = lab.data;
  for (let y = 0; y < h; y++) {
    let si = ((rect.y0 + y) * src.width + rect.x0) * c;
    let di = y * w * 3;
    for (let x = 0; x < w; x++, si += c, di += 3) {
      const r = TO_LINEAR[sd[si]];
      const gr = TO_LINEAR[sd[si + g]];
      const b = TO_LINEAR[sd[si + bo]];
      const X = RX * r + GX * gr + BX * b;
      const Y = RY * r + GY * gr + BY * b;
      const Z = RZ * r + GZ * gr + BZ * b;
      const fx = X > T_LIN ? cbrt(X) : K_LIN * X + F_OFF;
      const fy = Y > T_LIN ? cbrt(Y) : K_LIN * Y + F_OFF;
      const fz = Z > T_LIN ? cbrt(Z) : K_LIN * Z + F_OFF;
      d[di] = Y > T_LIN ? 116 * fy - 16 : L_LIN * Y;
      d[di + 1] = 500 * (fx - fy);
      d[di + 2] = 200 * (fy - fz);
    }
  }
  return lab;
}

/**
 * Write L*a*b* values (3 channels, rect-sized) back into `dst` at `rect` as 8-bit sRGB, rounded to
 * the nearest level after clipping to the gamut. Alpha, when present, is left as it is.
 */
export function labToRgb(lab: FloatImage, dst: Image, rect: Rect): void {
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  if (lab.width !== w || lab.height !== h || lab.channels !== 3) {
    throw new RangeError(`labToRgb: lab is ${lab.width}×${lab.height}×${lab.channels}, rect needs ${w}×${h}×3`);
  }
  const c = dst.channels;
  const dd = dst.data;
  const s = lab.data;
  for (let y = 0; y < h; y++) {
    let di = ((rect.y0 + y) * dst.width + rect.x0) * c;
    let si = y * w * 3;
    for (let x = 0; x < w; x++, di += c, si += 3) {
      const L = s[si];
      let fy: number;
      let Y: number;
      if (L <= L_THRESH) {
        Y = L / L_LIN;
        fy = K_LIN * Y + F_OFF;
      } else {
        fy = (L + 16) / 116;
        Y = fy * fy * fy;
      }
      const fx = fy + s[si + 1] / 500;
      const fz = fy - s[si + 2] / 200;
      const X = (fx <= F_THRESH ? (fx - F_OFF) / K_LIN : fx * fx * fx) * XN;
      const Z = (fz <= F_THRESH ? (fz - F_OFF) / K_LIN : fz * fz * fz) * ZN;
      const r = encodeLinear(XR * X + YR * Y + ZR * Z);
      const g = encodeLinear(XG * X + YG * Y + ZG * Z);
      const b = encodeLinear(XB * X + YB * Y + ZB * Z);
      if (c === 1) {
        dd[di] = (r + g + b) / 3;
      } else {
        dd[di] = r;
        dd[di + 1] = g;
        dd[di + 2] = b;
      }
    }
  }
}

export interface ChannelStats {
  mean: number;
  /** Population standard deviation (divided by the total weight). */
  std: number;
  /** Total weight; 0 when nothing was counted (mean and std are then 0). */
  weight: number;
}

/**
 * Weighted mean and standard deviation of one channel; `weights` (width·height, e.g. a soft face
 * mask) defaults to 1 everywhere. Accumulated in float64.
 */
export function meanStd(values: FloatImage, channel: number, weights?: Float32Array): ChannelStats {
  const n = values.width * values.height;
  const c = values.channels;
  const v = values.data;
  let sw = 0;
  let s1 = 0;
  for (let i = 0; i < n; i++) {
    const wi = weights ? weights[i] : 1;
    if (wi === 0) continue;
    sw += wi;
    s1 += wi * v[i * c + channel];
  }
  if (!(sw > 0)) return { mean: 0, std: 0, weight: 0 };
  const mean = s1 / sw;
  // Second pass around the mean: no cancellation when the spread is small next to the mean.
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const wi = weights ? weights[i] : 1;
    if (wi === 0) continue;
    const dv = v[i * c + channel] - mean;
    s2 += wi * dv * dv;
  }
  return { mean, std: Math.sqrt(s2 / sw), weight: sw };
}
