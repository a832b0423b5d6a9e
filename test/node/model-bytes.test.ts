/**
 * The one model loader: openEngine over an injected byte reader and runtime (fakes here, so only
 * the loader's own rules are under test), and the Node reader over the model cache, which converts
 * a damaged cached model again once.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { MODEL_SPECS, type ModelSpec, type ModelSpecId } from '../../src/models/model-spec.js';
import type { InferenceRuntime, InferenceSession } from '../../src/models/runtime.js';
import { builtinModel } from '../../src/node/models/model-cache.js';
import { nodeEngineSpec, nodeModelReader } from '../../src/node/models/model-bytes.js';
import { createNodeRuntime } from '../../src/node/models/onnx-runtime.js';
import { openEngine, type FetchBytes } from '../../src/pipeline/engines.js';
import { inswapperStandin, standinEmap } from '../helpers/standin-models.js';

/** A runtime whose sessions carry the tensor names of the row named by the bytes' label. */
function fakeRuntime(options: { failOn?: string } = {}): InferenceRuntime & { open: Set<string>; loads: string[] } {
  const open = new Set<string>();
  const loads: string[] = [];
  return {
    name: 'fake',
    open,
    loads,
    async load(_model, label) {
      loads.push(label);
      if (label === options.failOn) throw new Error(`cannot load ${label}`);
      const spec = MODEL_SPECS[label as ModelSpecId];
      const session: InferenceSession = {
        inputNames: spec.inputs.map((t, i) => t.name ?? `in${i}`),
        outputNames: spec.outputs.map((t, i) => t.name ?? `out${i}`),
        run: () => Promise.reject(new Error('not run here')),
        close: async () => {
          open.delete(label);
        },
      };
      open.add(label);
      return session;
    },
  };
}

/** Bytes labelled with the row id; the swapper gets a real stand-in, whose emap is read. */
const fakeBytes: FetchBytes = async (_location, spec) => ({
  bytes: spec.role === 'swapper' ? inswapperStandin() : new Uint8Array([1]),
  label: spec.id,
});

const INSWAPPER_MODELS = { blazeface: 'b', facemesh: 'f', det_10g: 'd', w600k_r50: 'w', inswapper_128_fp16: 's' } as const;

describe('openEngine', () => {
  test('opens the mesh engine, owns its two sessions and closes them once', async () => {
    const runtime = fakeRuntime();
    const engine = await openEngine({ engine: 'mesh', models: { blazeface: 'b', facemesh: 'f' } }, fakeBytes, runtime);
    assert.equal(engine.name, 'mesh');
    assert.deepEqual(
      engine.models.map((m) => m.id),
      ['blazeface', 'facemesh'],
    );
    assert.ok(engine.track);
    assert.equal(engine.withMeshTuning({ ...(await import('../../src/swap/mesh-tuning.js')).DEFAULT_MESH_TUNING }).name, 'mesh');
    assert.deepEqual([...runtime.open], ['blazeface', 'facemesh']);
    await engine.close();
    await engine.close();
    assert.equal(runtime.open.size, 0);
  });

  test('opens inswapper with the row of the swapper file given, its emap read from that file', async () => {
    const runtime = fakeRuntime();
    let emapBytes = 0;
    const reader: FetchBytes = async (location, spec, again) => {
      const got = await fakeBytes(location, spec, again);
      if (spec.role === 'swapper') emapBytes = got!.bytes.length;
      return got;
    };
    const engine = await openEngine({ engine: 'inswapper', models: INSWAPPER_MODELS }, reader, runtime);
    assert.equal(engine.name, 'inswapper');
    assert.deepEqual(
      engine.models.map((m) => m.id),
      ['blazeface', 'facemesh', 'det_10g', 'w600k_r50', 'inswapper_128_fp16'],
    );
    assert.ok(emapBytes > standinEmap().length * 4, 'the emap came out of the swapper file');
    await engine.close();
    assert.equal(runtime.open.size, 0);
  });

  test('a model that fails to load closes every session already open; a missing file is named', async () => {
    const runtime = fakeRuntime({ failOn: 'w600k_r50' });
    await assert.rejects(openEngine({ engine: 'inswapper', models: INSWAPPER_MODELS }, fakeBytes, runtime), /cannot load w600k_r50/);
    assert.equal(runtime.open.size, 0);
    const { det_10g: _, ...noDetector } = INSWAPPER_MODELS;
    await assert.rejects(
      openEngine({ engine: 'inswapper', models: noDetector }, fakeBytes, fakeRuntime()),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'model' && /needs the det_10g model/.test(e.message),
    );
  });

  test('a file that is no InSwapper model is named by the emap reader before any load', async () => {
    const runtime = fakeRuntime();
    const junk: FetchBytes = async (_location, spec) => ({ bytes: new Uint8Array([0xff, 0xff, 0xff]), label: spec.role === 'swapper' ? 'models/inswapper_128.onnx' : spec.id });
    await assert.rejects(openEngine({ engine: 'inswapper', models: INSWAPPER_MODELS }, junk, runtime), /models\/inswapper_128\.onnx/);
    assert.ok(!runtime.loads.includes('models/inswapper_128.onnx'));
    assert.equal(runtime.open.size, 0);
  });

  test('a load failure asks the reader once more; its undefined leaves the error standing', async () => {
    const asked: [string, boolean][] = [];
    const reader: FetchBytes = async (_location, spec: ModelSpec, again) => {
      asked.push([spec.id, again]);
      return again ? undefined : { bytes: new Uint8Array([1]), label: 'blazeface' };
    };
    await assert.rejects(openEngine({ engine: 'mesh', models: { blazeface: 'b', facemesh: 'f' } }, reader, fakeRuntime({ failOn: 'blazeface' })), /cannot load blazeface/);
    assert.deepEqual(asked, [
      ['blazeface', false],
      ['blazeface', true],
    ]);
  });
});

describe('the Node reader', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'liveswap-bytes-'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  test('names the inswapper files under their rows, the fp16 file under its own', () => {
    const spec = nodeEngineSpec({ engine: 'inswapper', models: { detector: '/m/det_10g.onnx', recogniser: '/m/w600k_r50.onnx', swapper: '/m/inswapper_128_fp16.onnx' } });
    assert.deepEqual(spec, {
      engine: 'inswapper',
      models: { blazeface: 'blazeface', facemesh: 'facemesh', det_10g: '/m/det_10g.onnx', w600k_r50: '/m/w600k_r50.onnx', inswapper_128_fp16: '/m/inswapper_128_fp16.onnx' },
    });
    assert.deepEqual(nodeEngineSpec({ engine: 'mesh' }).models, { blazeface: 'blazeface', facemesh: 'facemesh' });
  });

  test('a damaged cached model is caught by its recorded hash and converted again before any load', async () => {
    const cached = await builtinModel('blazeface', home);
    await builtinModel('facemesh', home);
    await writeFile(cached.path, 'not an onnx file');
    const runtime = createNodeRuntime({ threads: 1 });
    const labels: string[] = [];
    const counting: InferenceRuntime = { name: runtime.name, load: (bytes, label) => (labels.push(label), runtime.load(bytes, label)) };
    const engine = await openEngine(nodeEngineSpec({ engine: 'mesh' }), nodeModelReader(home), counting);
    try {
      assert.deepEqual(labels, [cached.path, labels[1]], 'the damaged bytes never reach the runtime');
      assert.ok(
        engine.notices.some((n) => n.includes(cached.path)),
        'a notice names the rebuilt file',
      );
      assert.ok((await builtinModel('blazeface', home)).bytes.length > 1000, 'the cache holds the rebuilt model');
    } finally {
      await engine.close();
    }
  });

  test('a cached model that matches its recorded hash yet will not load is converted again once', async () => {
    const cached = await builtinModel('blazeface', home);
    const garbage = Buffer.from('not an onnx file');
    await writeFile(cached.path, garbage);
    await writeFile(`${cached.path}.sha256`, createHash('sha256').update(garbage).digest('hex'));
    const runtime = createNodeRuntime({ threads: 1 });
    const labels: string[] = [];
    const counting: InferenceRuntime = { name: runtime.name, load: (bytes, label) => (labels.push(label), runtime.load(bytes, label)) };
    const engine = await openEngine(nodeEngineSpec({ engine: 'mesh' }), nodeModelReader(home), counting);
    try {
      assert.deepEqual(labels, [cached.path, cached.path, labels[2]]);
      assert.ok((await builtinModel('blazeface', home)).bytes.length > 1000, 'the cache holds the rebuilt model');
    } finally {
      await engine.close();
    }
  });

  test('a model this reader has just converted is not converted again when it will not load', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'liveswap-bytes-fresh-'));
    try {
      const reader = nodeModelReader(fresh);
      const first = await reader('blazeface', MODEL_SPECS.blazeface, false);
      assert.ok(first && first.bytes.length > 1000);
      assert.equal(await reader('blazeface', MODEL_SPECS.blazeface, true), undefined);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });
});
