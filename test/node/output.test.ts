/** Output files: atomic writes, output-path checks and the messages for write failures. */

import assert from 'node:assert/strict';
import { link, mkdir, stat, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import {
  checkOutputPath,
  createTemporaryFolder,
  outputError,
  outputPathOf,
  removeStaleTemporaries,
  temporaryPathFor,
  writeAtomically,
  writeFileAtomically,
} from '../../src/node/files/output.js';
import { encodeError } from '../../src/node/media/ffmpeg-write.js';

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
    assert.ok(temp.startsWith(join(dir, `.liveswap.partial-${process.pid}-`)), temp);
    assert.ok(temp.endsWith('.clip.mp4'), temp);
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

/** A pid that was just used and has exited: a writer that is no longer running. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid;
}

const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

describe('temporaries', () => {
  it('are never named twice: a temporary of a temporary is a temporary of the output, written in place', async () => {
    const sub = await mkdtemp(join(dir, 'twice-'));
    const output = join(sub, 'o.mp4');
    const first = temporaryPathFor(output);
    assert.equal(outputPathOf(first), output);
    const second = temporaryPathFor(first);
    assert.equal(outputPathOf(second), output);
    assert.equal((second.match(/partial/g) ?? []).length, 1, second);
    // A writer handed a temporary (ffmpeg's, the image encoder's) writes it where it is.
    await writeAtomically(first, async (path) => writeFile(path, 'frames'));
    assert.deepEqual(await readdir(sub), [relative(sub, first)]);
  });

  it('name the output, not the hidden temporary, when the disk is full', async () => {
    const sub = await mkdtemp(join(dir, 'full-'));
    const output = join(sub, 'o.jpg');
    const named = (error: unknown): boolean => {
      assert.ok(error instanceof LiveswapError);
      assert.equal(error.kind, 'output');
      assert.equal(error.message, `Cannot write ${output}: the disk is full. Free some space or write elsewhere.`);
      assert.equal(error.file, output);
      return true;
    };
    // An image write: the job encodes into a temporary, which the writer fills in place.
    await assert.rejects(
      writeAtomically(temporaryPathFor(output), async () => {
        throw enospc();
      }),
      named,
    );
    await assert.rejects(
      writeAtomically(output, async () => {
        throw enospc();
      }),
      named,
    );
    // A video write: ffmpeg fails on the temporary the job gave it.
    assert.ok(named(encodeError(temporaryPathFor(output), { code: 1, signal: null }, 'Error writing trailer: No space left on device')));
    assert.match(encodeError(temporaryPathFor(output), { code: null, signal: 'SIGKILL' }, '').message, new RegExp(`^Cannot write ${output}: ffmpeg was killed`));
    assert.deepEqual(await readdir(sub), [], 'no temporary left');
  });

  it("a later run removes a dead run's temporaries, in the output's folder and the temp folder, and nothing else", async () => {
    const sub = await mkdtemp(join(dir, 'stale-'));
    const dead = deadPid();
    const names = {
      stale: `.liveswap.partial-${dead}-0123abcd.o.mp4`,
      live: `.liveswap.partial-${process.pid}-89abcdef.o.mp4`,
      user: '.o.partial-1-0123abcd.mp4',
      other: 'notes.txt',
    };
    for (const name of Object.values(names)) await writeFile(join(sub, name), 'x');
    const staleFolder = join(sub, `liveswap-${dead}-filter-AbC123`);
    await mkdir(staleFolder);
    await writeFile(join(staleFolder, 'graph.txt'), 'null');
    await checkOutputPath(join(sub, 'o.mp4'));
    assert.deepEqual((await readdir(sub)).sort(), [names.user, names.live, 'notes.txt'].sort());
    assert.deepEqual(await removeStaleTemporaries(sub), []);
  });

  it('temp-folder scratch space carries the pid, so it can be told stale', async () => {
    const folder = await createTemporaryFolder('filter');
    try {
      assert.match(relative(tmpdir(), folder), new RegExp(`^liveswap-${process.pid}-filter-[A-Za-z0-9]{6}$`));
      assert.ok((await stat(folder)).isDirectory());
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
