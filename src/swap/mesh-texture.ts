/**
 * What the mesh engine does to the source texture before painting it: it leaves out what is not
 * the source's skin (hair over the forehead, teeth and an open mouth's inside) and softens what is
 * its expression rather than its identity (a smile's lines). All work in the canonical texture
 * layout, once per source photo.
 */

import { rgbToLab } from '../core/color.js';
import { boxBlurFast } from '../core/filters.js';
import type { Image } from '../core/image.js';
import { fillPolygon, gatherPoints } from '../core/polygon.js';
import { smoothstep } from '../core/smoothstep.js';
import { CANONICAL_UV } from '../face/canonical-uv.js';
import { LIPS_INNER, LIPS_OUTER } from '../face/mesh-indices.js';
import { expressionLineWeight } from '../face/shape-transfer.js';
import { expressionRegions, fillMouthInterior, mouthInteriorMask, photoExpression } from './mesh-expression-weights.js';

/**
 * A smiling source photo carries its smile in the skin: nasolabial folds, crow's feet, raised
 * cheeks. Painted on a face that does not smile, those lines would stamp the photo's
 * expression on it. Where they lie, the texture is blended towards a blur of itself (the tone
 * stays, the creases go) in proportion to how broadly the source smiles.
 */
export function softenExpressionLines(texture: Image, smile: number): void {
  if (smile <= 0) return;
  const { width: size, data } = texture;
  const rgb = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) rgb[3 * i + c] = data[4 * i + c];
  const blurred = boxBlurFast(rgb, size, size, 3, size / 32);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const w = smile * expressionLineWeight((x + 0.5) / size, (y + 0.5) / size);
      if (w <= 0) continue;
      const i = y * size + x;
      for (let c = 0; c < 3; c++) data[4 * i + c] = rgb[3 * i + c] + w * (blurred[3 * i + c] - rgb[3 * i + c]);
    }
  }
}

/** Brow landmarks (both brows, upper and lower edges): kept out of the hair test. */
const BROWS = [46, 53, 52, 65, 55, 70, 63, 105, 66, 107, 276, 283, 282, 295, 285, 300, 293, 334, 296, 336] as const;

/**
 * A fringe, a hat brim or a hand over the source's forehead or temples would be painted onto the
 * target as skin. Above the brows and at the temples, texels far in colour from the source's own
 * cheek skin lose their confidence (alpha), so the target's forehead shows there instead.
 */
export function hideHairOnForehead(texture: Image): void {
  const size = texture.width;
  const lab = rgbToLab(texture, { x0: 0, y0: 0, x1: size, y1: size });
  const d = texture.data;
  // The skin reference: the median of each channel over both cheeks' well-seen texels.
  const samples: number[][] = [[], [], []];
  for (const [cu, cv] of [
    [0.3, 0.6],
    [0.7, 0.6],
  ]) {
    for (let y = Math.floor((cv - 0.06) * size); y < (cv + 0.06) * size; y++) {
      for (let x = Math.floor((cu - 0.05) * size); x < (cu + 0.05) * size; x++) {
        const i = y * size + x;
        if (d[4 * i + 3] < 200) continue;
        for (let k = 0; k < 3; k++) samples[k].push(lab.data[3 * i + k]);
      }
    }
  }
  if (samples[0].length < 16) return;
  const skin = samples.map((s) => s.sort((a, b) => a - b)[s.length >> 1]);
  const browV = Math.min(CANONICAL_UV[2 * 105 + 1], CANONICAL_UV[2 * 334 + 1]);
  for (let y = 0; y < size; y++) {
    const v = (y + 0.5) / size;
    // Forehead above the brows (the fade keeps the brows themselves out of the test), and the
    // temples beside the eyes, where a fringe or side hair falls.
    const forehead = 1 - smoothstep(browV - 0.06, browV - 0.02, v);
    const templeRows = 1 - smoothstep(0.42, 0.5, v);
    if (forehead <= 0 && templeRows <= 0) continue;
    for (let x = 0; x < size; x++) {
      const u = (x + 0.5) / size;
      const temple = templeRows * smoothstep(0.3, 0.22, Math.min(u, 1 - u));
      let brow = Infinity;
      for (const b of BROWS) brow = Math.min(brow, Math.hypot(u - CANONICAL_UV[2 * b], v - CANONICAL_UV[2 * b + 1]));
      const test = Math.max(forehead, temple) * smoothstep(0.03, 0.06, brow);
      if (test <= 0) continue;
      const i = y * size + x;
      // Hair is mostly darker than skin; lighter texels are more often a highlight on the skin.
      const dl = lab.data[3 * i] - skin[0];
      const dlWeighted = dl < 0 ? dl * 0.6 : dl * 0.2;
      const distance = Math.hypot(dlWeighted, lab.data[3 * i + 1] - skin[1], lab.data[3 * i + 2] - skin[2]);
      const keep = 1 - test * smoothstep(10, 20, distance);
      d[4 * i + 3] = Math.round(d[4 * i + 3] * keep);
    }
  }
}

/**
 * FaceMesh's inner lip line often sits inside a smiling or speaking mouth, so the texture's lips
 * carry a band of the source's teeth or mouth: painted onto the target, it would narrow the
 * target's opening and put the source's teeth in it. On the lips, texels far in colour from the
 * lips' own (their median) lose their confidence, and the target's mouth shows there.
 */
export function hideTeethOnLips(texture: Image, uv: Float32Array): void {
  const size = texture.width;
  const outer = new Float32Array(size * size);
  const inner = new Float32Array(size * size);
  fillPolygon(outer, size, size, gatherPoints(uv, LIPS_OUTER));
  fillPolygon(inner, size, size, gatherPoints(uv, LIPS_INNER));
  let x0 = size,
    y0 = size,
    x1 = 0,
    y1 = 0;
  for (let i = 0; i < size * size; i++) {
    if (!outer[i]) continue;
    const x = i % size,
      y = (i - x) / size;
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x + 1);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y + 1);
  }
  if (x1 <= x0) return;
  const rect = { x0, y0, x1, y1 };
  const w = x1 - x0;
  const lab = rgbToLab(texture, rect);
  const onLips = (x: number, y: number) => outer[(y0 + y) * size + x0 + x] > 0 && inner[(y0 + y) * size + x0 + x] === 0;
  const samples: number[][] = [[], [], []];
  for (let y = 0; y < y1 - y0; y++)
    for (let x = 0; x < w; x++) {
      if (!onLips(x, y) || texture.data[4 * ((y0 + y) * size + x0 + x) + 3] < 200) continue;
      for (let k = 0; k < 3; k++) samples[k].push(lab.data[3 * (y * w + x) + k]);
    }
  if (samples[0].length < 16) return;
  const lips = samples.map((s) => s.sort((a, b) => a - b)[s.length >> 1]);
  for (let y = 0; y < y1 - y0; y++)
    for (let x = 0; x < w; x++) {
      if (!onLips(x, y)) continue;
      const j = y * w + x;
      // Teeth are lighter and greyer than lips, a mouth's inside darker: lightness counts fully.
      const distance = Math.hypot(lab.data[3 * j] - lips[0], lab.data[3 * j + 1] - lips[1], lab.data[3 * j + 2] - lips[2]);
      const i = 4 * ((y0 + y) * size + x0 + x);
      texture.data[i + 3] = Math.round(texture.data[i + 3] * (1 - smoothstep(18, 32, distance)));
    }
}

/**
 * A single source photo's teeth and open mouth taken out of its texture, as the combination of
 * several photos takes them out (mesh-expression-weights.ts): where the photo shows teeth or the
 * mouth's inside (its lip gap as far as its mouth is open, lip texels coloured like teeth or, by
 * an open gap, like the dark inside), the colour becomes the lips' around and the confidence
 * drops, so a grinning photo leaves no light line along the lips of a target whose mouth is
 * closed or shaped otherwise, and the target's own mouth shows. `shape` is the photo's
 * (symmetrised) mesh, `smile` its smile score.
 */
export function hideMouthInterior(texture: Image, shape: Float32Array, smile: number): void {
  const interior = mouthInteriorMask(texture, expressionRegions(texture.width), photoExpression(shape, smile));
  fillMouthInterior(texture, interior);
}
