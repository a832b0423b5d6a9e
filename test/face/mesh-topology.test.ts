/** The triangulation the mesh engine warps with: complete, non-overlapping, openings split off. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CANONICAL_UV } from '../../src/face/canonical-uv.js';
import { FACE_OVAL, LEFT_EYE, LIPS_INNER, RIGHT_EYE } from '../../src/face/mesh-indices.js';
import { meshTopology } from '../../src/face/mesh-topology.js';

const uv = (i: number): [number, number] => [CANONICAL_UV[2 * i], CANONICAL_UV[2 * i + 1]];

function triangleArea(t: ArrayLike<number>, k: number): number {
  const [ax, ay] = uv(t[k]);
  const [bx, by] = uv(t[k + 1]);
  const [cx, cy] = uv(t[k + 2]);
  return Math.abs((bx - ax) * (cy - ay) - (by - ay) * (cx - ax)) / 2;
}

function polygonArea(loop: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < loop.length; i++) {
    const [x0, y0] = uv(loop[i]);
    const [x1, y1] = uv(loop[(i + 1) % loop.length]);
    sum += x0 * y1 - x1 * y0;
  }
  return Math.abs(sum) / 2;
}

function totalArea(t: ArrayLike<number>): number {
  let sum = 0;
  for (let k = 0; k < t.length; k += 3) sum += triangleArea(t, k);
  return sum;
}

describe('mesh topology', () => {
  const topology = meshTopology();

  test('the triangles tile the face outline exactly: no gaps, no overlaps', () => {
    const all = totalArea(topology.skin) + totalArea(topology.mouth) + totalArea(topology.eyes);
    const outline = polygonArea(FACE_OVAL);
    assert.ok(Math.abs(all - outline) / outline < 1e-3, `triangles cover ${all.toFixed(5)}, the outline ${outline.toFixed(5)}`);
  });

  test('the openings are split off and fill the eye and lip loops', () => {
    const eyes = polygonArea(LEFT_EYE) + polygonArea(RIGHT_EYE);
    assert.ok(Math.abs(totalArea(topology.eyes) - eyes) / eyes < 0.05, 'eye triangles fill both eye openings');
    assert.ok(totalArea(topology.mouth) >= polygonArea(LIPS_INNER) * 0.95, 'mouth triangles cover the inner lip loop');
    const eyeVertices = new Set<number>([...LEFT_EYE, ...RIGHT_EYE]);
    for (const v of topology.eyes) assert.ok(eyeVertices.has(v), `eye triangle vertex ${v} is on an eye loop`);
  });

  test('every mesh point of the face outline is used by a skin triangle', () => {
    const used = new Set(topology.skin);
    for (const v of FACE_OVAL) assert.ok(used.has(v), `outline vertex ${v}`);
    assert.ok(topology.skin.length / 3 > 800, `${topology.skin.length / 3} skin triangles`);
  });

  test('the mirror map swaps the two halves and is its own inverse', () => {
    const { mirror } = topology;
    for (let i = 0; i < 468; i++) {
      assert.equal(mirror[mirror[i]], i);
      const [x, y] = uv(i);
      const [mx, my] = uv(mirror[i]);
      assert.ok(Math.abs(x + mx - 1) < 0.005 && Math.abs(y - my) < 0.005, `point ${i} mirrors to ${mirror[i]}`);
    }
    assert.deepEqual(new Set(RIGHT_EYE.map((v) => mirror[v])), new Set(LEFT_EYE));
  });
});
