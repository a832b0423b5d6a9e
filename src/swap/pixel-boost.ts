/**
 * FaceFusion's pixel boost (spec §7.2 step 3): the target is cropped at the boost size, a multiple
 * t of the model's own size, split by space-to-depth into t² sub-images of the model's size (sub-image
 * (i, j) takes the crop's pixels at rows y·t + i and columns x·t + j), each swapped on its own, and
 * the results interleaved back (depth-to-space). A boost that the model's size does not divide
 * cannot be reshaped and is refused.
 */

import { LiveswapError } from '../core/errors.js';
import { createImage, type Image } from '../core/image.js';

/** The sizes `--pixel-boost` offers (FaceFusion's list); each model accepts the multiples of its own size. */
export const PIXEL_BOOST_SIZES = [128, 256, 384, 512, 768, 1024] as const;

/** The boost sizes a model of this crop side can tile: the whole multiples of it, itself included. */
export function pixelBoostsFitting(modelSize: number): number[] {
  return PIXEL_BOOST_SIZES.filter((size) => size % modelSize === 0 && size >= modelSize);
}

/** t = boost / modelSize, or a usage error naming the model and the sizes it can take. */
export function pixelBoostFactor(modelId: string, modelSize: number, boost: number): number {
  const t = boost / modelSize;
  if (!Number.isInteger(t) || t < 1) {
    throw new LiveswapError(
      'usage',
      `--pixel-boost ${boost} does not fit ${modelId}: its crop is ${modelSize}×${modelSize}, and the boost must be a whole multiple of it to be tiled by space-to-depth. Use one of ${pixelBoostsFitting(modelSize).join(', ')}.`,
    );
  }
  return t;
}

/** The t² sub-images of a (t·s)×(t·s) crop, in the order (i, j) = (0, 0), (0, 1), …: tile i·t + j. */
export function spaceToDepth(crop: Image, t: number): Image[] {
  if (crop.width !== crop.height || crop.width % t !== 0) throw new RangeError(`spaceToDepth: a ${crop.width}×${crop.height} crop does not split into ${t}×${t} tiles`);
  const s = crop.width / t;
  const c = crop.channels;
  const tiles: Image[] = [];
  for (let i = 0; i < t; i++) {
    for (let j = 0; j < t; j++) {
      const tile = createImage(s, s, c);
      for (let y = 0; y < s; y++) {
        const row = (y * t + i) * crop.width;
        for (let x = 0; x < s; x++) {
          const from = (row + x * t + j) * c;
          const to = (y * s + x) * c;
          for (let k = 0; k < c; k++) tile.data[to + k] = crop.data[from + k];
        }
      }
      tiles.push(tile);
    }
  }
  return tiles;
}

/** The inverse of {@link spaceToDepth}: t² tiles of one size interleaved into one (t·s)×(t·s) image. */
export function depthToSpace(tiles: readonly Image[], t: number): Image {
  if (tiles.length !== t * t) throw new RangeError(`depthToSpace: ${tiles.length} tiles, expected ${t * t}`);
  const s = tiles[0]!.width;
  const c = tiles[0]!.channels;
  const out = createImage(s * t, s * t, c);
  for (let i = 0; i < t; i++) {
    for (let j = 0; j < t; j++) {
      const tile = tiles[i * t + j]!;
      if (tile.width !== s || tile.height !== s || tile.channels !== c) throw new RangeError('depthToSpace: tiles differ in size');
      for (let y = 0; y < s; y++) {
        const row = (y * t + i) * out.width;
        for (let x = 0; x < s; x++) {
          const to = (row + x * t + j) * c;
          const from = (y * s + x) * c;
          for (let k = 0; k < c; k++) out.data[to + k] = tile.data[from + k];
        }
      }
    }
  }
  return out;
}
