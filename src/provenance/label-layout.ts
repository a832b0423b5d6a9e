/**
 * Where the provenance label goes and what it says, shared by the side that draws it
 * (label-draw.ts) and the side that reads it back (label-read.ts): the options and their checks,
 * the layout for a frame size, and the exact-coverage rendering of the bitmap font.
 */

import { invalidOption, LiveswapError } from '../core/errors.js';
import { GLYPH_ADVANCE, GLYPH_COLUMNS, GLYPH_ROWS, glyphBits } from './font.js';

export const DEFAULT_LABEL_TEXT = 'AI-generated';
export const MIN_LABEL_HEIGHT_FRACTION = 0.03;
export const MAX_LABEL_HEIGHT_FRACTION = 0.25;
export const MAX_LABEL_LENGTH = 40;

export const LABEL_CORNERS = ['bottom-right', 'bottom-left', 'top-right', 'top-left'] as const;
export type LabelCorner = (typeof LABEL_CORNERS)[number];

export interface LabelOptions {
  /** 1..40 printable ASCII characters (trimmed). */
  text: string;
  corner: LabelCorner;
  /** Label box height as a fraction of frame height; default 0.045, never below 0.03. */
  heightFraction: number;
}

export const DEFAULT_LABEL_OPTIONS: LabelOptions = Object.freeze({ text: DEFAULT_LABEL_TEXT, corner: 'bottom-right', heightFraction: 0.045 });

/** A rectangle in frame pixels, x1/y1 exclusive. */
export interface LabelBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Where and how big a label is drawn on a frame of one size. Font units are the pixels of the
 * 5×9 font; `textX`/`textY` and the unit sizes are fractional frame pixels, so the label scales
 * exactly with the frame (a 0.5× downscaled frame has the layout of its own size).
 */
export interface LabelLayout {
  readonly frameWidth: number;
  readonly frameHeight: number;
  readonly text: string;
  readonly corner: LabelCorner;
  /** The box height over the frame height, after any shrinking to fit the width. */
  readonly heightFraction: number;
  /** The box in whole frame pixels; nothing outside it is changed. */
  readonly box: LabelBox;
  /** Top-left corner of the first character cell (row 0 of the font), frame pixels. */
  readonly textX: number;
  readonly textY: number;
  /** Frame pixels per font unit: across (narrowed when the text had to be condensed) and down. */
  readonly unitX: number;
  readonly unitY: number;
  /** Corner radius of the box, frame pixels. */
  readonly radius: number;
}

/** Box height in font units: 2.5 above the capitals, 7 of capitals, 2 of descenders, 0.5 below. */
const BOX_ROWS = 12;
const TEXT_TOP = 2.5;
/** Padding left and right of the text, in vertical font units. */
const PAD_X = 3;
const RADIUS_FRACTION = 0.2;
const MARGIN_FRACTION = 0.015;
/** Below this a label cannot be read at all, so small frames get a taller (still >= 3 %) label. */
const MIN_BOX_PIXELS = 13;
const MAX_WIDTH_FRACTION = 0.9;
/** The narrowest the text is condensed (width over height of a font unit) before it is made shorter. */
const MIN_CONDENSE = 0.6;

/** Validates and normalises user text: trimmed, 1..40 printable ASCII characters. */
export function checkLabelText(text: string): string {
  if (typeof text !== 'string') throw invalidOption('the label text', 'a string', text);
  const trimmed = text.trim();
  if (trimmed === '') throw new LiveswapError('usage', 'The label text is empty: give 1 to 40 printable ASCII characters, e.g. "AI-generated".');
  if (trimmed.length > MAX_LABEL_LENGTH) {
    throw new LiveswapError('usage', `The label text has ${trimmed.length} characters; the most is ${MAX_LABEL_LENGTH}: ${JSON.stringify(trimmed)}`);
  }
  const chars = Array.from(trimmed);
  for (const [i, char] of chars.entries()) {
    const code = char.codePointAt(0)!;
    if (code < 32 || code > 126) {
      const hex = code.toString(16).toUpperCase().padStart(4, '0');
      throw new LiveswapError(
        'usage',
        `The label text may only hold printable ASCII (letters, digits, spaces, punctuation); it has U+${hex} at position ${i + 1}: ${JSON.stringify(trimmed)}`,
      );
    }
  }
  return trimmed;
}

/** Options filled in with the defaults and checked once. */
export function labelOptions(options: Partial<LabelOptions> = {}): LabelOptions {
  const corner = options.corner ?? DEFAULT_LABEL_OPTIONS.corner;
  if (!LABEL_CORNERS.includes(corner)) throw invalidOption('the label corner', `one of ${LABEL_CORNERS.join(', ')}`, corner);
  const heightFraction = options.heightFraction ?? DEFAULT_LABEL_OPTIONS.heightFraction;
  if (typeof heightFraction !== 'number' || !(heightFraction >= MIN_LABEL_HEIGHT_FRACTION && heightFraction <= MAX_LABEL_HEIGHT_FRACTION)) {
    throw invalidOption('the label height fraction', `a number from ${MIN_LABEL_HEIGHT_FRACTION} to ${MAX_LABEL_HEIGHT_FRACTION}`, heightFraction);
  }
  return { text: checkLabelText(options.text ?? DEFAULT_LABEL_OPTIONS.text), corner, heightFraction };
}

/** Box width in vertical font units for `length` characters condensed by `condense`. */
function widthUnits(length: number, condense: number): number {
  return (length * GLYPH_ADVANCE - 1) * condense + 2 * PAD_X;
}

/**
 * Where the label goes on a frame of this size: pure geometry, the same every frame. Text too
 * wide for 90 % of the frame is condensed (down to 0.6 of its width), then made shorter (never
 * below 3 % of the frame height); text that still does not fit is a usage error.
 */
export function labelLayout(width: number, height: number, options: Partial<LabelOptions> = {}): LabelLayout {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw invalidOption('the frame size', 'positive whole numbers', `${width}x${height}`);
  }
  const { text, corner, heightFraction } = labelOptions(options);
  const minHeight = MIN_LABEL_HEIGHT_FRACTION * height;
  let boxHeight = Math.min(Math.max(heightFraction * height, MIN_BOX_PIXELS), Math.max(heightFraction * height, 0.5 * height));
  const maxWidth = MAX_WIDTH_FRACTION * width;
  let condense = 1;
  if (widthUnits(text.length, 1) * (boxHeight / BOX_ROWS) > maxWidth) {
    condense = Math.max(MIN_CONDENSE, (maxWidth / (boxHeight / BOX_ROWS) - 2 * PAD_X) / (text.length * GLYPH_ADVANCE - 1));
    boxHeight = Math.min(boxHeight, (maxWidth / widthUnits(text.length, condense)) * BOX_ROWS);
    if (boxHeight < minHeight * (1 - 1e-9)) {
      const unit = minHeight / BOX_ROWS;
      const maxLength = Math.max(0, Math.floor(((maxWidth / unit - 2 * PAD_X) / MIN_CONDENSE + 1) / GLYPH_ADVANCE));
      throw new LiveswapError(
        'usage',
        `The label text "${text}" (${text.length} characters) does not fit a ${width}x${height} frame at 3 % of its height: ` +
          `the most that fits is ${maxLength} characters. Use a shorter label text.`,
      );
    }
  }
  const unitY = boxHeight / BOX_ROWS;
  const unitX = unitY * condense;
  const boxWidth = widthUnits(text.length, condense) * unitY;
  const margin = MARGIN_FRACTION * height;
  const left = corner.endsWith('left') ? margin : width - margin - boxWidth;
  const top = corner.startsWith('top') ? margin : height - margin - boxHeight;
  const box = {
    x0: Math.max(0, Math.round(left)),
    y0: Math.max(0, Math.round(top)),
    x1: Math.min(width, Math.round(left + boxWidth)),
    y1: Math.min(height, Math.round(top + boxHeight)),
  };
  return {
    frameWidth: width,
    frameHeight: height,
    text,
    corner,
    heightFraction: boxHeight / height,
    box,
    textX: left + PAD_X * unitY,
    textY: top + TEXT_TOP * unitY,
    unitX,
    unitY,
    radius: RADIUS_FRACTION * boxHeight,
  };
}

/**
 * Area coverage (0..1) of a bitmap of `cols`×`rows` font units whose top-left corner is at
 * (originX, originY), each unit `sx`×`sy` pixels, over the pixel window at (x0, y0) of size w×h.
 * Exact for axis-aligned units, so edges are smooth at any scale. `out` has w×h entries.
 */
export function renderCoverage(
  bits: Uint8Array,
  cols: number,
  rows: number,
  originX: number,
  originY: number,
  sx: number,
  sy: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
  out: Float32Array,
): void {
  const across = new Float32Array(rows * w); // each font row, spread over the window's columns
  for (let px = 0; px < w; px++) {
    const a = x0 + px - originX;
    const first = Math.max(0, Math.floor(a / sx));
    const last = Math.min(cols - 1, Math.floor((a + 1) / sx));
    for (let i = first; i <= last; i++) {
      const overlap = Math.min(a + 1, (i + 1) * sx) - Math.max(a, i * sx);
      if (overlap <= 0) continue;
      for (let j = 0; j < rows; j++) if (bits[j * cols + i]) across[j * w + px] += overlap;
    }
  }
  out.fill(0, 0, w * h);
  for (let py = 0; py < h; py++) {
    const b = y0 + py - originY;
    const first = Math.max(0, Math.floor(b / sy));
    const last = Math.min(rows - 1, Math.floor((b + 1) / sy));
    for (let j = first; j <= last; j++) {
      const overlap = Math.min(b + 1, (j + 1) * sy) - Math.max(b, j * sy);
      if (overlap <= 0) continue;
      for (let px = 0; px < w; px++) out[py * w + px] += overlap * across[j * w + px];
    }
  }
}

/** The whole text as one bitmap, GLYPH_ADVANCE units per character. */
export function textBits(text: string): { bits: Uint8Array; cols: number } {
  const cols = text.length * GLYPH_ADVANCE;
  const bits = new Uint8Array(cols * GLYPH_ROWS);
  for (let c = 0; c < text.length; c++) {
    const glyph = glyphBits(text[c]!);
    for (let y = 0; y < GLYPH_ROWS; y++) {
      for (let x = 0; x < GLYPH_COLUMNS; x++) bits[y * cols + c * GLYPH_ADVANCE + x] = glyph[y * GLYPH_COLUMNS + x]!;
    }
  }
  return { bits, cols };
}
