/**
 * Reading the provenance label back by template matching against the bitmap font, to prove it
 * legible after re-encoding and resizing and to report it in `liveswap verify`. Platform-free.
 */

import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { FONT_CHARS, GLYPH_ADVANCE, GLYPH_COLUMNS, GLYPH_ROWS, glyphBits } from './font.js';
import {
  checkLabelText,
  DEFAULT_LABEL_TEXT,
  LABEL_CORNERS,
  labelLayout,
  renderCoverage,
  textBits,
  type LabelBox,
  type LabelCorner,
  type LabelLayout,
  type LabelOptions,
} from './label-layout.js';

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
  const labelLike = clamp01((contrast - 40) / 50) * clamp01((130 - plain.mean) / 40) * clamp01((0.25 - plain.std / Math.max(1, contrast)) / 0.15) * (plain.count > 0 ? 1 : 0);
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
