/** Reading and writing image files: formats by content, damaged files, pixel limits, output formats. */

import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { LiveswapError, type ErrorKind } from '../../src/core/errors.js';
import type { Image } from '../../src/core/image.js';
import { outputFormatFor, readImage, writeImage } from '../../src/node/media/image-io.js';
import { FIXTURES } from '../helpers/fixtures.js';

const LIMIT = { maxPixels: 50_000_000 };
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-image-io-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Asserts the promise rejects with a LiveswapError of this kind whose message names `file`. */
async function rejectsWith(promise: Promise<unknown>, kind: ErrorKind, file: string, words?: RegExp): Promise<LiveswapError> {
  const error = await promise.then(
    () => assert.fail(`expected a ${kind} error`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof LiveswapError, `not a LiveswapError: ${String(error)}`);
  assert.equal(error.kind, kind, error.message);
  assert.ok(error.message.includes(file), `message does not name ${file}: ${error.message}`);
  if (words) assert.match(error.message, words);
  return error;
}

function pixel(image: Image, x: number, y: number): number[] {
  const i = (y * image.width + x) * image.channels;
  return Array.from(image.data.subarray(i, i + image.channels));
}

function solid(width: number, height: number, rgb: [number, number, number]): Image {
  const data = new Uint8ClampedArray(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { width, height, channels: 3, data };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

describe('readImage', () => {
  it('detects the format from the content, not the extension', async () => {
    const pngAsJpg = join(dir, 'really-a-png.jpg');
    const jpgAsDat = join(dir, 'really-a-jpeg.dat');
    const webp = join(dir, 'photo.bin');
    await copyFile(join(FIXTURES, 'astronaut.png'), pngAsJpg);
    await copyFile(join(FIXTURES, 'grace_hopper.jpg'), jpgAsDat);
    await writeFile(webp, await sharp(join(FIXTURES, 'astronaut.png')).webp({ lossless: true }).toBuffer());
    const png = await readImage(pngAsJpg, LIMIT);
    const jpg = await readImage(jpgAsDat, LIMIT);
    const fromWebp = await readImage(webp, LIMIT);
    assert.deepEqual([png.width, png.height, png.channels], [512, 512, 3]);
    assert.deepEqual([jpg.width, jpg.height, jpg.channels], [512, 600, 3]);
    assert.deepEqual(fromWebp.data, png.data, 'lossless WebP decodes to the same pixels as the PNG');
  });

  it('turns greyscale into RGB and drops alpha', async () => {
    const grey = await readImage(join(FIXTURES, 'camera.png'), LIMIT);
    assert.equal(grey.channels, 3);
    for (const [x, y] of [
      [10, 10],
      [300, 200],
      [500, 500],
    ] as const) {
      const [r, g, b] = pixel(grey, x, y);
      assert.ok(r === g && g === b, `grey pixel at ${x},${y} is ${r},${g},${b}`);
    }
    const rgbaPath = join(dir, 'alpha.png');
    await sharp({ create: { width: 3, height: 2, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } } })
      .png()
      .toFile(rgbaPath);
    const rgba = await readImage(rgbaPath, LIMIT);
    assert.equal(rgba.channels, 3);
    assert.deepEqual(pixel(rgba, 2, 1), [10, 20, 30]);
  });

  it('applies EXIF orientation and reduces 16-bit PNG to 8 bits', async () => {
    // 40×20, left half red, right half blue, stored with "rotate 90° clockwise to display".
    const raw = solid(40, 20, [255, 0, 0]);
    for (let y = 0; y < 20; y++) for (let x = 20; x < 40; x++) raw.data.set([0, 0, 255], (y * 40 + x) * 3);
    const rotated = join(dir, 'rotated.jpg');
    await sharp(Buffer.from(raw.data), { raw: { width: 40, height: 20, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toFile(rotated);
    const shown = await readImage(rotated, LIMIT);
    assert.deepEqual([shown.width, shown.height], [20, 40]);
    const [topR, , topB] = pixel(shown, 10, 5);
    const [bottomR, , bottomB] = pixel(shown, 10, 35);
    assert.ok(topR! > 200 && topB! < 60, `top should be red, got ${pixel(shown, 10, 5)}`);
    assert.ok(bottomB! > 200 && bottomR! < 60, `bottom should be blue, got ${pixel(shown, 10, 35)}`);

    const deep = join(dir, 'deep.png');
    await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 200, g: 100, b: 50 } } })
      .toColourspace('rgb16')
      .png()
      .toFile(deep);
    assert.equal((await sharp(deep).metadata()).depth, 'ushort');
    assert.deepEqual(pixel(await readImage(deep, LIMIT), 3, 3), [200, 100, 50]);
  });

  it('rejects truncated JPEG and PNG files as unreadable', async () => {
    for (const name of ['grace_hopper.jpg', 'astronaut.png']) {
      const bytes = await readFile(join(FIXTURES, name));
      const cut = join(dir, `cut-${name}`);
      await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      await rejectsWith(readImage(cut, LIMIT), 'input-unreadable', cut, /corrupt or truncated/);
    }
  });

  it('rejects files that are not images, empty files and other formats', async () => {
    const text = join(dir, 'notes.png');
    await writeFile(text, 'this is not a picture\n'.repeat(20));
    await rejectsWith(readImage(text, LIMIT), 'input-unsupported', text, /JPEG, PNG or WebP/);
    const empty = join(dir, 'empty.jpg');
    await writeFile(empty, '');
    await rejectsWith(readImage(empty, LIMIT), 'input-unreadable', empty, /empty/);
    for (const format of ['gif', 'tiff'] as const) {
      const file = join(dir, `picture.${format}`);
      await sharp({ create: { width: 8, height: 8, channels: 3, background: 'white' } })
        .toFormat(format)
        .toFile(file);
      await rejectsWith(readImage(file, LIMIT), 'input-unsupported', file, new RegExp(format, 'i'));
    }
  });

  it('reports missing files and folders', async () => {
    const missing = join(dir, 'nope.png');
    await rejectsWith(readImage(missing, LIMIT), 'input-missing', missing, /no such file/);
    await rejectsWith(readImage(dir, LIMIT), 'input-unreadable', dir, /folder/);
  });

  it('refuses images over the pixel limit from the header alone, before decoding', async () => {
    const file = join(FIXTURES, 'astronaut.png');
    await rejectsWith(readImage(file, { maxPixels: 1000 }), 'input-too-large', file, /512×512.*1000/);
    await readImage(file, { maxPixels: 512 * 512 }); // exactly at the limit is fine

    // A PNG whose header claims 60000×60000 but which holds one pixel of data: if the limit were
    // checked after decoding, this would fail as unreadable (or exhaust memory) instead.
    const tiny = await sharp({ create: { width: 1, height: 1, channels: 3, background: 'black' } })
      .png()
      .toBuffer();
    const header = Buffer.from(tiny.subarray(0, 33)); // signature + IHDR chunk; the 1-pixel IDAT follows
    header.writeUInt32BE(60000, 16);
    header.writeUInt32BE(60000, 20);
    header.writeUInt32BE(crc32(header.subarray(12, 29)), 29);
    const bomb = join(dir, 'bomb.png');
    await writeFile(bomb, Buffer.concat([header, tiny.subarray(33)]));
    await rejectsWith(readImage(bomb, LIMIT), 'input-too-large', bomb, /60000×60000/);
  });
});

describe('writeImage', () => {
  const image = solid(16, 8, [30, 160, 90]);

  it('writes the format the extension names, readable back', async () => {
    for (const [name, format] of [
      ['a.jpg', 'jpeg'],
      ['b.JPEG', 'jpeg'],
      ['c.png', 'png'],
      ['d.webp', 'webp'],
    ] as const) {
      const file = join(dir, name);
      await writeImage(file, image, { quality: 95 });
      assert.equal((await sharp(file).metadata()).format, format);
      const back = await readImage(file, LIMIT);
      assert.deepEqual([back.width, back.height], [16, 8]);
      const [r, g, b] = pixel(back, 8, 4);
      assert.ok(Math.abs(r! - 30) + Math.abs(g! - 160) + Math.abs(b! - 90) <= 9, `${name}: ${r},${g},${b}`);
    }
    assert.deepEqual((await readImage(join(dir, 'c.png'), LIMIT)).data, image.data, 'PNG is lossless');
  });

  it('refuses unknown output extensions with the list of choices', async () => {
    for (const name of ['out.gif', 'out', 'out.jpg.txt']) {
      const file = join(dir, name);
      const error = await rejectsWith(writeImage(file, image), 'usage', file, /\.jpg, \.jpeg, \.png, \.webp/);
      assert.equal(error.file, file);
    }
    assert.equal(outputFormatFor('x/y.Png'), 'png');
  });

  it('reports a missing output folder and leaves nothing behind', async () => {
    const file = join(dir, 'no-such-folder', 'out.png');
    await rejectsWith(writeImage(file, image), 'output', file, /does not exist/);
  });

  it('never leaves temporary files, and never a partial output when encoding fails', async () => {
    const sub = await mkdtemp(join(dir, 'atomic-'));
    await writeImage(join(sub, 'ok.png'), image);
    assert.deepEqual(await readdir(sub), ['ok.png']);

    // The data is shorter than width×height×channels: sharp fails before anything is written.
    const broken: Image = { width: 100, height: 100, channels: 3, data: new Uint8ClampedArray(10) };
    await assert.rejects(writeImage(join(sub, 'broken.png'), broken));
    await assert.rejects(writeImage(join(sub, 'ok.png'), broken));
    assert.deepEqual(await readdir(sub), ['ok.png']);
    assert.deepEqual((await readImage(join(sub, 'ok.png'), LIMIT)).data, image.data, 'the earlier file is intact');
  });
});
