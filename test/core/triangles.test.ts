import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FloatImage, Image } from '../../src/core/image.js';
import { warpTriangles } from '../../src/core/warp.js';

/** Deterministic pseudo-random numbers (LCG), so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * A (cols+1)×(rows+1) vertex grid over [x0, x1] × [y0, y1], two triangles per cell. Interior
 * vertices are jittered (often onto exact pixel centres, to exercise the tie rule); boundary
 * vertices stay on the rectangle so the mesh covers it exactly.
 */
function mesh(x0: number, y0: number, x1: number, y1: number, cols: number, rows: number, seed: number) {
  const rand = rng(seed);
  const points = new Float32Array((cols + 1) * (rows + 1) * 2);
  for (let j = 0; j <= rows; j++) {
    for (let i = 0; i <= cols; i++) {
      let x = x0 + ((x1 - x0) * i) / cols;
      let y = y0 + ((y1 - y0) * j) / rows;
      if (i > 0 && i < cols && j > 0 && j < rows) {
        const snap = rand() < 0.4;
        x += (rand() - 0.5) * 2;
        y += (rand() - 0.5) * 2;
        if (snap) {
          x = Math.floor(x) + 0.5;
          y = Math.floor(y) + 0.5;
        }
      }
      points[2 * (j * (cols + 1) + i)] = x;
      points[2 * (j * (cols + 1) + i) + 1] = y;
    }
  }
  const tris: number[] = [];
  for (let j = 0; j < rows; j++) {
    for (let i = 0; i < cols; i++) {
      const a = j * (cols + 1) + i;
      const b = a + 1;
      const c = a + cols + 1;
      const d = c + 1;
      // Alternate the diagonal and the winding, so both orientations are exercised.
      if ((i + j) % 2 === 0) tris.push(a, b, d, a, d, c);
      else tris.push(a, c, b, b, c, d);
    }
  }
  return { points, triangles: Uint32Array.from(tris) };
}

function floatImage(width: number, height: number, channels: number): FloatImage {
  return { width, height, channels, data: new Float32Array(width * height * channels) };
}

function pattern(width: number, height: number, channels: 3 | 4): Image {
  const data = new Uint8ClampedArray(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
  return { width, height, channels, data };
}

describe('warpTriangles', () => {
  it('two triangles sharing a diagonal cover a square once, edges included by the top-left rule', () => {
    const W = 12;
    const src = pattern(W, W, 3);
    const pts = new Float32Array([2.5, 2.5, 9.5, 2.5, 9.5, 9.5, 2.5, 9.5]); // corners on pixel centres
    const counts = new Float32Array(W * W);
    for (const tri of [
      [0, 1, 2],
      [0, 2, 3],
    ]) {
      const coverage = new Float32Array(W * W);
      warpTriangles(src, pts, floatImage(W, W, 3), pts, Uint16Array.from(tri), { coverage });
      for (let i = 0; i < counts.length; i++) counts[i] += coverage[i];
    }
    for (let y = 0; y < W; y++) {
      for (let x = 0; x < W; x++) {
        // Centres x + 0.5 in [2.5, 9.5): pixels 2..8 in both axes.
        const inside = x >= 2 && x <= 8 && y >= 2 && y <= 8;
        assert.equal(counts[y * W + x], inside ? 1 : 0, `pixel (${x}, ${y})`);
      }
    }
  });

  it('a jittered mesh covers its rectangle exactly once: no cracks, no double writes', () => {
    for (const seed of [1, 2, 3]) {
      const W = 48;
      const H = 40;
      const { points, triangles } = mesh(3.5, 2.5, 44.5, 37.5, 9, 7, seed);
      const src = pattern(W, H, 4);
      const counts = new Float32Array(W * H);
      for (let t = 0; t < triangles.length; t += 3) {
        const coverage = new Float32Array(W * H);
        warpTriangles(src, points, floatImage(W, H, 3), points, triangles.subarray(t, t + 3), { coverage });
        for (let i = 0; i < counts.length; i++) counts[i] += coverage[i];
      }
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const inside = x >= 3 && x <= 43 && y >= 2 && y <= 36;
          assert.equal(counts[y * W + x], inside ? 1 : 0, `seed ${seed}, pixel (${x}, ${y})`);
        }
      }
    }
  });

  it('identical source and destination meshes reproduce the source exactly', () => {
    const W = 30;
    const H = 20;
    const src = pattern(W, H, 3);
    const { points, triangles } = mesh(0, 0, W, H, 5, 4, 7);
    const dst = floatImage(W, H, 3);
    const coverage = new Float32Array(W * H);
    warpTriangles(src, points, dst, points, triangles, { coverage });
    assert.ok(coverage.every((v) => v === 1));
    assert.deepEqual(Array.from(dst.data), Array.from(src.data));
  });

  it('an integer translation of the mesh moves the pixels exactly; RGBA → RGB copies 3 channels', () => {
    const W = 24;
    const src = pattern(W, W, 4);
    const { points, triangles } = mesh(0, 0, 16, 16, 4, 4, 11);
    const moved = Float64Array.from(points, (v, i) => v + (i % 2 === 0 ? 5 : 3)); // exact in float64
    const dst = floatImage(W, W, 3);
    warpTriangles(src, points, dst, moved, triangles);
    for (let y = 3; y < 19; y++) {
      for (let x = 5; x < 21; x++) {
        for (let c = 0; c < 3; c++) assert.equal(dst.data[(y * W + x) * 3 + c], src.data[((y - 3) * W + x - 5) * 4 + c]);
      }
    }
  });

  it('a destination holding a region (origin) and a clip rectangle give the full-frame result there', () => {
    const W = 40;
    const src = pattern(W, W, 3);
    const { points, triangles } = mesh(2, 2, 38, 38, 6, 6, 5);
    const rotated = new Float32Array(points.length);
    for (let i = 0; i < points.length; i += 2) {
      const x = points[i] - 20;
      const y = points[i + 1] - 20;
      rotated[i] = 20 + 0.8 * (x * Math.cos(0.3) - y * Math.sin(0.3));
      rotated[i + 1] = 20 + 0.8 * (x * Math.sin(0.3) + y * Math.cos(0.3));
    }
    const full = floatImage(W, W, 3);
    warpTriangles(src, points, full, rotated, triangles);
    const region = floatImage(15, 12, 3);
    const coverage = new Float32Array(15 * 12);
    const rect = { x0: 12, y0: 10, x1: 24, y1: 20 };
    warpTriangles(src, points, region, rotated, triangles, { originX: 10, originY: 9, rect, coverage });
    for (let y = 0; y < 12; y++) {
      for (let x = 0; x < 15; x++) {
        const fx = x + 10;
        const fy = y + 9;
        const inRect = fx >= 12 && fx < 24 && fy >= 10 && fy < 20;
        assert.equal(coverage[y * 15 + x], inRect ? 1 : 0);
        for (let c = 0; c < 3; c++) {
          assert.equal(region.data[(y * 15 + x) * 3 + c], inRect ? full.data[(fy * W + fx) * 3 + c] : 0);
        }
      }
    }
  });
});
