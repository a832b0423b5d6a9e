/**
 * `liveswap swap` on bad input: each class of problem gets its own exit code and a message naming
 * the file. Input and output problems must be found before any model is loaded: these runs point
 * the model cache at a plain file, so reaching the models would end in a model error instead.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { EXIT_CODES } from '../../src/core/errors.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { runCli, show, type CliResult } from './run-cli.js';

const SOURCE = join(FIXTURES, 'astronaut.png');
const TARGET = join(FIXTURES, 'grace_hopper.jpg');
let dir: string;
let unusableHome: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-cli-errors-'));
  unusableHome = join(dir, 'not-a-folder');
  await writeFile(unusableHome, 'models cannot be cached under a plain file');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function swap(args: string[]): CliResult {
  return runCli(['swap', ...args], { home: unusableHome });
}

function expectFailure(result: CliResult, code: number, words: RegExp): void {
  assert.equal(result.code, code, show(result));
  assert.match(result.stderr, /^liveswap: /, show(result));
  assert.match(result.stderr, words, show(result));
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace for an expected error');
}

describe('liveswap swap: bad input', () => {
  it('missing input file → 3', () => {
    const missing = join(dir, 'nobody.png');
    expectFailure(swap(['-s', missing, '-t', TARGET, '-o', join(dir, 'out.png')]), EXIT_CODES['input-missing'], new RegExp(`${missing}.*no such file`));
    expectFailure(swap(['-s', SOURCE, '-t', missing, '-o', join(dir, 'out.png')]), 3, /nobody\.png/);
  });

  it('corrupt (truncated) input → 4', async () => {
    const bytes = await readFile(TARGET);
    const cut = join(dir, 'cut.jpg');
    await writeFile(cut, bytes.subarray(0, bytes.length >> 1));
    expectFailure(swap(['-s', SOURCE, '-t', cut, '-o', join(dir, 'out.png')]), EXIT_CODES['input-unreadable'], /cut\.jpg.*corrupt or truncated/);
  });

  it('unsupported format → 5', async () => {
    const gif = join(dir, 'face.gif');
    await sharp(SOURCE).gif().toFile(gif);
    expectFailure(swap(['-s', gif, '-t', TARGET, '-o', join(dir, 'out.png')]), EXIT_CODES['input-unsupported'], /face\.gif is GIF/);
  });

  it('image over --max-pixels → 6', () => {
    expectFailure(
      swap(['-s', SOURCE, '-t', TARGET, '-o', join(dir, 'out.png'), '--max-pixels', '1000']),
      EXIT_CODES['input-too-large'],
      /astronaut\.png is 512×512.*limit of 1000/,
    );
  });

  it('missing output folder → 8, output equal to an input → 8', () => {
    const out = join(dir, 'no-such-folder', 'out.png');
    expectFailure(swap(['-s', SOURCE, '-t', TARGET, '-o', out]), EXIT_CODES.output, /no-such-folder.*does not exist/);
    expectFailure(swap(['-s', SOURCE, '-t', TARGET, '-o', TARGET]), 8, /same file as the input/);
  });

  it('bad flag values and unknown flags → 2', () => {
    const base = ['-s', SOURCE, '-t', TARGET, '-o', join(dir, 'out.png')];
    expectFailure(swap([...base, '--opacity', '2']), EXIT_CODES.usage, /between 0 and 1 for --opacity but received 2/);
    expectFailure(swap([...base, '--sharpness', 'lots']), 2, /--sharpness.*"lots"/);
    expectFailure(swap([...base, '--max-pixels', 'big']), 2, /--max-pixels/);
    expectFailure(swap([...base, '--engine', 'warp-drive']), 2, /auto, mesh/);
    expectFailure(swap([...base, '--many-faces', '--face-index', '1']), 2, /--face-index and --many-faces/);
    expectFailure(swap([...base, '--frobnicate']), 2, /unknown option/);
    expectFailure(swap(['-s', SOURCE, '-t', TARGET]), 2, /--output/);
    expectFailure(swap([...base.slice(0, 4), '-o', join(dir, 'out.bmp')]), 2, /out\.bmp.*\.jpg, \.jpeg, \.png, \.webp/);
  });

  it('--json adds one JSON error object on stdout', () => {
    const missing = join(dir, 'absent.jpg');
    const result = swap(['-s', SOURCE, '-t', missing, '-o', join(dir, 'out.png'), '--json']);
    assert.equal(result.code, 3, show(result));
    const parsed = JSON.parse(result.stdout) as { error: { kind: string; message: string; file: string | null } };
    assert.equal(parsed.error.kind, 'input-missing');
    assert.equal(parsed.error.file, missing);
    assert.match(parsed.error.message, /absent\.jpg/);

    const usage = swap(['-s', SOURCE, '-t', TARGET, '-o', join(dir, 'out.png'), '--json', '--opacity', '-1']);
    assert.equal(usage.code, 2, show(usage));
    assert.equal((JSON.parse(usage.stdout) as { error: { kind: string } }).error.kind, 'usage');
  });
});

describe('liveswap: program', () => {
  it('prints its version and help, and refuses unknown commands', async () => {
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const version = runCli(['--version']);
    assert.equal(version.code, 0, show(version));
    assert.equal(version.stdout.trim(), manifest.version);
    const help = runCli(['swap', '--help']);
    assert.equal(help.code, 0, show(help));
    for (const flag of [
      '--source',
      '--target',
      '--output',
      '--engine',
      '--many-faces',
      '--face-index',
      '--source-face',
      '--no-mouth-mask',
      '--opacity',
      '--sharpness',
      '--no-color-match',
      '--max-pixels',
      '--json',
      '--quiet',
    ]) {
      assert.ok(help.stdout.includes(flag), `help lacks ${flag}`);
    }
    expectFailure(runCli(['teleport']), 2, /unknown command/);
  });
});
