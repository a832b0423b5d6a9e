/**
 * Engine choice: auto falls back to mesh with a notice; inswapper demands verified models. A model
 * rewritten in place keeping its size and time fools the remembered hash, so the failed load is
 * what catches it: auto still falls back, inswapper named explicitly stays an error.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { MODEL_REGISTRY, type ModelRegistry } from '../../src/models/registry.js';
import { resolveEngine } from '../../src/node/models/engine-select.js';
import { ModelStore } from '../../src/node/models/model-store.js';
import { createNodeSwapper } from '../../src/node/jobs/swapper.js';
import { loadFixture, TEST_HOME } from '../helpers/fixtures.js';
import { arcfaceStandin, inswapperStandin, scrfdStandin, standinStore } from '../helpers/standin-models.js';

let home: string;
const contents: Record<string, Buffer> = {
  det_10g: Buffer.from('stand-in detector'),
  w600k_r50: Buffer.from('stand-in recogniser'),
  inswapper_128: Buffer.from('stand-in swapper'),
  inswapper_128_fp16: Buffer.from('stand-in swapper fp16'),
};
/** The real registry with sizes and hashes of small stand-in files. */
const registry: ModelRegistry = Object.fromEntries(
  Object.entries(MODEL_REGISTRY).map(([id, e]) => {
    const bytes = contents[id] ?? Buffer.from(id);
    return [id, { ...e, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }];
  }),
);

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'liveswap-engine-'));
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

async function install(store: ModelStore, ids: string[]): Promise<void> {
  await mkdir(store.folder, { recursive: true });
  for (const id of ids) await writeFile(store.pathOf(store.entries([id])[0]), contents[id]);
}

describe('resolveEngine', () => {
  test('mesh is always mesh; auto without models is mesh with a notice naming the pull command', async () => {
    const store = new ModelStore({ home: join(home, 'empty'), registry });
    assert.deepEqual(await resolveEngine('mesh', store), { engine: 'mesh' });
    const auto = await resolveEngine('auto', store);
    assert.equal(auto.engine, 'mesh');
    assert.match(auto.notice ?? '', /det_10g, w600k_r50, inswapper_128.*liveswap models pull/);
  });

  test('inswapper without its models is a model error, not a fallback', async () => {
    const store = new ModelStore({ home: join(home, 'empty'), registry });
    await assert.rejects(resolveEngine('inswapper', store), (e: unknown) => e instanceof LiveswapError && e.kind === 'model' && /liveswap models pull/.test(e.message));
  });

  test('installed and verified models: inswapper, remembered; a changed file is caught', async () => {
    const store = new ModelStore({ home: join(home, 'full'), registry });
    await install(store, ['det_10g', 'w600k_r50', 'inswapper_128_fp16']);
    const first = await resolveEngine('auto', store);
    assert.equal(first.engine, 'inswapper');
    assert.match(first.models!.swapper, /inswapper_128_fp16\.onnx$/, 'the fp16 file serves when the full one is absent');
    const stamps = JSON.parse(await readFile(join(store.folder, '.verified.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(Object.keys(stamps).length, 3);
    // Same size, other bytes, new modification time: hashed again and refused.
    const detector = store.pathOf(store.entries(['det_10g'])[0]);
    await writeFile(detector, Buffer.from('stand-in detectoR'));
    await utimes(detector, new Date(), new Date(Date.now() + 5000));
    const after = await resolveEngine('auto', store);
    assert.equal(after.engine, 'mesh');
    assert.match(after.notice ?? '', /det_10g/);
  });
});

describe('a verified model rewritten in place (same size and time)', () => {
  /** Installs stand-ins at a fixed time, stamps them, then overwrites `id` with garbage of its size at that same time. */
  async function staleStore(name: string, id: 'det_10g' | 'inswapper_128'): Promise<{ store: ModelStore; path: string }> {
    const store = await standinStore(join(home, name), { det_10g: scrfdStandin([]), w600k_r50: arcfaceStandin(), inswapper_128: inswapperStandin() });
    const when = new Date('2024-05-01T12:00:00Z');
    for (const entry of store.entries(['det_10g', 'w600k_r50', 'inswapper_128'])) await utimes(store.pathOf(entry), when, when);
    assert.equal((await resolveEngine('auto', store)).engine, 'inswapper', 'verified and stamped');
    const path = store.pathOf(store.entries([id])[0]);
    const size = (await readFile(path)).length;
    await writeFile(path, Buffer.alloc(size, 0x5a));
    await utimes(path, when, when);
    assert.equal((await resolveEngine('auto', store)).engine, 'inswapper', 'the stale stamp still vouches for it');
    return { store, path };
  }

  test('auto falls back to mesh with a notice naming the file, and the next run hashes again', async () => {
    const { store, path } = await staleStore('stale-auto', 'inswapper_128');
    const swapper = await createNodeSwapper({ home: TEST_HOME, store, engine: 'auto' });
    try {
      assert.equal(swapper.engine, 'mesh');
      assert.ok(swapper.notice?.includes(path), `the notice names the file: ${swapper.notice}`);
      assert.match(swapper.notice ?? '', /mesh engine.*did not load.*liveswap models verify/);
      const faces = await swapper.analyze(await loadFixture('astronaut.png'));
      assert.equal(faces.length, 1, 'the mesh engine works');
    } finally {
      await swapper.close();
    }
    const next = await resolveEngine('auto', store);
    assert.equal(next.engine, 'mesh');
    assert.match(next.notice ?? '', /inswapper_128/, 'the file is hashed again and refused');
  });

  test('--engine inswapper stays a model error naming the file', async () => {
    const { store, path } = await staleStore('stale-explicit', 'det_10g');
    await assert.rejects(createNodeSwapper({ home: TEST_HOME, store, engine: 'inswapper' }), (e: unknown) => {
      assert.ok(e instanceof LiveswapError, String(e));
      assert.equal(e.kind, 'model');
      assert.equal(e.file, path);
      assert.ok(e.message.includes(path), e.message);
      assert.match(e.message, /liveswap models verify/);
      return true;
    });
  });
});
