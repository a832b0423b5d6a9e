/**
 * Polygon rasterisation into float masks (mouth and face-area masks) and the convex hull of a
 * landmark set. Coordinates are continuous: pixel (i, j) covers [i, i+1) × [j, j+1).
 */

/**
 * Set `value` at every pixel of `mask` (width × height, representing the frame region whose
 * top-left pixel is (originX, originY)) whose centre (i + 0.5, j + 0.5) lies inside the polygon
 * `points` (x,y pairs, frame coordinates, implicitly closed), by the even-odd rule. A centre
 * exactly on a left or top boundary is inside and on a right or bottom one outside, so a polygon
 * of area A sets about A pixels and an axis-aligned rectangle with integer corners exactly A.
 */
export function fillPolygon(mask: Float32Array, width: number, height: number, points: ArrayLike<number>, value = 1, originX = 0, originY = 0): void {
  const n = points.length >> 1;
  if (n < 3) return;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const y = points[2 * i + 1];
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  // Rows whose centre (j + 0.5) lies in [minY, maxY), in mask rows.
  const j0 = Math.max(0, Math.ceil(minY - 0.5) - originY);
  const j1 = Math.min(height - 1, Math.ceil(maxY - 0.5) - 1 - originY);
  const xs = new Float64Array(n);
  for (let j = j0; j <= j1; j++) {
    const cy = originY + j + 0.5;
    let count = 0;
    for (let i = 0, k = n - 1; i < n; k = i++) {
      const ya = points[2 * k + 1];
      const yb = points[2 * i + 1];
      // Half-open in y, so a vertex shared by two edges is counted once and horizontal edges never.
      if (ya <= cy ? yb > cy : yb <= cy) {
        const xa = points[2 * k];
        const xb = points[2 * i];
        xs[count++] = xa + ((cy - ya) * (xb - xa)) / (yb - ya);
      }
    }
    // Insertion sort: a row crosses a face polygon only a handful of times.
    for (let a = 1; a < count; a++) {
      const v = xs[a];
      let b = a - 1;
      while (b >= 0 && xs[b] > v) {
        xs[b + 1] = xs[b];
        b--;
      }
      xs[b + 1] = v;
    }
    const row = j * width;
    for (let p = 0; p + 1 < count; p += 2) {
      // Centres x + 0.5 in [left, right).
      const i0 = Math.max(0, Math.ceil(xs[p] - 0.5) - originX);
      const i1 = Math.min(width, Math.ceil(xs[p + 1] - 0.5) - originX);
      if (i1 > i0) mask.fill(value, row + i0, row + i1);
    }
  }
}

/**
 * Convex hull of x,y pairs (Andrew's monotone chain), as x,y pairs in order around the hull
 * (clockwise on screen, y down), without collinear points. Fewer than 3 distinct points come back
 * as they are (deduplicated).
 */
export function convexHull(points: ArrayLike<number>): number[] {
  const n = points.length >> 1;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => points[2 * a] - points[2 * b] || points[2 * a + 1] - points[2 * b + 1]);
  const hull: number[] = [];
  const cross = (o: number, a: number, b: number): number =>
    (points[2 * a] - points[2 * o]) * (points[2 * b + 1] - points[2 * o + 1]) - (points[2 * a + 1] - points[2 * o + 1]) * (points[2 * b] - points[2 * o]);
  // Lower chain left to right, then upper chain right to left; pop while not turning one way.
  for (let pass = 0; pass < 2; pass++) {
    const start = hull.length;
    for (let s = 0; s < n; s++) {
      const i = order[pass === 0 ? s : n - 1 - s];
      while (hull.length >= start + 2 && cross(hull[hull.length - 2], hull[hull.length - 1], i) <= 0) hull.pop();
      hull.push(i);
    }
    hull.pop(); // the last point starts the other chain
  }
  const out: number[] = [];
  for (const i of hull) {
    const x = points[2 * i];
    const y = points[2 * i + 1];
    if (out.length >= 2 && out[out.length - 2] === x && out[out.length - 1] === y) continue;
    out.push(x, y);
  }
  if (out.length >= 4 && out[0] === out[out.length - 2] && out[1] === out[out.length - 1]) out.length -= 2;
  if (out.length === 0 && n > 0) out.push(points[0], points[1]); // all points coincide
  return out;
}

/** fillPolygon over the convex hull of `points` (cv2.fillConvexPoly of a hull, on centres). */
export function fillConvexHull(mask: Float32Array, width: number, height: number, points: ArrayLike<number>, value = 1, originX = 0, originY = 0): void {
  fillPolygon(mask, width, height, convexHull(points), value, originX, originY);
}

/** The bounding box of points given as `stride` numbers each (x, y first): x0, y0 inclusive minima, x1, y1 maxima. */
export function pointBounds(points: ArrayLike<number>, stride = 2): { x0: number; y0: number; x1: number; y1: number } {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (let i = 0; i + 1 < points.length; i += stride) {
    x0 = Math.min(x0, points[i]);
    x1 = Math.max(x1, points[i]);
    y0 = Math.min(y0, points[i + 1]);
    y1 = Math.max(y1, points[i + 1]);
  }
  return { x0, y0, x1, y1 };
}

/** The (x, y) of the points `indices` picks from `points` (`stride` numbers each), as a flat polygon. */
export function gatherPoints(points: ArrayLike<number>, indices: readonly number[], stride = 2): Float32Array {
  const out = new Float32Array(indices.length * 2);
  indices.forEach((v, k) => {
    out[2 * k] = points[stride * v];
    out[2 * k + 1] = points[stride * v + 1];
  });
  return out;
}
