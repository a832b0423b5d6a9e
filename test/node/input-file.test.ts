/**
 * Reading the user's files without unbounded reads (issue 16): a FIFO, a socket, a device or a
 * folder is refused from its stat, before anything opens it (open() would wait for a writer, a
 * read of /dev/zero would never end); sizes are capped from the stat; image headers are checked
 * from the first bytes; and reads stop at the size the file had when opened, however it grows.
 * Every path that reads a user file goes through this: still images, face maps, watermark keys,
 * videos (before ffmpeg opens them), and `verify`'s inputs.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFile, copyFile, mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { LiveswapError, type ErrorKind } from '../../src/core/errors.js';
import { checkInputFile, GIB, MIB, openInput, readInputFile } from '../../src/node/files/input-file.js';
import { readFaceMap } from '../../src/node/jobs/faces-scan.js';
import { probeVideo } from '../../src/node/media/ffmpeg-probe.js';
import { IMAGE_MAX_BYTES, imageFileLimit, readImage } from '../../src/node/media/image-io.js';
import { existingWatermarkKey, loadWatermarkKey, readWatermarkKey, watermarkKeyPath } from '../../src/node/provenance/output-provenance.js';
import { verifyFile } from '../../src/node/provenance/verify.js';
import { FIXTURES } from '../helpers/fixtures.js';

const POSIX = process.platform !== 'win32';
const JPEG = join(FIXTURES, 'grace_hopper.jpg');
const LIMIT = { maxPixels: 50_000_000 };
/** A hang (open() on a FIFO waits for a writer) fails the test instead of stalling the run. */
const NO_HANG = { timeout: 20_000 };

let dir: string;
let fifo: string;
let socketServer: Server | undefined;
let socketPath: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-input-file-'));
  fifo = join(dir, 'pipe.jpg');
  socketPath = join(dir, 'socket.jpg');
  if (POSIX) {
    execFileSync('mkfifo', [fifo]);
    socketServer = createServer();
    await new Promise<void>((done) => socketServer!.listen(socketPath, done));
  }
});
after(async () => {
  await new Promise<void>((done) => (socketServer ? socketServer.close(() => done()) : done()));
  await rm(dir, { recursive: true, force: true });
});

async function rejectsWith(promise: Promise<unknown>, kind: ErrorKind, words: RegExp): Promise<LiveswapError> {
  const error = await promise.then(
    () => assert.fail(`expected a ${kind} error`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof LiveswapError, `not a LiveswapError: ${String(error)}`);
  assert.equal(error.kind, kind, error.message);
  assert.match(error.message, words);
  return error;
}

/** A sparse file (no disk used) of `size` bytes starting with the bytes of a real JPEG. */
async function sparseJpeg(name: string, size: number): Promise<string> {
  const path = join(dir, name);
  await copyFile(JPEG, path);
  await truncate(path, size);
  return path;
}

describe('checkInputFile and openInput: stat first, never open what is not a regular file', { skip: POSIX ? false : 'FIFOs, sockets and /dev/zero are POSIX' }, () => {
  it('refuses a FIFO, a socket, a character device and a folder at once, naming what each is', NO_HANG, async () => {
    await rejectsWith(checkInputFile(fifo, 'image'), 'input-unreadable', /pipe\.jpg: it is a FIFO \(named pipe\), not a regular file/);
    await rejectsWith(readInputFile(fifo, 'face map'), 'input-unreadable', /the face map .*pipe\.jpg: it is a FIFO/);
    await rejectsWith(readInputFile(socketPath, 'image'), 'input-unreadable', /socket\.jpg: it is a socket, not a regular file/);
    await rejectsWith(readInputFile('/dev/zero', 'image'), 'input-unreadable', /\/dev\/zero: it is a character device, not a regular file/);
    await rejectsWith(readInputFile(dir, 'image'), 'input-unreadable', /it is a folder, not an image file/);
  });

  it('keeps a missing file input-missing (exit 3) and refuses an empty one', async () => {
    const missing = await rejectsWith(checkInputFile(join(dir, 'nobody.png'), 'image'), 'input-missing', /nobody\.png: no such file\. Check the path\./);
    assert.equal(missing.file, join(dir, 'nobody.png'));
    await rejectsWith(checkInputFile(join(dir, 'no-folder', 'x.png'), 'video'), 'input-missing', /no such file/);
    const empty = join(dir, 'empty.bin');
    await writeFile(empty, '');
    await rejectsWith(readInputFile(empty, 'face map'), 'input-unreadable', /the face map .*empty\.bin: the file is empty/);
    assert.equal((await readInputFile(empty, 'key', { allowEmpty: true })).length, 0);
  });

  it('caps the size from the stat, before reading a byte', async () => {
    const big = join(dir, 'big.bin');
    await writeFile(big, '');
    await truncate(big, 3 * GIB);
    await rejectsWith(
      readInputFile(big, 'face map', { maxBytes: 64 * MIB, tooLargeHint: 'Give a real one.' }),
      'input-too-large',
      /big\.bin is 3\.0 GiB, over the limit of 64 MiB .*Give a real one\./,
    );
  });

  it('reads no further than the size the file had when opened, however it grows', async () => {
    const growing = join(dir, 'growing.bin');
    await writeFile(growing, Buffer.alloc(1000, 1));
    const file = await openInput(growing, 'image');
    try {
      await appendFile(growing, Buffer.alloc(5000, 2));
      assert.equal(file.size, 1000);
      const bytes = await file.readAll();
      assert.equal(bytes.length, 1000);
      assert.ok(bytes.every((b) => b === 1));
      assert.equal((await file.read(900, 5000)).length, 100, 'a read never runs past the opened size');
    } finally {
      await file.close();
    }
  });
});

describe('readImage: bounded reads', { skip: POSIX ? false : 'FIFOs and /dev/zero are POSIX' }, () => {
  it('refuses /dev/zero, a FIFO and a folder as input-unreadable, without blocking or reading them', NO_HANG, async () => {
    await rejectsWith(readImage('/dev/zero', LIMIT), 'input-unreadable', /\/dev\/zero: it is a character device, not a regular file/);
    await rejectsWith(readImage(fifo, LIMIT), 'input-unreadable', /pipe\.jpg: it is a FIFO \(named pipe\), not a regular file/);
    await rejectsWith(readImage(dir, LIMIT), 'input-unreadable', /it is a folder, not an image file/);
  });

  it('refuses a file larger than any image within --max-pixels from its size alone (a 3 GiB sparse file that starts as a real JPEG)', async () => {
    const huge = await sparseJpeg('huge.jpg', 3 * GIB);
    assert.equal(imageFileLimit(LIMIT.maxPixels), 16 * 50_000_000 + 64 * MIB);
    await rejectsWith(readImage(huge, LIMIT), 'input-too-large', /huge\.jpg is 3\.0 GiB, over the limit of 827 MiB for an image file.*--max-pixels/);
    // However high the pixel limit, no image file over IMAGE_MAX_BYTES is read.
    assert.equal(imageFileLimit(1e12), IMAGE_MAX_BYTES);
    await rejectsWith(readImage(huge, { maxPixels: 1e12 }), 'input-too-large', /over the limit of 2\.0 GiB .*reads no image file over 2\.0 GiB/);
  });

  it('checks the header from the first bytes: a small JPEG followed by 500 MiB is refused before the rest is read', async () => {
    const padded = await sparseJpeg('padded.jpg', 500 * MIB);
    // The message names the header's size: it was read from the first bytes, and refused from them.
    await rejectsWith(readImage(padded, LIMIT), 'input-unreadable', /padded\.jpg: the file is 500 MiB, far more than a 512×600 JPEG needs/);
    // Under the byte cap, the pixel limit is still checked from the header before the rest is read.
    const smaller = await sparseJpeg('smaller.jpg', 10 * MIB);
    await rejectsWith(readImage(smaller, { maxPixels: 1000 }), 'input-too-large', /smaller\.jpg is 512×600 .*over the limit of 1000/);
  });

  it('refuses a file that is not an image from its first bytes, whatever its size', async () => {
    const text = join(dir, 'text.png');
    await writeFile(text, 'not an image at all\n'.repeat(20_000));
    await truncate(text, 200 * MIB);
    await rejectsWith(readImage(text, LIMIT), 'input-unsupported', /text\.png is not an image liveswap can read/);
  });

  it('still reads real images whole: a JPEG with a little data appended, and WebP and PNG files larger than the first read', async () => {
    const image = await readImage(JPEG, LIMIT);
    assert.deepEqual([image.width, image.height], [512, 600]);
    const appended = join(dir, 'appended.jpg');
    await writeFile(appended, Buffer.concat([await readFile(JPEG), Buffer.alloc(300 * 1024, 7)]));
    const withTail = await readImage(appended, LIMIT);
    assert.deepEqual([withTail.width, withTail.height], [512, 600]);
    // Noise compresses badly: both files are megabytes, past the 256 KiB first read.
    const noise = Buffer.alloc(900 * 700 * 3);
    let seed = 12345;
    for (let i = 0; i < noise.length; i++) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      noise[i] = seed & 255;
    }
    const raw = { raw: { width: 900, height: 700, channels: 3 } } as const;
    const webp = join(dir, 'noise.webp');
    const png = join(dir, 'noise.png');
    await sharp(noise, raw).webp({ lossless: true }).toFile(webp);
    await sharp(noise, raw).png({ compressionLevel: 0 }).toFile(png);
    for (const file of [webp, png]) {
      assert.ok((await stat(file)).size > 1024 * 1024, `${file} is larger than the first read`);
      const read = await readImage(file, LIMIT);
      assert.deepEqual([read.width, read.height], [900, 700], file);
      await rejectsWith(readImage(file, { maxPixels: 1000 }), 'input-too-large', /900×700 .*over the limit of 1000/);
    }
  });
});

describe('face maps, videos and verify go through the same check', { skip: POSIX ? false : 'FIFOs are POSIX' }, () => {
  it('a face map that is a FIFO, a device or too large is refused before it is read', NO_HANG, async () => {
    await rejectsWith(readFaceMap(fifo), 'input-unreadable', /the face map .*pipe\.jpg: it is a FIFO/);
    await rejectsWith(readFaceMap('/dev/zero'), 'input-unreadable', /character device/);
    await rejectsWith(readFaceMap(join(dir, 'none.json')), 'input-missing', /Run `liveswap faces scan` first/);
    const big = join(dir, 'big-map.json');
    await writeFile(big, '{');
    await truncate(big, 65 * MIB);
    await rejectsWith(readFaceMap(big), 'input-too-large', /the face map .*big-map\.json is 65 MiB, over the limit of 64 MiB/);
  });

  it('a video target that is a FIFO is refused before ffmpeg opens it (ffmpeg would wait for a writer)', NO_HANG, async () => {
    const pipe = join(dir, 'pipe.mp4');
    execFileSync('mkfifo', [pipe]);
    await rejectsWith(probeVideo(pipe), 'input-unreadable', /pipe\.mp4: it is a FIFO \(named pipe\), not a regular file/);
    await rejectsWith(probeVideo('/dev/zero'), 'input-unreadable', /character device/);
  });

  it('verify refuses a FIFO before the credentials reader or ffmpeg opens it', NO_HANG, async () => {
    await rejectsWith(verifyFile(fifo), 'input-unreadable', /pipe\.jpg: it is a FIFO/);
    const pipe = join(dir, 'verify.mp4');
    execFileSync('mkfifo', [pipe]);
    await rejectsWith(verifyFile(pipe), 'input-unreadable', /verify\.mp4: it is a FIFO/);
  });
});

describe('the watermark key', () => {
  it('a damaged key under LIVESWAP_HOME is input-unreadable (no flag named it), says how to start over and what that costs, and is left alone', async () => {
    const home = join(dir, 'damaged-home');
    await mkdir(join(home, 'provenance'), { recursive: true });
    await writeFile(watermarkKeyPath(home), 'garbage\n');
    const error = await rejectsWith(loadWatermarkKey(home), 'input-unreadable', /watermark\.key under LIVESWAP_HOME is damaged: it must hold 64 hex digits/);
    assert.equal(error.file, watermarkKeyPath(home));
    assert.match(error.message, /Move it away and the next run makes a new key, but marks made with the old key can then no longer be verified/);
    await rejectsWith(existingWatermarkKey(home), 'input-unreadable', /is damaged/);
    assert.equal(await readFile(watermarkKeyPath(home), 'utf8'), 'garbage\n', 'a damaged key is never replaced');
    await writeFile(watermarkKeyPath(home), '');
    await rejectsWith(loadWatermarkKey(home), 'input-unreadable', /is damaged: .*the file is empty/);
  });

  it('a bad --watermark-key file stays a usage error; a huge one is not read', async () => {
    const bad = join(dir, 'bad.key');
    await writeFile(bad, 'not a key');
    await rejectsWith(readWatermarkKey(bad), 'usage', /bad\.key is not a key: it must hold 64 hex digits/);
    const huge = join(dir, 'huge.key');
    await writeFile(huge, 'ab'.repeat(32));
    await truncate(huge, 2 * GIB);
    await rejectsWith(loadWatermarkKey(dir, huge), 'usage', /huge\.key is not a key: .*not 2\.0 GiB/);
  });

  it('a key that is a FIFO or a device is refused without being opened', { ...NO_HANG, skip: POSIX ? false : 'FIFOs are POSIX' }, async () => {
    await rejectsWith(readWatermarkKey(fifo), 'input-unreadable', /the watermark key .*pipe\.jpg: it is a FIFO/);
    await rejectsWith(readWatermarkKey('/dev/zero'), 'input-unreadable', /character device/);
    const home = join(dir, 'fifo-home');
    await mkdir(join(home, 'provenance'), { recursive: true });
    execFileSync('mkfifo', [watermarkKeyPath(home)]);
    await rejectsWith(loadWatermarkKey(home), 'input-unreadable', /watermark\.key: it is a FIFO/);
  });
});
