/**
 * Cost of the visible provenance label: drawing it on a frame (rendered once per frame size, then
 * composited), and reading it back (readLabel at one corner, findLabel over all four).
 * Drawing touches only the label's box (the layout's keep/add weights are cached per frame size).
 * Run: node --import tsx bench/label.ts   (prints the median of repeated runs, in ms)
 */

import { createImage, type Image } from '../src/core/image.js';
import { drawLabel, findLabel, labelLayout, readLabel } from '../src/provenance/label.js';
import { timeRuns } from './timing.js';

function bench(name: string, run: () => void, iterations = 50): void {
  const { median } = timeRuns(run, { iterations, warmup: 3 });
  console.log(`${name.padEnd(56)} ${median.toFixed(3).padStart(8)} ms`);
}

function noiseFrame(width: number, height: number, channels: 3 | 4): Image {
  const frame = createImage(width, height, channels);
  for (let i = 0; i < frame.data.length; i++) frame.data[i] = (i * 2654435761) >>> 24;
  return frame;
}

for (const [width, height, channels] of [
  [1920, 1080, 4],
  [1920, 1080, 3],
  [1280, 720, 4],
  [1280, 720, 3],
  [1080, 1920, 3],
  [640, 360, 4],
  [640, 360, 3],
  [1001, 563, 4],
] as const) {
  const frame = noiseFrame(width, height, channels);
  const { box } = labelLayout(width, height);
  const size = `${width}x${height}x${channels} (box ${box.x1 - box.x0}x${box.y1 - box.y0})`;
  let n = 0;
  // A new text each call defeats the cache: the one-off cost of a new layout.
  bench(`render+draw, new layout ${size}`, () => void drawLabel(frame, { text: `AI-generated ${(n++ % 90) + 10}` }), 20);
  bench(`draw ${size}`, () => void drawLabel(frame));
  bench(`readLabel ${size}`, () => void readLabel(frame), 10);
  bench(`findLabel ${size}`, () => void findLabel(frame), 10);
}
