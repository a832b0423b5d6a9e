/** The mesh engine leaves faces turned too far alone, and says why; the report lists them. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CANONICAL_UV } from '../../src/face/canonical-uv.js';
import { MESH_POINTS, type Face } from '../../src/face/face.js';
import { applySimilarity3 } from '../../src/face/procrustes.js';
import { MeshSwapper } from '../../src/swap/mesh-engine.js';
import { formatSummary } from '../../src/cli/summary.js';

/** A canonical face turned `degrees` about the vertical axis. */
function turnedFace(degrees: number): Face {
  const m = new Float32Array(MESH_POINTS * 3);
  for (let i = 0; i < MESH_POINTS; i++) {
    const u = CANONICAL_UV[2 * i] - 0.5,
      v = CANONICAL_UV[2 * i + 1] - 0.5;
    m[3 * i] = 200 * u;
    m[3 * i + 1] = 200 * v;
    m[3 * i + 2] = -90 * (1 - 2 * (u * u + v * v));
  }
  const a = (degrees * Math.PI) / 180;
  const landmarks = applySimilarity3(
    { scale: 1, rotation: Float64Array.from([Math.cos(a), 0, Math.sin(a), 0, 1, 0, -Math.sin(a), 0, Math.cos(a)]), translation: [300, 300, 0] },
    m,
  );
  return { box: [200, 200, 200, 200], score: 1, meshScore: 1, kps5: new Float32Array(10), landmarks, roi: { cx: 300, cy: 300, size: 300, angle: 0 } };
}

describe('mesh engine: turned faces', () => {
  const engine = new MeshSwapper();

  test('frontal and three-quarter faces are swapped; a profile is left alone with a reason', () => {
    assert.equal(engine.skipReason(turnedFace(0)), undefined);
    assert.equal(engine.skipReason(turnedFace(-30)), undefined);
    const reason = engine.skipReason(turnedFace(75));
    assert.match(reason ?? '', /turned too far/);
    assert.match(engine.skipReason(turnedFace(-75)) ?? '', /yaw \d+°/);
  });

  test('the summary names the faces left untouched', () => {
    const text = formatSummary(
      {
        output: '/out.jpg',
        engine: 'mesh',
        sourceFaces: [{ index: 0, box: [1, 2, 3, 4], score: 0.9 }],
        targetFaces: [
          { index: 0, box: [1, 2, 3, 4], score: 0.9 },
          { index: 1, box: [1, 2, 3, 4], score: 0.9 },
        ],
        sourceFaceUsed: 0,
        swappedFaces: [0],
        skippedFaces: [{ index: 1, reason: 'turned too far' }],
        timings: { total: 10 },
        provenance: { watermarkId: '00', label: { shown: true, text: 'AI' }, credentials: 'none' },
        notices: [],
      },
      { source: 'a.png', target: 'b.png' },
    );
    assert.match(text, /swapped face #0, left face #1 untouched/);
  });
});
