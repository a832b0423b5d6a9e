/**
 * The visible provenance label ("AI-generated" by default) drawn in a corner of every output
 * frame with liveswap's own bitmap font, and read back by template matching to prove it legible
 * and to report it in `liveswap verify`. Platform-free: it also runs in the browser worker.
 * The code lives in three parts: label-layout.ts (options, geometry, font rendering),
 * label-draw.ts (the writer) and label-read.ts (the reader); this module is their one import.
 */

export {
  checkLabelText,
  DEFAULT_LABEL_OPTIONS,
  DEFAULT_LABEL_TEXT,
  LABEL_CORNERS,
  labelLayout,
  labelOptions,
  MAX_LABEL_HEIGHT_FRACTION,
  MAX_LABEL_LENGTH,
  MIN_LABEL_HEIGHT_FRACTION,
  renderCoverage,
  textBits,
} from './label-layout.js';
export type { LabelBox, LabelCorner, LabelLayout, LabelOptions } from './label-layout.js';
export { drawLabel } from './label-draw.js';
export { findLabel, LABEL_FIND_THRESHOLD, readLabel } from './label-read.js';
export type { FoundLabel, LabelReading } from './label-read.js';
