/**
 * Row spans of a mask plane: for each row, the columns that may hold non-zero values and a run
 * known to hold one flat value. Mask filters that read and write these (morphology.ts's erodeRows,
 * filters.ts's gaussianBlurRows) touch only the spans, never clear whole planes, and compute
 * value by value only where a window is not known to be flat; their results are those of the
 * whole-plane filters, to the bit.
 */

import { clampRect, type Rect } from './image.js';

/**
 * Where a width×height mask plane holds its non-zero values. Row y of [y0, y1) is 0 outside
 * [lo[y], hi[y]) (the plane need not hold those zeros: they are never read) and exactly `flat` on
 * [flatLo[y], flatHi[y]) ⊂ [lo[y], hi[y]) (possibly empty); every other row is 0. Spans may be
 * wider, and flat runs narrower, than the values need: only the time taken changes.
 */
export interface MaskRows {
  y0: number;
  y1: number;
  lo: Int32Array;
  hi: Int32Array;
  flatLo: Int32Array;
  flatHi: Int32Array;
  flat: number;
}

/** Empty spans, grown by {@link sizeMaskRows}. */
export function createMaskRows(): MaskRows {
  return { y0: 0, y1: 0, lo: new Int32Array(0), hi: new Int32Array(0), flatLo: new Int32Array(0), flatHi: new Int32Array(0), flat: 0 };
}

/** Makes room for `height` rows and sets every row empty; returns `rows`. */
export function sizeMaskRows(rows: MaskRows, height: number, flat: number): MaskRows {
  if (rows.lo.length < height) {
    rows.lo = new Int32Array(height);
    rows.hi = new Int32Array(height);
    rows.flatLo = new Int32Array(height);
    rows.flatHi = new Int32Array(height);
  } else {
    rows.lo.fill(0, 0, height);
    rows.hi.fill(0, 0, height);
    rows.flatLo.fill(0, 0, height);
    rows.flatHi.fill(0, 0, height);
  }
  rows.y0 = 0;
  rows.y1 = 0;
  rows.flat = flat;
  return rows;
}

/**
 * The spans of a plane that is 0 outside `box`: per row the first to the last non-zero value, and
 * the longest run of `flat` among them.
 */
export function maskRowsOf(plane: Float32Array, width: number, height: number, box: Rect, flat: number, rows: MaskRows): MaskRows {
  sizeMaskRows(rows, height, flat);
  const { x0, y0, x1, y1 } = clampRect(box, width, height);
  rows.y0 = y0;
  rows.y1 = Math.max(y0, y1);
  for (let y = y0; y < y1; y++) {
    const base = y * width;
    let lo = x0;
    let hi = x1;
    while (lo < hi && plane[base + lo] === 0) lo++;
    while (hi > lo && plane[base + hi - 1] === 0) hi--;
    let best = lo;
    let bestEnd = lo;
    for (let x = lo; x < hi;) {
      if (plane[base + x] !== flat) {
        x++;
        continue;
      }
      let e = x + 1;
      while (e < hi && plane[base + e] === flat) e++;
      if (e - x > bestEnd - best) {
        best = x;
        bestEnd = e;
      }
      x = e;
    }
    rows.lo[y] = lo;
    rows.hi[y] = hi;
    rows.flatLo[y] = best;
    rows.flatHi[y] = bestEnd;
  }
  return rows;
}

/** Writes the zeros the spans leave out: afterwards `plane` holds the whole mask they describe. */
export function clearOutsideRows(plane: Float32Array, width: number, height: number, rows: MaskRows): Float32Array {
  for (let y = 0; y < height; y++) {
    const base = y * width;
    if (y < rows.y0 || y >= rows.y1 || rows.hi[y] <= rows.lo[y]) {
      plane.fill(0, base, base + width);
      continue;
    }
    plane.fill(0, base, base + rows.lo[y]);
    plane.fill(0, base + rows.hi[y], base + width);
  }
  return plane;
}
