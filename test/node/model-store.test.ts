/**
 * The model store against a loopback HTTP server started here: plain and zipped sources, resume
 * after a cut connection, hash mismatches, failing sources, the licence gate, import and verify.
 * Stand-in files replace the real models (which cannot be downloaded here), with their real hashes.
 */

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { after, before, beforeEach, describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { MODEL_IDS, MODEL_REGISTRY, type ModelEntry, type ModelRegistry, type ModelSource } from '../../src/models/registry.js';
import { readLicenceAcceptances } from '../../src/node/models/model-licence.js';
import { pullModels, type PullProgress } from '../../src/node/models/model-pull.js';
import { ModelStore } from '../../src/node/models/model-store.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function crc32(bytes: Uint8Array): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

/** A minimal zip (deflated members, no data descriptors), enough for any reader. */
function makeZip(members: Record<string, Uint8Array>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(members)) {
    const packed = deflateRawSync(data);
    const nameBytes = Buffer.from(name);
    const fields = (header: Buffer, at: number): void => {
      header.writeUInt16LE(8, at); // deflate
      header.writeUInt32LE(crc32(data), at + 6);
      header.writeUInt32LE(packed.length, at + 10);
      header.writeUInt32LE(data.length, at + 14);
      header.writeUInt16LE(nameBytes.length, at + 18);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    fields(local, 8);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    fields(central, 10);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, packed);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const DETECTOR = randomBytes(300_000);
const SWAPPER = randomBytes(700_000);
const LANDMARKS = randomBytes(50_000);
const PACK = makeZip({ 'readme.txt': Buffer.from('stand-in pack'), 'det.onnx': DETECTOR, 'lmk.onnx': LANDMARKS });

interface Seen {
  path: string;
  range: string | undefined;
}
let server: Server;
let base: string;
let closedPort: string;
let seen: Seen[] = [];
/** Paths whose first request is cut off half-way. */
const cutOnce = new Set<string>();

function serve(request: IncomingMessage, response: ServerResponse): void {
  const path = request.url ?? '/';
  seen.push({ path, range: request.headers.range });
  const body = { '/swapper.onnx': SWAPPER, '/cut/swapper.onnx': SWAPPER, '/pack.zip': PACK, '/other.onnx': LANDMARKS }[path];
  if (!body) {
    response.writeHead(404).end('not here');
    return;
  }
  const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  const part = body.subarray(start);
  response.writeHead(range ? 206 : 200, {
    'content-length': part.length,
    ...(range ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
  });
  if (cutOnce.delete(path)) {
    response.write(part.subarray(0, part.length >> 1), () => response.destroy());
    return;
  }
  response.end(part);
}

function entry(id: string, file: string, bytes: Uint8Array, sources: ModelSource[], nonCommercial = false): ModelEntry {
  return { ...MODEL_REGISTRY.inswapper_128, id, file, bytes: bytes.length, sha256: sha256(bytes), sources, nonCommercial, licence: `stand-in licence of ${id}` };
}

function registry(): ModelRegistry {
  return {
    swapper: entry('swapper', 'swapper.onnx', SWAPPER, [
      { kind: 'file', provider: 'unusable', url: `${base}/never.onnx`, usable: false },
      { kind: 'file', provider: 'local', url: `${base}/swapper.onnx`, usable: true },
    ]),
    detector: entry('detector', 'det.onnx', DETECTOR, [{ kind: 'zip', provider: 'pack', url: `${base}/pack.zip`, member: 'det.onnx', usable: true }]),
    landmarks: entry('landmarks', 'lmk.onnx', LANDMARKS, [{ kind: 'zip', provider: 'pack', url: `${base}/pack.zip`, member: 'lmk.onnx', usable: true }], true),
    resumed: entry('resumed', 'swapper-cut.onnx', SWAPPER, [{ kind: 'file', provider: 'local', url: `${base}/cut/swapper.onnx`, usable: true }]),
    // The server's /other.onnx holds other bytes than this entry's hash.
    wrong: entry('wrong', 'wrong.onnx', SWAPPER, [{ kind: 'file', provider: 'local', url: `${base}/other.onnx`, usable: true }]),
    nowhere: entry('nowhere', 'nowhere.onnx', DETECTOR, [
      { kind: 'file', provider: 'closed', url: `http://127.0.0.1:${closedPort}/x.onnx`, usable: true },
      { kind: 'file', provider: 'local', url: `${base}/missing.onnx`, usable: true },
    ]),
  };
}

const FAST = { attempts: 3, backoffMs: 5, stallTimeoutMs: 5000 };
let home: string;
let store: ModelStore;

before(async () => {
  // A port that was open a moment ago and is now closed: connections to it are refused.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = String((probe.address() as AddressInfo).port);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(async () => {
  if (home) await rm(home, { recursive: true, force: true });
  home = await mkdtemp(join(tmpdir(), 'liveswap-models-'));
  store = new ModelStore({ home, registry: registry() });
  seen = [];
});

describe('the registry', () => {
  it('has one entry per id with the spec figures', () => {
    assert.deepEqual(Object.keys(MODEL_REGISTRY), [...MODEL_IDS]);
    for (const [id, e] of Object.entries(MODEL_REGISTRY)) {
      assert.equal(e.id, id);
      // A row without a SHA-256 is pinned by FaceFusion's CRC-32 (model-spec-facefusion.ts; test/models covers those).
      if (e.hash === 'sha256') assert.match(e.sha256 ?? '', /^[0-9a-f]{64}$/);
      assert.ok(
        e.sources.some((s) => s.usable),
        `${id} has a usable source`,
      );
      if (e.sources[0]?.provider === 'insightface' || id.startsWith('inswapper')) assert.equal(e.nonCommercial, true);
    }
    assert.equal(MODEL_REGISTRY.inswapper_128.bytes, 554_253_681);
    assert.equal(MODEL_REGISTRY.det_10g.sources[0]?.kind, 'zip');
    assert.deepEqual(
      MODEL_REGISTRY.inswapper_128.inputs.map((i) => i.name),
      ['target', 'source'],
    );
    assert.equal(MODEL_REGISTRY.inswapper_128_fp16.sources.find((s) => s.provider.startsWith('facefusion'))?.usable, false);
  });
});

describe('pull', () => {
  it('downloads a plain file, checks it and reports progress; a second pull keeps it', async () => {
    const progress: PullProgress[] = [];
    const [result] = await pullModels(store, store.entries(['swapper']), { ...FAST, onProgress: (p) => progress.push(p) });
    assert.equal(result?.source, `${base}/swapper.onnx`);
    assert.equal(sha256(await readFile(join(home, 'models', 'swapper.onnx'))), sha256(SWAPPER));
    assert.ok(!seen.some((s) => s.path === '/never.onnx'), 'an unusable source is never fetched');
    const downloads = progress.filter((p) => p.phase === 'download');
    assert.equal(downloads.at(-1)?.receivedBytes, SWAPPER.length);
    assert.equal(downloads.at(-1)?.totalBytes, SWAPPER.length);
    assert.ok(progress.some((p) => p.phase === 'verify'));
    assert.deepEqual(await readdir(join(home, 'models', '.downloads')), [], 'no partial file left');

    const again = await pullModels(store, store.entries(['swapper']), FAST);
    assert.equal(again[0]?.alreadyInstalled, true);
    assert.equal(seen.length, 1, 'nothing fetched the second time');
  });

  it('extracts members from a zip pack, fetching the pack once and deleting it afterwards', async () => {
    const results = await pullModels(store, store.entries(['detector', 'landmarks']), { ...FAST, acceptLicense: true });
    assert.deepEqual(
      results.map((r) => r.id),
      ['detector', 'landmarks'],
    );
    assert.deepEqual(await readFile(join(home, 'models', 'det.onnx')), DETECTOR);
    assert.deepEqual(await readFile(join(home, 'models', 'lmk.onnx')), LANDMARKS);
    assert.equal(seen.filter((s) => s.path === '/pack.zip').length, 1);
    assert.deepEqual(await readdir(join(home, 'models', '.downloads')), []);
    assert.deepEqual((await readdir(join(home, 'models'))).sort(), ['.downloads', 'det.onnx', 'lmk.onnx']);
  });

  it('resumes with a Range request after the connection is cut half-way', async () => {
    cutOnce.add('/cut/swapper.onnx');
    await pullModels(store, store.entries(['resumed']), FAST);
    const requests = seen.filter((s) => s.path === '/cut/swapper.onnx');
    assert.equal(requests.length, 2);
    assert.equal(requests[0]?.range, undefined);
    const offset = Number(/^bytes=(\d+)-$/.exec(requests[1]?.range ?? '')?.[1]);
    assert.ok(offset > 0 && offset < SWAPPER.length, `resumed from byte ${requests[1]?.range}`);
    assert.equal(sha256(await readFile(join(home, 'models', 'swapper-cut.onnx'))), sha256(SWAPPER));
  });

  it('a hash mismatch is an error and installs nothing', async () => {
    await assert.rejects(pullModels(store, store.entries(['wrong']), FAST), (error: unknown) => {
      assert.ok(error instanceof LiveswapError && error.kind === 'model');
      assert.match(error.message, new RegExp(`${base}/other\\.onnx: SHA-256 mismatch`));
      return true;
    });
    assert.deepEqual((await readdir(join(home, 'models'))).sort(), ['.downloads']);
    assert.deepEqual(await readdir(join(home, 'models', '.downloads')), [], 'the bad download is deleted');
    assert.equal((await store.status(['wrong']))[0]?.state, 'missing');
  });

  it('when every source fails, the error names each URL and suggests import', async () => {
    await assert.rejects(pullModels(store, store.entries(['nowhere']), FAST), (error: unknown) => {
      assert.ok(error instanceof LiveswapError && error.kind === 'model');
      assert.match(error.message, new RegExp(`http://127\\.0\\.0\\.1:${closedPort}/x\\.onnx: connection refused \\(ECONNREFUSED\\)`));
      assert.match(error.message, new RegExp(`${base}/missing\\.onnx: HTTP 404`));
      assert.match(error.message, /liveswap models import FILE/);
      return true;
    });
    assert.equal(seen.filter((s) => s.path === '/missing.onnx').length, 1, 'a 404 is not retried');
  });

  it('the licence gate refuses without acceptance, then remembers an acceptance', async () => {
    await assert.rejects(pullModels(store, store.entries(['landmarks']), FAST), /licence of landmarks was not accepted.*--accept-license/s);
    const questions: string[] = [];
    await assert.rejects(pullModels(store, store.entries(['landmarks']), { ...FAST, confirm: async (q) => (questions.push(q), false) }), LiveswapError);
    assert.equal(seen.length, 0, 'nothing downloaded before acceptance');
    assert.match(questions[0] ?? '', /stand-in licence of landmarks/);

    await pullModels(store, store.entries(['landmarks']), { ...FAST, confirm: async () => true });
    const accepted = await readLicenceAcceptances(home);
    assert.deepEqual(
      accepted.map((a) => a.id),
      ['landmarks'],
    );
    assert.equal(accepted[0]?.licenceSha256, sha256(Buffer.from('stand-in licence of landmarks')));

    await rm(join(home, 'models', 'lmk.onnx'));
    await pullModels(store, store.entries(['landmarks']), { ...FAST, confirm: async () => assert.fail('asked twice') });
    assert.equal((await store.status(['landmarks']))[0]?.state, 'installed');
  });
});

describe('status, verify and import', () => {
  it('import recognises files by hash whatever their names; unknown files are refused', async () => {
    const mine = join(home, 'my-copy.bin');
    await writeFile(mine, DETECTOR);
    const [result] = await store.importFiles([mine]);
    assert.equal(result?.id, 'detector');
    assert.deepEqual(await readFile(join(home, 'models', 'det.onnx')), DETECTOR);

    const stranger = join(home, 'stranger.onnx');
    await writeFile(stranger, randomBytes(DETECTOR.length));
    await assert.rejects(store.importFiles([stranger]), (error: unknown) => {
      assert.ok(error instanceof LiveswapError && error.kind === 'input-unsupported');
      assert.match(error.message, /stranger\.onnx: it is not a known model file \(SHA-256 [0-9a-f]{64}\)/);
      assert.match(error.message, /det\.onnx \(detector, 300000 bytes/);
      return true;
    });
    await assert.rejects(store.importFiles([join(home, 'absent.onnx')]), { kind: 'input-missing' });
  });

  it('list shows installed, missing and damaged; verify re-hashes and finds a tampered file', async () => {
    await writeFile(join(home, 'swapper.onnx'), SWAPPER);
    await writeFile(join(home, 'det.onnx'), DETECTOR);
    await store.importFiles([join(home, 'swapper.onnx'), join(home, 'det.onnx')]);
    await writeFile(join(home, 'models', 'lmk.onnx'), LANDMARKS.subarray(1));
    const states = Object.fromEntries((await store.status()).map((s) => [s.id, s.state]));
    assert.deepEqual(states, { swapper: 'installed', detector: 'installed', landmarks: 'damaged', resumed: 'missing', wrong: 'missing', nowhere: 'missing' });

    const tampered = Buffer.from(DETECTOR);
    tampered[1000] ^= 0xff;
    await writeFile(join(home, 'models', 'det.onnx'), tampered);
    assert.equal((await store.status(['detector']))[0]?.state, 'installed', 'status only compares sizes');
    const [verified] = await store.verify(['detector']);
    assert.equal(verified?.state, 'damaged');
    assert.match(verified?.problem ?? '', new RegExp(`expected ${sha256(DETECTOR)}`));
    assert.equal((await stat(join(home, 'models', 'swapper.onnx'))).size, SWAPPER.length);
  });
});
