/** The source texture: hair over the forehead is not taken for skin; brows and cheeks are. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CANONICAL_UV } from '../../src/face/canonical-uv.js';
import { fillPolygon } from '../../src/core/polygon.js';
import { LIPS_INNER, LIPS_OUTER } from '../../src/face/mesh-indices.js';
import { hideHairOnForehead, hideTeethOnLips } from '../../src/swap/mesh-texture.js';

describe('mesh engine texture', () => {
  test('a dark fringe across the forehead loses its confidence; brows, cheeks and a lighter forehead keep theirs', () => {
    const size = 200;
    const texture = { width: size, height: size, channels: 4 as const, data: new Uint8ClampedArray(size * size * 4) };
    const brow = [CANONICAL_UV[2 * 105] * size, CANONICAL_UV[2 * 105 + 1] * size];
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const i = 4 * (y * size + x);
        const fringe = y > 0.12 * size && y < 0.2 * size && x > 0.3 * size && x < 0.5 * size;
        const onBrow = Math.hypot(x - brow[0], y - brow[1]) < 4;
        const highlight = y > 0.12 * size && y < 0.2 * size && x > 0.55 * size && x < 0.65 * size;
        texture.data.set(fringe ? [90, 50, 30, 255] : onBrow ? [60, 40, 30, 255] : highlight ? [245, 215, 200, 255] : [215, 170, 150, 255], i);
      }
    hideHairOnForehead(texture);
    const alpha = (u: number, v: number) => texture.data[4 * (Math.floor(v * size) * size + Math.floor(u * size)) + 3];
    assert.ok(alpha(0.4, 0.16) < 40, `fringe alpha ${alpha(0.4, 0.16)}`);
    assert.equal(alpha(brow[0] / size, brow[1] / size), 255, 'the brow stays');
    assert.equal(alpha(0.3, 0.6), 255, 'the cheek stays');
    assert.ok(alpha(0.6, 0.16) > 200, `a highlight on the forehead stays (${alpha(0.6, 0.16)})`);
  });

  test("the source's teeth caught inside its lip line lose their confidence; the lips keep theirs", () => {
    const size = 256;
    const uv = Float32Array.from(CANONICAL_UV, (v) => v * size);
    const texture = { width: size, height: size, channels: 4 as const, data: new Uint8ClampedArray(size * size * 4) };
    const lips = new Float32Array(size * size);
    const mouth = new Float32Array(size * size);
    fillPolygon(lips, size, size, Float32Array.from(LIPS_OUTER.flatMap((v) => [uv[2 * v], uv[2 * v + 1]])));
    fillPolygon(mouth, size, size, Float32Array.from(LIPS_INNER.flatMap((v) => [uv[2 * v], uv[2 * v + 1]])));
    const lowerInner = uv[2 * 14 + 1];
    let teeth = -1;
    let lip = -1;
    for (let i = 0; i < size * size; i++) {
      const y = Math.floor(i / size);
      const onLip = lips[i] > 0 && mouth[i] === 0;
      // A row of teeth along the inside of the lower lip.
      const tooth = onLip && y >= lowerInner && y < lowerInner + 2;
      texture.data.set(tooth ? [235, 232, 225, 255] : onLip ? [170, 80, 80, 255] : [200, 150, 130, 255], 4 * i);
      if (tooth) teeth = i;
      else if (onLip && y > lowerInner + 4) lip = i;
    }
    assert.ok(teeth >= 0 && lip >= 0, 'the test texture has teeth and lips');
    hideTeethOnLips(texture, uv);
    assert.ok(texture.data[4 * teeth + 3] < 40, `teeth alpha ${texture.data[4 * teeth + 3]}`);
    assert.equal(texture.data[4 * lip + 3], 255, 'the lip stays');
  });
});
