/**
 * `liveswap swap` end to end on the bundled photos with the built-in engine: the result has the
 * target's size, differs from the target inside the face, and far from it only by the provenance
 * marks (the label in its corner, the faint watermark).
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { Image } from '../../src/core/image.js';
import { readImage } from '../../src/node/media/image-io.js';
import { labelLayout } from '../../src/provenance/label.js';
import type { SwapSummary } from '../../src/cli/summary.js';
import { FIXTURES, meanAbsDiff } from '../helpers/fixtures.js';
import { runCli, show } from './run-cli.js';

const SOURCE = join(FIXTURES, 'astronaut.png');
const TARGET = join(FIXTURES, 'grace_hopper.jpg');
const LIMIT = { maxPixels: 50_000_000 };
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-cli-e2e-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Mean absolute difference over the pixels outside both rectangles ([x0, y0, x1, y1], x1/y1 exclusive). */
function differenceOutside(a: Image, b: Image, ...holes: [number, number, number, number][]): { mean: number } {
  let total = 0;
  let count = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      if (holes.some(([x0, y0, x1, y1]) => x >= x0 && x < x1 && y >= y0 && y < y1)) continue;
      const i = (y * a.width + x) * 3;
      total += Math.abs(a.data[i]! - b.data[i]!) + Math.abs(a.data[i + 1]! - b.data[i + 1]!) + Math.abs(a.data[i + 2]! - b.data[i + 2]!);
      count += 3;
    }
  }
  return { mean: total / Math.max(count, 1) };
}

describe('liveswap swap: end to end', () => {
  it('swaps astronaut onto grace_hopper and reports it as JSON', async () => {
    const output = join(dir, 'swapped.png');
    const result = runCli(['swap', '-s', SOURCE, '-t', TARGET, '-o', output, '--json']);
    assert.equal(result.code, 0, show(result));
    const summary = JSON.parse(result.stdout) as SwapSummary;
    assert.equal(summary.output, output);
    assert.equal(typeof summary.engine, 'string');
    assert.equal(summary.sourceFaces.length, 1, 'one face in the source');
    assert.equal(summary.targetFaces.length, 1, 'one face in the target');
    assert.equal(summary.sourceFaceUsed, 0);
    assert.deepEqual(summary.swappedFaces, [0]);
    assert.ok(Array.isArray(summary.notices));
    for (const stage of ['decode', 'load', 'encode', 'total']) {
      assert.ok(typeof summary.timings[stage] === 'number' && summary.timings[stage]! >= 0, `timings.${stage}`);
    }

    const target = await readImage(TARGET, LIMIT);
    const swapped = await readImage(output, LIMIT);
    assert.deepEqual([swapped.width, swapped.height], [target.width, target.height]);

    const [x, y, w, h] = summary.targetFaces[0]!.box;
    assert.ok(w > 50 && h > 50, `face box ${summary.targetFaces[0]!.box}`);
    const inside = meanAbsDiff(swapped, target, Math.round(x + w * 0.25), Math.round(y + h * 0.3), Math.round(x + w * 0.75), Math.round(y + h * 0.8));
    assert.ok(inside > 6, `the face should change; mean difference inside is ${inside.toFixed(2)}`);
    // Far from the face only the provenance marks change pixels: the label's box in its corner
    // and the invisible watermark, a few levels everywhere.
    const label = labelLayout(target.width, target.height).box;
    const outside = differenceOutside(
      swapped,
      target,
      [Math.floor(x - w / 2), Math.floor(y - h / 2), Math.ceil(x + w * 1.5), Math.ceil(y + h * 1.5)],
      [label.x0, label.y0, label.x1, label.y1],
    );
    assert.ok(outside.mean < 4, `far from the face only the faint watermark may change pixels; mean difference ${outside.mean.toFixed(2)}`);
    assert.ok(meanAbsDiff(swapped, target, label.x0, label.y0, label.x1, label.y1) > 20, 'the label is drawn');
  });

  it('prints a human summary and writes JPEG when asked', async () => {
    const output = join(dir, 'swapped.jpg');
    const result = runCli(['swap', '--source', SOURCE, '--target', TARGET, '--output', output, '--opacity', '0.8', '--sharpness', '1']);
    assert.equal(result.code, 0, show(result));
    assert.match(result.stdout, /Swapped 1 face with the \w+ engine in \d+ ms/);
    assert.match(result.stdout, /grace_hopper\.jpg: 1 face, swapped face #0$/m);
    assert.ok(result.stdout.includes(output), result.stdout);
    const meta = await sharp(output).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 512, 600]);

    const quiet = runCli(['swap', '-s', SOURCE, '-t', TARGET, '-o', join(dir, 'quiet.webp'), '--quiet']);
    assert.equal(quiet.code, 0, show(quiet));
    assert.equal(quiet.stdout, '');
    assert.equal((await sharp(join(dir, 'quiet.webp')).metadata()).format, 'webp');
  });

  it('no face in the target → 7, naming the target file', async () => {
    const grey = join(dir, 'flat-grey.png');
    await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 128, g: 128, b: 128 } } })
      .png()
      .toFile(grey);
    const output = join(dir, 'never.png');
    const result = runCli(['swap', '-s', SOURCE, '-t', grey, '-o', output, '--json']);
    assert.equal(result.code, EXIT_CODES['no-face'], show(result));
    assert.match(result.stderr, /^liveswap: .*flat-grey\.png.*target/s);
    const parsed = JSON.parse(result.stdout) as { error: { kind: string; file: string } };
    assert.deepEqual([parsed.error.kind, parsed.error.file], ['no-face', grey]);
    await assert.rejects(sharp(output).metadata(), 'no output is written when the swap fails');
  });
});
