/**
 * FaceFusion's rows in the model table and how their files are pinned: every row the issue names,
 * with its role, tensors, template, licence and hash kind; a CRC-32 row pulled from a loopback
 * server checked against the source's `.hash` sidecar (or the table's CRC-32), its SHA-256 recorded
 * then and checked from then on; `models list` and `models pull --for` through the command.
 */

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { createModelsCommand, licenceSummary } from '../../src/cli/models-command.js';
import { LiveswapError } from '../../src/core/errors.js';
import { FACEFUSION_MODEL_IDS, FACEFUSION_TEMPLATES } from '../../src/models/model-spec-facefusion.js';
import { MODEL_SPECS, type DownloadModelSpec } from '../../src/models/model-spec.js';
import { MODEL_REGISTRY, modelsForFeature, swapperEngineModels, type ModelRegistry } from '../../src/models/registry.js';
import { crc32Hex, crc32Update, readRecorded } from '../../src/node/models/model-digest.js';
import { pullModels } from '../../src/node/models/model-pull.js';
import { ModelStore } from '../../src/node/models/model-store.js';
import { resolveEngine } from '../../src/node/models/engine-select.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The ids the issue names, each with the role its row must have. */
const NAMED: Record<string, string> = {
  hyperswap_1a_256: 'swapper',
  hyperswap_1b_256: 'swapper',
  hyperswap_1c_256: 'swapper',
  simswap_256: 'swapper',
  simswap_unofficial_512: 'swapper',
  ghost_1_256: 'swapper',
  ghost_2_256: 'swapper',
  ghost_3_256: 'swapper',
  blendswap_256: 'swapper',
  uniface_256: 'swapper',
  hififace_unofficial_256: 'swapper',
  crossface_simswap: 'embedder-converter',
  crossface_ghost: 'embedder-converter',
  crossface_hififace: 'embedder-converter',
  'gfpgan_1.4': 'enhancer',
  gpen_bfr_256: 'enhancer',
  gpen_bfr_512: 'enhancer',
  codeformer: 'enhancer',
  bisenet_resnet_18: 'parser',
  bisenet_resnet_34: 'parser',
  xseg_1: 'occluder',
  xseg_2: 'occluder',
  xseg_3: 'occluder',
};

describe("FaceFusion's rows", () => {
  it('holds every model the issue names, with its role, pinned by SHA-256 or CRC-32, sources in FaceFusion order', () => {
    for (const [id, role] of Object.entries(NAMED)) {
      const row = MODEL_REGISTRY[id as keyof typeof MODEL_REGISTRY];
      assert.ok(row, id);
      assert.equal(row.role, role, id);
      assert.equal(row.file, `${id}.onnx`);
      assert.deepEqual(
        row.sources.map((s) => s.provider),
        ['facefusion (github)', 'facefusion (huggingface)', 'facefusion (hf-mirror)'],
      );
      for (const s of row.sources) assert.ok(s.kind === 'file' && s.hashUrl === s.url.replace(/\.onnx$/, '.hash'), id);
      assert.ok(row.licence.length > 10 && typeof row.nonCommercial === 'boolean', id);
    }
    // The spec's SHA-256s (spec §11.3) and CRC-32s.
    assert.equal(MODEL_SPECS.hyperswap_1a_256.hash, 'sha256');
    assert.equal(MODEL_SPECS.hyperswap_1a_256.bytes, 402_742_682);
    assert.equal(MODEL_SPECS.hyperswap_1b_256.hash, 'crc32');
    assert.equal(MODEL_SPECS.hyperswap_1b_256.sha256, null);
    assert.equal(MODEL_SPECS.blendswap_256.crc32, '6a424cf7');
    assert.equal(MODEL_SPECS.codeformer.crc32, '1456f3ab');
    assert.equal(MODEL_SPECS.xseg_1.crc32, 'f207afe3');
    assert.equal(MODEL_SPECS.bisenet_resnet_18.crc32, '6cafc877');
    assert.ok(MODEL_SPECS.hyperswap_1c_256.sources[0]!.url.includes('/models-3.3.0/'));
    assert.ok(MODEL_SPECS.crossface_ghost.sources[1]!.url.startsWith('https://huggingface.co/facefusion/models-3.4.0/'));
    assert.equal(FACEFUSION_MODEL_IDS.length, new Set(FACEFUSION_MODEL_IDS).size);
  });

  it('swappers: `target` and `source` by name with the spec sizes, templates, mean/std and converters', () => {
    const expect = (id: keyof typeof MODEL_SPECS, size: number, template: keyof typeof FACEFUSION_TEMPLATES, source: number[], converter: string | null) => {
      const row = MODEL_SPECS[id] as DownloadModelSpec;
      assert.deepEqual(
        row.inputs.map((t) => [t.name, t.shape]),
        [
          ['target', [1, 3, size, size]],
          ['source', source],
        ],
        id,
      );
      assert.ok(row.input.crop.kind === 'five-point' && row.input.crop.border === 'replicate');
      const pixels = row.input.crop.template as readonly number[];
      FACEFUSION_TEMPLATES[template].forEach((v, i) => assert.ok(Math.abs(pixels[i]! - v * size) < 1e-9, `${id} template`));
      const s = row.swap!.source;
      assert.equal(s.kind === 'embedding' ? s.converter : null, converter, id);
    };
    expect('hyperswap_1a_256', 256, 'arcface_128', [1, 512], null);
    expect('simswap_256', 256, 'arcface_112_v1', [1, 512], 'crossface_simswap');
    expect('simswap_unofficial_512', 512, 'arcface_112_v1', [1, 512], 'crossface_simswap');
    expect('ghost_3_256', 256, 'arcface_112_v1', [1, 512], 'crossface_ghost');
    expect('hififace_unofficial_256', 256, 'mtcnn_512', [1, 512], 'crossface_hififace');
    expect('blendswap_256', 256, 'ffhq_512', [1, 3, 112, 112], null);
    expect('uniface_256', 256, 'ffhq_512', [1, 3, 256, 256], null);
    assert.deepEqual(MODEL_SPECS.simswap_256.input.channelMean, [0.485 * 255, 0.456 * 255, 0.406 * 255]);
    assert.equal(MODEL_SPECS.ghost_1_256.input.mean, 127.5);
    assert.equal(MODEL_SPECS.simswap_unofficial_512.swap?.denormaliseOutput, false);
    assert.equal(MODEL_SPECS.hyperswap_1a_256.swap?.denormaliseOutput, true);
    assert.deepEqual(MODEL_SPECS.simswap_unofficial_512.swap?.pixelBoostSizes, [512, 768, 1024]);
    assert.deepEqual(swapperEngineModels('ghost_2_256'), ['det_10g', 'w600k_r50', 'crossface_ghost', 'ghost_2_256']);
    assert.deepEqual(swapperEngineModels('uniface_256'), ['det_10g', 'uniface_256']);
  });

  it('enhancers, parsers and occluders: inputs, templates and layouts of spec §8–§9', () => {
    assert.deepEqual(
      MODEL_SPECS.codeformer.inputs.map((t) => [t.name, t.dtype]),
      [
        ['input', 'float32'],
        ['weight', 'float64'],
      ],
    );
    assert.equal(MODEL_SPECS.gpen_bfr_256.input.size, 256);
    assert.ok(MODEL_SPECS.gpen_bfr_256.input.crop.kind === 'five-point' && Math.abs((MODEL_SPECS.gpen_bfr_256.input.crop.template as number[])[0]! - 0.36167656 * 256) < 1e-9);
    assert.equal(MODEL_SPECS.gpen_bfr_2048.input.size, 2048);
    assert.deepEqual(MODEL_SPECS.bisenet_resnet_34.outputs[0]!.shape, [1, 19, 512, 512]);
    assert.deepEqual([MODEL_SPECS.xseg_2.input.layout, MODEL_SPECS.xseg_2.input.channels], ['NHWC', 'BGR']);
    assert.deepEqual(MODEL_SPECS.xseg_3.inputs[0]!.shape, [1, 256, 256, 3]);
  });

  it('features for `pull --for`', () => {
    assert.deepEqual(modelsForFeature('enhancer'), ['gfpgan_1.4']);
    assert.deepEqual(modelsForFeature('occlusion'), ['xseg_1']);
    assert.deepEqual(modelsForFeature('regions'), ['bisenet_resnet_34']);
    assert.deepEqual(modelsForFeature('simswap_256'), ['det_10g', 'w600k_r50', 'crossface_simswap', 'simswap_256']);
    assert.deepEqual(modelsForFeature('inswapper'), ['det_10g', 'w600k_r50', 'inswapper_128']);
    assert.throws(
      () => modelsForFeature('teleport'),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'usage' && /Unknown feature 'teleport'/.test(e.message),
    );
  });

  it('licence summaries for the list', () => {
    assert.equal(licenceSummary(MODEL_SPECS['gfpgan_1.4'].licence), 'Apache-2.0');
    assert.equal(licenceSummary(MODEL_SPECS.xseg_1.licence), 'GPL-3.0');
    assert.equal(licenceSummary(MODEL_SPECS.codeformer.licence), 'S-Lab License 1.0, non-commercial use only');
  });
});

describe('CRC-32 rows on a loopback server', () => {
  const FILE = randomBytes(150_000);
  const OTHER = randomBytes(150_000);
  const crc = (bytes: Uint8Array): string => crc32Hex(crc32Update(0, bytes));
  let server: Server;
  let base: string;
  let dir: string;
  const hits: string[] = [];
  const files: Record<string, Uint8Array | string> = {};

  function serve(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    hits.push(path);
    const body = files[path];
    if (body === undefined) {
      response.writeHead(404).end();
      return;
    }
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    response.writeHead(200, { 'content-length': bytes.length }).end(bytes);
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveswap-crc32-'));
    server = createServer(serve);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    files['/a/model.onnx'] = OTHER;
    files['/a/model.hash'] = `${crc(FILE)}\n`; // the first source serves other bytes than its sidecar says
    files['/b/model.onnx'] = FILE;
    files['/b/model.hash'] = crc(FILE);
    files['/c/model.onnx'] = FILE;
    files['/c/model.hash'] = 'not a crc';
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  function row(id: string, sources: string[], crc32?: string): DownloadModelSpec {
    const template = MODEL_SPECS.xseg_2;
    return {
      ...template,
      id,
      file: `${id}.onnx`,
      sha256: null,
      bytes: null,
      ...(crc32 ? { crc32 } : {}),
      nonCommercial: false,
      sources: sources.map((s) => ({ kind: 'file', provider: s, url: `${base}/${s}/model.onnx`, hashUrl: `${base}/${s}/model.hash`, usable: true })),
    };
  }

  it('our CRC-32 is zlib’s', () => {
    for (const bytes of [new Uint8Array(0), Buffer.from('123456789'), FILE]) assert.equal(crc(bytes), zlibCrc32(bytes).toString(16).padStart(8, '0'));
    assert.equal(crc(Buffer.from('123456789')), 'cbf43926');
  });

  it("a download that fails the sidecar's CRC-32 is dropped; the next source passes; its SHA-256 is recorded and checked from then on", async () => {
    const registry: ModelRegistry = { occ: row('occ', ['a', 'b']) };
    const store = new ModelStore({ home: join(dir, 'home1'), registry });
    const [before] = await store.status();
    assert.equal(before!.state, 'missing');
    assert.equal(before!.hash, 'crc32');
    const [result] = await pullModels(store, store.entries(), { backoffMs: 1 });
    assert.equal(result!.source, `${base}/b/model.onnx`);
    assert.deepEqual(await readFile(store.pathOf(registry.occ!)), FILE);
    assert.ok(hits.includes('/a/model.hash') && hits.includes('/a/model.onnx'));
    const recorded = await readRecorded(store.folder);
    assert.equal(recorded['occ.onnx']!.sha256, sha256(FILE));
    assert.equal(recorded['occ.onnx']!.crc32, crc(FILE));
    assert.equal(recorded['occ.onnx']!.source, `${base}/b/model.onnx`);
    const [verified] = await store.verify();
    assert.equal(verified!.state, 'installed');
    assert.equal(verified!.recordedSha256, sha256(FILE));
    // A file changed in place after that (same size) no longer verifies.
    await writeFile(store.pathOf(registry.occ!), OTHER);
    const [damaged] = await store.verify();
    assert.equal(damaged!.state, 'damaged');
    assert.match(damaged!.problem!, /SHA-256 [0-9a-f]{64}, expected/);
    // The engine selection reads the record as well: the enhancer's file counts once it verifies.
    await writeFile(store.pathOf(registry.occ!), FILE);
    assert.equal((await store.verify())[0]!.state, 'installed');
  });

  it("the table's own CRC-32 wins over the sidecar; a sidecar that is no CRC-32 fails that source; a file present without a record is unverified", async () => {
    const known = new ModelStore({ home: join(dir, 'home2'), registry: { occ: row('occ', ['c'], crc(FILE)) } });
    const [pulled] = await pullModels(known, known.entries(), { backoffMs: 1 });
    assert.equal(pulled!.source, `${base}/c/model.onnx`);
    const bad = new ModelStore({ home: join(dir, 'home3'), registry: { occ: row('occ', ['c']) } });
    await assert.rejects(pullModels(bad, bad.entries(), { backoffMs: 1 }), /is not a CRC-32 \.hash file/);
    const wrong = new ModelStore({ home: join(dir, 'home4'), registry: { occ: row('occ', ['a']) } });
    await assert.rejects(pullModels(wrong, wrong.entries(), { backoffMs: 1 }), /CRC-32 mismatch: got [0-9a-f]{8}, expected/);
    const copied = new ModelStore({ home: join(dir, 'home5'), registry: { occ: row('occ', ['b']) } });
    await writeFile(join(dir, 'occ-copy.onnx'), FILE);
    await assert.rejects(copied.importFiles([join(dir, 'occ-copy.onnx')]), /not a known model file/);
    const importable = new ModelStore({ home: join(dir, 'home6'), registry: { occ: row('occ', ['b'], crc(FILE)) } });
    const [imported] = await importable.importFiles([join(dir, 'occ-copy.onnx')]);
    assert.equal(imported!.id, 'occ');
    assert.equal((await importable.verify())[0]!.state, 'installed', 'imported by the CRC-32 the table holds, SHA-256 recorded');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(copied.folder, { recursive: true });
    await writeFile(join(copied.folder, 'occ.onnx'), FILE);
    const [unverified] = await copied.status();
    assert.equal(unverified!.state, 'unverified');
  });

  it('an enhancer pulled by CRC-32 is offered to the engines once recorded', async () => {
    const registry: ModelRegistry = { ...MODEL_REGISTRY, 'gfpgan_1.4': { ...row('gfpgan_1.4', ['b']), ...pick(MODEL_SPECS['gfpgan_1.4']) } };
    const store = new ModelStore({ home: join(dir, 'home7'), registry });
    assert.equal((await resolveEngine('mesh', store)).enhancers, undefined);
    await pullModels(store, store.entries(['gfpgan_1.4']), { backoffMs: 1 });
    const resolution = await resolveEngine('mesh', store);
    assert.deepEqual(resolution.enhancers, { 'gfpgan_1.4': store.pathOf(registry['gfpgan_1.4']!) });
  });
});

/** The identity and I/O of a row, kept when its sources are replaced by the loopback server's. */
function pick(row: DownloadModelSpec): Partial<DownloadModelSpec> {
  return { id: row.id, file: row.file, role: row.role, input: row.input, inputs: row.inputs, outputs: row.outputs, licence: row.licence };
}

describe('liveswap models list and pull --for', () => {
  it('lists every row with its hash kind and licence; pull --for refuses an unknown feature', async () => {
    const home = await mkdtemp(join(tmpdir(), 'liveswap-models-list-'));
    try {
      const out: string[] = [];
      const run = async (args: string[]) => {
        const program = new Command().exitOverride();
        program.addCommand(createModelsCommand({ out: (t) => out.push(t), err: () => undefined }, { store: () => new ModelStore({ home }), confirm: undefined }));
        await program.parseAsync(['models', ...args], { from: 'user' });
      };
      await run(['list', '--json']);
      const listed = JSON.parse(out.pop()!) as { models: { id: string; hash: string; licence: string; nonCommercial: boolean; state: string; role: string }[] };
      assert.deepEqual(
        listed.models.map((m) => m.id),
        Object.keys(MODEL_REGISTRY),
      );
      for (const m of listed.models) {
        assert.ok(m.hash === 'sha256' || m.hash === 'crc32', m.id);
        assert.equal(m.licence, MODEL_REGISTRY[m.id as keyof typeof MODEL_REGISTRY].licence);
      }
      await run(['list']);
      const table = out.pop()!;
      for (const id of Object.keys(NAMED)) assert.match(table, new RegExp(`^${id.replace('.', '\\.')}\\s.*\\s(sha256|crc32)\\s+\\S+\\s+\\S`, 'm'), id);
      assert.match(table, /^xseg_1\s.*missing\s+~67\.0 MB\s+crc32\s+occluder\s+GPL-3\.0$/m);
      assert.match(table, /^hyperswap_1a_256\s.*402\.7 MB\s+sha256\s+swapper\s+non-commercial: ResearchRAIL/m);
      await assert.rejects(run(['pull', '--for', 'teleport']), /Unknown feature 'teleport'/);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
