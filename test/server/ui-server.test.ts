/**
 * The `liveswap ui` server over real sockets: static files and their headers, path traversal,
 * Host and Origin checks, model files (built-in, inswapper with ranges), onnxruntime's
 * wasm, and the WebSocket relay.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { LiveswapError } from '../../src/core/errors.js';
import { builtinModel } from '../../src/node/models/model-cache.js';
import { ModelStore } from '../../src/node/models/model-store.js';
import type { ServerInfo } from '../../src/pipeline/live-options.js';
import { parseRange } from '../../src/server/http-files.js';
import { hostPolicy, isLoopbackHost } from '../../src/server/origin.js';
import { FrameRelay, MAX_FRAME_BYTES } from '../../src/server/relay.js';
import { createUiServer, type UiServer } from '../../src/server/ui-server.js';
import { TEST_HOME } from '../helpers/fixtures.js';
import { inswapperStandin, standinStore } from '../helpers/standin-models.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request with the path sent exactly as written (fetch would normalise `..` and `%2e%2e`). */
function get(server: UiServer, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function assertIsolated(answer: Answer, what: string): void {
  assert.equal(answer.headers['cross-origin-opener-policy'], 'same-origin', what);
  assert.equal(answer.headers['cross-origin-embedder-policy'], 'require-corp', what);
  assert.equal(answer.headers['cross-origin-resource-policy'], 'same-origin', what);
  assert.equal(answer.headers['x-content-type-options'], 'nosniff', what);
}

const wsUrl = (server: UiServer, path: string): string => server.url.replace(/^http/, 'ws').replace(/\/$/, path);
const ownOrigin = (server: UiServer): string => server.url.replace(/\/$/, '');

/** Opens a socket and collects what it receives from the start, so no early message is lost. */
async function connect(url: string, origin: string): Promise<{ socket: WebSocket; binary: Buffer[]; text: string[] }> {
  const socket = new WebSocket(url, { origin });
  const binary: Buffer[] = [];
  const text: string[] = [];
  socket.on('message', (data, isBinary) => (isBinary ? binary.push(data as Buffer) : text.push((data as Buffer).toString('utf8'))));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { socket, binary, text };
}

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let dir: string;
let webRoot: string;
let server: UiServer;
let info: ServerInfo;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-ui-server-'));
  webRoot = join(dir, 'web');
  await mkdir(join(webRoot, 'assets'), { recursive: true });
  await writeFile(join(webRoot, 'index.html'), '<!doctype html><title>app</title>');
  await writeFile(join(webRoot, 'output.html'), '<!doctype html><title>output</title>');
  await writeFile(join(webRoot, 'assets', 'main-4f3a2b1c.js'), 'console.log("app");');
  await writeFile(join(webRoot, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(join(dir, 'secret.txt'), 'outside the web root');
  // An empty store: the inswapper engine is not installed here.
  server = await createUiServer({ webRoot, home: TEST_HOME, store: new ModelStore({ home: join(dir, 'no-models') }), port: 0, version: '9.8.7' });
  info = await server.info();
});

after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ui server: pages and headers', () => {
  it('serves the app, the output page and assets with their cache rules, all cross-origin isolated', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(server.outputUrl, `${server.url}output`);
    const index = await get(server, '/');
    assert.equal(index.status, 200);
    assert.equal(index.body.toString(), '<!doctype html><title>app</title>');
    assert.match(String(index.headers['content-type']), /^text\/html/);
    assert.equal(index.headers['cache-control'], 'no-cache');
    assertIsolated(index, '/');
    const output = await get(server, '/output');
    assert.equal(output.body.toString(), '<!doctype html><title>output</title>');
    const asset = await get(server, '/assets/main-4f3a2b1c.js');
    assert.equal(asset.status, 200);
    assert.match(String(asset.headers['content-type']), /^text\/javascript/);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    const icon = await get(server, '/favicon.svg');
    assert.equal(icon.headers['content-type'], 'image/svg+xml');
    assert.equal(icon.headers['cache-control'], 'no-cache');
    const again = await get(server, '/', { 'if-none-match': String(index.headers.etag) });
    assert.equal(again.status, 304);
  });

  it('answers unknown routes with 404 JSON, isolated too', async () => {
    for (const path of ['/nothing-here', '/api/nothing', '/assets/missing.js']) {
      const answer = await get(server, path);
      assert.equal(answer.status, 404, path);
      assert.equal(typeof (JSON.parse(answer.body.toString()) as { error: unknown }).error, 'string');
      assertIsolated(answer, path);
    }
    const plain = await get(server, '/api/relay/watch');
    assert.equal(plain.status, 426, 'a relay path without an upgrade');
    assertIsolated(plain, 'the relay path');
    const post = await get(server, '/api/info', {}, 'POST');
    assert.equal(post.status, 404);
    const malformed = await get(server, '/%');
    assert.equal(malformed.status, 400);
    assertIsolated(malformed, 'a malformed URL');
  });

  it('never serves a file outside the web root', async () => {
    const attempts = [
      '/assets/../../package.json',
      '/../secret.txt',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%2fetc%2fpasswd',
      '/assets/%5c..%5c..%5csecret.txt',
      '/.%2e/secret.txt',
      '//etc/passwd',
    ];
    for (const path of attempts) {
      const answer = await get(server, path);
      assert.equal(answer.status, 404, `${path} → ${answer.status} ${answer.body.toString().slice(0, 80)}`);
      assert.doesNotMatch(answer.body.toString(), /outside the web root|"name": "liveswap"|root:/, path);
    }
  });

  it('refuses a Host that is not this loopback server (DNS rebinding) with 403', async () => {
    const { port } = new URL(server.url);
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${Number(port) + 1}`, `192.168.1.20:${port}`]) {
      const answer = await get(server, '/api/info', { host });
      assert.equal(answer.status, 403, host);
      assertIsolated(answer, `Host ${host}`);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `LOCALHOST:${port}`]) assert.equal((await get(server, '/api/info', { host })).status, 200, host);
  });

  it('throws a not-built error when the web root has no index.html', async () => {
    await assert.rejects(
      createUiServer({ webRoot: join(dir, 'empty'), home: TEST_HOME, port: 0 }),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'usage' && /not built/.test(e.message) && /npm run build/.test(e.message),
    );
  });
});

describe('ui server: /api/info and models', () => {
  it('describes itself', async () => {
    const answer = await get(server, '/api/info');
    assert.equal(answer.status, 200);
    assertIsolated(answer, '/api/info');
    const body = JSON.parse(answer.body.toString()) as ServerInfo;
    assert.deepEqual(body, info);
    assert.equal(body.version, '9.8.7');
    assert.deepEqual(body.engines, { mesh: true, inswapper: false });
    assert.match(body.inswapperNotice ?? '', /liveswap models pull/);
    assert.equal(body.models.inswapper, undefined);
    for (const id of ['blazeface', 'facemesh', 'faceres'] as const) assert.match(body.models[id], new RegExp(`^/models/builtin/${id}-[0-9a-f]{16}\\.onnx$`));
    assert.equal(body.ortWasmPath, '/ort/');
    assert.deepEqual(body.relay, { publish: '/api/relay/publish', watch: '/api/relay/watch' });
  });

  it('serves the converted built-in models byte for byte, cacheable forever', async () => {
    for (const id of ['blazeface', 'facemesh', 'faceres'] as const) {
      const answer = await get(server, info.models[id]);
      assert.equal(answer.status, 200, id);
      assert.equal(answer.headers['content-type'], 'application/octet-stream');
      assert.equal(answer.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.ok(answer.headers.etag, 'an ETag');
      assertIsolated(answer, id);
      assert.ok(answer.body.equals(Buffer.from((await builtinModel(id, TEST_HOME)).bytes)), `${id} bytes`);
    }
    const revalidated = await get(server, info.models.facemesh, { 'if-none-match': String((await get(server, info.models.facemesh)).headers.etag) });
    assert.equal(revalidated.status, 304);
  });

  it('serves no other model file', async () => {
    for (const path of [
      '/models/builtin/facemesh-0000000000000000.onnx',
      '/models/builtin/..%2f..%2fpackage.json',
      '/models/inswapper/inswapper_128.onnx',
      '/models/inswapper/det_10g.onnx',
    ]) {
      assert.equal((await get(server, path)).status, 404, path);
    }
  });

  it("serves onnxruntime-web's wasm and mjs files, and nothing else from its package", async () => {
    const wasm = await get(server, '/ort/ort-wasm-simd-threaded.jsep.wasm');
    assert.equal(wasm.status, 200);
    assert.equal(wasm.headers['content-type'], 'application/wasm');
    assert.deepEqual([...wasm.body.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d], 'the wasm magic');
    assertIsolated(wasm, 'wasm');
    const mjs = await get(server, '/ort/ort-wasm-simd-threaded.jsep.mjs');
    assert.match(String(mjs.headers['content-type']), /^text\/javascript/);
    for (const path of ['/ort/ort.node.min.js', '/ort/package.json', '/ort/..%2fpackage.json', '/ort/ort-missing.wasm']) assert.equal((await get(server, path)).status, 404, path);
  });
});

describe('ui server: inswapper files', () => {
  let home: string;
  let inswapper: UiServer;
  const files: Record<string, Buffer> = {
    det_10g: randomBytes(300_000),
    w600k_r50: randomBytes(200_000),
    inswapper_128: Buffer.from(inswapperStandin()),
    '2d106det': randomBytes(50_000),
  };

  before(async () => {
    home = join(dir, 'inswapper-home');
    const store = await standinStore(home, files);
    inswapper = await createUiServer({ webRoot, home: TEST_HOME, store, port: 0 });
  });
  after(async () => {
    await inswapper?.close();
  });

  it('lists the installed files in /api/info', async () => {
    const body = JSON.parse((await get(inswapper, '/api/info')).body.toString()) as ServerInfo;
    assert.deepEqual(body.engines, { mesh: true, inswapper: true });
    assert.equal(body.inswapperNotice, undefined);
    const urls = body.models.inswapper!;
    assert.equal(urls.detector, '/models/inswapper/det_10g.onnx');
    assert.equal(urls.recogniser, '/models/inswapper/w600k_r50.onnx');
    assert.equal(urls.swapper, '/models/inswapper/inswapper_128.onnx');
    assert.equal(urls.landmarks, '/models/inswapper/2d106det.onnx');
    assert.equal('emap' in urls, false, 'the browser reads the emap from the swapper file');
    assert.equal(
      urls.bytes,
      Object.values(files).reduce((sum, b) => sum + b.length, 0),
    );
  });

  it('serves a listed file whole and in ranges', async () => {
    const full = await get(inswapper, '/models/inswapper/det_10g.onnx');
    assert.equal(full.status, 200);
    assert.equal(full.headers['content-length'], String(files.det_10g!.length));
    assert.equal(full.headers['accept-ranges'], 'bytes');
    assert.ok(full.headers.etag);
    assertIsolated(full, 'det_10g');
    assert.ok(full.body.equals(files.det_10g!));
    const part = await get(inswapper, '/models/inswapper/det_10g.onnx', { range: 'bytes=1000-1999' });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 1000-1999/${files.det_10g!.length}`);
    assert.equal(part.headers['content-length'], '1000');
    assert.ok(part.body.equals(files.det_10g!.subarray(1000, 2000)));
    const tail = await get(inswapper, '/models/inswapper/w600k_r50.onnx', { range: 'bytes=-100' });
    assert.ok(tail.body.equals(files.w600k_r50!.subarray(-100)));
    const rest = await get(inswapper, '/models/inswapper/w600k_r50.onnx', { range: 'bytes=199990-' });
    assert.ok(rest.body.equals(files.w600k_r50!.subarray(199_990)));
    const outside = await get(inswapper, '/models/inswapper/det_10g.onnx', { range: `bytes=${files.det_10g!.length}-` });
    assert.equal(outside.status, 416);
    assert.equal(outside.headers['content-range'], `bytes */${files.det_10g!.length}`);
    const stale = await get(inswapper, '/models/inswapper/det_10g.onnx', { range: 'bytes=0-9', 'if-range': '"another"' });
    assert.equal(stale.status, 200, 'a range for another version of the file gets the whole file');
    assert.equal((await get(inswapper, '/models/inswapper/inswapper_128_fp16.onnx')).status, 404, 'not installed, not served');
  });

  it('serves only the listed files: an emap file name is not one', async () => {
    assert.equal((await get(inswapper, '/models/inswapper/emap-0123456789abcdef.bin')).status, 404);
  });
});

describe('ui server: relay', () => {
  it('passes frames from the publisher to watchers, the latest to late watchers, and counts watchers', async () => {
    const publisher = await connect(wsUrl(server, info.relay.publish), ownOrigin(server));
    await until(() => publisher.text.length === 1, 'the first watcher count');
    assert.deepEqual(JSON.parse(publisher.text[0]!), { watchers: 0 });
    const watcher = await connect(wsUrl(server, info.relay.watch), ownOrigin(server));
    await until(() => publisher.text.includes('{"watchers":1}'), 'one watcher');
    const frame = randomBytes(50_000);
    publisher.socket.send(frame);
    await until(() => watcher.binary.length === 1, 'the frame at the watcher');
    assert.ok(watcher.binary[0]!.equals(frame));
    const second = randomBytes(1000);
    publisher.socket.send(second);
    await until(() => watcher.binary.length === 2, 'the second frame');
    const late = await connect(wsUrl(server, info.relay.watch), ownOrigin(server));
    await until(() => late.binary.length === 1, 'the latest frame at the late watcher');
    assert.ok(late.binary[0]!.equals(second));
    await until(() => publisher.text.includes('{"watchers":2}'), 'two watchers');
    late.socket.close();
    await until(() => publisher.text.at(-1) === '{"watchers":1}', 'back to one watcher');
    watcher.socket.close();
    publisher.socket.close();
  });

  it('refuses WebSocket upgrades from another origin', async () => {
    for (const origin of ['http://evil.example', `http://evil.example:${new URL(server.url).port}`, 'null']) {
      const socket = new WebSocket(wsUrl(server, info.relay.watch), { origin });
      const status = await new Promise<number>((resolve) => {
        socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.once('open', () => resolve(101));
        socket.once('error', () => resolve(-1));
      });
      assert.equal(status, 403, origin);
      socket.terminate();
    }
  });

  it('closes a publisher that sends a frame over the limit with 1009', async () => {
    const publisher = await connect(wsUrl(server, info.relay.publish), ownOrigin(server));
    const closed = new Promise<number>((resolve) => publisher.socket.once('close', (code) => resolve(code)));
    publisher.socket.on('error', () => undefined);
    publisher.socket.send(Buffer.alloc(MAX_FRAME_BYTES + 1));
    assert.equal(await closed, 1009);
  });
});

/** Just enough of a ws socket for the relay's bookkeeping. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: (Buffer | string)[] = [];
  send(data: Buffer | string): void {
    this.sent.push(data);
  }
  terminate(): void {
    this.readyState = 3;
  }
  close(): void {
    this.readyState = 3;
  }
}

describe('FrameRelay', () => {
  it('skips a watcher with over 2 MB unsent, which gets the next frame once drained', () => {
    const relay = new FrameRelay();
    const publisher = new FakeSocket();
    const slow = new FakeSocket();
    const fast = new FakeSocket();
    relay.addPublisher(publisher as never);
    relay.addWatcher(slow as never);
    relay.addWatcher(fast as never);
    slow.bufferedAmount = 3 * 1024 * 1024;
    publisher.emit('message', Buffer.from('frame 1'), true);
    assert.deepEqual(slow.sent, []);
    assert.deepEqual(fast.sent.map(String), ['frame 1']);
    slow.bufferedAmount = 0;
    publisher.emit('message', Buffer.from('frame 2'), true);
    assert.deepEqual(slow.sent.map(String), ['frame 2']);
    publisher.emit('message', Buffer.from('not a frame'), false);
    assert.equal(fast.sent.length, 2, 'text messages are not relayed');
    assert.deepEqual(publisher.sent, ['{"watchers":0}', '{"watchers":1}', '{"watchers":2}']);
  });
});

describe('host and origin policy', () => {
  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['0.0.0.0', '::', '192.168.1.2', 'example.com', '128.0.0.1', '::2']) assert.equal(isLoopbackHost(host), false, host);
  });

  it('accepts any Host off loopback, but still checks WebSocket origins', () => {
    const open = hostPolicy('0.0.0.0', 7860);
    assert.equal(open.hostAllowed('192.168.1.2:7860'), true);
    assert.equal(open.originAllowed('http://192.168.1.2:7860', '192.168.1.2:7860'), true);
    assert.equal(open.originAllowed('http://evil.example', '192.168.1.2:7860'), false);
    assert.equal(open.originAllowed(undefined, '192.168.1.2:7860'), true, 'no Origin: not a browser page');
    const local = hostPolicy('127.0.0.1', 80);
    assert.equal(local.hostAllowed('localhost'), true, 'the default port may be left out');
    assert.equal(local.hostAllowed(undefined), false);
  });

  it('parses byte ranges', () => {
    assert.deepEqual(parseRange('bytes=0-0', 10), { start: 0, end: 0 });
    assert.deepEqual(parseRange('bytes=5-', 10), { start: 5, end: 9 });
    assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
    assert.deepEqual(parseRange('bytes=8-100', 10), { start: 8, end: 9 });
    assert.equal(parseRange('bytes=10-', 10), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-1,4-5', 10), undefined, 'several ranges: the whole file');
    assert.equal(parseRange('items=0-1', 10), undefined);
    assert.equal(parseRange('bytes=5-2', 10), undefined);
  });
});
