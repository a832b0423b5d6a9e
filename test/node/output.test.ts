/** Output files: atomic writes, output-path checks and the messages for write failures. */

import assert from 'node:assert/strict';
import { link, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { checkOutputPath, outputError, temporaryPathFor, writeAtomically, writeFileAtomically } from '../../src/node/files/output.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-output-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function outputFailure(promise: Promise<unknown>, words: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof LiveswapError, String(error));
    assert.equal(error.kind, 'output');
    assert.match(error.message, words);
    return true;
  });
}

describe('writeAtomically', () => {
  it('writes complete files and leaves no temporary file', async () => {
    const sub = await mkdtemp(join(dir, 'ok-'));
    const file = join(sub, 'result.bin');
    await writeFileAtomically(file, new Uint8Array([1, 2, 3]));
    await writeFileAtomically(file, new Uint8Array([4, 5]));
    assert.deepEqual([...(await readFile(file))], [4, 5]);
    assert.deepEqual(await readdir(sub), ['result.bin']);
  });

  it('keeps the extension in the temporary name, hidden in the same folder', () => {
    const temp = temporaryPathFor(join(dir, 'clip.mp4'));
    assert.ok(temp.startsWith(join(dir, '.clip.partial-')), temp);
    assert.ok(temp.endsWith('.mp4'), temp);
    assert.notEqual(temp, temporaryPathFor(join(dir, 'clip.mp4')), 'two writers never share a temporary file');
  });

  it('on failure mid-write removes the partial file and keeps the old output', async () => {
    const sub = await mkdtemp(join(dir, 'fail-'));
    const file = join(sub, 'result.bin');
    await writeFile(file, 'previous result');
    let temporary = '';
    await outputFailure(
      writeAtomically(file, async (path) => {
        temporary = path;
        await writeFile(path, 'half of the new res');
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      }),
      /disk is full/,
    );
    assert.ok(temporary.startsWith(sub));
    assert.deepEqual(await readdir(sub), ['result.bin']);
    assert.equal(await readFile(file, 'utf8'), 'previous result');
  });

  it('reports a missing folder as an output error naming the folder', async () => {
    const file = join(dir, 'missing', 'out.bin');
    await outputFailure(writeFileAtomically(file, new Uint8Array(1)), /missing.*does not exist/);
  });
});

describe('outputError', () => {
  const cases: Array<[string, RegExp]> = [
    ['ENOSPC', /disk is full/],
    ['EDQUOT', /quota/],
    ['EACCES', /not writable/],
    ['EROFS', /not writable/],
    ['ENOENT', /does not exist/],
    ['EISDIR', /is a folder/],
    ['EIO', /i\/o failure/],
  ];
  for (const [code, words] of cases) {
    it(`explains ${code}`, () => {
      const error = outputError('out/x.png', Object.assign(new Error('i/o failure'), { code }));
      assert.equal(error.kind, 'output');
      assert.equal(error.file, 'out/x.png');
      assert.match(error.message, /out\/x\.png/);
      assert.match(error.message, words);
    });
  }
});

describe('checkOutputPath', () => {
  it('accepts a new file in an existing folder and an existing file', async () => {
    await checkOutputPath(join(dir, 'new.png'));
    const existing = join(dir, 'existing.png');
    await writeFile(existing, 'x');
    await checkOutputPath(existing, { inputs: [join(dir, 'other.png')] });
  });

  it('refuses a missing folder, a folder as output, and a non-folder parent', async () => {
    await outputFailure(checkOutputPath(join(dir, 'absent', 'out.png')), /does not exist/);
    const folder = join(dir, 'a-folder.png');
    await mkdir(folder, { recursive: true });
    await outputFailure(checkOutputPath(folder), /is a folder/);
    const plain = join(dir, 'plain-file');
    await writeFile(plain, 'x');
    await outputFailure(checkOutputPath(join(plain, 'out.png')), /not a folder/);
  });

  it('refuses to overwrite an input, however the path is spelled', async () => {
    const input = join(dir, 'input.png');
    await writeFile(input, 'pixels');
    await outputFailure(checkOutputPath(input, { inputs: [input] }), /same file as the input/);
    await outputFailure(checkOutputPath(relative(process.cwd(), input), { inputs: [input] }), /same file/);
    const viaLink = join(dir, 'link.png');
    await symlink(input, viaLink);
    await outputFailure(checkOutputPath(viaLink, { inputs: [input] }), /same file/);
    const hard = join(dir, 'hard.png');
    await link(input, hard);
    await outputFailure(checkOutputPath(hard, { inputs: [input] }), /same file/);
    assert.equal(await readFile(input, 'utf8'), 'pixels');
  });
});
