/** Identity shape transfer: Procrustes, and the target's expression kept while the shape moves. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CANONICAL_UV } from '../../src/face/canonical-uv.js';
import { MESH_POINTS } from '../../src/face/face.js';
import { LEFT_EYE, LIPS_INNER, LIPS_OUTER, POINT, RIGHT_EYE } from '../../src/face/mesh-indices.js';
import { applySimilarity3, procrustes3 } from '../../src/face/procrustes.js';
import { faceYaw } from '../../src/face/pose.js';
import { expressionLineWeight, folds, outlineRing, ringFolds, smileScore, symmetricShape, transferShape } from '../../src/face/shape-transfer.js';
import { FACE_OVAL } from '../../src/face/mesh-indices.js';
import { softenExpressionLines } from '../../src/swap/mesh-texture.js';
import { meshTopology } from '../../src/face/mesh-topology.js';
import { seededRandom } from '../helpers/random.js';

const ALL = { eyes: true, brows: true, nose: true, mouth: true, jaw: true };

/** A frontal face from the canonical layout, 300 px tall, with a gentle dome for depth. */
function canonicalFace(): Float32Array {
  const m = new Float32Array(MESH_POINTS * 3);
  for (let i = 0; i < MESH_POINTS; i++) {
    const u = CANONICAL_UV[2 * i] - 0.5,
      v = CANONICAL_UV[2 * i + 1] - 0.5;
    m[3 * i] = 300 + 300 * u;
    m[3 * i + 1] = 300 + 300 * v;
    m[3 * i + 2] = -120 * (1 - 2 * (u * u + v * v));
  }
  return m;
}

/** Moves the points of `indices` by (dx, dy) scaled by `weight(i)`. */
function shift(m: Float32Array, indices: Iterable<number>, dx: number, dy: number): void {
  for (const i of indices) {
    m[3 * i] += dx;
    m[3 * i + 1] += dy;
  }
}

/** Another person: eyes set wider and longer, a wider nose, a wider mouth, thicker lips. */
function otherIdentity(base: Float32Array): Float32Array {
  const m = Float32Array.from(base);
  const scaleAbout = (indices: readonly number[], sx: number, sy: number, shiftX = 0) => {
    let cx = 0,
      cy = 0;
    for (const i of indices) {
      cx += m[3 * i] / indices.length;
      cy += m[3 * i + 1] / indices.length;
    }
    for (const i of indices) {
      m[3 * i] = cx + shiftX + (m[3 * i] - cx) * sx;
      m[3 * i + 1] = cy + (m[3 * i + 1] - cy) * sy;
    }
  };
  scaleAbout(RIGHT_EYE, 1.15, 1.0, -6);
  scaleAbout(LEFT_EYE, 1.15, 1.0, 6);
  scaleAbout([...LIPS_OUTER, ...LIPS_INNER], 1.1, 1.25);
  scaleAbout([98, 327, 64, 294, 48, 278, 129, 358], 1.2, 1);
  return m;
}

/** Opens the mouth by `gap` px (lower lip and chin down) and half-closes the eyes. */
function withExpression(base: Float32Array, gap: number, lidDrop: number): Float32Array {
  const m = Float32Array.from(base);
  const lowerV = CANONICAL_UV[2 * POINT.lowerLipInner + 1];
  const below = [...Array(MESH_POINTS).keys()].filter((i) => CANONICAL_UV[2 * i + 1] >= lowerV - 1e-6 && Math.abs(CANONICAL_UV[2 * i] - 0.5) < 0.2);
  shift(m, below, 0, gap);
  for (const [top, bottom] of [
    [159, 145],
    [386, 374],
  ])
    m[3 * top + 1] += lidDrop * (m[3 * bottom + 1] - m[3 * top + 1]);
  return m;
}

const d2 = (m: Float32Array, a: number, b: number) => Math.hypot(m[3 * a] - m[3 * b], m[3 * a + 1] - m[3 * b + 1]);
const mouthOpen = (m: Float32Array) => d2(m, POINT.upperLipInner, POINT.lowerLipInner) / d2(m, POINT.mouthRight, POINT.mouthLeft);
const eyeOpen = (m: Float32Array) => d2(m, 159, 145) / d2(m, 33, 133);

describe('procrustes3', () => {
  test('recovers a known similarity from noisy-free points', () => {
    const random = seededRandom(7);
    const points = Float32Array.from({ length: 60 * 3 }, () => random() * 100);
    const angle = 0.6;
    const c = Math.cos(angle),
      s = Math.sin(angle);
    const truth = { scale: 1.7, rotation: Float64Array.from([c, 0, s, 0, 1, 0, -s, 0, c]), translation: [5, -3, 12] as [number, number, number] };
    const moved = applySimilarity3(truth, points);
    const fit = procrustes3(
      points,
      moved,
      Uint16Array.from({ length: 60 }, (_, i) => i),
    );
    assert.ok(Math.abs(fit.scale - 1.7) < 1e-6, `scale ${fit.scale}`);
    const back = applySimilarity3(fit, points);
    for (let i = 0; i < back.length; i++) assert.ok(Math.abs(back[i] - moved[i]) < 1e-3);
  });
});

describe('identity shape transfer', () => {
  const neutral = canonicalFace();
  const source = symmetricShape(otherIdentity(neutral), new Float32Array(MESH_POINTS).fill(1));

  test('strength 0 leaves the target as it is', () => {
    const target = withExpression(neutral, 20, 0.4);
    assert.deepEqual(transferShape(target, source, 0, ALL).points, target);
  });

  test("the target's mouth opening and eye aperture are kept while the shape moves", () => {
    const target = withExpression(neutral, 24, 0.45);
    const { points, strength } = transferShape(target, source, 1, ALL);
    assert.equal(strength, 1, 'nothing folded');
    assert.ok(Math.abs(mouthOpen(points) - mouthOpen(target)) / mouthOpen(target) < 0.1, `mouth ${mouthOpen(points)} vs ${mouthOpen(target)}`);
    assert.ok(Math.abs(eyeOpen(points) - eyeOpen(target)) / eyeOpen(target) < 0.05, `eyes ${eyeOpen(points)} vs ${eyeOpen(target)}`);
    // ...and the identity moved: the eyes are longer and the mouth wider, as the source's.
    assert.ok(d2(points, 33, 133) > d2(target, 33, 133) * 1.08, 'eye length follows the source');
    assert.ok(
      d2(points, POINT.mouthRight, POINT.mouthLeft) > d2(target, POINT.mouthRight, POINT.mouthLeft) * 1.02,
      'mouth width follows the source (half way, as the target mouth is open)',
    );
  });

  test('an open-mouthed source does not open the target: the source expression is not stamped', () => {
    const target = withExpression(neutral, 0, 0);
    const openSource = symmetricShape(withExpression(otherIdentity(neutral), 30, 0.5), new Float32Array(MESH_POINTS).fill(1));
    const { points } = transferShape(target, openSource, 1, ALL);
    assert.ok(mouthOpen(points) < mouthOpen(target) + 0.02, `mouth ${mouthOpen(points)} vs ${mouthOpen(target)}`);
    assert.ok(Math.abs(eyeOpen(points) - eyeOpen(target)) / eyeOpen(target) < 0.05);
  });

  test("the source photo's pose, scale and position do not matter", () => {
    const target = withExpression(neutral, 10, 0.2);
    const a = 0.35;
    const turned = applySimilarity3(
      { scale: 0.6, rotation: Float64Array.from([Math.cos(a), 0, Math.sin(a), 0, 1, 0, -Math.sin(a), 0, Math.cos(a)]), translation: [40, 90, 0] },
      source,
    );
    const one = transferShape(target, source, 1, ALL).points;
    const two = transferShape(target, turned, 1, ALL).points;
    let worst = 0;
    for (let i = 0; i < one.length; i += 3) worst = Math.max(worst, Math.hypot(one[i] - two[i], one[i + 1] - two[i + 1]));
    assert.ok(worst < 0.05, `largest difference ${worst} px`);
  });

  test("the outline stays the target's and regions switch off", () => {
    const target = withExpression(neutral, 10, 0.2);
    const { points } = transferShape(target, source, 1, { ...ALL, eyes: false });
    for (const i of [10, 152, 234, 454]) assert.equal(points[3 * i], target[3 * i]);
    for (const i of [...RIGHT_EYE, ...LEFT_EYE]) assert.ok(Math.hypot(points[3 * i] - target[3 * i], points[3 * i + 1] - target[3 * i + 1]) < 1e-3);
  });

  test('a fold is detected, and the yaw of a frontal face is about zero', () => {
    const t = meshTopology();
    const flipped = Float32Array.from(neutral);
    for (let i = 0; i < MESH_POINTS; i++) flipped[3 * i] = 600 - flipped[3 * i];
    assert.equal(folds(neutral, neutral, t.skin), false);
    assert.equal(folds(neutral, flipped, t.skin), true);
    assert.ok(Math.abs(faceYaw(neutral)) < 1);
  });
});

describe('source expression in the texture', () => {
  test('a broad smile scores high, a neutral or talking mouth low', () => {
    const neutral = canonicalFace();
    assert.ok(smileScore(neutral) < 0.05, `neutral ${smileScore(neutral)}`);
    // A smile: the mouth corners pulled out (width / eye span ≈ 0.8) and up to the upper lip.
    const smiling = Float32Array.from(neutral);
    const span = d2(neutral, POINT.rightEyeOuter, POINT.leftEyeOuter);
    const cx = (neutral[3 * POINT.mouthRight] + neutral[3 * POINT.mouthLeft]) / 2;
    for (const [corner, dir] of [
      [POINT.mouthRight, -1],
      [POINT.mouthLeft, 1],
    ] as const) {
      smiling[3 * corner] = cx + dir * 0.4 * span;
      smiling[3 * corner + 1] = neutral[3 * POINT.upperLipInner + 1] - 2;
    }
    assert.ok(smileScore(smiling) > 0.9, `smiling ${smileScore(smiling)}`);
    // Talking: the same width but the corners well below the upper lip (the jaw open).
    const talking = Float32Array.from(smiling);
    for (const corner of [POINT.mouthRight, POINT.mouthLeft]) talking[3 * corner + 1] = neutral[3 * POINT.upperLipInner + 1] + 0.12 * 0.8 * span;
    assert.ok(smileScore(talking) < 0.1, `talking ${smileScore(talking)}`);
  });

  test("a smiling source's creases are softened, a neutral one's kept", () => {
    const size = 128;
    const make = () => {
      const texture = { width: size, height: size, channels: 4 as const, data: new Uint8ClampedArray(size * size * 4).fill(180) };
      // A dark crease along the image-left nasolabial fold, and one on the forehead.
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const u = (x + 0.5) / size,
            v = (y + 0.5) / size;
          const onFold = expressionLineWeight(u, v) > 0.99 && u < 0.5 && v > 0.6 && x % 6 === 0;
          const onForehead = v > 0.2 && v < 0.22 && x % 6 === 0;
          if (onFold || onForehead) for (let c = 0; c < 3; c++) texture.data[4 * (y * size + x) + c] = 60;
        }
      return texture;
    };
    const contrast = (t: ReturnType<typeof make>, v0: number, v1: number, left: boolean) => {
      let lo = 255;
      for (let y = Math.floor(v0 * size); y < v1 * size; y++)
        for (let x = 0; x < size; x++) {
          if (x < size / 2 !== left) continue;
          lo = Math.min(lo, t.data[4 * (y * size + x)]);
        }
      return 180 - lo;
    };
    const smiling = make();
    softenExpressionLines(smiling, 1);
    assert.ok(contrast(smiling, 0.6, 0.8, true) < 0.5 * 120, `fold crease left at ${contrast(smiling, 0.6, 0.8, true)}`);
    assert.equal(contrast(smiling, 0.2, 0.22, true), 120, 'the forehead line is not an expression line here');
    const neutral = make();
    softenExpressionLines(neutral, 0);
    assert.equal(contrast(neutral, 0.6, 0.8, true), 120);
  });
});

describe('outline transfer', () => {
  const neutral = canonicalFace();
  // A source with a narrower jaw: outline points below the eyes pulled towards the middle.
  const narrow = Float32Array.from(neutral);
  for (let i = 0; i < MESH_POINTS; i++) {
    if (CANONICAL_UV[2 * i + 1] > 0.5) narrow[3 * i] = 300 + (narrow[3 * i] - 300) * 0.9;
  }
  const source = symmetricShape(narrow, new Float32Array(MESH_POINTS).fill(1));

  test('off, the outline stays; on, the jaw moves and the forehead stays', () => {
    const off = transferShape(neutral, source, 1, ALL).points;
    const on = transferShape(neutral, source, 1, ALL, 1).points;
    const jaw = 172; // on the outline, below the mouth corner
    assert.equal(off[3 * jaw], neutral[3 * jaw]);
    assert.ok(on[3 * jaw] > neutral[3 * jaw] + 2, `jaw ${neutral[3 * jaw]} → ${on[3 * jaw]}`);
    for (const top of [10, 109, 338]) assert.ok(Math.abs(on[3 * top] - neutral[3 * top]) < 0.5, `forehead point ${top} moved`);
  });

  test('the ring keeps its outer loop and catches folds', () => {
    const on = transferShape(neutral, source, 1, ALL, 1).points;
    const ring = outlineRing(neutral, on);
    const n = MESH_POINTS;
    for (let k = 0; k < FACE_OVAL.length; k++) {
      assert.equal(ring.from[2 * (n + k)], ring.to[2 * (n + k)]);
      assert.equal(ring.from[2 * (n + k) + 1], ring.to[2 * (n + k) + 1]);
    }
    assert.equal(ringFolds(ring), false);
    // Push the chin out past the outer loop: the ring turns over.
    const bad = Float32Array.from(on);
    bad[3 * 152 + 1] += 200;
    assert.equal(ringFolds(outlineRing(neutral, bad)), true);
  });
});
