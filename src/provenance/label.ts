/**
 * The visible provenance label ("AI-generated" by default) drawn in a corner of every output
 * frame with liveswap's own bitmap font, and read back by template matching to prove it legible
 * and to report it in `liveswap verify`. Platform-free: it also runs in the browser worker.
 */

import { invalidOption, LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { FONT_CHARS, GLYPH_ADVANCE, GLYPH_COLUMNS, GLYPH_ROWS, glyphBits } from './font.js';

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

const BOX_LEVEL = 16;
const BOX_OPACITY = 0.82;
const TEXT_LEVEL = 245;

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
      throw new LiveswapError('usage', `The label text may only hold printable ASCII (letters, digits, spaces, punctuation); it has U+${hex} at position ${i + 1}: ${JSON.stringify(trimmed)}`);
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
  bits: Uint8Array, cols: number, rows: number, originX: number, originY: number, sx: number, sy: number,
  x0: number, y0: number, w: number, h: number, out: Float32Array,
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

/** Coverage (0..1) of the rounded box at each pixel of its bounding rectangle, 4×4 samples at the corners. */
function boxCoverage(w: number, h: number, radius: number): Float32Array {
  const out = new Float32Array(w * h).fill(1);
  const r = Math.min(radius, w / 2, h / 2);
  const span = Math.ceil(r);
  for (let y = 0; y < h; y++) {
    const inY = y < span ? r : y >= h - span ? h - r : -1;
    if (inY < 0) continue;
    for (let x = 0; x < w; x++) {
      const inX = x < span ? r : x >= w - span ? w - r : -1;
      if (inX < 0) continue;
      let inside = 0;
      for (let sy = 0; sy < 4; sy++) {
        for (let sx = 0; sx < 4; sx++) {
          const px = x + (sx + 0.5) / 4;
          const py = y + (sy + 0.5) / 4;
          const dx = x < span ? Math.min(0, px - inX) : Math.max(0, px - inX);
          const dy = y < span ? Math.min(0, py - inY) : Math.max(0, py - inY);
          if (dx * dx + dy * dy <= r * r) inside++;
        }
      }
      out[y * w + x] = inside / 16;
    }
  }
  return out;
}

/** A layout rendered once: per box pixel, new = (old × keep + add) / 256. */
interface RenderedLabel {
  layout: LabelLayout;
  keep: Uint16Array;
  add: Uint16Array;
}

function renderLabel(layout: LabelLayout): RenderedLabel {
  const { box } = layout;
  const w = box.x1 - box.x0;
  const h = box.y1 - box.y0;
  const shape = boxCoverage(w, h, layout.radius);
  const { bits, cols } = textBits(layout.text);
  const ink = new Float32Array(w * h);
  renderCoverage(bits, cols, GLYPH_ROWS, layout.textX, layout.textY, layout.unitX, layout.unitY, box.x0, box.y0, w, h, ink);
  const keep = new Uint16Array(w * h);
  const add = new Uint16Array(w * h);
  for (let i = 0; i < w * h; i++) {
    const boxAlpha = shape[i]! * BOX_OPACITY;
    const t = Math.min(1, ink[i]!);
    keep[i] = Math.round(256 * (1 - boxAlpha) * (1 - t));
    add[i] = Math.round(256 * (BOX_LEVEL * boxAlpha * (1 - t) + TEXT_LEVEL * t));
  }
  return { layout, keep, add };
}

/**
 * Rendered labels by frame size and options. Every frame of a video has the same size, so a
 * handful of entries covers a run; bounded so a long-lived process never grows it.
 */
const rendered = new Map<string, RenderedLabel>();
const RENDER_CACHE_SIZE = 8;

function cachedRender(width: number, height: number, options: Partial<LabelOptions>): RenderedLabel {
  const key = `${width}x${height}|${options.corner ?? ''}|${options.heightFraction ?? ''}|${options.text ?? ''}`;
  let entry = rendered.get(key);
  if (entry === undefined) {
    entry = renderLabel(labelLayout(width, height, options));
    if (rendered.size >= RENDER_CACHE_SIZE) rendered.delete(rendered.keys().next().value!);
    rendered.set(key, entry);
  }
  return entry;
}

/**
 * Draws the label in place into a grey, RGB or RGBA image (alpha becomes 255 inside the box) and
 * returns the box. Pixels outside the box are not touched.
 */
export function drawLabel(image: Image, options: Partial<LabelOptions> = {}): LabelBox {
  const { layout, keep, add } = cachedRender(image.width, image.height, options);
  const { box } = layout;
  const c = image.channels;
  const colours = Math.min(c, 3);
  const d = image.data;
  const w = box.x1 - box.x0;
  for (let y = box.y0; y < box.y1; y++) {
    let i = (y - box.y0) * w;
    let p = (y * image.width + box.x0) * c;
    for (let x = 0; x < w; x++, i++, p += c) {
      const k = keep[i]!;
      const a = add[i]! + 128;
      for (let ch = 0; ch < colours; ch++) d[p + ch] = (d[p + ch]! * k + a) >> 8;
      if (c === 4) d[p + 3] = 255;
    }
  }
  return { ...box };
}

/** What readLabel saw: the text read, how label-like it looked (0..1), and where it looked. */
export interface LabelReading {
  text: string;
  /** Mean best correlation of the character cells, scaled down when the box is not dark, plain and contrasted. */
  confidence: number;
  box: LabelBox;
}

/** A label found by findLabel. */
export interface FoundLabel extends LabelReading {
  corner: LabelCorner;
}

/**
 * Below this findLabel reports no label. Unlabelled fixture photos and frames score under 0.3
 * (see the tests); labels after H.264 CRF 28 and a 0.5× downscale score over 0.8.
 */
export const LABEL_FIND_THRESHOLD = 0.6;

/** Character cells: half a column of spacing either side, a unit of padding above, down to the box. */
const CELL_LEFT = -0.5;
const CELL_TOP = -1;
const CELL_BOTTOM = GLYPH_ROWS + 0.4;
/** Sub-pixel shifts tried when lining up the text (re-encoding and resizing move it a little). */
const SHIFTS = [-1, -0.5, 0, 0.5, 1];
const INK_CHARS = FONT_CHARS.filter((char) => char !== ' ');

/** Luminance of the label box, for reading. */
interface LumaPatch {
  x0: number;
  y0: number;
  w: number;
  h: number;
  data: Float32Array;
}

function lumaPatch(image: Image, box: LabelBox): LumaPatch {
  const x0 = Math.max(0, box.x0);
  const y0 = Math.max(0, box.y0);
  const w = Math.min(image.width, box.x1) - x0;
  const h = Math.min(image.height, box.y1) - y0;
  const data = new Float32Array(Math.max(0, w * h));
  const c = image.channels;
  const d = image.data;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = ((y0 + y) * image.width + x0 + x) * c;
      data[y * w + x] = c === 1 ? d[p]! : 0.299 * d[p]! + 0.587 * d[p + 1]! + 0.114 * d[p + 2]!;
    }
  }
  return { x0, y0, w, h, data };
}

/** Pixel window [x0,x1)×[y0,y1) covering a span of font units, clamped to the patch. */
function unitWindow(patch: LumaPatch, left: number, top: number, right: number, bottom: number): LabelBox {
  return {
    x0: Math.max(patch.x0, Math.floor(left)),
    y0: Math.max(patch.y0, Math.floor(top)),
    x1: Math.min(patch.x0 + patch.w, Math.ceil(right)),
    y1: Math.min(patch.y0 + patch.h, Math.ceil(bottom)),
  };
}

/** Pearson correlation of a template with the patch over a window (0 when either is flat). */
function correlation(template: Float32Array, patch: LumaPatch, win: LabelBox): number {
  const w = win.x1 - win.x0;
  const n = w * (win.y1 - win.y0);
  if (n < 4) return 0;
  let st = 0;
  let sv = 0;
  let stt = 0;
  let svv = 0;
  let stv = 0;
  for (let y = win.y0; y < win.y1; y++) {
    let p = (y - patch.y0) * patch.w + (win.x0 - patch.x0);
    let i = (y - win.y0) * w;
    for (let x = 0; x < w; x++, p++, i++) {
      const t = template[i]!;
      const v = patch.data[p]!;
      st += t;
      sv += v;
      stt += t * t;
      svv += v * v;
      stv += t * v;
    }
  }
  const vt = stt - (st * st) / n;
  const vv = svv - (sv * sv) / n;
  return vt > 1e-9 && vv > 1e-9 ? (stv - (st * sv) / n) / Math.sqrt(vt * vv) : 0;
}

/** Mean and standard deviation of the patch over some windows. */
function windowStats(patch: LumaPatch, wins: readonly LabelBox[]): { mean: number; std: number; count: number } {
  let s = 0;
  let ss = 0;
  let n = 0;
  for (const win of wins) {
    for (let y = win.y0; y < win.y1; y++) {
      for (let x = win.x0; x < win.x1; x++) {
        const v = patch.data[(y - patch.y0) * patch.w + x - patch.x0]!;
        s += v;
        ss += v * v;
        n++;
      }
    }
  }
  const mean = n > 0 ? s / n : 0;
  return { mean, std: n > 0 ? Math.sqrt(Math.max(0, ss / n - mean * mean)) : 0, count: n };
}

/** The level the brightest `fraction` of a window reaches (1: its maximum). */
function brightLevel(patch: LumaPatch, win: LabelBox, fraction: number): number {
  const values: number[] = [];
  for (let y = win.y0; y < win.y1; y++) {
    for (let x = win.x0; x < win.x1; x++) values.push(patch.data[(y - patch.y0) * patch.w + x - patch.x0]!);
  }
  values.sort((a, b) => a - b);
  return values.length > 0 ? values[Math.floor(fraction * (values.length - 1))]! : 0;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

interface CellReading {
  chars: string[];
  scores: number[];
}

/** Classifies each character cell against the font, with the text shifted by (dx, dy) pixels. */
function classifyCells(layout: LabelLayout, patch: LumaPatch, dx: number, dy: number, background: number, contrast: number, expected: string): CellReading {
  const { unitX, unitY } = layout;
  const chars: string[] = [];
  const scores: number[] = [];
  let template = new Float32Array(0);
  for (let c = 0; c < layout.text.length; c++) {
    const originX = layout.textX + dx + c * GLYPH_ADVANCE * unitX;
    const originY = layout.textY + dy;
    const win = unitWindow(patch, originX + CELL_LEFT * unitX, originY + CELL_TOP * unitY, originX + (GLYPH_ADVANCE + CELL_LEFT) * unitX, originY + CELL_BOTTOM * unitY);
    const w = win.x1 - win.x0;
    const h = win.y1 - win.y0;
    if (template.length < w * h) template = new Float32Array(w * h);
    // A cell with no ink is a space; its shape says nothing, so it scores only where a space was expected.
    // Only pixel centres over the glyph's own columns count, so a neighbour's blurred edge is no ink.
    const core = { x0: Math.ceil(originX + 0.2 * unitX - 0.5), y0: win.y0, x1: Math.floor(originX + (GLYPH_COLUMNS - 0.2) * unitX - 0.5) + 1, y1: win.y1 };
    if (core.x1 <= core.x0 || brightLevel(patch, core, 1) - background < 0.7 * contrast) {
      chars.push(' ');
      scores.push(expected[c] === ' ' ? 1 : 0);
      continue;
    }
    let best = -1;
    let bestChar = '?';
    for (const char of INK_CHARS) {
      renderCoverage(glyphBits(char), GLYPH_COLUMNS, GLYPH_ROWS, originX, originY, unitX, unitY, win.x0, win.y0, w, h, template);
      const r = correlation(template, patch, win);
      if (r > best) {
        best = r;
        bestChar = char;
      }
    }
    chars.push(bestChar);
    scores.push(Math.max(0, best));
  }
  return { chars, scores };
}

/** The shift (pixels) at which the rendered text best matches the patch. */
function bestShift(layout: LabelLayout, patch: LumaPatch, text: string): { dx: number; dy: number } {
  const { bits, cols } = textBits(text);
  const { unitX, unitY } = layout;
  let best = { dx: 0, dy: 0, r: -2 };
  let template = new Float32Array(0);
  for (const dy of SHIFTS) {
    for (const dx of SHIFTS) {
      const x = layout.textX + dx;
      const y = layout.textY + dy;
      const win = unitWindow(patch, x + CELL_LEFT * unitX, y + CELL_TOP * unitY, x + (cols + CELL_LEFT) * unitX, y + CELL_BOTTOM * unitY);
      const w = win.x1 - win.x0;
      const h = win.y1 - win.y0;
      if (template.length < w * h) template = new Float32Array(w * h);
      renderCoverage(bits, cols, GLYPH_ROWS, x, y, unitX, unitY, win.x0, win.y0, w, h, template);
      const r = correlation(template, patch, win);
      if (r > best.r + 1e-6 || (Math.abs(r - best.r) <= 1e-6 && Math.abs(dx) + Math.abs(dy) < Math.abs(best.dx) + Math.abs(best.dy))) best = { dx, dy, r };
    }
  }
  return best;
}

/**
 * Reads the label at the corner `options` name, laid out for this image's size (so a re-encoded
 * or downscaled copy reads too): each character cell is classified against the whole font by
 * normalised correlation. `confidence` is the mean best correlation, scaled down when the box is
 * not dark and plain or the text has little contrast, so photos without a label score low.
 */
export function readLabel(image: Image, options: Partial<LabelOptions> = {}): LabelReading {
  return readLayout(image, labelLayout(image.width, image.height, options), false);
}

/** readLabel for a layout; `skipUnlike` skips reading a box that cannot score (findLabel's corners). */
function readLayout(image: Image, layout: LabelLayout, skipUnlike: boolean): LabelReading {
  const { box, unitX, unitY } = layout;
  const patch = lumaPatch(image, box); // windows are clamped to it: pixels outside the box are the photo
  // The plain box around the text: a strip above it and strips left and right of it.
  const inset = Math.ceil(layout.radius);
  const textRight = layout.textX + (layout.text.length * GLYPH_ADVANCE - 1) * unitX;
  const plain = windowStats(patch, [
    { x0: box.x0 + inset, y0: box.y0 + 1, x1: box.x1 - inset, y1: Math.floor(layout.textY - 0.75 * unitY) },
    { x0: box.x0 + 1, y0: box.y0 + inset, x1: Math.floor(layout.textX - 0.75 * unitY), y1: box.y1 - inset },
    { x0: Math.ceil(textRight + 0.75 * unitY), y0: box.y0 + inset, x1: box.x1 - 1, y1: box.y1 - inset },
  ]);
  const textWindow = unitWindow(patch, layout.textX, layout.textY, textRight, layout.textY + GLYPH_ROWS * unitY);
  const contrast = brightLevel(patch, textWindow, 0.97) - plain.mean;
  const labelLike =
    clamp01((contrast - 40) / 50) * clamp01((130 - plain.mean) / 40) * clamp01((0.25 - plain.std / Math.max(1, contrast)) / 0.15) * (plain.count > 0 ? 1 : 0);
  const expected = layout.text;
  if (skipUnlike && labelLike === 0) return { text: '', confidence: 0, box: { ...box } };
  let cells = classifyCells(layout, patch, 0, 0, plain.mean, contrast, expected);
  if (labelLike > 0) {
    const shift = bestShift(layout, patch, cells.chars.join(''));
    if (shift.dx !== 0 || shift.dy !== 0) cells = classifyCells(layout, patch, shift.dx, shift.dy, plain.mean, contrast, expected);
  }
  const mean = cells.scores.reduce((a, b) => a + b, 0) / Math.max(1, cells.scores.length);
  return { text: cells.chars.join(''), confidence: labelLike * mean, box: { ...box } };
}

/**
 * Looks for a label in all four corners, reading `text` (default "AI-generated") at the default
 * height. Returns the best corner, or undefined when none reads as a label.
 */
export function findLabel(image: Image, text?: string): FoundLabel | undefined {
  const wanted = checkLabelText(text ?? DEFAULT_LABEL_TEXT);
  let best: FoundLabel | undefined;
  for (const corner of LABEL_CORNERS) {
    let layout: LabelLayout;
    try {
      layout = labelLayout(image.width, image.height, { text: wanted, corner });
    } catch (error) {
      if (error instanceof LiveswapError && error.kind === 'usage') return undefined; // this text cannot fit a frame this narrow
      throw error;
    }
    const reading = readLayout(image, layout, true);
    if (best === undefined || reading.confidence > best.confidence) best = { ...reading, corner };
  }
  return best !== undefined && best.confidence >= LABEL_FIND_THRESHOLD ? best : undefined;
}
