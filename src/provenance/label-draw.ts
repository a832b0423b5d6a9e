/**
 * Drawing the visible provenance label ("AI-generated" by default) into a corner of a frame with
 * liveswap's own bitmap font: each layout is rendered once into per-pixel keep/add weights, then
 * applied to every frame of that size. Platform-free: it also runs in the browser worker.
 */

import type { Image } from '../core/image.js';
import { GLYPH_ROWS } from './font.js';
import { labelLayout, renderCoverage, textBits, type LabelBox, type LabelLayout, type LabelOptions } from './label-layout.js';

/** Grey level of the box, how opaque it is over the photo, and grey level of the text. */
const BOX_LEVEL = 16;
const BOX_OPACITY = 0.82;
const TEXT_LEVEL = 245;

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
