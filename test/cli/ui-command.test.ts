/**
 * `liveswap ui` as a real process: what it prints, that it serves, the network warning, --open,
 * a port in use, bad flags, an unbuilt app, and a clean exit 0 on SIGTERM and SIGINT.
 */

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { browserCommand, engineLine, parsePort } from '../../src/cli/ui-command.js';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { ServerInfo } from '../../src/pipeline/live-options.js';
import { TEST_HOME } from '../helpers/fixtures.js';
import { REPO_ROOT, runCli, show } from './run-cli.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `liveswap ui …` and waits until it says it is serving. */
async function startUi(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'ui', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LIVESWAP_HOME: TEST_HOME, LIVESWAP_DEBUG: '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const end = Date.now() + 240_000;
  while (!out.includes('Press Ctrl-C to stop.')) {
    if (child.exitCode !== null || Date.now() > end) {
      child.kill('SIGKILL');
      assert.fail(`liveswap ui did not start\n--- stdout\n${out}\n--- stderr\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, stdout: () => out, stderr: () => err, exited };
}

function urlIn(stdout: string): string {
  const match = /^liveswap ui: (http:\/\/\S+\/)$/m.exec(stdout);
  assert.ok(match, `the URL line in:\n${stdout}`);
  return match[1]!;
}

let dir: string;
let webRoot: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-ui-cli-'));
  webRoot = join(dir, 'web');
  await mkdir(webRoot, { recursive: true });
  await writeFile(join(webRoot, 'index.html'), '<!doctype html><title>app</title>');
  await writeFile(join(webRoot, 'output.html'), '<!doctype html><title>output</title>');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('liveswap ui', () => {
  it('prints the app and output URLs, serves /api/info, and exits 0 on SIGTERM', async () => {
    const ui = await startUi(['--port', '0', '--web-root', webRoot]);
    try {
      const url = urlIn(ui.stdout());
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      assert.ok(ui.stdout().includes(`${url}output`), ui.stdout());
      assert.match(ui.stdout(), /mesh/, 'the engine line');
      assert.doesNotMatch(ui.stderr(), /reachable from the network/);
      const response = await fetch(`${url}api/info`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('cross-origin-embedder-policy'), 'require-corp');
      const info = (await response.json()) as ServerInfo;
      assert.equal(info.engines.mesh, true);
      assert.match(info.models.facemesh, /^\/models\/builtin\/facemesh-/);
    } finally {
      ui.child.kill('SIGTERM');
    }
    assert.equal(await ui.exited, 0, `stderr:\n${ui.stderr()}`);
  });

  it('warns when listening beyond loopback, opens the browser with --open, and exits 0 on SIGINT', async () => {
    // A stand-in for the platform's opener, first on PATH, that records the URL it was given.
    const bin = join(dir, 'bin');
    const record = join(dir, 'opened.txt');
    await mkdir(bin, { recursive: true });
    const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
    await writeFile(join(bin, opener), `#!/bin/sh\nprintf '%s' "$1" > '${record}'\n`);
    await chmod(join(bin, opener), 0o755);
    const ui = await startUi(['--port', '0', '--host', '0.0.0.0', '--open', '--web-root', webRoot], { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` });
    try {
      assert.match(ui.stderr(), /warning: listening on 0\.0\.0\.0: the app, the models and your watermark key are reachable from the network/);
      const url = urlIn(ui.stdout());
      const end = Date.now() + 10_000;
      let opened = '';
      while (opened === '' && Date.now() < end) {
        opened = await readFile(record, 'utf8').catch(() => '');
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(opened, url);
      assert.equal((await fetch(`${url}output`)).status, 200);
    } finally {
      ui.child.kill('SIGINT');
    }
    assert.equal(await ui.exited, 0, `stderr:\n${ui.stderr()}`);
  });

  it('keeps serving when the browser cannot be opened', async () => {
    const bin = join(dir, 'failing-bin');
    await mkdir(bin, { recursive: true });
    const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
    await writeFile(join(bin, opener), '#!/bin/sh\nexit 3\n');
    await chmod(join(bin, opener), 0o755);
    const ui = await startUi(['--port', '0', '--open', '--web-root', webRoot], { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` });
    try {
      const end = Date.now() + 10_000;
      while (!/could not open a browser/.test(ui.stderr()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.match(ui.stderr(), /could not open a browser .*exited with code 3/);
      assert.equal((await fetch(`${urlIn(ui.stdout())}api/info`)).status, 200);
    } finally {
      ui.child.kill('SIGTERM');
    }
    assert.equal(await ui.exited, 0);
  });

  it('takes the label text and the watermark key file, hands them to the page, and says where the key is', async () => {
    const keyFile = join(dir, 'own.key');
    const key = 'c0'.repeat(32);
    await writeFile(keyFile, `${key}\n`);
    const ui = await startUi(['--port', '0', '--web-root', webRoot, '--label-text', 'Made with AI', '--watermark-key', keyFile]);
    try {
      assert.ok(ui.stdout().includes(`labelled "Made with AI" and watermarked (key ${keyFile})`), ui.stdout());
      const info = (await (await fetch(`${urlIn(ui.stdout())}api/info`)).json()) as ServerInfo;
      assert.deepEqual(info.provenance, { watermarkKey: key, labelText: 'Made with AI' });
    } finally {
      ui.child.kill('SIGTERM');
    }
    assert.equal(await ui.exited, 0);
  });

  it('refuses bad label text and a missing key file before serving', () => {
    for (const [text, message] of [
      ['', /--label-text: The label text is empty/],
      ['Ünïcode', /--label-text: .*printable ASCII/],
      ['x'.repeat(41), /--label-text: .*the most is 40/],
    ] as const) {
      const result = runCli(['ui', '--port', '0', '--web-root', webRoot, '--label-text', text]);
      assert.equal(result.code, EXIT_CODES.usage, show(result));
      assert.match(result.stderr, message, show(result));
    }
    const missing = runCli(['ui', '--port', '0', '--web-root', webRoot, '--watermark-key', join(dir, 'no.key')]);
    assert.notEqual(missing.code, 0, show(missing));
    assert.match(missing.stderr, /Cannot find the watermark key .*no\.key: no such file/, show(missing));
  });

  it('names a port in use and suggests --port', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const result = runCli(['ui', '--port', String(port), '--web-root', webRoot]);
      assert.equal(result.code, EXIT_CODES.usage, show(result));
      assert.match(result.stderr, new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use.*--port`), show(result));
    } finally {
      blocker.close();
    }
  });

  it('refuses a bad --port and an unbuilt app with usage errors', () => {
    for (const port of ['abc', '-1', '65536', '80.5', '']) {
      const result = runCli(['ui', '--port', port, '--web-root', webRoot]);
      assert.equal(result.code, EXIT_CODES.usage, show(result));
      assert.match(result.stderr, /for --port/, show(result));
    }
    const unbuilt = runCli(['ui', '--port', '0', '--web-root', join(dir, 'nothing')]);
    assert.equal(unbuilt.code, EXIT_CODES.usage, show(unbuilt));
    assert.match(unbuilt.stderr, /web app is not built.*npm run build/, show(unbuilt));
  });
});

describe('ui command helpers', () => {
  it('parses ports', () => {
    assert.equal(parsePort(undefined), 7860);
    assert.equal(parsePort('0'), 0);
    assert.equal(parsePort('65535'), 65535);
    assert.throws(() => parsePort('65536'), /from 0 to 65535 for --port/);
    assert.throws(() => parsePort('7e3'), /for --port/);
  });

  it('opens URLs with the platform opener', () => {
    const url = 'http://127.0.0.1:7860/';
    assert.deepEqual(browserCommand(url, 'linux'), { command: 'xdg-open', args: [url] });
    assert.deepEqual(browserCommand(url, 'darwin'), { command: 'open', args: [url] });
    assert.deepEqual(browserCommand(url, 'win32'), { command: 'cmd', args: ['/c', 'start', '""', url] });
  });

  it('says which engines the browser gets', () => {
    const base = { version: '0', ortWasmPath: '/ort/', relay: { publish: '/p', watch: '/w' }, provenance: { watermarkKey: '00'.repeat(32), labelText: 'AI-generated' } };
    const builtin = { blazeface: '/b', facemesh: '/f', faceres: '/r' };
    const withInswapper: ServerInfo = {
      ...base,
      engines: { mesh: true, inswapper: true },
      models: { ...builtin, inswapper: { detector: '/d', recogniser: '/r', swapper: '/s', bytes: 700e6 } },
    };
    assert.equal(engineLine(withInswapper), 'Engines: mesh and inswapper (700 MB of models to load in the browser).');
    const meshOnly: ServerInfo = { ...base, engines: { mesh: true, inswapper: false }, inswapperNotice: 'Using the built-in mesh engine: …', models: builtin };
    assert.equal(engineLine(meshOnly), 'Using the built-in mesh engine: …');
    const missing = { installed: false, pull: 'liveswap models pull --for x' };
    const withChoices: ServerInfo = {
      ...meshOnly,
      choices: {
        swappers: [
          { id: 'hyperswap_1a_256', installed: true, bytes: 1 },
          { id: 'simswap_256', ...missing },
        ],
        enhancers: [{ id: 'gfpgan_1.4', installed: true, bytes: 1 }],
        occluders: [{ id: 'xseg_1', ...missing }],
        parsers: [],
      },
    };
    assert.equal(engineLine(withChoices), 'Using the built-in mesh engine: … Also installed: swappers hyperswap_1a_256; enhancers gfpgan_1.4.');
    const noneInstalled: ServerInfo = { ...meshOnly, choices: { swappers: [{ id: 'simswap_256', ...missing }], enhancers: [], occluders: [], parsers: [] } };
    assert.equal(engineLine(noneInstalled), 'Using the built-in mesh engine: …');
  });
});
