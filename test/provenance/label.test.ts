/**
 * The visible label: its size and placement on common frame sizes, that it touches nothing
 * outside its box, and that it stays legible (read back exactly by template matching) after
 * H.264 CRF 28, a 0.5× downscale and JPEG quality 75; plus findLabel's calibration on photos.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { LiveswapError } from '../../src/core/errors.js';
import { cloneImage, createImage, cropImage, type Image, toRgba } from '../../src/core/image.js';
import { fileUrlArg, lastLines, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { FONT_CHARS, GLYPH_COLUMNS, GLYPH_ROWS, glyphBits } from '../../src/provenance/font.js';
import {
  checkLabelText,
  DEFAULT_LABEL_OPTIONS,
  DEFAULT_LABEL_TEXT,
  drawLabel,
  findLabel,
  LABEL_CORNERS,
  type LabelBox,
  labelLayout,
  MIN_LABEL_HEIGHT_FRACTION,
  readLabel,
} from '../../src/provenance/label.js';
import { clipFrame, framedPhoto } from '../helpers/clips.js';
import { decodeRgb, encodePng } from '../helpers/fixtures.js';

const PHOTOS = ['grace_hopper.jpg', 'astronaut.png', 'camera.png'];
const SIZES: ReadonlyArray<readonly [number, number]> = [
  [640, 360],
  [1280, 720],
  [1920, 1080],
  [1080, 1920],
  [200, 150],
];
const CUSTOM_TEXTS = ['Synthetic media', 'Made with liveswap 0.1'];

function isUsageError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof LiveswapError && error.kind === 'usage' && pattern.test(error.message);
}

/** Pixels that differ between two same-size images, counted inside and outside a box. */
function changedPixels(a: Image, b: Image, box: LabelBox): { inside: number; outside: number } {
  let inside = 0;
  let outside = 0;
  const c = a.channels;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      let differs = false;
      for (let k = 0; k < c; k++) if (a.data[(y * a.width + x) * c + k] !== b.data[(y * a.width + x) * c + k]) differs = true;
      if (!differs) continue;
      if (x >= box.x0 && x < box.x1 && y >= box.y0 && y < box.y1) inside++;
      else outside++;
    }
  }
  return { inside, outside };
}

function toGrey(image: Image): Image {
  const out = createImage(image.width, image.height, 1);
  for (let i = 0; i < image.width * image.height; i++) {
    out.data[i] = Math.round(0.299 * image.data[i * 3]! + 0.587 * image.data[i * 3 + 1]! + 0.114 * image.data[i * 3 + 2]!);
  }
  return out;
}

/** `count` frames panning slowly across a photo scaled to cover a little more than width×height. */
async function panFrames(photo: string, width: number, height: number, count: number): Promise<Image[]> {
  const wide = await clipFrame(photo, width + 4 * count, height + 2 * count);
  return Array.from({ length: count }, (_, i) => cropImage(wide, { x0: 4 * i, y0: 2 * i, x1: 4 * i + width, y1: 2 * i + height }));
}

async function ffmpeg(args: string[]): Promise<void> {
  const run = await runFfmpeg(['-loglevel', 'error', '-y', ...args]);
  if (run.code !== 0) throw new Error(`ffmpeg failed: ${lastLines(run.stderr, 6)}`);
}

/** Encodes frames with libx264 CRF 28 yuv420p, then decodes them to RGB, optionally through scale=iw/2:ih/2. */
async function throughH264(dir: string, frames: Image[], halve: boolean): Promise<Image[]> {
  const { width, height } = frames[0]!;
  const raw = join(dir, `in-${width}x${height}.rgb`);
  const clip = join(dir, `clip-${width}x${height}.mp4`);
  const decoded = join(dir, `out-${width}x${height}-${halve ? 'half' : 'full'}.rgb`);
  await writeFile(raw, Buffer.concat(frames.map((f) => Buffer.from(f.data.buffer, f.data.byteOffset, f.data.length))));
  await ffmpeg([
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-s',
    `${width}x${height}`,
    '-r',
    '25',
    '-i',
    fileUrlArg(raw),
    '-c:v',
    'libx264',
    '-crf',
    '28',
    '-preset',
    'veryfast',
    '-pix_fmt',
    'yuv420p',
    fileUrlArg(clip),
  ]);
  await ffmpeg(['-i', fileUrlArg(clip), ...(halve ? ['-vf', 'scale=iw/2:ih/2'] : []), '-f', 'rawvideo', '-pix_fmt', 'rgb24', fileUrlArg(decoded)]);
  const bytes = await readFile(decoded);
  const w = halve ? width / 2 : width;
  const h = halve ? height / 2 : height;
  const size = w * h * 3;
  assert.equal(bytes.length, size * frames.length, 'every frame comes back');
  return frames.map((_, i) => ({ width: w, height: h, channels: 3, data: new Uint8ClampedArray(bytes.buffer, bytes.byteOffset + i * size, size) }));
}

describe('the label font', () => {
  it('has a distinct glyph for every printable ASCII character, blank only for the space', () => {
    assert.equal(FONT_CHARS.length, 95);
    const seen = new Map<string, string>();
    for (const char of FONT_CHARS) {
      const key = Array.from(glyphBits(char)).join('');
      assert.equal(seen.get(key), undefined, `${JSON.stringify(char)} looks like ${JSON.stringify(seen.get(key))}`);
      seen.set(key, char);
      assert.equal(glyphBits(char).length, GLYPH_COLUMNS * GLYPH_ROWS);
      assert.equal(key.includes('1'), char !== ' ', `ink of ${JSON.stringify(char)}`);
    }
  });
});

describe('checkLabelText', () => {
  it('trims and accepts 1..40 printable ASCII characters', () => {
    assert.equal(checkLabelText('  AI-generated \n'), 'AI-generated');
    assert.equal(checkLabelText('x'.repeat(40)), 'x'.repeat(40));
    assert.equal(checkLabelText('~!@#$%^&*()_+{}|:"<>?`'), '~!@#$%^&*()_+{}|:"<>?`');
  });
  it('rejects empty, too long, non-ASCII and control characters with usage errors', () => {
    assert.throws(() => checkLabelText(''), isUsageError(/empty/));
    assert.throws(() => checkLabelText('   '), isUsageError(/empty/));
    assert.throws(() => checkLabelText('x'.repeat(41)), isUsageError(/41 characters; the most is 40/));
    assert.throws(() => checkLabelText('Généré par IA'), isUsageError(/printable ASCII.*U\+00E9 at position 2/));
    assert.throws(() => checkLabelText('AI\tgenerated'), isUsageError(/U\+0009/));
    assert.throws(() => checkLabelText('AI 🤖'), isUsageError(/printable ASCII.*U\+1F916 at position 4/));
  });
});

describe('labelLayout', () => {
  for (const [width, height] of SIZES) {
    it(`puts a label at least 3 % of the height inside a ${width}x${height} frame, in every corner`, () => {
      for (const corner of LABEL_CORNERS) {
        const { box } = labelLayout(width, height, { corner });
        assert.ok(box.y1 - box.y0 >= MIN_LABEL_HEIGHT_FRACTION * height, `${corner}: ${box.y1 - box.y0} px tall`);
        assert.ok(box.x0 >= 0 && box.y0 >= 0 && box.x1 <= width && box.y1 <= height && box.x1 > box.x0, `${corner}: ${JSON.stringify(box)}`);
        const margin = 0.015 * height;
        assert.ok(Math.abs((corner.endsWith('left') ? box.x0 : width - box.x1) - margin) <= 1, `${corner}: x margin`);
        assert.ok(Math.abs((corner.startsWith('top') ? box.y0 : height - box.y1) - margin) <= 1, `${corner}: y margin`);
      }
    });
  }
  it('is 4.5 % of the height by default and scales with the frame', () => {
    assert.equal(DEFAULT_LABEL_OPTIONS.heightFraction, 0.045);
    const big = labelLayout(1280, 720);
    const half = labelLayout(640, 360);
    assert.equal(big.box.y1 - big.box.y0, Math.round(0.045 * 720));
    assert.ok(Math.abs(big.textX / 2 - half.textX) < 1e-9 && Math.abs(big.unitY / 2 - half.unitY) < 1e-9);
  });
  it('condenses text too wide for the frame but keeps it at least 3 % tall, and names the most that fits', () => {
    const long = 'x'.repeat(40);
    const layout = labelLayout(200, 150, { text: long });
    assert.ok(layout.box.x1 - layout.box.x0 <= 0.9 * 200 + 1);
    assert.ok(layout.box.y1 - layout.box.y0 >= 0.03 * 150);
    assert.ok(layout.unitX < layout.unitY);
    assert.throws(() => labelLayout(100, 1000), isUsageError(/does not fit a 100x1000 frame.*the most that fits is 8 characters/));
  });
  it('rejects a height under 3 % and unknown corners', () => {
    assert.throws(() => labelLayout(640, 360, { heightFraction: 0.02 }), isUsageError(/height fraction/));
    assert.throws(() => labelLayout(640, 360, { corner: 'middle' as never }), isUsageError(/bottom-right, bottom-left, top-right, top-left/));
  });
});

describe('drawLabel', () => {
  let photo: Image;
  before(async () => {
    photo = await clipFrame('astronaut.png', 1280, 720);
  });

  it('changes only pixels inside its box, and reads back exactly', () => {
    for (const corner of LABEL_CORNERS) {
      const image = cloneImage(photo);
      const box = drawLabel(image, { corner });
      assert.deepEqual(box, labelLayout(1280, 720, { corner }).box);
      const changed = changedPixels(photo, image, box);
      assert.equal(changed.outside, 0);
      assert.ok(changed.inside > 0.8 * (box.x1 - box.x0) * (box.y1 - box.y0), `${changed.inside} changed inside`);
      assert.deepEqual(readLabel(image, { corner }), { text: DEFAULT_LABEL_TEXT, confidence: readLabel(image, { corner }).confidence, box });
      assert.ok(readLabel(image, { corner }).confidence > 0.95);
    }
  });

  it('reads custom texts back exactly, at full and small sizes', async () => {
    for (const [width, height] of SIZES) {
      const frame = await clipFrame('grace_hopper.jpg', width, height);
      for (const text of [DEFAULT_LABEL_TEXT, ...CUSTOM_TEXTS]) {
        const image = cloneImage(frame);
        drawLabel(image, { text, corner: 'top-left' });
        assert.equal(readLabel(image, { text, corner: 'top-left' }).text, text, `${width}x${height}`);
      }
    }
  });

  it('sets alpha to 255 inside the box of an RGBA frame and leaves it elsewhere', () => {
    const rgba = cloneImage(toRgba(photo));
    for (let i = 3; i < rgba.data.length; i += 4) rgba.data[i] = 7;
    const box = drawLabel(rgba);
    let inside = 0;
    let outside = 0;
    for (let y = 0; y < rgba.height; y++) {
      for (let x = 0; x < rgba.width; x++) {
        const a = rgba.data[(y * rgba.width + x) * 4 + 3];
        if (x >= box.x0 && x < box.x1 && y >= box.y0 && y < box.y1) inside += a === 255 ? 1 : 0;
        else outside += a === 7 ? 1 : 0;
      }
    }
    assert.equal(inside, (box.x1 - box.x0) * (box.y1 - box.y0));
    assert.equal(outside, rgba.width * rgba.height - inside);
    assert.equal(readLabel(rgba).text, DEFAULT_LABEL_TEXT);
  });

  it('draws on grey images', () => {
    const grey = toGrey(photo);
    const before = cloneImage(grey);
    const box = drawLabel(grey, { corner: 'bottom-left', text: 'Synthetic media' });
    assert.equal(changedPixels(before, grey, box).outside, 0);
    assert.equal(readLabel(grey, { corner: 'bottom-left', text: 'Synthetic media' }).text, 'Synthetic media');
  });

  it('gives every frame of a size the same label', () => {
    const a = cloneImage(photo);
    const b = cloneImage(photo);
    drawLabel(a);
    drawLabel(b);
    assert.deepEqual(a.data, b.data);
  });
});

describe('legibility after re-encoding', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveswap-label-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const [width, height, photo] of [
    [1920, 1080, 'grace_hopper.jpg'],
    [1280, 720, 'astronaut.png'],
  ] as const) {
    it(`reads every frame of a ${width}x${height} H.264 CRF 28 clip, and of its 0.5x downscale`, async () => {
      const frames = await panFrames(photo, width, height, 10);
      for (const frame of frames) drawLabel(frame);
      for (const halve of [false, true]) {
        for (const [i, frame] of (await throughH264(dir, frames, halve)).entries()) {
          const reading = readLabel(frame);
          assert.equal(reading.text, DEFAULT_LABEL_TEXT, `frame ${i}, ${frame.width}x${frame.height}`);
          assert.ok(reading.confidence > 0.8, `frame ${i}, ${frame.width}x${frame.height}: confidence ${reading.confidence}`);
          const found = findLabel(frame);
          assert.equal(found?.corner, 'bottom-right', `frame ${i}, ${frame.width}x${frame.height}: found ${JSON.stringify(found)}`);
        }
      }
    });
  }

  it('reads every character of the font after a 0.5x resize and JPEG quality 75 (no look-alikes)', async () => {
    const frame = await clipFrame('astronaut.png', 1280, 720);
    const ink = FONT_CHARS.slice(1).join('');
    for (const text of [ink.slice(0, 32), ink.slice(32, 64), ink.slice(64)]) {
      const image = cloneImage(frame);
      drawLabel(image, { text });
      const attacked = await decodeRgb(
        await sharp(await encodePng(image))
          .resize(640, 360)
          .jpeg({ quality: 75 })
          .toBuffer(),
      );
      assert.equal(readLabel(attacked, { text }).text, text);
    }
  });

  it('reads a custom text after JPEG quality 75 and a 0.5x resize, either order', async () => {
    const image = await clipFrame('camera.png', 1280, 720);
    const text = 'Made with liveswap 0.1';
    drawLabel(image, { text, corner: 'top-right' });
    const png = await encodePng(image);
    const jpegThenHalf = await decodeRgb(
      await sharp(await sharp(png).jpeg({ quality: 75 }).toBuffer())
        .resize(640, 360)
        .png()
        .toBuffer(),
    );
    const halfThenJpeg = await decodeRgb(await sharp(png).resize(640, 360).jpeg({ quality: 75 }).toBuffer());
    for (const attacked of [jpegThenHalf, halfThenJpeg]) {
      const reading = readLabel(attacked, { text, corner: 'top-right' });
      assert.equal(reading.text, text);
      assert.ok(reading.confidence > 0.8, `confidence ${reading.confidence}`);
      assert.equal(findLabel(attacked, text)?.corner, 'top-right');
    }
  });
});

describe('findLabel', () => {
  it('finds nothing on unlabelled photos and frames', async () => {
    const unlabelled: Image[] = [createImage(640, 360, 3), createImage(320, 240, 1)];
    for (const photo of PHOTOS) {
      unlabelled.push(await decodeRgb(join('test/fixtures/faces', photo)));
      for (const [width, height] of SIZES) unlabelled.push(await clipFrame(photo, width, height));
      unlabelled.push(await framedPhoto(photo, 1280, 720));
    }
    for (const image of unlabelled) {
      const found = findLabel(image);
      assert.equal(found, undefined, `${image.width}x${image.height}: ${JSON.stringify(found)}`);
      for (const corner of LABEL_CORNERS) assert.ok(readLabel(image, { corner }).confidence < 0.3, `${image.width}x${image.height} ${corner}`);
    }
  });

  it('finds the corner and text of a labelled frame', async () => {
    const frame = await framedPhoto('grace_hopper.jpg', 960, 540);
    for (const corner of LABEL_CORNERS) {
      const image = cloneImage(frame);
      drawLabel(image, { corner });
      const found = findLabel(image);
      assert.equal(found?.corner, corner);
      assert.equal(found?.text, DEFAULT_LABEL_TEXT);
      assert.ok(found.confidence > 0.9);
    }
    const custom = cloneImage(frame);
    drawLabel(custom, { text: 'Synthetic media', corner: 'top-left' });
    assert.deepEqual([findLabel(custom, 'Synthetic media')?.corner, findLabel(custom, 'Synthetic media')?.text], ['top-left', 'Synthetic media']);
  });

  it('returns undefined when the text cannot fit the frame, and rejects bad text', () => {
    assert.equal(findLabel(createImage(40, 400, 3)), undefined);
    assert.throws(() => findLabel(createImage(64, 64, 3), ''), isUsageError(/empty/));
  });
});
