/** `-s` repeated: several photos of one person; none at all is a usage error. */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES } from '../helpers/fixtures.js';
import { runCli, show } from './run-cli.js';

test('two source photos: the mesh engine says it uses the first', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'liveswap-sources-'));
  try {
    const result = runCli([
      'swap',
      '-s',
      join(FIXTURES, 'astronaut.png'),
      '-s',
      join(FIXTURES, 'camera.png'),
      '-t',
      join(FIXTURES, 'grace_hopper.jpg'),
      '-o',
      join(dir, 'out.jpg'),
      '--engine',
      'mesh',
      '--json',
    ]);
    assert.equal(result.code, 0, show(result));
    const summary = JSON.parse(result.stdout) as { notices: string[] };
    assert.match(summary.notices.join('\n'), /using the first of 2/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('no source photo is a usage error', () => {
  const result = runCli(['swap', '-t', join(FIXTURES, 'grace_hopper.jpg'), '-o', 'x.png']);
  assert.equal(result.code, 2, show(result));
  assert.match(result.stderr, /--source/);
});
