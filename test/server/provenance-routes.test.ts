/**
 * The `liveswap ui` server's provenance: the watermark key it loads (made on first start, reused,
 * or the user's own file) and hands to the page, and the routes that append the live app's
 * sessions and saved files to the audit log, with every bad body, size and origin refused.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { builtinModel } from '../../src/node/models/model-cache.js';
import { ModelStore } from '../../src/node/models/model-store.js';
import { auditLogPath, watermarkKeyPath, type AuditEntry } from '../../src/node/provenance/output-provenance.js';
import type { ServerInfo } from '../../src/pipeline/live-options.js';
import { lastLines, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { parseInputInfo } from '../../src/node/media/ffmpeg-probe.js';
import { credentialsAvailable, readCredentials } from '../../src/node/provenance/credentials.js';
import { MAX_PROVENANCE_BODY, RECORDING_HEADER } from '../../src/server/provenance-routes.js';
import { createUiServer, type UiServer } from '../../src/server/ui-server.js';
import { TEST_HOME } from '../helpers/fixtures.js';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

function send(server: UiServer, method: string, path: string, body: string | undefined, headers: Record<string, string> = {}): Promise<Answer> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown> }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const ownOrigin = (server: UiServer): string => server.url.replace(/\/$/, '');
const post = (server: UiServer, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
  send(server, 'POST', path, JSON.stringify(body), { origin: ownOrigin(server), ...headers });

async function auditLines(home: string): Promise<AuditEntry[]> {
  const text = await readFile(auditLogPath(home), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as AuditEntry);
}

/** A fresh home whose model cache is the shared test one (the built-in models are converted once). */
async function freshHome(parent: string, name: string): Promise<string> {
  await Promise.all((['blazeface', 'facemesh', 'faceres'] as const).map((id) => builtinModel(id, TEST_HOME)));
  const home = join(parent, name);
  await mkdir(home, { recursive: true });
  await symlink(join(TEST_HOME, 'models'), join(home, 'models'));
  return home;
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const SOURCES = [{ name: 'grace.jpg', sha256: sha('grace') }];

let dir: string;
let webRoot: string;
let home: string;
let server: UiServer;
let store: ModelStore;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-provenance-routes-'));
  webRoot = join(dir, 'web');
  await mkdir(webRoot, { recursive: true });
  await writeFile(join(webRoot, 'index.html'), '<!doctype html><title>app</title>');
  store = new ModelStore({ home: join(dir, 'no-models') });
  home = await freshHome(dir, 'home');
  server = await createUiServer({ webRoot, home, store, port: 0 });
});

after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ui server: the watermark key and the label text', () => {
  it('makes the key under the home on first start, hands it to the page, and reuses it', async () => {
    assert.equal(server.watermarkKey.created, true);
    assert.equal(server.watermarkKey.path, watermarkKeyPath(home));
    const file = (await readFile(watermarkKeyPath(home), 'utf8')).trim();
    assert.match(file, /^[0-9a-f]{64}$/);
    const info = (await send(server, 'GET', '/api/info', undefined)).body as unknown as ServerInfo;
    assert.deepEqual(info.provenance, { watermarkKey: file, labelText: 'AI-generated' });

    const again = await createUiServer({ webRoot, home, store, port: 0 });
    try {
      assert.equal(again.watermarkKey.created, false);
      assert.equal((await again.info()).provenance.watermarkKey, file);
    } finally {
      await again.close();
    }
  });

  it("uses the user's own key file and label text, and refuses bad label text as a usage error", async () => {
    const other = await freshHome(dir, 'own-key');
    const keyFile = join(dir, 'my.key');
    const key = 'ab'.repeat(32);
    await writeFile(keyFile, `${key}\n`);
    const own = await createUiServer({ webRoot, home: other, store, port: 0, watermarkKeyFile: keyFile, labelText: '  Made with AI ' });
    try {
      assert.deepEqual((await own.info()).provenance, { watermarkKey: key, labelText: 'Made with AI' });
      assert.equal(own.watermarkKey.path, keyFile);
      await assert.rejects(readFile(watermarkKeyPath(other)), /ENOENT/, 'no key is made under the home');
    } finally {
      await own.close();
    }
    await assert.rejects(
      createUiServer({ webRoot, home: other, store, port: 0, labelText: 'Ünïcode' }),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'usage' && /printable ASCII/.test(e.message),
    );
    await assert.rejects(
      createUiServer({ webRoot, home: other, store, port: 0, watermarkKeyFile: join(dir, 'missing.key') }),
      (e: unknown) => e instanceof LiveswapError && /no such file/.test(e.message),
    );
  });
});

describe('ui server: provenance routes', () => {
  it('allots a fresh asset id per session and logs it without file paths', async () => {
    const before = (await auditLines(home)).length;
    const first = await post(server, '/api/provenance/session', { engine: 'mesh', label: { shown: true, text: 'AI-generated' }, sources: SOURCES });
    const second = await post(server, '/api/provenance/session', { engine: 'inswapper', label: { shown: false }, sources: [] });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(second.status, 200);
    const assetId = first.body.assetId as number;
    assert.ok(Number.isInteger(assetId) && assetId >= 0 && assetId <= 0xffffffff);
    assert.equal(first.body.watermarkId, assetId.toString(16).padStart(8, '0'));
    assert.notEqual(second.body.assetId, assetId);

    const lines = (await auditLines(home)).slice(before);
    assert.equal(lines.length, 2);
    const [session, other] = lines as [AuditEntry, AuditEntry];
    assert.equal(session.kind, 'live-session');
    assert.equal(session.watermarkId, first.body.watermarkId);
    assert.deepEqual(session.sources, [{ sha256: SOURCES[0]!.sha256 }]);
    assert.deepEqual(session.label, { shown: true, text: 'AI-generated' });
    assert.equal(session.credentials, 'none');
    assert.deepEqual(session.options, { engine: 'mesh', sourceNames: ['grace.jpg'] });
    assert.equal(session.output, undefined);
    assert.equal(session.tool, 'liveswap');
    assert.deepEqual(other.label, { shown: false });
    assert.equal(other.options.engine, 'inswapper');
  });

  it('logs a saved snapshot and recording against their session', async () => {
    const session = await post(server, '/api/provenance/session', { engine: 'mesh', label: { shown: true }, sources: SOURCES });
    const assetId = session.body.assetId as number;
    const before = (await auditLines(home)).length;
    const snapshot = { kind: 'live-snapshot', assetId, sha256: sha('png'), bytes: 1234, mimeType: 'image/png', label: { shown: false }, sources: SOURCES, engine: 'mesh' };
    const recording = { ...snapshot, kind: 'live-recording', sha256: sha('webm'), bytes: 99_000, mimeType: 'video/webm', label: { shown: true, text: 'Made with AI' } };
    assert.deepEqual((await post(server, '/api/provenance/output', snapshot)).body, { ok: true });
    assert.deepEqual((await post(server, '/api/provenance/output', recording)).body, { ok: true });
    const [still, video] = (await auditLines(home)).slice(before) as [AuditEntry, AuditEntry];
    assert.equal(still.kind, 'live-snapshot');
    assert.equal(still.watermarkId, session.body.watermarkId);
    assert.deepEqual(still.output, { sha256: sha('png') });
    assert.deepEqual(still.label, { shown: false });
    assert.deepEqual(still.sources, [{ sha256: SOURCES[0]!.sha256 }]);
    assert.deepEqual(still.options, { engine: 'mesh', sourceNames: ['grace.jpg'], bytes: 1234, mimeType: 'image/png' });
    assert.equal(video.kind, 'live-recording');
    assert.deepEqual(video.label, { shown: true, text: 'Made with AI' });
    assert.deepEqual(video.output, { sha256: sha('webm') });
  });

  it('answers every bad body with 400 and a message naming the field, and logs nothing', async () => {
    const session = await post(server, '/api/provenance/session', { engine: 'mesh', label: { shown: true }, sources: [] });
    const assetId = session.body.assetId as number;
    const good = { kind: 'live-snapshot', assetId, sha256: sha('x'), bytes: 10, mimeType: 'image/png', label: { shown: true }, sources: [], engine: 'mesh' };
    const before = (await auditLines(home)).length;
    const cases: [path: 'session' | 'output', body: unknown, message: RegExp][] = [
      ['session', null, /Expected an object for body/],
      ['session', [], /Expected an object for body/],
      [
        'session',
        { engine: 'deepfake', label: { shown: true }, sources: [] },
        /one of mesh, inswapper, hyperswap_1a_256, .*hififace_unofficial_256 for engine but received "deepfake"/,
      ],
      ['session', { engine: 'mesh', sources: [] }, /Expected an object for label but received nothing/],
      ['session', { engine: 'mesh', label: { shown: 'yes' }, sources: [] }, /true or false for label.shown/],
      ['session', { engine: 'mesh', label: { shown: true, text: 'Ünïcode' }, sources: [] }, /label.text: .*printable ASCII/],
      ['session', { engine: 'mesh', label: { shown: true, text: '' }, sources: [] }, /label.text: .*empty/],
      ['session', { engine: 'mesh', label: { shown: true, colour: 'red' }, sources: [] }, /Unknown field label.colour/],
      ['session', { engine: 'mesh', label: { shown: true }, sources: 'grace.jpg' }, /list of at most 64 photos for sources/],
      ['session', { engine: 'mesh', label: { shown: true }, sources: Array.from({ length: 65 }, () => SOURCES[0]) }, /at most 64 photos/],
      ['session', { engine: 'mesh', label: { shown: true }, sources: [{ name: 'a.jpg', sha256: 'abc' }] }, /SHA-256 .* for sources\[0\].sha256/],
      ['session', { engine: 'mesh', label: { shown: true }, sources: [{ name: 'a\nb.jpg', sha256: sha('a') }] }, /sources\[0\].name/],
      ['session', { engine: 'mesh', label: { shown: true }, sources: [], user: 'root' }, /Unknown field user/],
      ['output', { ...good, kind: 'image' }, /one of live-recording, live-snapshot for kind/],
      ['output', { ...good, assetId: -1 }, /whole number from 0 to 4294967295 for assetId/],
      ['output', { ...good, assetId: 1.5 }, /for assetId/],
      ['output', { ...good, assetId: (assetId + 1) % 2 ** 32 }, /was not given out by this server.*reload/],
      ['output', { ...good, sha256: sha('x').toUpperCase() }, /64 lowercase hex digits for sha256/],
      ['output', { ...good, bytes: 0 }, /for bytes/],
      ['output', { ...good, mimeType: 'video/webm' }, /an image\/… media type for mimeType/],
      ['output', { ...good, kind: 'live-recording' }, /a video\/… media type for mimeType/],
      ['output', { ...good, engine: undefined }, /for engine but received nothing/],
    ];
    for (const [path, body, message] of cases) {
      const answer = await post(server, `/api/provenance/${path}`, body);
      assert.equal(answer.status, 400, `${path} ${JSON.stringify(body).slice(0, 100)} → ${answer.status}`);
      assert.match(String(answer.body.error), message, JSON.stringify(body).slice(0, 100));
    }
    const notJson = await send(server, 'POST', '/api/provenance/session', '{"engine":', { origin: ownOrigin(server) });
    assert.equal(notJson.status, 400);
    const form = await send(server, 'POST', '/api/provenance/session', 'engine=mesh', { origin: ownOrigin(server), 'content-type': 'text/plain' });
    assert.equal(form.status, 415, 'a simple cross-site form body is not even parsed');
    const huge = await post(server, '/api/provenance/session', { engine: 'mesh', label: { shown: true }, sources: [], pad: 'x'.repeat(MAX_PROVENANCE_BODY) });
    assert.equal(huge.status, 413);
    assert.equal((await auditLines(home)).length, before, 'nothing was logged');
  });

  it('refuses a foreign Origin and a foreign Host with 403', async () => {
    const before = (await auditLines(home)).length;
    const body = { engine: 'mesh', label: { shown: true }, sources: [] };
    for (const origin of ['http://evil.example', 'null', `${ownOrigin(server)}.evil.example`, ownOrigin(server).replace(/:\d+$/, ':1')]) {
      const answer = await post(server, '/api/provenance/session', body, { origin });
      assert.equal(answer.status, 403, origin);
      assert.match(String(answer.body.error), /own pages only/);
    }
    const { port } = new URL(server.url);
    assert.equal((await post(server, '/api/provenance/session', body, { host: `evil.example:${port}`, origin: `http://evil.example:${port}` })).status, 403);
    assert.equal((await auditLines(home)).length, before);
    // Without an Origin it is not a browser page (curl, a script of the user's): allowed, as for WebSockets.
    assert.equal((await send(server, 'POST', '/api/provenance/session', JSON.stringify(body))).status, 200);
  });
});

/** What a browser's MediaRecorder writes: a live WebM (no duration, no index) or a fragmented MP4 (H.264 and Opus, as Chromium records). */
async function browserLikeRecording(kind: 'webm' | 'mp4'): Promise<Buffer> {
  const file = join(dir, `recorded.${kind}`);
  const codecs = kind === 'webm' ? ['-c:v', 'libvpx', '-c:a', 'libopus', '-live', '1'] : ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'libopus', '-strict', 'experimental'];
  const container = kind === 'mp4' ? ['-movflags', 'frag_keyframe+empty_moov+default_base_moof'] : [];
  const inputs = ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=30:duration=2', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2'];
  const run = await runFfmpeg(['-loglevel', 'error', '-y', ...inputs, ...codecs, ...container, file]);
  assert.equal(run.code, 0, lastLines(run.stderr));
  return readFile(file);
}

/** What `ffmpeg -i` says about a file's bytes. */
async function probeBytes(bytes: Buffer, ext: string): Promise<ReturnType<typeof parseInputInfo>> {
  const file = join(dir, `probe-${Math.random().toString(36).slice(2)}.${ext}`);
  await writeFile(file, bytes);
  return parseInputInfo((await runFfmpeg(['-i', file])).stderr);
}

interface Upload {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function upload(server: UiServer, bytes: Buffer, contentType: string, facts: unknown, headers: Record<string, string> = {}): Promise<Upload> {
  const { hostname, port } = new URL(server.url);
  const factsHeader = facts === undefined ? {} : { [RECORDING_HEADER]: encodeURIComponent(JSON.stringify(facts)) };
  return new Promise((resolve, reject) => {
    const req = request(
      { host: hostname, port, path: '/api/provenance/recording', method: 'POST', headers: { 'content-type': contentType, origin: ownOrigin(server), ...factsHeader, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}

describe('ui server: finishing a recording', () => {
  it('gives a live WebM its duration and logs the finished file against every session it spans', async () => {
    const first = await post(server, '/api/provenance/session', { engine: 'mesh', label: { shown: true }, sources: SOURCES });
    const second = await post(server, '/api/provenance/session', { engine: 'inswapper', label: { shown: true }, sources: SOURCES });
    const received = await browserLikeRecording('webm');
    assert.equal((await probeBytes(received, 'webm')).durationSeconds, undefined, 'the upload has no duration, as a MediaRecorder WebM');
    const before = (await auditLines(home)).length;
    const sessions = [first, second].map((s, i) => ({ assetId: s.body.assetId as number, engine: i === 0 ? 'mesh' : 'inswapper' }));
    const answer = await upload(server, received, 'video/webm;codecs=vp8,opus', { sessions, label: { shown: true, text: 'Made with AI' }, sources: SOURCES });
    assert.equal(answer.status, 200, answer.body.toString().slice(0, 200));
    assert.equal(answer.headers['content-type'], 'video/webm');
    assert.equal(answer.headers['x-liveswap-credentials'], 'format-unsupported');
    const info = await probeBytes(answer.body, 'webm');
    assert.ok(info.durationSeconds !== undefined && Math.abs(info.durationSeconds - 2) < 0.2, `duration ${info.durationSeconds}`);
    assert.deepEqual(
      info.streams.map((s) => s.type),
      ['Video', 'Audio'],
    );
    const lines = (await auditLines(home)).slice(before);
    assert.equal(lines.length, 2);
    const sha256 = createHash('sha256').update(answer.body).digest('hex');
    for (const [index, line] of lines.entries()) {
      assert.equal(line.kind, 'live-recording');
      assert.equal(line.watermarkId, [first, second][index]!.body.watermarkId);
      assert.deepEqual(line.output, { sha256 });
      assert.equal(line.credentials, 'format-unsupported');
      assert.deepEqual(line.label, { shown: true, text: 'Made with AI' });
      assert.equal(line.options.engine, sessions[index]!.engine);
      assert.equal(line.options.bytes, answer.body.length);
    }
  });

  it('finishes a fragmented MP4 into one with its index in front, signed with content credentials where available', async () => {
    const session = await post(server, '/api/provenance/session', { engine: 'mesh', label: { shown: true }, sources: SOURCES });
    const received = await browserLikeRecording('mp4');
    const before = (await auditLines(home)).length;
    const answer = await upload(server, received, 'video/mp4;codecs=avc1,opus', {
      sessions: [{ assetId: session.body.assetId, engine: 'mesh' }],
      label: { shown: true },
      sources: SOURCES,
    });
    assert.equal(answer.status, 200, answer.body.toString().slice(0, 200));
    assert.equal(answer.headers['content-type'], 'video/mp4');
    const info = await probeBytes(answer.body, 'mp4');
    assert.ok(info.durationSeconds !== undefined && Math.abs(info.durationSeconds - 2) < 0.2, `duration ${info.durationSeconds}`);
    assert.deepEqual(
      info.streams.map((s) => s.type),
      ['Video', 'Audio'],
    );
    const available = await credentialsAvailable();
    const [line] = (await auditLines(home)).slice(before) as [AuditEntry];
    assert.equal(line.credentials, available.ok ? 'embedded' : 'unavailable');
    assert.equal(answer.headers['x-liveswap-credentials'], line.credentials);
    assert.deepEqual(line.output, { sha256: createHash('sha256').update(answer.body).digest('hex') });
    if (available.ok) {
      const file = join(dir, 'signed.mp4');
      await writeFile(file, answer.body);
      const report = await readCredentials(file);
      assert.equal(report.valid, true, JSON.stringify(report).slice(0, 300));
      assert.equal(report.statement?.watermarkId, session.body.watermarkId);
    }
  });

  it('refuses a stale session, a missing header, a wrong type and bytes that are not a video, and logs nothing', async () => {
    const session = await post(server, '/api/provenance/session', { engine: 'mesh', label: { shown: true }, sources: [] });
    const facts = { sessions: [{ assetId: session.body.assetId, engine: 'mesh' }], label: { shown: true }, sources: [] };
    const before = (await auditLines(home)).length;
    const video = await browserLikeRecording('webm');
    const cases: [Promise<Upload>, number, RegExp][] = [
      [
        upload(server, video, 'video/webm', { ...facts, sessions: [{ assetId: ((session.body.assetId as number) + 1) % 2 ** 32, engine: 'mesh' }] }),
        400,
        /not given out by this server/,
      ],
      [upload(server, video, 'video/webm', undefined), 400, /x-liveswap-recording header/],
      [upload(server, video, 'video/webm', { ...facts, sessions: [] }), 400, /1 to 64 sessions/],
      [upload(server, video, 'video/webm', facts, { [RECORDING_HEADER]: '%7B' }), 400, /not URI-encoded JSON/],
      [upload(server, video, 'video/ogg', facts), 415, /video\/mp4, video\/webm/],
      [upload(server, Buffer.from('not a video at all'), 'video/webm', facts), 400, /could not be read as a video/],
      [upload(server, video, 'video/webm', facts, { origin: 'http://evil.example' }), 403, /own pages only/],
    ];
    for (const [answer, status, message] of cases) {
      const { status: got, body } = await answer;
      assert.equal(got, status, body.toString().slice(0, 200));
      assert.match((JSON.parse(body.toString()) as { error: string }).error, message);
    }
    assert.equal((await auditLines(home)).length, before);
  });
});
