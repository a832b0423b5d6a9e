/**
 * The mask flags through the command line: a partial swap runs with nothing downloaded, an
 * occlusion mask without its model is a model error (exit 9) naming the pull command, an unknown
 * region is a usage error (exit 2) listing FaceFusion's names.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FIXTURES } from '../helpers/fixtures.js';
import { runCli, show } from '../cli/run-cli.js';

const out = mkdtempSync(join(tmpdir(), 'liveswap-cli-masks-'));
after(() => rmSync(out, { recursive: true, force: true }));
const swap = (...args: string[]) =>
  runCli(['swap', '-s', `${FIXTURES}grace_hopper.jpg`, '-t', `${FIXTURES}astronaut.png`, '-o', join(out, 'out.png'), '--engine', 'mesh', '--json', ...args]);

describe('mask flags on the command line', () => {
  it('--mask-regions and --keep-regions with the mesh engine need nothing downloaded', () => {
    const result = swap('--mask-regions', 'nose,left-eyebrow', '--keep-regions', 'mouth', '--mask-strength', '0.8', '--mask-padding', '5');
    assert.equal(result.code, 0, show(result));
    assert.deepEqual((JSON.parse(result.stdout) as { swappedFaces: number[] }).swappedFaces, [0]);
  });

  it('--occlusion-mask without its model is exit 9 naming the pull command', () => {
    const result = swap('--occlusion-mask', 'xseg_1');
    assert.equal(result.code, 9, show(result));
    assert.match(result.stderr, /liveswap models pull xseg_1/);
  });

  it('an unknown region is exit 2 listing the names', () => {
    const result = swap('--mask-regions', 'ears');
    assert.equal(result.code, 2, show(result));
    assert.match(result.stderr, /skin, left-eyebrow, right-eyebrow, left-eye, right-eye, glasses, nose, mouth, upper-lip, lower-lip/);
  });
});
