/** Which ffmpeg runs (option > LIVESWAP_FFMPEG > bundled), what it can encode, and its log tails. */

import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { lastLines, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { ffmpegEncoders, ffmpegPath } from '../../src/node/media/ffmpeg.js';

let dir: string;
const savedEnv = { LIVESWAP_FFMPEG: process.env.LIVESWAP_FFMPEG, PATH: process.env.PATH };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-ffmpeg-bin-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

function usageError(fn: () => unknown, words: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof LiveswapError, String(error));
    assert.equal(error.kind, 'usage');
    assert.match(error.message, words);
    return true;
  });
}

describe('ffmpegPath', () => {
  it('defaults to the executable from @ffmpeg-installer/ffmpeg, which runs', async () => {
    delete process.env.LIVESWAP_FFMPEG;
    const path = ffmpegPath();
    assert.match(path, /@ffmpeg-installer/);
    const run = await runFfmpeg(['-version']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^ffmpeg version/);
  });

  it('prefers the option over LIVESWAP_FFMPEG over the bundled binary', async () => {
    delete process.env.LIVESWAP_FFMPEG;
    const bundled = ffmpegPath();
    const viaEnv = join(dir, 'env-ffmpeg');
    const viaOption = join(dir, 'option-ffmpeg');
    await symlink(bundled, viaEnv);
    await symlink(bundled, viaOption);
    process.env.LIVESWAP_FFMPEG = viaEnv;
    assert.equal(ffmpegPath(), viaEnv);
    assert.equal(ffmpegPath({ ffmpegPath: viaOption }), viaOption);
    process.env.LIVESWAP_FFMPEG = '';
    assert.equal(ffmpegPath(), bundled, 'an empty variable counts as unset');
  });

  it('finds a bare name on the PATH', async () => {
    const bin = join(dir, 'bin');
    await mkdir(bin);
    await symlink(ffmpegPath({}), join(bin, 'my-ffmpeg'));
    process.env.PATH = `${bin}:${savedEnv.PATH ?? ''}`;
    assert.equal(ffmpegPath({ ffmpegPath: 'my-ffmpeg' }), join(bin, 'my-ffmpeg'));
    usageError(() => ffmpegPath({ ffmpegPath: 'no-such-ffmpeg-here' }), /Cannot find the ffmpeg executable "no-such-ffmpeg-here" \(from the ffmpegPath option\) on the PATH/);
  });

  it('names a missing, folder or non-executable path and the fix', async () => {
    const missing = join(dir, 'missing', 'ffmpeg');
    process.env.LIVESWAP_FFMPEG = missing;
    const words = `Cannot find ffmpeg at ${missing} \\(from LIVESWAP_FFMPEG\\): no such file\\. Point LIVESWAP_FFMPEG at an ffmpeg executable, or unset it`;
    usageError(() => ffmpegPath(), new RegExp(words));
    usageError(() => ffmpegPath({ ffmpegPath: dir }), /is a folder, not an executable/);
    const plain = join(dir, 'not-executable');
    await writeFile(plain, '#!/bin/sh\n');
    await chmod(plain, 0o644);
    usageError(() => ffmpegPath({ ffmpegPath: plain }), new RegExp(`ffmpeg at ${plain} \\(from the ffmpegPath option\\) is not executable`));
    usageError(() => ffmpegPath({ ffmpegPath: ' ' }), /is empty/);
  });
});

describe('ffmpegEncoders', () => {
  it('lists the encoders the video writer offers', async () => {
    const encoders = await ffmpegEncoders();
    for (const name of ['libx264', 'libx265', 'libvpx-vp9', 'aac']) assert.ok(encoders.has(name), `${name} missing from ${[...encoders].slice(0, 20).join(', ')}…`);
    assert.ok(!encoders.has('='));
  });
});

describe('lastLines', () => {
  it('keeps the last lines, progress lines included, without memory addresses', () => {
    const log = 'line one\n[h264 @ 0x55d0c0ffee00] error while decoding MB 3 4\rframe=   10 fps=0.0\nlast words\n\n';
    assert.equal(lastLines(log, 3), '[h264] error while decoding MB 3 4 | frame=   10 fps=0.0 | last words');
  });
});
