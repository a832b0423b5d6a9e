import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alphaBlend, defaultPyramidLevels, laplacianPyramidBlend, PyramidBlender } from '../../src/core/blend.js';
import type { FloatImage } from '../../src/core/image.js';

function textured(width: number, height: number, channels: number, seed: number): FloatImage {
  const data = new Float32Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = 127.5 + 127.5 * Math.sin(i * 0.37 * seed + seed);
  return { width, height, channels, data };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('laplacianPyramidBlend', () => {
  for (const [w, h] of [
    [64, 48],
    [37, 23],
    [301, 299],
  ]) {
    it(`${w}×${h}: mask all 1 returns fg, all 0 returns bg`, () => {
      const fg = textured(w, h, 3, 1);
      const bg = textured(w, h, 3, 2);
      const ones = new Float32Array(w * h).fill(1);
      assert.ok(maxDiff(laplacianPyramidBlend(fg, bg, ones).data, fg.data) <= 1e-3);
      assert.ok(maxDiff(laplacianPyramidBlend(fg, bg, new Float32Array(w * h)).data, bg.data) <= 1e-3);
    });
  }

  it('a half/half mask gives a smooth, monotone transition without overshoot', () => {
    const w = 128;
    const h = 32;
    const fg: FloatImage = { width: w, height: h, channels: 1, data: new Float32Array(w * h).fill(200) };
    const bg: FloatImage = { width: w, height: h, channels: 1, data: new Float32Array(w * h).fill(50) };
    const mask = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w / 2; x++) mask[y * w + x] = 1;
    const out = laplacianPyramidBlend(fg, bg, mask).data;
    const row = Array.from(out.subarray(16 * w, 17 * w));
    assert.ok(Math.abs(row[0] - 200) < 1 && Math.abs(row[w - 1] - 50) < 1, `ends ${row[0]}, ${row[w - 1]}`);
    for (let x = 1; x < w; x++) assert.ok(row[x] <= row[x - 1] + 1e-3, `not monotone at ${x}: ${row[x - 1]} → ${row[x]}`);
    assert.ok(
      row.every((v) => v >= 50 - 1e-3 && v <= 200 + 1e-3),
      'overshoot',
    );
    const ramp = row.filter((v) => v > 55 && v < 195).length;
    assert.ok(ramp >= 8, `transition only ${ramp} pixels wide`);
    const steepest = Math.max(...row.slice(1).map((v, x) => row[x] - v));
    assert.ok(steepest < 40, `steepest step ${steepest} of 150`);
  });

  it('one level is a plain alpha blend; a reused blender gives the same answer', () => {
    const fg = textured(20, 10, 3, 3);
    const bg = textured(20, 10, 3, 4);
    const mask = Float32Array.from({ length: 200 }, (_, i) => (i % 20) / 19);
    assert.ok(maxDiff(laplacianPyramidBlend(fg, bg, mask, 1).data, alphaBlend(fg, bg, mask).data) <= 1e-4);
    const blender = new PyramidBlender(20, 10, 3);
    const first = blender.blend(fg, bg, mask).data.slice();
    const out: FloatImage = { width: 20, height: 10, channels: 3, data: new Float32Array(600) };
    assert.equal(blender.blend(fg, bg, mask, out), out);
    assert.deepEqual(out.data, first);
    assert.throws(() => blender.blend(textured(21, 10, 3, 1), textured(21, 10, 3, 1), new Float32Array(210)), RangeError);
  });

  it('chooses levels from the size', () => {
    assert.equal(defaultPyramidLevels(10, 300), 1);
    assert.equal(defaultPyramidLevels(64, 64), 4);
    assert.equal(defaultPyramidLevels(300, 300), 6);
    assert.equal(defaultPyramidLevels(4000, 4000), 8);
  });
});

describe('alphaBlend', () => {
  it('computes mask·fg + (1 − mask)·bg per channel', () => {
    const fg: FloatImage = { width: 2, height: 1, channels: 3, data: Float32Array.from([100, 200, 0, 10, 10, 10]) };
    const bg: FloatImage = { width: 2, height: 1, channels: 3, data: Float32Array.from([0, 0, 100, 30, 30, 30]) };
    const out = alphaBlend(fg, bg, Float32Array.from([0.25, 1]));
    assert.deepEqual(Array.from(out.data), [25, 50, 75, 10, 10, 10]);
    assert.throws(() => alphaBlend(fg, bg, new Float32Array(1)), RangeError);
  });
});
