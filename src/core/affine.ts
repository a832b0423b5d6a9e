/**
 * 2×3 affine maps in float64: composition, inversion, solving from three point pairs, and the
 * least-squares similarity (Umeyama) that aligns five face keypoints to a template.
 */

/**
 * [a, b, c, d, e, f]: x' = a·x + b·y + c, y' = d·x + e·y + f. The row-major order of OpenCV's
 * 2×3 matrix. Which pixel convention the points use is up to the caller (see
 * {@link affineCentredToCorner}); every function here is convention-free.
 */
export type Affine = readonly [number, number, number, number, number, number];

export const IDENTITY_AFFINE: Affine = [1, 0, 0, 0, 1, 0];

export function applyAffine(m: Affine, x: number, y: number): [number, number] {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
}

/** Map x,y pairs; `out` may be `points` itself. */
export function applyAffineToPoints(m: Affine, points: ArrayLike<number>, out?: Float32Array): Float32Array {
  const n = points.length >> 1;
  const dst = out ?? new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const x = points[2 * i];
    const y = points[2 * i + 1];
    dst[2 * i] = m[0] * x + m[1] * y + m[2];
    dst[2 * i + 1] = m[3] * x + m[4] * y + m[5];
  }
  return dst;
}

/** `outer ∘ inner`: the map that applies `inner` first, then `outer`. */
export function multiplyAffine(outer: Affine, inner: Affine): Affine {
  const [a, b, c, d, e, f] = outer;
  const [p, q, r, s, t, u] = inner;
  return [a * p + b * s, a * q + b * t, a * r + b * u + c, d * p + e * s, d * q + e * t, d * r + e * u + f];
}

/** Inverse map, in double like cv2.invertAffineTransform. Throws on a singular matrix. */
export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (det === 0 || !Number.isFinite(det)) throw new RangeError(`invertAffine: singular matrix [${m.join(', ')}]`);
  const r = 1 / det;
  const ia = e * r;
  const ib = -b * r;
  const id = -d * r;
  const ie = a * r;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/**
 * Convert a map written for OpenCV's convention (pixel (i, j) has its centre at (i, j)) into the
 * project's continuous convention (pixel (i, j) covers [i, i+1) × [j, j+1), centre i + 0.5). Both
 * sides of the map are converted: m' = T(+½) ∘ m ∘ T(−½).
 */
export function affineCentredToCorner(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  return [a, b, c - 0.5 * (a + b) + 0.5, d, e, f - 0.5 * (d + e) + 0.5];
}

/** Inverse of {@link affineCentredToCorner}: from continuous coordinates to OpenCV's. */
export function affineCornerToCentred(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  return [a, b, c + 0.5 * (a + b) - 0.5, d, e, f + 0.5 * (d + e) - 0.5];
}

/**
 * Write into `out` the affine taking triangle p (indices i0, i1, i2 of the x,y pairs in `p`) onto
 * triangle q (same indices in `q`). Returns the determinant of p's edge vectors; 0 means p is
 * degenerate and `out` was left alone. Allocation-free, for per-triangle use in hot loops.
 */
export function solveTriangleAffine(out: Float64Array, p: ArrayLike<number>, q: ArrayLike<number>, i0: number, i1: number, i2: number): number {
  const px = p[2 * i0];
  const py = p[2 * i0 + 1];
  const u1x = p[2 * i1] - px;
  const u1y = p[2 * i1 + 1] - py;
  const u2x = p[2 * i2] - px;
  const u2y = p[2 * i2 + 1] - py;
  const det = u1x * u2y - u2x * u1y;
  if (det === 0 || !Number.isFinite(det)) return 0;
  const qx = q[2 * i0];
  const qy = q[2 * i0 + 1];
  const v1x = q[2 * i1] - qx;
  const v1y = q[2 * i1 + 1] - qy;
  const v2x = q[2 * i2] - qx;
  const v2y = q[2 * i2 + 1] - qy;
  // Divisions, not a reciprocal: congruent triangles then give exactly 1 and 0 (an exact identity).
  const a = (v1x * u2y - v2x * u1y) / det;
  const b = (v2x * u1x - v1x * u2x) / det;
  const d = (v1y * u2y - v2y * u1y) / det;
  const e = (v2y * u1x - v1y * u2x) / det;
  out[0] = a;
  out[1] = b;
  out[2] = qx - a * px - b * py;
  out[3] = d;
  out[4] = e;
  out[5] = qy - d * px - e * py;
  return det;
}

/**
 * The affine that maps the three `src` points exactly onto the three `dst` points (x,y pairs),
 * like cv2.getAffineTransform. Throws when the source points are collinear.
 */
export function affineFromTriangles(src: ArrayLike<number>, dst: ArrayLike<number>): Affine {
  const m = new Float64Array(6);
  if (solveTriangleAffine(m, src, dst, 0, 1, 2) === 0) throw new RangeError('affineFromTriangles: source points are collinear');
  return [m[0], m[1], m[2], m[3], m[4], m[5]];
}

/**
 * Least-squares similarity (rotation, uniform scale, translation; no reflection) taking the `src`
 * points onto the `dst` points (x,y pairs, same count ≥ 2), in float64. For 2-D points Umeyama's
 * SVD solution (skimage SimilarityTransform.estimate, spec §4.3) reduces to this closed form:
 * with centred points S and D, a = Σ S·D / Σ|S|², b = Σ S×D / Σ|S|², linear part [[a, −b], [b, a]]
 * — the minimiser over all scaled rotations, which is exactly what Umeyama returns.
 * Throws when all source points coincide (skimage would return NaNs).
 */
export function similarityFromPoints(src: ArrayLike<number>, dst: ArrayLike<number>): Affine {
  const n = src.length >> 1;
  if (n < 2 || dst.length >> 1 !== n) {
    throw new RangeError(`similarityFromPoints: need the same number (≥ 2) of points, got ${n} and ${dst.length >> 1}`);
  }
  let msx = 0;
  let msy = 0;
  let mdx = 0;
  let mdy = 0;
  for (let i = 0; i < n; i++) {
    msx += src[2 * i];
    msy += src[2 * i + 1];
    mdx += dst[2 * i];
    mdy += dst[2 * i + 1];
  }
  msx /= n;
  msy /= n;
  mdx /= n;
  mdy /= n;
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const sx = src[2 * i] - msx;
    const sy = src[2 * i + 1] - msy;
    const dx = dst[2 * i] - mdx;
    const dy = dst[2 * i + 1] - mdy;
    dot += sx * dx + sy * dy;
    cross += sx * dy - sy * dx;
    norm += sx * sx + sy * sy;
  }
  if (!(norm > 0)) throw new RangeError('similarityFromPoints: source points coincide');
  const a = dot / norm;
  const b = cross / norm;
  return [a, -b, mdx - (a * msx - b * msy), b, a, mdy - (b * msx + a * msy)];
}
