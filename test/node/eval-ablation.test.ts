/** The ablation table: rows from aggregates, changes from the defaults, alignment, missing figures. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ablationRow, formatAblationTable } from '../../src/node/eval/eval-ablation.js';
import type { AblationRow, EvalAggregate } from '../../src/node/eval/eval-report.js';
import { summarise } from '../../src/node/eval/eval-stats.js';

const row = (variant: string, r: number, gain: number, yaw: number, seam: number, mobile = true): AblationRow => ({
  variant,
  retrieval: { faceres: r, ...(mobile ? { mobileface: r - 0.1 } : {}) },
  gain: { faceres: gain, ...(mobile ? { mobileface: gain / 2 } : {}) },
  toTarget: { faceres: 0.6, ...(mobile ? { mobileface: 0.4 } : {}) },
  maxYaw: yaw,
  meanSeam: seam,
});

describe('ablation table', () => {
  test('each variant shows its change from the defaults; equal figures read "="', () => {
    const text = formatAblationTable([row('defaults', 0.5, 0.1, 4, 0.9), row('no shape transfer', 0.425, 0.14, 4, 0.95)], ['faceres', 'mobileface']);
    const lines = text.split('\n');
    assert.equal(lines.length, 4);
    assert.match(
      lines[0],
      /^\| variant +\| retrieval FaceRes +\| retrieval MobileFace +\| mean gain FaceRes +\| mean gain MobileFace +\| cos\(O,T\) FaceRes +\| cos\(O,T\) MobileFace +\| max Δyaw +\| mean seam +\|$/,
    );
    assert.match(lines[1], /^\|-+\|-+\|/);
    const cells = (line: string) =>
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
    assert.deepEqual(cells(lines[2]), ['defaults', '50.0 %', '40.0 %', '+0.100', '+0.050', '0.600', '0.400', '4.00°', '0.900']);
    assert.deepEqual(cells(lines[3]), [
      'no shape transfer',
      '42.5 % (−7.5 pt)',
      '32.5 % (−7.5 pt)',
      '+0.140 (+0.040)',
      '+0.070 (+0.020)',
      '0.600 (=)',
      '0.400 (=)',
      '4.00° (=)',
      '0.950 (+0.050)',
    ]);
    // Every line is as wide as the header, so the columns line up in a terminal.
    assert.ok(lines.every((l) => [...l].length === [...lines[0]].length));
  });

  test('a recogniser that was not run is a dash; without a defaults row there are no changes', () => {
    const text = formatAblationTable([row('a', 0.5, 0.1, 1, 1, false)], ['faceres', 'mobileface']);
    assert.deepEqual(
      text
        .split('\n')[2]
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
      ['a', '50.0 %', '–', '+0.100', '–', '0.600', '–', '1.00°', '1.000'],
    );
  });

  test('rows read retrieval over different people, else over every pair; gain and cos(O,T) as means', () => {
    const s = summarise([0.2, 0.4]);
    const identity = { toSource: s, toTarget: summarise([0.5, 0.7]), targetToSource: s, gain: summarise([0.1, 0.3]), retrieval: 0.75, retrievalAll: 0.5 };
    const aggregate = {
      identity: { faceres: identity, mobileface: { ...identity, retrieval: Number.NaN } },
      yaw: summarise([1, 6]),
      seamRatio: summarise([0.8, 1.0]),
    } as unknown as EvalAggregate;
    const r = ablationRow('defaults', aggregate, ['faceres', 'mobileface']);
    assert.deepEqual(r.retrieval, { faceres: 0.75, mobileface: 0.5 });
    assert.ok(Math.abs(r.gain.faceres! - 0.2) < 1e-12 && Math.abs(r.toTarget.mobileface! - 0.6) < 1e-12);
    assert.equal(r.maxYaw, 6);
    assert.ok(Math.abs(r.meanSeam - 0.9) < 1e-12);
  });
});
