/**
 * Partial swaps measured on the fixture photos with the mesh engine (nothing downloaded): for
 * every FaceFusion region name, `--mask-regions R` and `--keep-regions R`, the mean absolute change
 * (0..255, all channels) inside the region (FaceMesh's parse of the target, shrunk by 1 % of the
 * face) and outside it (the face box farther than 6 % of the face from the region), against the
 * target and against the whole-face swap; then mask strength: the change at strength s over the
 * change at 1, both with the target's geometry (should be s). Prints a table; `--json` prints one JSON object.
 * Run: npm run bench:regions [-- --json]
 */

import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { dilate } from '../src/core/filters.js';
import { cloneImage, createImage, type Image } from '../src/core/image.js';
import { BISENET_CLASSES, meshLabelMap } from '../src/face/face-regions.js';
import { faceSize, type Face } from '../src/face/face.js';
import { createNodeSwapper } from '../src/node/jobs/swapper.js';
import { readImage } from '../src/node/media/image-io.js';
import { FACE_REGIONS, resolvePaintOptions, type FaceRegion, type PaintOptions } from '../src/pipeline/options.js';

const json = process.argv.includes('--json');
const photos = fileURLToPath(new URL('../test/fixtures/faces/', import.meta.url));
/** Source → target pairs among the fixture photos; each target at about 1024 pixels across. */
const PAIRS = [
  { source: 'grace_hopper.jpg', target: 'astronaut.png' },
  { source: 'astronaut.png', target: 'grace_hopper.jpg' },
] as const;
const STRENGTHS = [0, 0.25, 0.5, 0.75, 1];

interface RegionRow {
  target: string;
  region: FaceRegion;
  pixels: number;
  /** --mask-regions R: inside vs target, inside vs whole swap, outside vs target. */
  chosen: { inside: number; insideVsFull: number; outside: number };
  /** --keep-regions R: inside vs target, outside vs whole swap. */
  kept: { inside: number; outsideVsFull: number };
}

function meanDiff(a: Image, b: Image, where: (i: number) => boolean): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.width * a.height; i++) {
    if (!where(i)) continue;
    for (let k = 0; k < 3; k++) sum += Math.abs(a.data[3 * i + k]! - b.data[3 * i + k]!);
    n += 3;
  }
  return n ? sum / n : NaN;
}

async function load(name: string): Promise<Image> {
  const { width = 0 } = await sharp(`${photos}${name}`).metadata();
  const bytes = await sharp(`${photos}${name}`)
    .resize(Math.round(width * Math.max(1, 1024 / width)))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const image = createImage(bytes.info.width, bytes.info.height, 3);
  image.data.set(bytes.data);
  return image;
}

const swapper = await createNodeSwapper({ engine: 'mesh' });
const rows: RegionRow[] = [];
const strengths: { target: string; ratios: number[] }[] = [];
try {
  for (const pair of PAIRS) {
    const target = await load(pair.target);
    const prepared = await swapper.prepareSource(await readImage(`${photos}${pair.source}`, { maxPixels: 50_000_000 }), { sourceFace: undefined, maxPixels: 50_000_000 });
    const [face] = (await swapper.analyze(target)) as Face[];
    if (!face) throw new Error(`no face in ${pair.target}`);
    const paint = async (options: Partial<PaintOptions>): Promise<Image> => {
      const out = cloneImage(target);
      await swapper.paintFaces(out, [{ face, identity: prepared.identity }], resolvePaintOptions({ engine: 'mesh', mouthMask: false, ...options }));
      return out;
    };
    const { width: w, height: h } = target;
    const labels = meshLabelMap(face.landmarks, 3, w, h, (x, y) => [x, y]);
    const size = faceSize(face);
    const [bx, by, bw, bh] = face.box;
    const inBox = (i: number) => i % w >= bx && i % w < bx + bw && Math.floor(i / w) >= by && Math.floor(i / w) < by + bh;
    // The whole face with the target's geometry: what a partial swap takes its regions from.
    const full = await paint({ faceShape: 0 });
    for (const region of FACE_REGIONS) {
      const mask = Float32Array.from(labels, (l) => (l === BISENET_CLASSES[region] ? 1 : 0));
      const near = dilate(mask, w, h, 2 * Math.round(0.06 * size) + 1);
      const edge = dilate(
        mask.map((v) => 1 - v),
        w,
        h,
        2 * Math.round(0.01 * size) + 1,
      );
      const inside = (i: number) => edge[i] === 0;
      const outside = (i: number) => near[i] === 0 && inBox(i);
      let pixels = 0;
      for (let i = 0; i < w * h; i++) if (inside(i)) pixels++;
      const chosen = await paint({ maskRegions: [region] });
      const kept = await paint({ keepRegions: [region] });
      rows.push({
        target: pair.target,
        region,
        pixels,
        chosen: { inside: meanDiff(chosen, target, inside), insideVsFull: meanDiff(chosen, full, inside), outside: meanDiff(chosen, target, outside) },
        kept: { inside: meanDiff(kept, target, inside), outsideVsFull: meanDiff(kept, full, outside) },
      });
    }
    // The target's geometry throughout: a strength below 1 keeps it, so the whole swap does too here.
    const ratios: number[] = [];
    for (const s of STRENGTHS) ratios.push(meanDiff(await paint({ maskStrength: s, faceShape: 0 }), target, inBox) / meanDiff(full, target, inBox));
    strengths.push({ target: pair.target, ratios });
  }
} finally {
  await swapper.close();
}

if (json) {
  console.log(JSON.stringify({ rows, strengths: strengths.map((s) => ({ ...s, strengths: STRENGTHS })) }));
} else {
  const f = (v: number, d = 2) => (Number.isNaN(v) ? '–' : v.toFixed(d));
  console.log('target            region          px(in)  chosen: in/target  in/full  out/target   kept: in/target  out/full');
  for (const r of rows) {
    console.log(
      `${r.target.padEnd(17)} ${r.region.padEnd(14)} ${String(r.pixels).padStart(7)}  ${f(r.chosen.inside).padStart(17)} ${f(r.chosen.insideVsFull).padStart(8)} ${f(r.chosen.outside, 3).padStart(11)}   ${f(r.kept.inside, 3).padStart(15)} ${f(r.kept.outsideVsFull, 3).padStart(9)}`,
    );
  }
  console.log(`\nmask strength ${STRENGTHS.join(' / ')}: change over the full swap's, in the face box`);
  for (const s of strengths) console.log(`${s.target.padEnd(17)} ${s.ratios.map((r) => r.toFixed(3)).join(' / ')}`);
}
