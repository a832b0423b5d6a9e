/** `liveswap demo` end to end: runs from any folder, writes results that really changed, exits 0. */

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readImage } from '../../src/node/media/image-io.js';
import { FIXTURES, meanAbsDiff } from '../helpers/fixtures.js';
import { runCli, show } from './run-cli.js';

const LIMIT = { maxPixels: 50_000_000 };
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-demo-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('liveswap demo', () => {
  it('swaps the bundled photos and the group picture and says where the results are', async () => {
    // Run from an unrelated folder: the bundled photos are found from the package, not the cwd.
    const result = runCli(['demo', '--out', 'results'], { cwd: dir });
    assert.equal(result.code, 0, show(result));
    const out = join(dir, 'results');
    assert.ok(result.stdout.includes(out), result.stdout);
    assert.match(result.stdout, /astronaut → grace_hopper: swapped 1 of 1 face/);
    assert.match(result.stdout, /grace_hopper → astronaut: swapped 1 of 1 face/);
    assert.match(result.stdout, /grace_hopper → group: swapped 3 of 3 face/);
    assert.match(result.stdout, /astronaut → camera: /, 'the hard case is reported either way');

    const files = await readdir(out);
    for (const name of [
      'group.jpg',
      '01-astronaut-to-grace_hopper.jpg',
      '01-astronaut-to-grace_hopper-compare.jpg',
      '02-grace_hopper-to-astronaut.jpg',
      '03-grace_hopper-to-group.jpg',
    ]) {
      assert.ok(files.includes(name), `${name} missing from ${files.join(', ')}`);
    }
    assert.ok(!files.some((f) => f.startsWith('.')), `no temporary files left: ${files.join(', ')}`);

    const target = await readImage(join(FIXTURES, 'grace_hopper.jpg'), LIMIT);
    const swapped = await readImage(join(out, '01-astronaut-to-grace_hopper.jpg'), LIMIT);
    assert.deepEqual([swapped.width, swapped.height], [target.width, target.height]);
    // The face sits in the upper middle of the portrait; the corners are background.
    assert.ok(meanAbsDiff(swapped, target, 180, 150, 330, 330) > 6, 'the face changed');
    assert.ok(meanAbsDiff(swapped, target, 0, 500, 60, 600) < 3, 'a far corner did not (beyond JPEG noise)');

    const compare = await readImage(join(out, '01-astronaut-to-grace_hopper-compare.jpg'), LIMIT);
    assert.ok(compare.width > compare.height * 2, 'three pictures side by side');
  });
});
