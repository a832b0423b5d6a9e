/**
 * The face regions a partial swap names, with FaceFusion's names (spec §9.3), and where each lies:
 * BiSeNet's class indices for the face parser, and polygons on FaceMesh's 468 points for the
 * landmark parse that needs no download. A parse is a label map in BiSeNet's numbering, so either
 * way a region mask is "label ∈ chosen".
 */

import { convexHull, fillPolygon } from '../core/polygon.js';
import { FACE_OVAL, LIPS_INNER } from './mesh-indices.js';

/** FaceFusion's region names, in its order (spec §9.3); all of them is the default. */
export const FACE_REGIONS = ['skin', 'left-eyebrow', 'right-eyebrow', 'left-eye', 'right-eye', 'glasses', 'nose', 'mouth', 'upper-lip', 'lower-lip'] as const;
export type FaceRegion = (typeof FACE_REGIONS)[number];

/** BiSeNet's class index (CelebAMask-HQ order) of each region (spec §9.3 table). */
export const BISENET_CLASSES: Readonly<Record<FaceRegion, number>> = {
  skin: 1,
  'left-eyebrow': 2,
  'right-eyebrow': 3,
  'left-eye': 4,
  'right-eye': 5,
  glasses: 6,
  nose: 10,
  mouth: 11,
  'upper-lip': 12,
  'lower-lip': 13,
};

/** BiSeNet's number of classes (logit channels). */
export const BISENET_CLASS_COUNT = 19;

/**
 * Polygons on FaceMesh's points (MediaPipe's annotation rings; "left"/"right" are the subject's,
 * as in mesh-indices.ts). The eyes are the first ring around the lid opening (lids included, as
 * BiSeNet's eye class is); the nose is a hull from the bridge between the eyes to the nostrils.
 */
const RIGHT_EYEBROW = [70, 63, 105, 66, 107, 55, 65, 52, 53, 46];
const LEFT_EYEBROW = [300, 293, 334, 296, 336, 285, 295, 282, 283, 276];
const RIGHT_EYE_RING = [130, 25, 110, 24, 23, 22, 26, 112, 243, 190, 56, 28, 27, 29, 30, 247];
const LEFT_EYE_RING = [359, 255, 339, 254, 253, 252, 256, 341, 463, 414, 286, 258, 257, 259, 260, 467];
const NOSE_HULL = [168, 193, 417, 122, 351, 196, 419, 3, 248, 236, 456, 198, 420, 131, 360, 49, 279, 48, 278, 219, 439, 64, 294, 98, 327, 97, 326, 2, 94, 19, 1, 4, 5];
/** Outer upper lip from the image-left corner to the right one, back along the inner upper lip. */
const UPPER_LIP_LOOP = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191, 78];
/** Outer lower lip from the image-right corner to the left one, back along the inner lower lip. */
const LOWER_LIP_LOOP = [291, 375, 321, 405, 314, 17, 84, 181, 91, 146, 61, 78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308];

/** What the landmark parse paints, in order (later shapes cover earlier ones); `hull` shapes are filled as their convex hull. */
const MESH_SHAPES: readonly { label: number; loop: readonly number[]; hull?: boolean }[] = [
  { label: BISENET_CLASSES.skin, loop: FACE_OVAL },
  { label: BISENET_CLASSES.nose, loop: NOSE_HULL, hull: true },
  { label: BISENET_CLASSES['right-eyebrow'], loop: RIGHT_EYEBROW },
  { label: BISENET_CLASSES['left-eyebrow'], loop: LEFT_EYEBROW },
  { label: BISENET_CLASSES['right-eye'], loop: RIGHT_EYE_RING },
  { label: BISENET_CLASSES['left-eye'], loop: LEFT_EYE_RING },
  { label: BISENET_CLASSES['upper-lip'], loop: UPPER_LIP_LOOP },
  { label: BISENET_CLASSES['lower-lip'], loop: LOWER_LIP_LOOP },
  { label: BISENET_CLASSES.mouth, loop: LIPS_INNER },
];

/** The regions a FaceMesh parse can find: all but glasses, which no landmark shows. */
export const MESH_REGIONS: readonly FaceRegion[] = FACE_REGIONS.filter((r) => r !== 'glasses');

/**
 * A label map (BiSeNet's class numbers, 0 background) of `width`×`height` cells from FaceMesh's
 * points: `toCell` maps a frame point to continuous cell coordinates (cell (i, j) covers
 * [i, i+1) × [j, j+1)). `points` are 468 × `stride` numbers, x and y first.
 */
export function meshLabelMap(points: ArrayLike<number>, stride: number, width: number, height: number, toCell: (x: number, y: number) => [number, number]): Uint8Array {
  const field = new Float32Array(width * height);
  for (const shape of MESH_SHAPES) {
    const polygon = new Float32Array(shape.loop.length * 2);
    shape.loop.forEach((v, k) => {
      const [x, y] = toCell(points[stride * v], points[stride * v + 1]);
      polygon[2 * k] = x;
      polygon[2 * k + 1] = y;
    });
    fillPolygon(field, width, height, shape.hull ? convexHull(polygon) : polygon, shape.label);
  }
  return Uint8Array.from(field);
}

/** Parses a comma-separated region list (FaceFusion's names); throws a RangeError naming the unknown ones. */
export function parseFaceRegions(text: string): FaceRegion[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const unknown = names.filter((n) => !(FACE_REGIONS as readonly string[]).includes(n));
  if (unknown.length) throw new RangeError(`unknown face region(s) ${unknown.join(', ')}; the regions are ${FACE_REGIONS.join(', ')}`);
  return [...new Set(names)] as FaceRegion[];
}
