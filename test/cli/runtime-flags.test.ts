/** --execution-provider and --execution-threads: no silent fallback, clear messages. */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { availableProviders } from '../../src/node/models/onnx-runtime.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { runCli, show } from './run-cli.js';

describe('execution provider and threads', () => {
  test('cpu is always available', () => {
    assert.ok(availableProviders().includes('cpu'));
  });

  test('an unavailable provider is an error listing what is available, not a fallback', async (t) => {
    const missing = (['cuda', 'coreml', 'dml'] as const).find((p) => !availableProviders().includes(p));
    if (!missing) {
      t.diagnostic('every provider is available on this machine; nothing to refuse');
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), 'liveswap-ep-'));
    try {
      const result = runCli(['swap', '-s', join(FIXTURES, 'astronaut.png'), '-t', join(FIXTURES, 'grace_hopper.jpg'), '-o', join(dir, 'out.png'), '--execution-provider', missing]);
      assert.equal(result.code, 2, show(result));
      assert.match(result.stderr, new RegExp(`The ${missing} execution provider is not available here; available: cpu`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('threads must be a whole number from 1', () => {
    const result = runCli(['swap', '-s', 'a.png', '-t', 'b.png', '-o', 'c.png', '--execution-threads', '0']);
    assert.equal(result.code, 2, show(result));
    assert.match(result.stderr, /--execution-threads/);
  });

  test('cpu with two threads swaps', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'liveswap-ep-'));
    try {
      const result = runCli([
        'swap',
        '-s',
        join(FIXTURES, 'astronaut.png'),
        '-t',
        join(FIXTURES, 'grace_hopper.jpg'),
        '-o',
        join(dir, 'out.png'),
        '--execution-provider',
        'cpu',
        '--execution-threads',
        '2',
        '--json',
      ]);
      assert.equal(result.code, 0, show(result));
      assert.deepEqual((JSON.parse(result.stdout) as { swappedFaces: number[] }).swappedFaces, [0]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
