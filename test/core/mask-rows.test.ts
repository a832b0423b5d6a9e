/**
 * The span-based mask filters (erodeRows, gaussianBlurRows) against the whole-plane erode and
 * Gaussian blur: random masks of many sizes, boxes touching every edge, spans wider and flat runs
 * narrower than needed; they never read the plane outside the spans and never write outside theirs.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMaskBlurScratch, gaussianBlur, gaussianBlurRows } from '../../src/core/filters.js';
import type { Rect } from '../../src/core/image.js';
import { clearOutsideRows, createMaskRows, maskRowsOf, type MaskRows } from '../../src/core/mask-rows.js';
import { createErodeMaskScratch, erode, erodeRows } from '../../src/core/morphology.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/**
 * A mask inside `box`: 255 within a turned square (or, with 'noise', anywhere at random), a ragged
 * border of values 1…20 (as the paste-back's threshold leaves; none with 'binary'), 0 elsewhere.
 */
function mask(width: number, height: number, box: Rect, random: () => number, kind: 'square' | 'binary' | 'noise'): Float32Array {
  const noise = kind === 'noise';
  const band = kind === 'binary' ? 0 : 1.5;
  const data = new Float32Array(width * height);
  const cx = (box.x0 + box.x1) / 2;
  const cy = (box.y0 + box.y1) / 2;
  const size = Math.min(box.x1 - box.x0, box.y1 - box.y0) * (0.3 + 0.25 * random());
  const angle = random() * 1.5;
  const [c, s] = [Math.cos(angle), Math.sin(angle)];
  for (let y = box.y0; y < box.y1; y++) {
    for (let x = box.x0; x < box.x1; x++) {
      const d = Math.max(Math.abs((x - cx) * c + (y - cy) * s), Math.abs(-(x - cx) * s + (y - cy) * c));
      const u = random();
      data[y * width + x] = noise ? (u < 0.5 ? 255 : u < 0.75 ? 0 : 1 + Math.floor(random() * 20)) : d < size ? 255 : d < size + band ? 1 + Math.floor(u * 20) : 0;
    }
  }
  return data;
}

/** Spans that still describe the plane but are looser: wider spans over its zeros, shorter flat runs. */
function loosen(rows: MaskRows, width: number, random: () => number): MaskRows {
  for (let y = rows.y0; y < rows.y1; y++) {
    if (rows.hi[y] <= rows.lo[y]) continue;
    rows.lo[y] = Math.max(0, rows.lo[y] - Math.floor(random() * 4));
    rows.hi[y] = Math.min(width, rows.hi[y] + Math.floor(random() * 4));
    if (rows.flatHi[y] > rows.flatLo[y]) {
      rows.flatLo[y] += Math.floor(random() * 3);
      rows.flatHi[y] = Math.max(rows.flatLo[y], rows.flatHi[y] - Math.floor(random() * 3));
    }
  }
  return rows;
}

/** The plane with NaN outside the spans: a filter that reads there gives NaN. */
function poisoned(plane: Float32Array, width: number, height: number, rows: MaskRows): Float32Array {
  const out = plane.slice();
  for (let y = 0; y < height; y++) {
    const inside = y >= rows.y0 && y < rows.y1;
    for (let x = 0; x < width; x++) if (!inside || x < rows.lo[y] || x >= rows.hi[y]) out[y * width + x] = NaN;
  }
  return out;
}

/** Asserts dst was written on the spans and, outside them, with zeros at most (it started as NaN). */
function assertWrittenOnSpans(dst: Float32Array, width: number, height: number, rows: MaskRows, label: string): void {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = y >= rows.y0 && y < rows.y1 && x >= rows.lo[y] && x < rows.hi[y];
      const v = dst[y * width + x];
      if (inside) assert.ok(!Number.isNaN(v), `${label}: (${x}, ${y}) not written`);
      else assert.ok(Number.isNaN(v) || v === 0, `${label}: (${x}, ${y}) written outside the spans`);
      if (inside && rows.flatHi[y] > rows.flatLo[y] && x >= rows.flatLo[y] && x < rows.flatHi[y]) assert.equal(dst[y * width + x], rows.flat, `${label}: flat run at (${x}, ${y})`);
    }
  }
}

const sizes: [number, number][] = [
  [9, 7],
  [201, 37],
  [23, 31],
  [64, 48],
  [97, 83],
  [150, 121],
];

function boxes(width: number, height: number, random: () => number): Rect[] {
  const inner = { x0: Math.floor(width * 0.2), y0: Math.floor(height * 0.15), x1: Math.ceil(width * 0.85), y1: Math.ceil(height * 0.9) };
  const cut = (v: number) => Math.floor(v * random());
  return [
    inner,
    { x0: 0, y0: 0, x1: width, y1: height },
    { x0: 0, y0: cut(height / 2), x1: width - cut(width / 2), y1: height },
    { x0: cut(width / 2), y0: 0, x1: width, y1: height - cut(height / 2) },
  ];
}

test('erodeRows = erode on the whole plane: many sizes, kernels and boxes, loose spans', () => {
  const random = seeded(1);
  const scratch = createErodeMaskScratch();
  const out = createMaskRows();
  let cases = 0;
  for (const [width, height] of sizes) {
    for (const box of boxes(width, height, random)) {
      for (const kind of ['square', 'binary', 'noise'] as const) {
        const plane = mask(width, height, box, random, kind);
        for (const k of [1, 2, 3, 5, 10, 12, 17, 35]) {
          const rows = maskRowsOf(plane, width, height, box, 255, createMaskRows());
          if (random() < 0.5) loosen(rows, width, random);
          const label = `${width}×${height}, box ${JSON.stringify(box)}, ${kind}, k = ${k}`;
          const dst = new Float32Array(width * height).fill(NaN);
          erodeRows(poisoned(plane, width, height, rows), width, height, k, rows, dst, out, scratch);
          assertWrittenOnSpans(dst, width, height, out, label);
          assert.deepEqual(clearOutsideRows(dst, width, height, out), erode(plane, width, height, k), label);
          cases++;
        }
      }
    }
  }
  assert.ok(cases > 300);
});

test('gaussianBlurRows = gaussianBlur on the whole plane: many sizes, kernels and boxes, loose spans', () => {
  const random = seeded(2);
  const scratch = createMaskBlurScratch();
  const out = createMaskRows();
  for (const [width, height] of sizes) {
    for (const box of boxes(width, height, random)) {
      for (const kind of ['square', 'binary', 'noise'] as const) {
        const plane = mask(width, height, box, random, kind);
        for (const ksize of [1, 3, 11, 21, 35]) {
          const rows = maskRowsOf(plane, width, height, box, 255, createMaskRows());
          if (random() < 0.5) loosen(rows, width, random);
          const label = `${width}×${height}, box ${JSON.stringify(box)}, ${kind}, ksize = ${ksize}`;
          const dst = new Float32Array(width * height).fill(NaN);
          gaussianBlurRows(poisoned(plane, width, height, rows), width, height, ksize, rows, dst, out, scratch);
          const small = width <= ksize || height <= ksize;
          if (!small) assertWrittenOnSpans(dst, width, height, out, label);
          assert.deepEqual(clearOutsideRows(dst, width, height, out), gaussianBlur(plane, width, height, 1, ksize, 0), label);
        }
      }
    }
  }
});

test('erodeRows then gaussianBlurRows chain on the spans alone (the paste-back mask)', () => {
  const random = seeded(3);
  const width = 200;
  const height = 170;
  const box = { x0: 20, y0: 10, x1: 190, y1: 160 };
  const plane = mask(width, height, box, random, 'square');
  const rows = maskRowsOf(plane, width, height, box, 255, createMaskRows());
  const eroded = new Float32Array(width * height).fill(NaN);
  const erodedRows = erodeRows(plane, width, height, 15, rows, eroded, createMaskRows(), createErodeMaskScratch());
  const blurred = new Float32Array(width * height).fill(NaN);
  const blurredRows = gaussianBlurRows(eroded, width, height, 15, erodedRows, blurred, createMaskRows(), createMaskBlurScratch());
  const expected = gaussianBlur(erode(plane, width, height, 15), width, height, 1, 15, 0);
  assert.deepEqual(clearOutsideRows(blurred, width, height, blurredRows), expected);
  assert.equal(blurredRows.flat, 255, 'the blur of a flat 255 run is 255');
});

test('the blur of a flat 255 run is exactly 255 for every kernel size the paste-back uses (faces up to 4000 px)', () => {
  // blur_size = 2·max(⌊mask_size/20⌋, 5) + 1 (spec F6.15): 11 … 401 for mask sizes up to 4000.
  const rows = createMaskRows();
  rows.flat = 255;
  for (let ksize = 11; ksize <= 401; ksize += 2) {
    const out = gaussianBlurRows(new Float32Array(1), 1, 1, ksize, rows, new Float32Array(1), createMaskRows(), createMaskBlurScratch());
    assert.equal(out.flat, 255, `ksize ${ksize}`);
  }
});
