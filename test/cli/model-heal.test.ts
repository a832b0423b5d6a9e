/**
 * The model cache heals through the real command: a FaceMesh cache file damaged in place (same
 * size; it used to crash with exit 1 on NaN boxes) and a damaged FaceRes cache (it used to give
 * exit 9 to `faces scan`) are converted again, named in a note, and the run succeeds. Each test
 * damages its own copy under a temporary LIVESWAP_HOME, never the shared test cache.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builtinModel } from '../../src/node/models/model-cache.js';
import { makeClip } from '../helpers/clips.js';
import { runCli, show } from './run-cli.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-heal-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * A fresh home with the built-in models converted, and `id`'s cached file damaged in place, same
 * size: 'weights' sets 4 KiB in the middle to 0xff (NaN as float32: the model loads and answers
 * NaN), 'header' flips the first 4 KiB (the model no longer parses).
 */
async function homeWithDamaged(name: string, id: 'facemesh' | 'faceres', how: 'weights' | 'header'): Promise<{ home: string; path: string; good: Buffer }> {
  const home = join(dir, name);
  for (const model of ['blazeface', 'facemesh', 'faceres'] as const) await builtinModel(model, home);
  const { path } = await builtinModel(id, home);
  const good = await readFile(path);
  const bytes = Buffer.from(good);
  if (how === 'weights') bytes.fill(0xff, Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + 4096);
  else for (let i = 0; i < 4096; i++) bytes[i] ^= 0xa5;
  await writeFile(path, bytes);
  return { home, path, good };
}

describe('damaged model caches heal', () => {
  it('swap: a FaceMesh cache damaged in place is converted again and the swap succeeds', async () => {
    const { home, path, good } = await homeWithDamaged('mesh', 'facemesh', 'weights');
    const out = join(dir, 'swapped.jpg');
    const result = runCli(['swap', '-s', 'test/fixtures/faces/astronaut.png', '-t', 'test/fixtures/faces/grace_hopper.jpg', '-o', out, '--engine', 'mesh'], { home });
    assert.equal(result.code, 0, show(result));
    assert.ok(result.stderr.includes(path), show(result));
    assert.deepEqual(await readFile(path), good);
    assert.ok((await readFile(out)).length > 1000);
  });

  it('faces scan: a damaged FaceRes cache is converted again and the scan succeeds', async () => {
    const { home, path, good } = await homeWithDamaged('faceres', 'faceres', 'header');
    const clip = await makeClip({ dir, fps: 10, frames: 8, name: 'scan me' });
    const result = runCli(['faces', 'scan', clip, '--out', join(dir, 'faces'), '--sample-fps', '4', '--json'], { home });
    assert.equal(result.code, 0, show(result));
    assert.deepEqual(await readFile(path), good);
  });
});
