import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convexHull, fillConvexHull, fillPolygon } from '../../src/core/polygon.js';

function count(mask: Float32Array, value = 1): number {
  return mask.reduce((n, v) => (v === value ? n + 1 : n), 0);
}

describe('fillPolygon', () => {
  it('an axis-aligned rectangle with integer corners fills exactly its area, nothing else', () => {
    const mask = new Float32Array(20 * 15);
    fillPolygon(mask, 20, 15, [3, 2, 11, 2, 11, 9, 3, 9], 0.5);
    assert.equal(count(mask, 0.5), 8 * 7);
    for (let y = 0; y < 15; y++) for (let x = 0; x < 20; x++) assert.equal(mask[y * 20 + x], x >= 3 && x < 11 && y >= 2 && y < 9 ? 0.5 : 0);
  });

  it('triangles and a many-sided circle match their analytic areas within the boundary error', () => {
    const circle: number[] = [];
    const r = 27.7;
    for (let i = 0; i < 256; i++) circle.push(40.3 + r * Math.cos((2 * Math.PI * i) / 256), 35.1 + r * Math.sin((2 * Math.PI * i) / 256));
    const cases = [
      { points: [10, 10, 60, 10, 10, 60], area: 1250, perimeter: 100 + 50 * Math.SQRT2 },
      { points: [5.3, 4.1, 45.7, 7.9, 20.2, 38.6], area: 0, perimeter: 0 }, // shoelace below
      { points: circle, area: Math.PI * r * r, perimeter: 2 * Math.PI * r },
    ];
    for (const c of cases) {
      if (c.area === 0) {
        const [x0, y0, x1, y1, x2, y2] = c.points;
        c.area = Math.abs((x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)) / 2;
        c.perimeter = Math.hypot(x1 - x0, y1 - y0) + Math.hypot(x2 - x1, y2 - y1) + Math.hypot(x0 - x2, y0 - y2);
      }
      const mask = new Float32Array(80 * 70);
      fillPolygon(mask, 80, 70, c.points);
      // Centre sampling misclassifies only pixels cut by the boundary, a band about a pixel wide
      // whose errors mostly cancel; a quarter of the perimeter is a generous bound.
      assert.ok(Math.abs(count(mask) - c.area) <= c.perimeter * 0.25, `area ${c.area}, filled ${count(mask)}`);
    }
  });

  it('uses the even-odd rule: the centre of a pentagram is a hole', () => {
    const star: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = -Math.PI / 2 + (i * 4 * Math.PI) / 5;
      star.push(50 + 40 * Math.cos(t), 50 + 40 * Math.sin(t));
    }
    const mask = new Float32Array(100 * 100);
    fillPolygon(mask, 100, 100, star);
    assert.equal(mask[50 * 100 + 50], 0, 'centre');
    assert.equal(mask[20 * 100 + 50], 1, 'top arm');
  });

  it('a mask holding a region of the frame (origin) gets the same pixels as a full-frame mask', () => {
    const poly = [12.2, 8.7, 40.9, 15.3, 33.1, 44.4, 9.6, 30.2];
    const full = new Float32Array(60 * 50);
    fillPolygon(full, 60, 50, poly);
    const region = new Float32Array(25 * 20);
    fillPolygon(region, 25, 20, poly, 1, 20, 25);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 25; x++) assert.equal(region[y * 25 + x], full[(y + 25) * 60 + x + 20]);
  });
});

describe('convexHull', () => {
  it('keeps the corners in clockwise screen order, dropping interior and collinear points', () => {
    const pts = [5, 5, 0, 0, 10, 0, 10, 10, 0, 10, 5, 0, 3, 7, 10, 5];
    assert.deepEqual(convexHull(pts), [0, 0, 10, 0, 10, 10, 0, 10]);
    assert.deepEqual(convexHull([1, 1, 1, 1]), [1, 1]);
    assert.deepEqual(convexHull([0, 0, 2, 1]), [0, 0, 2, 1]);
  });

  it('fillConvexHull fills the hull of scattered points', () => {
    const pts = [10, 10, 30, 12, 20, 20, 28, 30, 12, 28, 18, 15];
    const a = new Float32Array(40 * 40);
    const b = new Float32Array(40 * 40);
    fillConvexHull(a, 40, 40, pts);
    fillPolygon(b, 40, 40, convexHull(pts));
    assert.deepEqual(a, b);
    assert.ok(count(a) > 300);
  });
});
