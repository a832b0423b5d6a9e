/**
 * Still-image files in and out through sharp (libvips). Inputs are checked by content, size-limited
 * before any pixel is decoded, and always come back as 8-bit RGB in display orientation.
 */

import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { invalidOption, LiveswapError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
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

function fileError(path: string, cause: unknown): LiveswapError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') {
    return new LiveswapError('input-missing', `Cannot find ${path}: no such file. Check the path.`, { file: path, cause });
  }
  if (code === 'EISDIR') {
    return new LiveswapError('input-unreadable', `Cannot read ${path}: it is a folder, not an image file.`, { file: path, cause });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new LiveswapError('input-unreadable', `Cannot read ${path}: permission denied.`, { file: path, cause });
  }
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new LiveswapError('input-unreadable', `Cannot read ${path}: ${detail}`, { file: path, cause });
}

function describeFormat(format: string | undefined): string {
  return format === undefined ? 'an unknown format' : `${format.toUpperCase()}`;
}

/**
 * Reads an image file as 8-bit RGB: alpha is dropped, greyscale becomes RGB, and EXIF orientation
 * is applied so the pixels are the way a viewer shows them.
 */
export async function readImage(path: string, options: ReadImageOptions): Promise<Image> {
  const { maxPixels } = options;
  if (typeof maxPixels !== 'number' || !(maxPixels >= 1)) throw invalidOption('maxPixels', 'a number ≥ 1', maxPixels);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw fileError(path, cause);
  }
  return decodeImage(bytes, path, options);
}

/**
 * Decodes the bytes of a JPEG, PNG or WebP file as {@link readImage} does; `path` names them in
 * messages (a file path, or a label such as "upload").
 */
export async function decodeImage(bytes: Buffer, path: string, options: ReadImageOptions): Promise<Image> {
  const { maxPixels } = options;
  if (bytes.length === 0) {
    throw new LiveswapError('input-unreadable', `Cannot read ${path}: the file is empty.`, { file: path });
  }

  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (cause) {
    const unsupported = /unsupported image format/i.test(cause instanceof Error ? cause.message : '');
    throw unsupported
      ? new LiveswapError('input-unsupported', `${path} is not an image liveswap can read. Use a JPEG, PNG or WebP file.`, { file: path, cause })
      : new LiveswapError('input-unreadable', `Cannot read ${path}: the image header is damaged.`, { file: path, cause });
  }
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
