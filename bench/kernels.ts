/**
 * Per-frame cost of the core image kernels at face-swap sizes (a 1080p RGBA frame, a ~300 px face).
 * Run: node --import tsx bench/kernels.ts   (prints the median of repeated runs, in ms)
 */

import { invertAffine, type Affine } from '../src/core/affine.js';
import { PyramidBlender, alphaBlend } from '../src/core/blend.js';
import { labToRgb, rgbToLab } from '../src/core/color.js';
import { boxBlurPlain } from '../src/core/box-blur.js';
import { boxBlurFast, erode, gaussianBlur } from '../src/core/filters.js';
import { simdKernels } from '../src/core/simd-kernels.js';
import { createFloatImage, createImage, type FloatImage } from '../src/core/image.js';
import { fillPolygon } from '../src/core/polygon.js';
import { sampleAffineToTensor, warpAffine, warpTriangles } from '../src/core/warp.js';
import { timeRuns } from './timing.js';

function bench(name: string, run: () => void, iterations = 30): void {
  const { median } = timeRuns(run, { iterations });
  console.log(`${name.padEnd(58)} ${median.toFixed(2).padStart(7)} ms`);
}

const W = 1920;
const H = 1080;
const frame = createImage(W, H, 4);
for (let i = 0; i < frame.data.length; i++) frame.data[i] = (i * 2654435761) >>> 24;

// A face of ~300 px centred at (960, 540), rotated 0.2 rad.
const S = 300;
const face = { x0: 810, y0: 390, x1: 1110, y1: 690 };
const angle = 0.2;
const toFrame = (size: number): Affine => {
  const s = S / size;
  const c = Math.cos(angle) * s;
  const n = Math.sin(angle) * s;
  return [c, -n, 960 - (c * size) / 2 + (n * size) / 2, n, c, 540 - (n * size) / 2 - (c * size) / 2];
};

const tensor = new Float32Array(256 * 256 * 3);
bench('sampleAffineToTensor 1920×1080 RGBA → 256×256', () => {
  sampleAffineToTensor(frame, toFrame(256), 256, 256, 1 / 127.5, -1, tensor);
});
bench('  same, nchw + quantize (reference-style blob)', () => {
  sampleAffineToTensor(frame, toFrame(256), 256, 256, 1 / 255, 0, tensor, { layout: 'nchw', quantize: true });
});

// ~850 triangles: a 21×22 vertex grid (840 triangles) over the face, source mesh rotated.
const cols = 20;
const rows = 21;
const dstPts = new Float32Array((cols + 1) * (rows + 1) * 2);
const srcPts = new Float32Array(dstPts.length);
for (let j = 0, k = 0; j <= rows; j++) {
  for (let i = 0; i <= cols; i++, k += 2) {
    const jitter = i > 0 && i < cols && j > 0 && j < rows ? 3 * Math.sin(i * 7 + j * 3) : 0;
    dstPts[k] = face.x0 + (S * i) / cols + jitter;
    dstPts[k + 1] = face.y0 + (S * j) / rows - jitter;
    const x = dstPts[k] - 960;
    const y = dstPts[k + 1] - 540;
    srcPts[k] = 700 + 0.9 * (x * Math.cos(0.3) - y * Math.sin(0.3));
    srcPts[k + 1] = 500 + 0.9 * (x * Math.sin(0.3) + y * Math.cos(0.3));
  }
}
const tris: number[] = [];
for (let j = 0; j < rows; j++) {
  for (let i = 0; i < cols; i++) {
    const a = j * (cols + 1) + i;
    tris.push(a, a + 1, a + cols + 2, a, a + cols + 2, a + cols + 1);
  }
}
const triangles = Uint32Array.from(tris);
const region: FloatImage = createFloatImage(S, S, 3);
const coverage = new Float32Array(S * S);
bench(`warpTriangles ${triangles.length / 3} triangles, 300×300 region ← 1080p RGBA`, () => {
  warpTriangles(frame, srcPts, region, dstPts, triangles, { originX: face.x0, originY: face.y0, coverage });
});

const lab = createFloatImage(S, S, 3);
bench('rgbToLab + labToRgb 300×300', () => {
  rgbToLab(frame, face, lab);
  labToRgb(lab, frame, face);
});

const planes = new Float32Array(S * S * 3);
for (let i = 0; i < planes.length; i++) planes[i] = (i * 37) % 255;
const blurOut = new Float32Array(planes.length);
const scratch = new Float32Array(2 * planes.length);
bench(
  'gaussianBlur sigma 8 (ksize 65, float rule) 300×300×3',
  () => {
    gaussianBlur(planes, S, S, 3, 0, 8, blurOut, { scratch });
  },
  15,
);
bench(
  'gaussianBlur sigma 8 (ksize 49, uint8 rule) 300×300×3',
  () => {
    gaussianBlur(planes, S, S, 3, 0, 8, blurOut, { scratch, depth: 'uint8' });
  },
  15,
);
bench('boxBlurFast sigma 8 300×300×3 (SIMD column passes)', () => {
  boxBlurFast(planes, S, S, 3, 8, blurOut, scratch);
});
bench('  same, TypeScript only (boxBlurPlain)', () => {
  boxBlurPlain(planes, S, S, 3, 8, blurOut, scratch);
});
const mask = new Float32Array(S * S);
fillPolygon(mask, S, S, [20, 30, 280, 10, 290, 270, 150, 295, 10, 260]);
const maskOut = new Float32Array(S * S);
bench('gaussianBlur sigma 8 mask 300×300×1', () => {
  gaussianBlur(mask, S, S, 1, 0, 8, maskOut);
});
bench('erode k=31 300×300 (float mask)', () => {
  erode(mask, S, S, 31, maskOut);
});

const fg = createFloatImage(S, S, 3);
const bg = createFloatImage(S, S, 3);
fg.data.set(planes);
bg.data.set(blurOut);
const blendOut = createFloatImage(S, S, 3);
const blender = new PyramidBlender(S, S, 3);
bench(`laplacian blend 300×300×3 (${blender.levels} levels, reused blender)`, () => {
  blender.blend(fg, bg, mask, blendOut);
});
bench('alphaBlend 300×300×3', () => {
  alphaBlend(fg, bg, mask, blendOut);
});

// Reference paste-back warp of a 128 crop onto the face's region of the frame (not the whole frame).
const crop = createImage(128, 128, 4);
crop.data.set(frame.data.subarray(0, crop.data.length));
const M = invertAffine(toFrame(128));
const pasted = createImage(W, H, 4);
bench('warpAffine 128 crop → 300×300 region of 1080p (float32 path)', () => {
  warpAffine(crop, invertAffine(M), W, H, { rect: face, out: pasted });
});
bench('  same, fixed-point path', () => {
  warpAffine(crop, invertAffine(M), W, H, { rect: face, out: pasted, precision: 'fixed-point' });
});

// The mesh compositor's per-pixel kernels at a 300 px face (working resolution 150 px, factor 2).
const kernels = simdKernels();
if (kernels) {
  const W2 = 150;
  const fields = new Float32Array(W2 * W2 * 4).map((_, i) => (i % 4 === 0 ? (i % 17) / 17 : i % 251));
  bench('upsampleMix 150×150 fields → 300×300 of 1080p RGBA (SIMD)', () => {
    kernels.upsampleMix(fields, 2, frame, face.x0, face.y0, S, S);
  });
  const patch = createImage(W2, W2, 4);
  patch.data.set(frame.data.subarray(0, patch.data.length));
  const ratio = new Float32Array(Math.ceil(W2 / 3) ** 2).fill(1.1);
  bench('colourTransfer 150×150 RGBA (SIMD L*a*b* round trip)', () => {
    kernels.colourTransfer(patch, { x0: 0, y0: 0, x1: W2, y1: W2 }, [1.1, 0.9, 1.05], [2, -1, 1], ratio, 3);
  });
  const labPatch = createFloatImage(W2, W2, 3);
  bench('  for scale: TypeScript rgbToLab + labToRgb 150×150 (no transfer)', () => {
    rgbToLab(patch, { x0: 0, y0: 0, x1: W2, y1: W2 }, labPatch);
    labToRgb(labPatch, patch, { x0: 0, y0: 0, x1: W2, y1: W2 });
  });
} else {
  console.log('WebAssembly SIMD unavailable: the SIMD kernels were not timed');
}
