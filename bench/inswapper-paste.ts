/**
 * insightface paste-back on a 1080p frame with one ~300 px face: face neighbourhood vs whole frame,
 * and the neighbourhood with one paster reused from call to call (as the compositor does per stream).
 * Run: node --import tsx bench/inswapper-paste.ts [--json] [--runs N] [--against PATH]
 * (best and median of N runs, ms). --against PATH names another build of
 * src/compose/insightface-paste.ts (a checkout of an earlier commit, say): both pasters then run
 * alternately in this process, on the same frames, their pixels compared, best and median each.
 */

import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { invertAffine, type Affine } from '../src/core/affine.js';
import { cloneImage, createImage, type Image } from '../src/core/image.js';
import { InsightfacePaster, pasteBackInsightface, type InsightfacePasteOptions } from '../src/compose/insightface-paste.js';
import { option as arg } from './flags.js';

const W = 1920;
const H = 1080;
const RUNS = Number(arg('--runs') ?? 20);
const against = arg('--against');
const frame = createImage(W, H, 3);
for (let i = 0; i < frame.data.length; i++) frame.data[i] = (i * 2654435761) >>> 24;
const swapped = createImage(128, 128, 3);
for (let i = 0; i < swapped.data.length; i++) swapped.data[i] = (i * 40503) >>> 8;

// Crop → frame: the 128 crop covers ~300 px centred at (960, 540), turned by 0.2 rad.
const scale = 300 / 128;
const c = Math.cos(0.2) * scale;
const s = Math.sin(0.2) * scale;
const cropToFrame: Affine = [c, -s, 960 - c * 64 + s * 64, s, c, 540 - s * 64 - c * 64];
const matrix = invertAffine(cropToFrame);

type Paste = (target: Image, options: InsightfacePasteOptions) => void;

/** Best and median (ms) of each paste, run in turn `runs` times after 3 warm-up rounds (the order swapped every round). */
function timeAll(pastes: Paste[], options: InsightfacePasteOptions, runs = RUNS): { best: number; median: number }[] {
  const times = pastes.map((): number[] => []);
  for (let i = 0; i < runs + 3; i++) {
    const order = i % 2 === 0 ? pastes.map((_, k) => k) : pastes.map((_, k) => pastes.length - 1 - k);
    for (const k of order) {
      const target = cloneImage(frame);
      const t0 = performance.now();
      pastes[k](target, options);
      if (i >= 3) times[k].push(performance.now() - t0);
    }
  }
  return times.map((t) => {
    t.sort((a, b) => a - b);
    return { best: t[0], median: (t[(t.length - 1) >> 1] + t[t.length >> 1]) / 2 };
  });
}

const round = (v: number): number => Number(v.toFixed(2));
const result: Record<string, number | string> = { frame: `${W}x${H}`, faceSidePx: 300, runs: RUNS };
const paster = new InsightfacePaster();
const reused: Paste = (target, options) => paster.paste(target, swapped, matrix, options);
if (against) {
  const other = (await import(pathToFileURL(resolve(against)).href)) as { InsightfacePaster: typeof InsightfacePaster };
  const baseline = new other.InsightfacePaster();
  const before: Paste = (target, options) => baseline.paste(target, swapped, matrix, options);
  for (const precision of ['float32', 'fixed-point'] as const) {
    const a = cloneImage(frame);
    const b = cloneImage(frame);
    before(a, { precision });
    reused(b, { precision });
    assert.deepEqual(b.data, a.data, `${precision}: the two pasters give different pixels`);
    const [old, now] = timeAll([before, reused], { precision });
    result[`${precision}.againstBestMs`] = round(old.best);
    result[`${precision}.againstMedianMs`] = round(old.median);
    result[`${precision}.reusedBestMs`] = round(now.best);
    result[`${precision}.reusedMedianMs`] = round(now.median);
    result[`${precision}.speedupBest`] = round(old.best / now.best);
    result[`${precision}.speedupMedian`] = round(old.median / now.median);
  }
} else {
  const fresh: Paste = (target, options) => pasteBackInsightface(target, swapped, matrix, options);
  for (const precision of ['float32', 'fixed-point'] as const) {
    const [face, again] = timeAll([fresh, reused], { precision, region: 'face' });
    const [whole] = timeAll([fresh], { precision, region: 'frame' }, Math.min(RUNS, 10));
    result[`${precision}.faceMs`] = round(face.median);
    result[`${precision}.reusedBestMs`] = round(again.best);
    result[`${precision}.reusedMedianMs`] = round(again.median);
    result[`${precision}.frameMs`] = round(whole.median);
    result[`${precision}.speedup`] = Number((whole.median / face.median).toFixed(1));
  }
}
if (process.argv.includes('--json')) console.log(JSON.stringify(result));
else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(28)} ${v}`);
