/**
 * The frame stamp of a WHIP session that asks for it (`stamp=1`): a number written in a stripe of
 * rows under each picture. The client writes its frame's number under each frame it sends; the
 * server reads it, takes the stripe off, and writes the same number under its answer. So the
 * client knows which of its frames each picture coming back answers, and can keep more than one
 * frame on its way. It also tells repeats apart: the server sends its latest answer again every
 * 100 ms until the next (an encoder may hold a lone frame back), and without a mark a repeat that
 * reaches the client after it sent its next frame would be taken as that frame's answer (the
 * previous picture shown again, and the real answer taken for the frame after).
 *
 * The stripe is {@link stampRows} rows of {@link STAMP_BITS} cells across the picture's width,
 * each black (0) or white (1), most significant bit first: blocks that large survive any video
 * codec's compression. It is read from the cells' middles; a cell that is neither clearly dark nor
 * clearly light makes the stamp unreadable rather than wrong.
 */

/** Bits of the stamp: answers are numbered modulo 2^STAMP_BITS. */
export const STAMP_BITS = 8;
/** Stamps run from 0 to STAMP_MODULUS − 1 and start over. */
export const STAMP_MODULUS = 1 << STAMP_BITS;
/** Luma of a 0 and a 1 (video range), and the readings that count as clearly one or the other. */
const DARK = 16;
const LIGHT = 235;
const READ_DARK = 90;
const READ_LIGHT = 160;

/** Columns [start, end) of cell `k` of a stripe `width` pixels wide. */
export function stampCell(k: number, width: number): [number, number] {
  return [Math.floor((k * width) / STAMP_BITS), Math.floor(((k + 1) * width) / STAMP_BITS)];
}

/** Bit `k` (cell `k`, most significant first) of stamp `value`, taken modulo 2^STAMP_BITS. */
export function stampBit(value: number, k: number): boolean {
  const bits = ((value % STAMP_MODULUS) + STAMP_MODULUS) % STAMP_MODULUS;
  return ((bits >> (STAMP_BITS - 1 - k)) & 1) === 1;
}

/** The narrowest picture that can carry a stamp (cells of at least 4 pixels). */
export const STAMP_MIN_WIDTH = 4 * STAMP_BITS;

/**
 * Rows of the stripe under a picture `width` pixels wide: a 40th of the width (16 at 640), even (an
 * I420 picture's chroma stays aligned), at least 8. Tied to the width, it scales with the picture:
 * a WebRTC encoder may send a smaller picture than it was given (to fit its bandwidth or CPU), and
 * the side that reads the stamp finds the stripe's rows from the width it received.
 */
export function stampRows(width: number): number {
  return Math.max(8, 2 * Math.round(width / 80));
}

/**
 * Writes `value` (modulo 2^STAMP_BITS) into `luma`, the stripe's rows (`width` bytes each,
 * {@link stampRows} of them); undefined writes a grey stripe, which reads as no stamp.
 */
export function writeStamp(luma: Uint8Array, width: number, value: number | undefined): void {
  const rows = stampRows(width);
  if (value === undefined) {
    luma.fill(128, 0, width * rows);
    return;
  }
  for (let k = 0; k < STAMP_BITS; k++) {
    const level = stampBit(value, k) ? LIGHT : DARK;
    const [a, b] = stampCell(k, width);
    for (let y = 0; y < rows; y++) luma.fill(level, y * width + a, y * width + b);
  }
}

/**
 * Reads a stamp from the stripe's pixels ({@link stampRows} rows): row `y` of the stripe starts at `y × stride`, and pixel
 * `x` of a row is at `x × step + offset` (a luma plane: step 1; RGB(A): step 3 or 4, read from the
 * green byte, which follows luma closely on black and white). Undefined when a cell is unclear.
 */
export function readStamp(pixels: ArrayLike<number>, width: number, stride: number, step = 1, offset = step === 1 ? 0 : 1): number | undefined {
  if (width < STAMP_MIN_WIDTH) return undefined;
  const rows = stampRows(width);
  let value = 0;
  for (let k = 0; k < STAMP_BITS; k++) {
    const [a, b] = stampCell(k, width);
    const quarter = (b - a) >> 2;
    let sum = 0;
    let n = 0;
    // The middle half of the cell, across the middle half of the rows: its edges blur in coding.
    for (let y = rows >> 2; y < rows - (rows >> 2); y++) {
      for (let x = a + quarter; x < b - quarter; x++) {
        sum += pixels[y * stride + x * step + offset]!;
        n++;
      }
    }
    const mean = sum / n;
    if (mean > READ_DARK && mean < READ_LIGHT) return undefined;
    value = (value << 1) | (mean >= READ_LIGHT ? 1 : 0);
  }
  return value;
}
