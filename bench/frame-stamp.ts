/**
 * A frame number painted into a picture's top-left corner and read back after the swap, the marks,
 * an encoder and a transport: 16 bits as a 4×4 grid of 16×16 blocks (white: 1, black: 0), aligned
 * to the encoders' macroblocks so that lossy coding leaves them readable. A block whose centre is
 * neither clearly dark nor clearly light makes the picture unreadable rather than misread.
 * Used by bench:stream (painted in Node, read in Node from grey pixels and in the page from RGBA).
 */

import type { Image } from '../src/core/image.js';

/** Bits of the number (it is taken modulo 2^BITS). */
export const STAMP_BITS = 16;
/** Blocks per row of the grid. */
export const STAMP_COLUMNS = 4;
/** Side of a block (pixels). */
export const STAMP_BLOCK = 16;
/** Side of the stamped square (pixels). */
export const STAMP_SIZE = STAMP_COLUMNS * STAMP_BLOCK;

/** Paints `n` (modulo 2^16) into the image's top-left STAMP_SIZE square, in place. */
export function paintStamp(image: Image, n: number): void {
  const { width, channels, data } = image;
  for (let bit = 0; bit < STAMP_BITS; bit++) {
    const value = (n >> bit) & 1 ? 255 : 0;
    const x0 = (bit % STAMP_COLUMNS) * STAMP_BLOCK;
    const y0 = Math.floor(bit / STAMP_COLUMNS) * STAMP_BLOCK;
    for (let y = y0; y < y0 + STAMP_BLOCK; y++) {
      for (let x = x0; x < x0 + STAMP_BLOCK; x++) {
        const o = (y * width + x) * channels;
        for (let c = 0; c < Math.min(3, channels); c++) data[o + c] = value;
      }
    }
  }
}

/**
 * The number in a STAMP_SIZE square of light values (`light(x, y)`, 0..255), or undefined when a
 * block's centre is between 64 and 192 (the stamp is hidden or damaged).
 */
export function readStamp(light: (x: number, y: number) => number): number | undefined {
  let n = 0;
  for (let bit = 0; bit < STAMP_BITS; bit++) {
    const v = light((bit % STAMP_COLUMNS) * STAMP_BLOCK + STAMP_BLOCK / 2, Math.floor(bit / STAMP_COLUMNS) * STAMP_BLOCK + STAMP_BLOCK / 2);
    if (v > 64 && v < 192) return undefined;
    if (v >= 192) n |= 1 << bit;
  }
  return n;
}

/** readStamp for a page script: `(pixels, width) => number | -1`, pixels RGBA of a square from the top-left corner. */
export const READ_STAMP_SCRIPT = `(pixels, width) => {
  let n = 0;
  for (let bit = 0; bit < ${STAMP_BITS}; bit++) {
    const x = (bit % ${STAMP_COLUMNS}) * ${STAMP_BLOCK} + ${STAMP_BLOCK / 2};
    const y = Math.floor(bit / ${STAMP_COLUMNS}) * ${STAMP_BLOCK} + ${STAMP_BLOCK / 2};
    const o = (y * width + x) * 4;
    const v = (pixels[o] + pixels[o + 1] + pixels[o + 2]) / 3;
    if (v > 64 && v < 192) return -1;
    if (v >= 192) n |= 1 << bit;
  }
  return n;
}`;
