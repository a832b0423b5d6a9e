/**
 * `liveswap models`: output and exit codes of list, verify, import, path and pull, in process
 * with a stand-in registry (pull from a loopback server), plus the real command for its wiring.
 */

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { EXIT_CODES } from '../../src/core/errors.js';
import { reportFailure } from '../../src/cli/errors.js';
import { createModelsCommand, type ModelsCommandDeps } from '../../src/cli/models-command.js';
import { MODEL_IDS, MODEL_REGISTRY, type ModelRegistry } from '../../src/models/registry.js';
import { ModelStore } from '../../src/node/models/model-store.js';
import { runCli, show } from './run-cli.js';

const FILE = randomBytes(200_000);
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

let dir: string;
let server: Server;
let registry: ModelRegistry;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-models-cli-'));
  server = createServer((request, response) => {
    if (request.url === '/model.onnx') response.writeHead(200, { 'content-length': FILE.length }).end(FILE);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const base = MODEL_REGISTRY.det_10g;
  registry = {
    stand_in: {
      ...base,
      id: 'stand_in',
      file: 'stand-in.onnx',
      bytes: FILE.length,
      sha256: sha256(FILE),
      sources: [{ kind: 'file', provider: 'local', url: `${url}/model.onnx`, usable: true }],
    },
    absent: {
      ...base,
      id: 'absent',
      file: 'absent.onnx',
      bytes: 10,
      sha256: '0'.repeat(64),
      sources: [{ kind: 'file', provider: 'local', url: `${url}/gone.onnx`, usable: true }],
    },
  };
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  progress: string;
}

/** The `error` object of a failed `--json` run's output (src/cli/errors.ts writes it). */
function errorOf(stdout: string): { kind: string; message: string; file: string | null } {
  return (JSON.parse(stdout) as { error: { kind: string; message: string; file: string | null } }).error;
}

/** Parses and runs like the real `main`, with the store and the progress stream injected. */
async function models(home: string, args: string[], deps: Partial<ModelsCommandDeps> & { tty?: boolean } = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  const terminal = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
  const program = new Command('liveswap').exitOverride().configureOutput({ writeOut: terminal.out, writeErr: terminal.err });
  let clock = 0;
  program.addCommand(
    createModelsCommand(terminal, {
      store: () => new ModelStore({ home, registry }),
      progress: { isTTY: deps.tty ?? false, write: (t) => progress.push(t) },
      now: () => (clock += 400),
      ...deps,
    }).copyInheritedSettings(program),
  );
  let code = 0;
  try {
    await program.parseAsync(['models', ...args], { from: 'user' });
  } catch (error) {
    code = reportFailure(error, { json: args.includes('--json'), debug: false, terminal });
  }
  return { code, stdout: out.join('\n'), stderr: err.join('\n'), progress: progress.join('') };
}

describe('liveswap models (stand-in registry)', () => {
  it('list, pull, verify, import and path', async () => {
    const home = join(dir, 'home');
    const list = await models(home, ['list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const listed = JSON.parse(list.stdout) as { folder: string; models: { id: string; state: string; nonCommercial: boolean; licence: string }[] };
    assert.equal(listed.folder, join(home, 'models'));
    assert.deepEqual(
      listed.models.map((m) => [m.id, m.state, m.nonCommercial]),
      [
        ['stand_in', 'missing', true],
        ['absent', 'missing', true],
      ],
    );
    assert.match(listed.models[0]?.licence ?? '', /non-commercial/);

    const refused = await models(home, ['pull', 'stand_in', '--json'], { confirm: undefined });
    assert.equal(refused.code, EXIT_CODES.usage);
    assert.match(errorOf(refused.stdout).message, /--accept-license/);

    const pulled = await models(home, ['pull', 'stand_in', '--accept-license'], { tty: true });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, /stand_in: installed from http:\/\/127\.0\.0\.1:\d+\/model\.onnx/);
    assert.match(pulled.progress, /\rstand_in download \[#{20}\] 100% 200\.0 kB of 200\.0 kB, [\d.]+ MB\/s/);

    const failed = await models(home, ['pull', 'absent', '--accept-license']);
    assert.equal(failed.code, EXIT_CODES.model);
    assert.match(failed.stderr, /gone\.onnx: HTTP 404[\s\S]*liveswap models import FILE/);

    const verified = await models(home, ['verify', '--json']);
    assert.equal(verified.code, 0, verified.stderr);
    assert.deepEqual(
      (JSON.parse(verified.stdout) as { models: { id: string; state: string }[] }).models.map((m) => [m.id, m.state]),
      [['stand_in', 'installed']],
    );

    const tampered = Buffer.from(FILE);
    tampered[7] ^= 1;
    await writeFile(join(home, 'models', 'stand-in.onnx'), tampered);
    const damaged = await models(home, ['verify', '--json']);
    assert.equal(damaged.code, EXIT_CODES.model);
    assert.match(errorOf(damaged.stdout).message, /stand_in is damaged \(SHA-256 [0-9a-f]{64}, expected/);
    const human = await models(home, ['list']);
    assert.match(human.stdout, /stand_in\s+stand-in\.onnx\s+installed/, 'list compares sizes only');

    const copy = join(dir, 'downloaded-elsewhere.bin');
    await writeFile(copy, FILE);
    const imported = await models(home, ['import', copy, '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual(
      (JSON.parse(imported.stdout) as { models: { id: string; path: string }[] }).models.map((m) => [m.id, m.path]),
      [['stand_in', join(home, 'models', 'stand-in.onnx')]],
    );
    assert.equal((await models(home, ['verify', 'stand_in'])).code, 0);
    const unknown = await models(home, ['import', copy, join(dir, 'nope.bin')]);
    assert.equal(unknown.code, EXIT_CODES['input-missing']);
    await writeFile(join(dir, 'random.bin'), randomBytes(FILE.length));
    const stranger = await models(home, ['import', join(dir, 'random.bin'), '--json']);
    assert.equal(stranger.code, EXIT_CODES['input-unsupported']);
    assert.match(errorOf(stranger.stdout).message, /not a known model file.*stand-in\.onnx \(stand_in, 200000 bytes/);

    const path = await models(home, ['path', '--json']);
    assert.deepEqual(JSON.parse(path.stdout), { folder: join(home, 'models') });
    const bad = await models(home, ['verify', 'no_such_model']);
    assert.equal(bad.code, EXIT_CODES.usage);
    assert.match(bad.stderr, /one of stand_in, absent.*"no_such_model"/);
  });

  it('prints one progress line per second when not on a terminal', async () => {
    const run = await models(join(dir, 'plain'), ['pull', 'stand_in', '--accept-license', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.progress.trim().split('\n');
    assert.ok(
      lines.every((l) => /^stand_in (download|verify) /.test(l)),
      run.progress,
    );
    assert.ok(!run.progress.includes('\r'));
    assert.equal((JSON.parse(run.stdout) as { models: { source: string }[] }).models[0]?.source.endsWith('/model.onnx'), true);
  });
});

describe('liveswap models (the real command)', () => {
  it('path, list --json and a bad id', () => {
    const home = join(dir, 'real-home');
    const path = runCli(['models', 'path'], { home });
    assert.equal(path.code, 0, show(path));
    assert.equal(path.stdout.trim(), join(home, 'models'));
    const list = runCli(['models', 'list', '--json'], { home });
    assert.equal(list.code, 0, show(list));
    const listed = JSON.parse(list.stdout) as { models: { id: string; state: string; expectedBytes: number }[] };
    assert.deepEqual(
      listed.models.map((m) => m.id),
      [...MODEL_IDS],
    );
    assert.ok(listed.models.every((m) => m.state === 'missing'));
    const bad = runCli(['models', 'pull', 'nope', '--json'], { home });
    assert.equal(bad.code, EXIT_CODES.usage, show(bad));
    assert.equal(errorOf(bad.stdout).kind, 'usage');
  });
});
