/**
 * Still-image files in and out through sharp (libvips). Inputs are checked by content, size-limited
 * (in bytes before they are read whole, in pixels before any pixel is decoded), and always come
 * back as 8-bit RGB in display orientation.
 */

import { extname } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { invalidOption, LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import { formatBytes, GIB, KIB, MIB, openInput } from '../files/input-file.js';
import { writeFileAtomically } from '../files/output.js';

/** Formats accepted as input, as sharp's metadata names them. */
export const INPUT_FORMATS = ['jpeg', 'png', 'webp'] as const;
/** Output file extensions and the format each one writes. */
export const OUTPUT_FORMATS = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.png': 'png', '.webp': 'webp' } as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[keyof typeof OUTPUT_FORMATS];

export const DEFAULT_QUALITY = 92;

export interface ReadImageOptions {
  /** Refuse images with more pixels than this (checked from the header, before decoding). */
  maxPixels: number;
}

/** Bytes a compressed image file may take per pixel: more than any JPEG, PNG or WebP needs (a 16-bit RGBA PNG stored without compression takes 8). */
export const IMAGE_BYTES_PER_PIXEL = 16;
/** Room beyond the pixels for metadata (EXIF, ICC, XMP) and appended data (a motion photo's clip). */
export const IMAGE_SLACK_BYTES = 64 * MIB;
/** No image file is read past this, whatever the pixel limit. */
export const IMAGE_MAX_BYTES = 2 * GIB;
/** The first read of an image: enough for the header of nearly every file; more is read only if the header needs it. */
const HEADER_BYTES = 256 * KIB;

/**
 * The largest image file worth reading for `pixels` pixels: {@link IMAGE_BYTES_PER_PIXEL} a pixel
 * plus {@link IMAGE_SLACK_BYTES}, at most {@link IMAGE_MAX_BYTES}. With the default --max-pixels
 * (50M) that is 827 MiB; anything larger is not a photo liveswap could accept.
 */
export function imageFileLimit(pixels: number): number {
  return Math.min(IMAGE_MAX_BYTES, IMAGE_BYTES_PER_PIXEL * pixels + IMAGE_SLACK_BYTES);
}

function describeFormat(format: string | undefined): string {
  return format === undefined ? 'an unknown format' : `${format.toUpperCase()}`;
}

function checkMaxPixels(maxPixels: number): void {
  if (typeof maxPixels !== 'number' || !(maxPixels >= 1)) throw invalidOption('maxPixels', 'a number ≥ 1', maxPixels);
}

function isUnsupported(cause: unknown): boolean {
  return /unsupported image format/i.test(cause instanceof Error ? cause.message : '');
}

function unsupported(path: string, cause: unknown): LiveswapError {
  return new LiveswapError('input-unsupported', `${path} is not an image liveswap can read. Use a JPEG, PNG or WebP file.`, { file: path, cause });
}

/** The header's facts, from the bytes of a whole file. */
async function readHeader(bytes: Buffer, path: string): Promise<Metadata> {
  try {
    return await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (cause) {
    throw isUnsupported(cause) ? unsupported(path, cause) : new LiveswapError('input-unreadable', `Cannot read ${path}: the image header is damaged.`, { file: path, cause });
  }
}

/** The format and pixel-limit checks on a header, before any pixel is decoded. */
function checkHeader(metadata: Metadata, path: string, maxPixels: number): void {
  if (!(INPUT_FORMATS as readonly string[]).includes(metadata.format)) {
    throw new LiveswapError('input-unsupported', `${path} is ${describeFormat(metadata.format)}, which liveswap does not accept. Convert it to JPEG, PNG or WebP.`, {
      file: path,
    });
  }
  const pixels = metadata.width * metadata.height;
  if (pixels > maxPixels) {
    throw new LiveswapError(
      'input-too-large',
      `${path} is ${metadata.width}×${metadata.height} (${pixels} pixels), over the limit of ${maxPixels}. Scale it down or raise the limit (--max-pixels).`,
      { file: path },
    );
  }
}

/**
 * Reads an image file as 8-bit RGB: alpha is dropped, greyscale becomes RGB, and EXIF orientation
 * is applied so the pixels are the way a viewer shows them.
 *
 * The file is never read whole before it has passed every cheap check: it must be a regular file
 * (a FIFO, device or folder is `input-unreadable` at once, see {@link checkInputFile}) no larger
 * than {@link imageFileLimit} of `maxPixels` (`input-too-large`); its header, read from the first
 * bytes, must name an accepted format within `maxPixels`; and the file must be no larger than
 * {@link imageFileLimit} of the pixels its header states (`input-unreadable`: a small image
 * followed by gigabytes of something else is not a photo). Only then is the rest read, up to the
 * size the file had when opened. (A header sharp cannot read from the first 256 KiB, as with any
 * larger WebP, is looked for in 16 times as much, and so on up to the whole file: never more than
 * the byte cap.)
 */
export async function readImage(path: string, options: ReadImageOptions): Promise<Image> {
  const { maxPixels } = options;
  checkMaxPixels(maxPixels);
  const limit = imageFileLimit(maxPixels);
  const file = await openInput(path, 'image', {
    maxBytes: limit,
    tooLargeHint:
      limit < IMAGE_MAX_BYTES
        ? `No JPEG, PNG or WebP within the limit of ${maxPixels} pixels needs that much (${IMAGE_BYTES_PER_PIXEL} bytes a pixel + ${formatBytes(IMAGE_SLACK_BYTES)}); if it really is an image that large, raise the limit (--max-pixels).`
        : `liveswap reads no image file over ${formatBytes(IMAGE_MAX_BYTES)}.`,
  });
  try {
    let wanted = Math.min(HEADER_BYTES, file.size);
    let head = await file.read(0, wanted);
    let metadata: Metadata | undefined;
    // Until the header is read, or the whole file is (then it is decoded as it is; so is a file that shrank).
    while (wanted < file.size && head.length === wanted) {
      try {
        metadata = await sharp(head, { limitInputPixels: false }).metadata();
        break;
      } catch (cause) {
        // The first bytes decide the format: an unknown one stays unknown however much is read.
        if (isUnsupported(cause)) throw unsupported(path, cause);
        // The header runs past what was read (large EXIF or ICC segments; sharp reads a WebP's
        // size only from the whole file): read more, up to the whole file, within the byte cap.
        wanted = Math.min(wanted * 16, file.size);
        head = await file.read(0, wanted);
      }
    }
    if (metadata === undefined) return await decodeImage(head, path, options);
    checkHeader(metadata, path, maxPixels);
    const needed = imageFileLimit(metadata.width * metadata.height);
    if (file.size > needed) {
      throw new LiveswapError(
        'input-unreadable',
        `Cannot read ${path}: the file is ${formatBytes(file.size)}, far more than a ${metadata.width}×${metadata.height} ${describeFormat(metadata.format)} needs (at most ${formatBytes(needed)}); it holds something besides the image, or is damaged.`,
        { file: path },
      );
    }
    return await decodeImage(await file.readAll(), path, options);
  } finally {
    await file.close();
  }
}

/**
 * Decodes the bytes of a JPEG, PNG or WebP file as {@link readImage} does; `path` names them in
 * messages (a file path, or a label such as "upload").
 */
export async function decodeImage(bytes: Buffer, path: string, options: ReadImageOptions): Promise<Image> {
  const { maxPixels } = options;
  checkMaxPixels(maxPixels);
  if (bytes.length === 0) {
    throw new LiveswapError('input-unreadable', `Cannot read ${path}: the file is empty.`, { file: path });
  }
  const metadata = await readHeader(bytes, path);
  checkHeader(metadata, path, maxPixels);

  try {
    // failOn 'error' rejects truncated and corrupt data (the default 'none' would return grey rows).
    const { data, info } = await sharp(bytes, { failOn: 'error', limitInputPixels: Math.min(Math.floor(maxPixels), Number.MAX_SAFE_INTEGER) })
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
    return {
      width: info.width,
      height: info.height,
      channels: 3,
      data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.length),
    };
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    if (/pixel limit/i.test(detail)) {
      throw new LiveswapError('input-too-large', `${path} is over the limit of ${maxPixels} pixels. Scale it down or raise the limit (--max-pixels).`, { file: path, cause });
    }
    throw new LiveswapError('input-unreadable', `Cannot decode ${path}: the ${describeFormat(metadata.format)} data is corrupt or truncated.`, {
      file: path,
      cause,
    });
  }
}

/** The output format for a path, from its extension; a `usage` error lists the choices otherwise. */
export function outputFormatFor(path: string): OutputFormat {
  const ext = extname(path).toLowerCase();
  const format = (OUTPUT_FORMATS as Record<string, OutputFormat | undefined>)[ext];
  if (format === undefined) {
    const choices = Object.keys(OUTPUT_FORMATS).join(', ');
    const got = ext === '' ? 'no extension' : `"${ext}"`;
    throw new LiveswapError('usage', `Cannot tell the image format of the output ${path} (${got}). End the name with one of ${choices}.`, {
      file: path,
    });
  }
  return format;
}

export interface WriteImageOptions {
  /** 1..100 for JPEG and WebP; ignored for PNG. */
  quality?: number;
}

/** Encodes an image to the bytes of a file format, without touching the disk. */
export async function encodeImage(image: Image, format: OutputFormat, options: WriteImageOptions = {}): Promise<Buffer> {
  const quality = options.quality ?? DEFAULT_QUALITY;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new LiveswapError('usage', `Expected a whole number between 1 and 100 for quality but received ${JSON.stringify(quality)}`);
  }
  const raw = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const pipeline = sharp(raw, { raw: { width: image.width, height: image.height, channels: image.channels } });
  switch (format) {
    case 'jpeg':
      return pipeline.jpeg({ quality }).toBuffer();
    case 'png':
      return pipeline.png().toBuffer();
    case 'webp':
      return pipeline.webp({ quality }).toBuffer();
  }
}

/**
 * Writes an image, choosing the format from the extension. The file appears complete or not at
 * all: it is written under a temporary name in the same folder, then renamed.
 */
export async function writeImage(path: string, image: Image, options: WriteImageOptions = {}): Promise<void> {
  const format = outputFormatFor(path);
  const bytes = await encodeImage(image, format, options);
  await writeFileAtomically(path, bytes);
}
