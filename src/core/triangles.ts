/**
 * Piecewise-affine warp of a triangle mesh (the built-in engine's texture transfer): every
 * destination pixel inside the mesh is written exactly once, with no cracks along shared edges.
 */

import { solveTriangleAffine } from './affine.js';
import type { FloatImage, Image, Rect } from './image.js';

export interface TriangleWarpOptions {
  /** Destination region to write, in frame coordinates (like dstPoints); clipped to `dst`. */
  rect?: Rect;
  /** dst.width × dst.height; set to 1 at every pixel written. */
  coverage?: Float32Array;
  /** Frame position of dst's top-left pixel, when `dst` holds only a region of the frame (integers). */
  originX?: number;
  originY?: number;
}

/** Vertices are snapped to 1/256 pixel so every edge test is exact integer arithmetic in doubles. */
const SUB = 256;
const HALF = SUB / 2;

/**
 * For each triangle (index triples into the x,y pairs of both point sets), fill the destination
 * triangle with the source triangle mapped by their affine. Coordinates are continuous on both
 * sides (pixel (i, j) covers [i, i+1) × [j, j+1)); a destination pixel belongs to a triangle when
 * its centre (i + 0.5, j + 0.5) does, with the top-left rule deciding centres exactly on an edge,
 * so triangles sharing an edge or a vertex cover each centre once. The source is sampled
 * bilinearly with edges clamped; min(src, dst) channels are copied (8-bit destinations round).
 */
export function warpTriangles(
  src: Image | FloatImage,
  srcPoints: ArrayLike<number>,
  dst: FloatImage | Image,
  dstPoints: ArrayLike<number>,
  triangles: ArrayLike<number>,
  options: TriangleWarpOptions = {},
): void {
  const ox = options.originX ?? 0;
  const oy = options.originY ?? 0;
  const dw = dst.width;
  const dh = dst.height;
  const r = options.rect;
  // Region of frame pixels that may be written.
  const rx0 = Math.max(ox, r ? Math.ceil(r.x0) : ox);
  const ry0 = Math.max(oy, r ? Math.ceil(r.y0) : oy);
  const rx1 = Math.min(ox + dw, r ? Math.floor(r.x1) : ox + dw);
  const ry1 = Math.min(oy + dh, r ? Math.floor(r.y1) : oy + dh);
  if (rx1 <= rx0 || ry1 <= ry0) return;
  const coverage = options.coverage;
  if (coverage && coverage.length < dw * dh) throw new RangeError(`warpTriangles: coverage holds ${coverage.length}, needs ${dw * dh}`);

  const sd = src.data;
  const dd = dst.data;
  const sc = src.channels;
  const dc = dst.channels;
  const n = Math.min(sc, dc);
  const sw = src.width;
  const sh = src.height;
  const sStride = sw * sc;
  const m = new Float64Array(6);

  for (let t = 0; t + 2 < triangles.length; t += 3) {
    const i0 = triangles[t];
    let i1 = triangles[t + 1];
    let i2 = triangles[t + 2];
    const x0 = Math.round(dstPoints[2 * i0] * SUB);
    const y0 = Math.round(dstPoints[2 * i0 + 1] * SUB);
    let x1 = Math.round(dstPoints[2 * i1] * SUB);
    let y1 = Math.round(dstPoints[2 * i1 + 1] * SUB);
    let x2 = Math.round(dstPoints[2 * i2] * SUB);
    let y2 = Math.round(dstPoints[2 * i2 + 1] * SUB);
    const area = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0);
    if (!(area !== 0)) continue; // degenerate, or NaN points
    if (area < 0) {
      // Orient every triangle the same way so that "inside" is the positive side of each edge.
      let s = x1;
      x1 = x2;
      x2 = s;
      s = y1;
      y1 = y2;
      y2 = s;
      s = i1;
      i1 = i2;
      i2 = s;
    }
    const px0 = Math.max(rx0, Math.ceil((Math.min(x0, x1, x2) - HALF) / SUB));
    const px1 = Math.min(rx1 - 1, Math.floor((Math.max(x0, x1, x2) - HALF) / SUB));
    const py0 = Math.max(ry0, Math.ceil((Math.min(y0, y1, y2) - HALF) / SUB));
    const py1 = Math.min(ry1 - 1, Math.floor((Math.max(y0, y1, y2) - HALF) / SUB));
    if (px1 < px0 || py1 < py0) continue;
    if (solveTriangleAffine(m, dstPoints, srcPoints, i0, i1, i2) === 0) continue;
    // Source index coordinate of a destination centre: continuous point minus half a pixel.
    const ma = m[0];
    const mb = m[1];
    const mc = m[2] + 0.5 * (ma + mb) - 0.5;
    const md = m[3];
    const me = m[4];
    const mf = m[5] + 0.5 * (md + me) - 0.5;

    // Edge k runs from vertex k to vertex k+1; E = A·(Py − Ya) − B·(Px − Xa) > 0 inside. Edges that
    // are "top" (horizontal, going right) or "left" (going up) also own the centres on them.
    const a0 = x1 - x0;
    const b0 = y1 - y0;
    const a1 = x2 - x1;
    const b1 = y2 - y1;
    const a2 = x0 - x2;
    const b2 = y0 - y2;
    const bias0 = b0 < 0 || (b0 === 0 && a0 > 0) ? 0 : -1;
    const bias1 = b1 < 0 || (b1 === 0 && a1 > 0) ? 0 : -1;
    const bias2 = b2 < 0 || (b2 === 0 && a2 > 0) ? 0 : -1;
    const startX = px0 * SUB + HALF;

    const span = px1 - px0;
    for (let py = py0; py <= py1; py++) {
      const cy = py * SUB + HALF;
      const f0 = a0 * (cy - y0) - b0 * (startX - x0) + bias0;
      const f1 = a1 * (cy - y1) - b1 * (startX - x1) + bias1;
      const f2 = a2 * (cy - y2) - b2 * (startX - x2) + bias2;
      // The row's inside run, from each edge's crossing (a column early and late, then the exact
      // tests below decide: the edge values are integers, stepped exactly as one column at a time).
      const lo = Math.max(0, enter(f0, b0), enter(f1, b1), enter(f2, b2));
      const hi = Math.min(span, leave(f0, b0), leave(f1, b1), leave(f2, b2));
      if (lo > hi) continue;
      const rowSx = mb * py + mc;
      const rowSy = me * py + mf;
      let e0 = f0 - b0 * SUB * lo;
      let e1 = f1 - b1 * SUB * lo;
      let e2 = f2 - b2 * SUB * lo;
      let entered = false;
      for (let px = px0 + lo, end = px0 + hi; px <= end; px++, e0 -= b0 * SUB, e1 -= b1 * SUB, e2 -= b2 * SUB) {
        if (e0 < 0 || e1 < 0 || e2 < 0) {
          if (entered) break; // a row crosses a convex triangle once
          continue;
        }
        entered = true;
        let sx = ma * px + rowSx;
        let sy = md * px + rowSy;
        sx = sx < 0 ? 0 : sx > sw - 1 ? sw - 1 : sx;
        sy = sy < 0 ? 0 : sy > sh - 1 ? sh - 1 : sy;
        const ix = sx | 0;
        const iy = sy | 0;
        const ax = sx - ix;
        const ay = sy - iy;
        const o00 = iy * sStride + ix * sc;
        const o01 = ix < sw - 1 ? o00 + sc : o00;
        const o10 = iy < sh - 1 ? o00 + sStride : o00;
        const o11 = o10 + (o01 - o00);
        const li = (py - oy) * dw + (px - ox);
        const di = li * dc;
        for (let k = 0; k < n; k++) {
          const p00 = sd[o00 + k];
          const p01 = sd[o01 + k];
          const p10 = sd[o10 + k];
          const p11 = sd[o11 + k];
          const v0 = p00 + ax * (p01 - p00);
          const v1 = p10 + ax * (p11 - p10);
          dd[di + k] = v0 + ay * (v1 - v0);
        }
        if (coverage) coverage[li] = 1;
      }
    }
  }
}

/**
 * For an edge whose value is `e` at the row's first column and falls by b·SUB a column: the
 * columns before the one returned are outside it (one column early, so rounding never cuts a
 * pixel; the caller tests each pixel exactly). Edges that rise along the row (b < 0) are entered.
 */
function enter(e: number, b: number): number {
  return b < 0 && e < 0 ? Math.ceil(e / (b * SUB)) - 1 : 0;
}

/** The last column inside an edge that falls along the row (b > 0), one column late; see {@link enter}. */
function leave(e: number, b: number): number {
  if (b > 0) return Math.floor(e / (b * SUB)) + 1;
  return b === 0 && e < 0 ? -1 : Infinity;
}
