/**
 * warpTriangles starts each row at its edges' crossing instead of walking from the bounding box:
 * the same pixels as the plain walk (kept here as the reference) on random meshes with slivers,
 * near-horizontal and near-vertical edges, vertices on pixel centres and triangles past the frame.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { solveTriangleAffine } from '../../src/core/affine.js';
import type { Image } from '../../src/core/image.js';
import { warpTriangles } from '../../src/core/triangles.js';

const SUB = 256;
const HALF = SUB / 2;

/** The row walk as it was: every column of the bounding box tested, from its left edge. */
function referenceWarp(src: Image, srcPoints: Float32Array, dst: Image, dstPoints: Float32Array, triangles: Uint16Array): void {
  const { width: dw, height: dh, channels: dc, data: dd } = dst;
  const { width: sw, height: sh, channels: sc, data: sd } = src;
  const n = Math.min(sc, dc);
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
    if (!(area !== 0)) continue;
    if (area < 0) {
      [x1, x2, y1, y2, i1, i2] = [x2, x1, y2, y1, i2, i1];
    }
    const px0 = Math.max(0, Math.ceil((Math.min(x0, x1, x2) - HALF) / SUB));
    const px1 = Math.min(dw - 1, Math.floor((Math.max(x0, x1, x2) - HALF) / SUB));
    const py0 = Math.max(0, Math.ceil((Math.min(y0, y1, y2) - HALF) / SUB));
    const py1 = Math.min(dh - 1, Math.floor((Math.max(y0, y1, y2) - HALF) / SUB));
    if (px1 < px0 || py1 < py0) continue;
    if (solveTriangleAffine(m, dstPoints, srcPoints, i0, i1, i2) === 0) continue;
    const mc = m[2] + 0.5 * (m[0] + m[1]) - 0.5;
    const mf = m[5] + 0.5 * (m[3] + m[4]) - 0.5;
    const edges = [
      [x1 - x0, y1 - y0, x0, y0],
      [x2 - x1, y2 - y1, x1, y1],
      [x0 - x2, y0 - y2, x2, y2],
    ].map(([a, b, x, y]) => ({ a, b, x, y, bias: b < 0 || (b === 0 && a > 0) ? 0 : -1 }));
    for (let py = py0; py <= py1; py++) {
      const cy = py * SUB + HALF;
      let entered = false;
      for (let px = px0; px <= px1; px++) {
        const cx = px * SUB + HALF;
        if (edges.some((e) => e.a * (cy - e.y) - e.b * (cx - e.x) + e.bias < 0)) {
          if (entered) break;
          continue;
        }
        entered = true;
        const sx = Math.min(sw - 1, Math.max(0, m[0] * px + m[1] * py + mc));
        const sy = Math.min(sh - 1, Math.max(0, m[3] * px + m[4] * py + mf));
        const ix = sx | 0;
        const iy = sy | 0;
        const ax = sx - ix;
        const ay = sy - iy;
        const o00 = (iy * sw + ix) * sc;
        const o01 = ix < sw - 1 ? o00 + sc : o00;
        const o10 = iy < sh - 1 ? o00 + sw * sc : o00;
        const o11 = o10 + (o01 - o00);
        for (let k = 0; k < n; k++) {
          const v0 = sd[o00 + k] + ax * (sd[o01 + k] - sd[o00 + k]);
          const v1 = sd[o10 + k] + ax * (sd[o11 + k] - sd[o10 + k]);
          dd[(py * dw + px) * dc + k] = v0 + ay * (v1 - v0);
        }
      }
    }
  }
}

/** Deterministic pseudo-random numbers (LCG), so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('rows start at the edges: the same pixels as walking each row from the bounding box', () => {
  const rand = rng(7);
  const src: Image = { width: 64, height: 48, channels: 3, data: new Uint8ClampedArray(64 * 48 * 3).map((_, i) => (i * 97) % 256) };
  for (let round = 0; round < 40; round++) {
    const count = 60;
    const dstPoints = new Float32Array(2 * count);
    const srcPoints = new Float32Array(2 * count);
    for (let i = 0; i < count; i++) {
      // Some vertices on pixel centres, some past the frame's edges.
      const snap = rand() < 0.3;
      const x = rand() * 110 - 15;
      const y = rand() * 90 - 15;
      dstPoints[2 * i] = snap ? Math.floor(x) + 0.5 : x;
      dstPoints[2 * i + 1] = snap ? Math.floor(y) + 0.5 : y;
      srcPoints[2 * i] = rand() * 64;
      srcPoints[2 * i + 1] = rand() * 48;
    }
    const triangles: number[] = [];
    for (let t = 0; t < 80; t++) {
      const a = Math.floor(rand() * count);
      // Slivers: a vertex nudged just off the line of the other two, or straight along an axis.
      if (t % 5 === 0) {
        const b = (a + 1) % count;
        const c = (a + 2) % count;
        dstPoints[2 * c] = dstPoints[2 * b] + (rand() < 0.5 ? 0 : 0.01);
        dstPoints[2 * c + 1] = dstPoints[2 * a + 1] + (rand() < 0.5 ? 0 : 0.02);
        triangles.push(a, b, c);
      } else {
        triangles.push(a, Math.floor(rand() * count), Math.floor(rand() * count));
      }
    }
    const tris = Uint16Array.from(triangles);
    const expected: Image = { width: 80, height: 60, channels: 3, data: new Uint8ClampedArray(80 * 60 * 3) };
    const actual: Image = { width: 80, height: 60, channels: 3, data: new Uint8ClampedArray(80 * 60 * 3) };
    referenceWarp(src, srcPoints, expected, dstPoints, tris);
    warpTriangles(src, srcPoints, actual, dstPoints, tris);
    assert.deepEqual(actual.data, expected.data, `round ${round}`);
  }
});
