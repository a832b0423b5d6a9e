/** One Euro filter: fixed points, convergence, jitter removal against lag, and parameter checks. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { DEFAULT_ONE_EURO, OneEuroFilter, validateOneEuro } from '../../src/core/one-euro.js';

const FPS = 30;
const FACE = 200; // px: the `scale` the tracker passes

/** Deterministic standard normal noise. */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32;
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** RMS error to the truth after the first second, one filtered value per frame. */
function rmsError(filter: OneEuroFilter | undefined, truth: (t: number) => number, noise: number, seed = 3): number {
  const g = gaussian(seed);
  let sum = 0;
  let n = 0;
  for (let k = 0; k < 10 * FPS; k++) {
    const t = k / FPS;
    const x = truth(t) + noise * g();
    const y = filter ? filter.filter([x], t, FACE)[0]! : x;
    if (k >= FPS) {
      sum += (y - truth(t)) ** 2;
      n++;
    }
  }
  return Math.sqrt(sum / n);
}

describe('OneEuroFilter', () => {
  test('the first call returns the input; a constant stays constant', () => {
    const f = new OneEuroFilter(3);
    assert.deepEqual([...f.filter([1, -2, 300.5], 0, FACE)], [1, -2, 300.5]);
    for (let k = 1; k < 50; k++) assert.deepEqual([...f.filter([1, -2, 300.5], k / FPS, FACE)], [1, -2, 300.5]);
  });

  test('a step converges to the new value', () => {
    const f = new OneEuroFilter(1);
    f.filter([0], 0, FACE);
    let y = 0;
    let previous = 0;
    for (let k = 1; k <= 3 * FPS; k++) {
      y = f.filter([10], k / FPS, FACE)[0]!;
      assert.ok(y >= previous - 1e-6 && y <= 10 + 1e-6, `monotonic towards the step, frame ${k}: ${y}`);
      previous = y;
    }
    assert.ok(Math.abs(y - 10) < 0.01, `after 3 s: ${y}`);
  });

  test('jitter on a still point falls more than 2×; beta keeps a fast ramp close', (t) => {
    const still = () => 100;
    const raw = rmsError(undefined, still, 1);
    const smoothed = rmsError(new OneEuroFilter(1), still, 1);
    t.diagnostic(`still: jitter ${raw.toFixed(3)} → ${smoothed.toFixed(3)} px (${(raw / smoothed).toFixed(2)}×)`);
    assert.ok(raw / smoothed >= 2, `jitter ${raw.toFixed(3)} → ${smoothed.toFixed(3)} px (${(raw / smoothed).toFixed(2)}×)`);

    // Two face sizes per second, noiseless and noisy: lag with the default beta is small and far
    // below a fixed low-pass with the same cutoff at rest.
    const ramp = (t: number) => 100 + 2 * FACE * t;
    for (const noise of [0, 1]) {
      const adaptive = rmsError(new OneEuroFilter(1), ramp, noise);
      const fixed = rmsError(new OneEuroFilter(1, { beta: 0 }), ramp, noise);
      t.diagnostic(`ramp 400 px/s, noise ${noise}: lag ${adaptive.toFixed(2)} px vs ${fixed.toFixed(2)} px with beta 0`);
      assert.ok(adaptive < 3, `lag with beta ${DEFAULT_ONE_EURO.beta}: ${adaptive.toFixed(2)} px (noise ${noise})`);
      assert.ok(adaptive * 10 < fixed, `lag ${adaptive.toFixed(2)} vs ${fixed.toFixed(2)} px with beta 0 (noise ${noise})`);
    }
  });

  test('scale makes beta independent of resolution', () => {
    // The same motion at twice the resolution, with twice the scale, filters to exactly twice the values.
    const a = new OneEuroFilter(1);
    const b = new OneEuroFilter(1);
    const g = gaussian(9);
    for (let k = 0; k < 60; k++) {
      const t = k / FPS;
      const x = 50 + 80 * t + g();
      const ya = a.filter([x], t, FACE)[0]!;
      const yb = b.filter([2 * x], t, 2 * FACE)[0]!;
      assert.ok(Math.abs(yb - 2 * ya) < 1e-3 * Math.abs(yb), `frame ${k}: ${yb} vs 2 × ${ya}`);
    }
  });

  test('a time that does not advance returns the previous output; reset forgets', () => {
    const f = new OneEuroFilter(2);
    f.filter([0, 0], 0);
    const first = [...f.filter([10, 10], 0.1)];
    assert.deepEqual([...f.filter([50, 50], 0.1)], first, 'same t');
    assert.deepEqual([...f.filter([50, 50], 0.05)], first, 'earlier t');
    const out = new Float32Array(2);
    assert.equal(f.filter([10, 10], 0.2, 1, out), out, 'writes into out');
    assert.ok(Number.isFinite(out[0]!) && out[0]! > first[0]!);
    f.reset();
    assert.deepEqual([...f.filter([7, 8], 0.3)], [7, 8]);
    assert.throws(() => f.filter([1], 0.4), RangeError);
  });

  test('validation names the parameter and the expectation', () => {
    assert.deepEqual(validateOneEuro({}), { ...DEFAULT_ONE_EURO });
    assert.deepEqual(validateOneEuro({ beta: 0 }), { ...DEFAULT_ONE_EURO, beta: 0 });
    const cases: [Partial<{ minCutoff: number; beta: number; dCutoff: number }>, RegExp][] = [
      [{ minCutoff: 0 }, /^Expected a finite number > 0 \(Hz\) for minCutoff but received 0$/],
      [{ minCutoff: Number.NaN }, /for minCutoff but received null/],
      [{ beta: -1 }, /^Expected a finite number >= 0 for beta but received -1$/],
      [{ beta: Number.POSITIVE_INFINITY }, /for beta/],
      [{ dCutoff: -0.5 }, /^Expected a finite number > 0 \(Hz\) for dCutoff but received -0.5$/],
    ];
    for (const [params, message] of cases) {
      assert.throws(
        () => new OneEuroFilter(1, params),
        (e: unknown) => e instanceof LiveswapError && e.kind === 'usage' && message.test(e.message),
        JSON.stringify(params),
      );
    }
  });
});
