/** `-s` repeated: several photos of one person; none at all is a usage error. */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readImage } from '../../src/node/media/image-io.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { runCli, show } from './run-cli.js';

test('two source photos: the mesh engine combines them into one identity', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'liveswap-sources-'));
  const swap = (sources: string[], out: string) =>
    runCli(['swap', ...sources.flatMap((s) => ['-s', join(FIXTURES, s)]), '-t', join(FIXTURES, 'grace_hopper.jpg'), '-o', join(dir, out), '--engine', 'mesh', '--json']);
  try {
    const both = swap(['astronaut.png', 'camera.png'], 'both.png');
    assert.equal(both.code, 0, show(both));
    const summary = JSON.parse(both.stdout) as { notices: string[] };
    assert.match(summary.notices.join('\n'), /Combined 2 source photos/);
    const first = swap(['astronaut.png'], 'first.png');
    const again = swap(['astronaut.png'], 'again.png');
    assert.equal(first.code, 0, show(first));
    assert.equal(again.code, 0, show(again));
    // The second photo takes part: inside the target's face box the result moves far more than the
    // watermark alone moves it between two runs with the first photo (each output has its own id).
    const [x, y, w, h] = (JSON.parse(first.stdout) as { targetFaces: { box: [number, number, number, number] }[] }).targetFaces[0].box;
    const [b, f, a] = await Promise.all(['both.png', 'first.png', 'again.png'].map((name) => readImage(join(dir, name), { maxPixels: 1 << 26 })));
    const faceDiff = (p: typeof b, q: typeof b) => {
      let sum = 0;
      let n = 0;
      for (let row = Math.round(y); row < Math.round(y + h); row++) {
        for (let i = (row * p.width + Math.round(x)) * p.channels, end = (row * p.width + Math.round(x + w)) * p.channels; i < end; i++, n++)
          sum += Math.abs(p.data[i] - q.data[i]);
      }
      return sum / n;
    };
    const watermarkOnly = faceDiff(f, a);
    assert.ok(faceDiff(b, f) > 2 * watermarkOnly, `combined vs first ${faceDiff(b, f).toFixed(3)}, first vs first ${watermarkOnly.toFixed(3)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('no source photo is a usage error', () => {
  const result = runCli(['swap', '-t', join(FIXTURES, 'grace_hopper.jpg'), '-o', 'x.png']);
  assert.equal(result.code, 2, show(result));
  assert.match(result.stderr, /--source/);
});
