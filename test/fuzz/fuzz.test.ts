/**
 * A bounded fuzz run in `npm test`: every target a few hundred inputs on a fixed seed (so a
 * failure here reproduces exactly), then every stored finding of the long runs (`npm run fuzz`)
 * replayed from test/fuzz/regressions.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeInput } from './harness.js';
import { targetNamed, TARGETS } from './targets.js';

const SEED = 16_08;
/** Runs per target; the image targets decode with sharp and get fewer. */
const RUNS: Readonly<Record<string, number>> = { 'image-decode': 120, 'image-read': 60, 'onnx-emap': 150, 'tfjs-convert': 200 };

for (const target of TARGETS) {
  test(`fuzz ${target.name} (${target.about})`, async () => {
    const arbitrary = await target.arbitrary();
    await fc.assert(
      fc.asyncProperty(arbitrary, (input) => target.run(input)),
      { seed: SEED, numRuns: RUNS[target.name] ?? 300 },
    );
  });
}

const regressions = new URL('./regressions/', import.meta.url);
for (const file of readdirSync(regressions)
  .filter((name) => name.endsWith('.json'))
  .sort()) {
  test(`fuzz regression ${file}`, async () => {
    const finding = JSON.parse(readFileSync(new URL(file, regressions), 'utf8')) as { target: string; input: unknown };
    await targetNamed(finding.target).run(decodeInput(finding.input));
  });
}
