/**
 * The long fuzz run (`npm run fuzz -- --minutes 30`): every target of test/fuzz/targets.ts in turn,
 * each with its share of the time, in batches on fresh random seeds. Each seed is printed, so any
 * batch can be run again (`--target NAME --seed S`); each failing input, shrunk, is written as JSON
 * to the `--out` folder in the form test/fuzz/regressions holds, so it can become a regression case.
 *
 *   --minutes N    total time over the targets (default 1)
 *   --target NAME  only this target (repeatable); --list prints them
 *   --seed S       one batch on this seed (replay), with --runs N inputs (default 1000)
 *   --replay FILE  run the input stored in a finding file once and print the outcome
 *   --out DIR      where findings go (default .scratch/fuzz)
 */

import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { decodeInput, encodeInput, type FuzzTarget } from '../test/fuzz/harness.js';
import { targetNamed, TARGETS } from '../test/fuzz/targets.js';

/**
 * A single input slower than this, twice in a row, is written down as a finding of its own (a
 * near-hang). Timed again before it counts: on a shared, loaded machine one run can stall for long.
 */
const SLOW_MS = 2000;
/**
 * Inputs per batch: as many as take about this long at the rate so far, so the share of time is
 * kept between batches. (fast-check's own time limit would abandon a run mid-flight, and a file
 * read left pending then completes only when the event loop next turns, minutes later.)
 */
const BATCH_SECONDS = 5;
const MAX_BATCH_RUNS = 20_000;

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    target: { type: 'string', multiple: true },
    seed: { type: 'string' },
    runs: { type: 'string', default: '1000' },
    replay: { type: 'string' },
    out: { type: 'string', default: '.scratch/fuzz' },
    list: { type: 'boolean', default: false },
  },
});

interface Tally {
  runs: number;
  batches: number;
  failures: number;
  slow: number;
  seconds: number;
}

const seen = new Set<string>();

function record(out: string, target: FuzzTarget, kind: 'failure' | 'slow', seed: number, input: unknown, message: string, extra: Record<string, unknown> = {}): void {
  // One file per distinct message: the same bug found again on another seed adds nothing.
  const key = `${target.name}\0${kind}\0${message.split('\n')[0]!.replace(/\d+/g, 'N')}`;
  const repeat = seen.has(key);
  seen.add(key);
  console.log(`  ${kind.toUpperCase()} ${target.name} seed ${seed}${repeat ? ' (seen before)' : ''}: ${message.split('\n')[0]!.slice(0, 300)}`);
  if (repeat) return;
  mkdirSync(out, { recursive: true });
  const file = join(out, `${target.name}-${kind}-${seed}.json`);
  writeFileSync(file, `${JSON.stringify({ target: target.name, kind, seed, found: message.split('\n')[0], ...extra, input: encodeInput(input) }, null, 2)}\n`);
  console.log(`    written to ${file}`);
}

async function batch(target: FuzzTarget, arbitrary: fc.Arbitrary<unknown>, seed: number, runs: number, out: string, tally: Tally): Promise<void> {
  const property = fc.asyncProperty(arbitrary, async (input) => {
    const started = performance.now();
    try {
      await target.run(input);
    } finally {
      const ms = performance.now() - started;
      if (ms > SLOW_MS) {
        const again = performance.now();
        await target.run(input).catch(() => undefined);
        const ms2 = performance.now() - again;
        if (ms2 > SLOW_MS) {
          tally.slow++;
          record(out, target, 'slow', seed, input, `one input took ${Math.round(ms)} ms, then ${Math.round(ms2)} ms`);
        } else console.log(`  (${target.name}: one input took ${Math.round(ms)} ms once, ${Math.round(ms2)} ms timed again; not counted)`);
      }
    }
  });
  const result = await fc.check(property, { seed, numRuns: runs });
  tally.runs += result.numRuns;
  tally.batches++;
  if (result.failed && result.counterexample) {
    tally.failures++;
    const error = result.errorInstance;
    const message = error instanceof Error ? `${error.message}${error.cause instanceof Error ? `\n${error.cause.stack}` : ''}` : String(error);
    record(out, target, 'failure', seed, result.counterexample[0], message, { path: result.counterexamplePath });
  }
}

async function main(): Promise<void> {
  if (values.list) {
    for (const t of TARGETS) console.log(`${t.name.padEnd(24)} ${t.about}`);
    return;
  }
  if (values.replay !== undefined) {
    const finding = JSON.parse(readFileSync(values.replay, 'utf8')) as { target: string; input: unknown };
    await targetNamed(finding.target).run(decodeInput(finding.input));
    console.log(`${finding.target}: the stored input passes now`);
    return;
  }
  const targets = values.target ? values.target.map(targetNamed) : [...TARGETS];
  const minutes = Number(values.minutes);
  if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, got ${values.minutes}`);
  const out = values.out;
  const share = (minutes * 60_000) / targets.length;
  const tallies = new Map<string, Tally>();
  for (const target of targets) {
    const tally: Tally = { runs: 0, batches: 0, failures: 0, slow: 0, seconds: 0 };
    tallies.set(target.name, tally);
    const arbitrary = await target.arbitrary();
    const started = Date.now();
    if (values.seed !== undefined) {
      await batch(target, arbitrary, Number(values.seed), Number(values.runs), out, tally);
    } else {
      const deadline = started + share;
      console.log(`${target.name}: ${(share / 60_000).toFixed(1)} min`);
      while (Date.now() < deadline) {
        const seed = randomInt(2 ** 31);
        console.log(`  seed ${seed}`);
        const rate = tally.runs / Math.max(0.001, (Date.now() - started) / 1000);
        const seconds = Math.min(BATCH_SECONDS, (deadline - Date.now()) / 1000);
        const runs = tally.batches === 0 ? 20 : Math.max(1, Math.min(MAX_BATCH_RUNS, Math.round(rate * seconds)));
        await batch(target, arbitrary, seed, runs, out, tally);
      }
    }
    tally.seconds = (Date.now() - started) / 1000;
    console.log(`  ${target.name}: ${tally.runs} runs in ${tally.seconds.toFixed(0)} s, ${tally.failures} failing batch(es), ${tally.slow} slow input(s)`);
  }
  console.log('\nsummary');
  for (const [name, t] of tallies)
    console.log(`${name.padEnd(24)} ${String(t.runs).padStart(9)} runs ${t.seconds.toFixed(0).padStart(6)} s  failures ${t.failures}  slow ${t.slow}`);
  const failed = [...tallies.values()].some((t) => t.failures > 0 || t.slow > 0);
  process.exitCode = failed ? 1 : 0;
}

await main();
