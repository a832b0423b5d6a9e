/**
 * The platform-free core as a package entry (`import { createImage, resizeBilinear } from 'liveswap/core'`):
 * the image container, errors, and the OpenCV-matched kernels (resize, affine warps, filters, colour,
 * blending) that run unchanged in Node, the browser and workers. Only src/core is exported here; the
 * face, swap and pipeline layers stay behind the Node (`liveswap`) and browser (`liveswap/browser`) entries.
 */

export { createImage, cloneImage, cropImage, pasteImage, toRgb, toRgba, clampRect, rectWidth, rectHeight, createFloatImage, toFloatImage, writeFloatImage } from './image.js';
export type { Image, FloatImage, Rect, Channels } from './image.js';

export { ERROR_KINDS, EXIT_CODES, LiveswapError, invalidOption } from './errors.js';
export type { ErrorKind } from './errors.js';

export { resizeBilinear } from './resize.js';
export type { ResizeOptions } from './resize.js';

export {
  IDENTITY_AFFINE,
  applyAffine,
  applyAffineToPoints,
  multiplyAffine,
  invertAffine,
  affineCentredToCorner,
  affineCornerToCentred,
  solveTriangleAffine,
  affineFromTriangles,
  similarityFromPoints,
} from './affine.js';
export type { Affine } from './affine.js';

export { warpAffine, createWarpSampler, sampleAffineToTensor, warpTriangles } from './warp.js';
export type { BorderMode, WarpAffineOptions, WarpSampler, WarpSamplerOptions, TensorSampleOptions, TriangleWarpOptions } from './warp.js';

export { gaussianBlur, gaussianKernel, gaussianKsize, boxBlurFast, erode, dilate } from './filters.js';
export type { BlurDepth, BlurOptions } from './filters.js';
export type { MaskArray } from './morphology.js';

export { rgbToLab, labToRgb, meanStd } from './color.js';
export type { ChannelStats } from './color.js';

export { alphaBlend, laplacianPyramidBlend, defaultPyramidLevels, PyramidBlender } from './blend.js';
export { unsharpMask, unsharpMaskRegion } from './sharpen.js';
export type { UnsharpOptions } from './sharpen.js';
export { fillPolygon, convexHull, fillConvexHull } from './polygon.js';

export { DEFAULT_ONE_EURO, OneEuroFilter } from './one-euro.js';
export type { OneEuroParams } from './one-euro.js';
