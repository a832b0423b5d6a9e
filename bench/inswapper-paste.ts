/**
 * insightface paste-back on a 1080p frame with one ~300 px face: face neighbourhood vs whole frame,
 * and the neighbourhood with one paster reused from call to call (as the compositor does per stream).
 * Run: node --import tsx bench/inswapper-paste.ts [--json]   (median of 20 runs, ms)
 */

import { invertAffine, type Affine } from '../src/core/affine.js';
import { cloneImage, createImage } from '../src/core/image.js';
import { InsightfacePaster, pasteBackInsightface, type InsightfacePasteOptions } from '../src/compose/insightface-paste.js';

const W = 1920;
const H = 1080;
const RUNS = 20;
const frame = createImage(W, H, 3);
for (let i = 0; i < frame.data.length; i++) frame.data[i] = (i * 2654435761) >>> 24;
const swapped = createImage(128, 128, 3);
for (let i = 0; i < swapped.data.length; i++) swapped.data[i] = (i * 40503) >>> 8;

// Crop → frame: the 128 crop covers ~300 px centred at (960, 540), turned by 0.2 rad.
const scale = 300 / 128;
const c = Math.cos(0.2) * scale;
const s = Math.sin(0.2) * scale;
const cropToFrame: Affine = [c, -s, 960 - c * 64 + s * 64, s, c, 540 - s * 64 - c * 64];
const matrix = invertAffine(cropToFrame);

function median(options: InsightfacePasteOptions, paster?: InsightfacePaster): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS + 3; i++) {
    const target = cloneImage(frame);
    const t0 = performance.now();
    if (paster) paster.paste(target, swapped, matrix, options);
    else pasteBackInsightface(target, swapped, matrix, options);
    if (i >= 3) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return (times[(RUNS - 1) >> 1] + times[RUNS >> 1]) / 2;
}

const result: Record<string, number | string> = { frame: `${W}x${H}`, faceSidePx: 300, runs: RUNS };
for (const precision of ['float32', 'fixed-point'] as const) {
  const face = median({ precision, region: 'face' });
  const whole = median({ precision, region: 'frame' });
  const reused = median({ precision, region: 'face' }, new InsightfacePaster());
  result[`${precision}.faceMs`] = Number(face.toFixed(2));
  result[`${precision}.reusedMs`] = Number(reused.toFixed(2));
  result[`${precision}.frameMs`] = Number(whole.toFixed(2));
  result[`${precision}.speedup`] = Number((whole / face).toFixed(1));
}
if (process.argv.includes('--json')) console.log(JSON.stringify(result));
else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(22)} ${v}`);
