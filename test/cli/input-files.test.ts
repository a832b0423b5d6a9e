/**
 * `liveswap` on inputs that are not plain files, or are far too large (issue 16): each is refused
 * with its exit code before anything reads it whole, and before any model loads (the model cache
 * points at a plain file, so reaching the models would end in a model error). A FIFO must not
 * block: each run has a timeout, so a hang fails the test. And a damaged watermark key under
 * LIVESWAP_HOME is exit 4 (no flag named it), while a bad --watermark-key file stays exit 2.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT_CODES } from '../../src/core/errors.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { runCli, show, type CliResult } from './run-cli.js';

const POSIX = process.platform !== 'win32';
const SOURCE = join(FIXTURES, 'astronaut.png');
const TARGET = join(FIXTURES, 'grace_hopper.jpg');
/** Far longer than a refusal takes (node and tsx start in a few seconds), far shorter than a hang. */
const TIMEOUT_MS = 60_000;

let dir: string;
let unusableHome: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-cli-inputs-'));
  unusableHome = join(dir, 'not-a-folder');
  await writeFile(unusableHome, 'models cannot be cached under a plain file');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function cli(args: string[], home = unusableHome): CliResult {
  return runCli(args, { home, timeoutMs: TIMEOUT_MS });
}

function expectFailure(result: CliResult, code: number, words: RegExp): void {
  assert.equal(result.code, code, show(result));
  assert.match(result.stderr, /^liveswap: /, show(result));
  assert.match(result.stderr, words, show(result));
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace for an expected error');
}

describe('liveswap swap: inputs that are not regular files', { skip: POSIX ? false : 'FIFOs and /dev/zero are POSIX' }, () => {
  it('/dev/zero as the source → 4, at once, naming it a character device', () => {
    expectFailure(
      cli(['swap', '-s', '/dev/zero', '-t', TARGET, '-o', join(dir, 'x.jpg')]),
      EXIT_CODES['input-unreadable'],
      /Cannot read \/dev\/zero: it is a character device, not a regular file/,
    );
  });

  it('a FIFO with no writer as the target → 4, without blocking (image and video)', () => {
    const pipe = join(dir, 'pipe.jpg');
    execFileSync('mkfifo', [pipe]);
    expectFailure(cli(['swap', '-s', SOURCE, '-t', pipe, '-o', join(dir, 'x.jpg')]), 4, /pipe\.jpg: it is a FIFO \(named pipe\), not a regular file/);
    const video = join(dir, 'pipe.mp4');
    execFileSync('mkfifo', [video]);
    expectFailure(cli(['swap', '-s', SOURCE, '-t', video, '-o', join(dir, 'x.mp4')]), 4, /pipe\.mp4: it is a FIFO \(named pipe\), not a regular file/);
  });

  it('a folder as the source → 4', async () => {
    const folder = join(dir, 'photos.jpg');
    await mkdir(folder);
    expectFailure(cli(['swap', '-s', folder, '-t', TARGET, '-o', join(dir, 'x.jpg')]), 4, /photos\.jpg: it is a folder, not an image file/);
  });

  it('a FIFO as the watermark key → 4', () => {
    const key = join(dir, 'fifo.key');
    execFileSync('mkfifo', [key]);
    // A usable home (the key is read before any model loads, and after the home is checked).
    expectFailure(
      cli(['swap', '-s', SOURCE, '-t', TARGET, '-o', join(dir, 'x.jpg'), '--watermark-key', key], join(dir, 'fifo-home')),
      4,
      /the watermark key .*fifo\.key: it is a FIFO/,
    );
  });
});

describe('liveswap swap: files far larger than an image', () => {
  it('a 3 GiB sparse file that starts as a real JPEG → 6 from its size, never read', async () => {
    const huge = join(dir, 'huge.jpg');
    await copyFile(TARGET, huge);
    await truncate(huge, 3 * 1024 ** 3);
    expectFailure(cli(['swap', '-s', SOURCE, '-t', huge, '-o', join(dir, 'x.jpg')]), EXIT_CODES['input-too-large'], /huge\.jpg is 3\.0 GiB, over the limit of 827 MiB/);
  });

  it('a real JPEG followed by 500 MiB → 4 from its header, before the rest is read', async () => {
    const padded = join(dir, 'padded.jpg');
    await copyFile(TARGET, padded);
    await truncate(padded, 500 * 1024 ** 2);
    expectFailure(cli(['swap', '-s', padded, '-t', TARGET, '-o', join(dir, 'x.jpg')]), 4, /padded\.jpg: the file is 500 MiB, far more than a 512×600 JPEG needs/);
  });
});

describe('liveswap swap: the watermark key', () => {
  it('a damaged key under LIVESWAP_HOME → 4 naming the key, how to start over and what that costs; a bad --watermark-key → 2', async () => {
    const home = join(dir, 'home');
    await mkdir(join(home, 'provenance'), { recursive: true });
    const key = join(home, 'provenance', 'watermark.key');
    await writeFile(key, 'garbage\n');
    const args = ['swap', '-s', SOURCE, '-t', TARGET, '-o', join(dir, 'x.jpg')];
    const damaged = cli(args, home);
    expectFailure(damaged, EXIT_CODES['input-unreadable'], /watermark\.key under LIVESWAP_HOME is damaged: it must hold 64 hex digits/);
    assert.match(damaged.stderr, /Move it away .* marks made with the old key can then no longer be verified/, show(damaged));
    const json = cli([...args, '--json'], home);
    assert.equal(json.code, 4, show(json));
    assert.equal((JSON.parse(json.stdout.trim().split('\n').pop()!) as { error: { kind: string; file: string } }).error.kind, 'input-unreadable');

    const own = join(dir, 'own.key');
    await writeFile(own, 'not a key');
    expectFailure(cli([...args, '--watermark-key', own], home), EXIT_CODES.usage, /own\.key is not a key: it must hold 64 hex digits/);
  });
});
