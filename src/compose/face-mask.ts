/**
 * Where a swapped face applies, in the target's geometry: the face outline, eroded and feathered in
 * proportion to the face's size, with the eye openings (and the mouth opening when the mouth mask
 * is on) cut out so the target's own eyes and mouth interior show through.
 *
 * The masks are smooth, so they are built on a coarse grid (about 128 cells across the face) and
 * only the blend mask is brought back to full resolution.
 */

import type { Rect } from '../core/image.js';
import { boxBlurFast, dilate, erode } from '../core/filters.js';
import { fillPolygon } from '../core/polygon.js';
import { gridSize, upsampleField } from '../core/resample.js';
import { ScratchBuffers } from '../core/scratch.js';
import { FACE_OVAL, LEFT_EYE, LIPS_INNER, LIPS_OUTER, POINT, RIGHT_EYE } from '../face/mesh-indices.js';

export interface FaceMaskOptions {
  /** Cut the mouth opening out of the mask (keeps the target's teeth and tongue). */
  mouthMask: boolean;
  /** Cut the eye openings out (default true): the target's own eyes show. */
  eyeHoles?: boolean;
  /** Cut the whole lips out (outer lip line), not only the mouth opening: the target keeps its lips. */
  lipsKept?: boolean;
  /** Share of the brow-to-hairline height painted (default {@link FOREHEAD_KEPT}). */
  foreheadKept?: number;
}

export interface FaceMasks {
  /** Feathered weights 0..1 for blending, at the working resolution. */
  blend: Float32Array;
  /** Hard 0/1 mask of the face's skin (outline minus openings) on a coarse grid, for statistics. */
  skin: Float32Array;
  /** The skin grid's cell size in working pixels, and its dimensions. */
  grid: number;
  gridWidth: number;
  gridHeight: number;
}

/** Cell size that puts about 128 cells across the face. */
export function maskGrid(faceSize: number): number {
  return Math.max(1, Math.floor(faceSize / 128));
}

function loopPoints(landmarks: Float32Array, loop: readonly number[], rect: Rect, scale: number): Float32Array {
  const points = new Float32Array(loop.length * 2);
  loop.forEach((v, i) => {
    points[2 * i] = (landmarks[3 * v] - rect.x0) / scale;
    points[2 * i + 1] = (landmarks[3 * v + 1] - rect.y0) / scale;
  });
  return points;
}

/**
 * Masks over `rect` (frame pixels) at a resolution of one value per `factor`×`factor` frame
 * pixels (the engine's working resolution). `faceSize` is in frame pixels.
 */
/**
 * The face outline with its top lowered: FaceMesh's outline runs up to the hairline, where the
 * source's fringe or a hat brim would be pasted onto the target. Above the brows the outline is
 * cut at FOREHEAD_KEPT of the brow-to-top height, measured along the face's own up direction.
 */
const FOREHEAD_KEPT = 0.45;

function outlinePoints(landmarks: Float32Array, kept = FOREHEAD_KEPT): Float32Array {
  const at = (i: number, axis: 0 | 1) => landmarks[3 * i + axis];
  const [top, chin, glabella] = [POINT.foreheadTop, POINT.chin, 9];
  let ux = at(top, 0) - at(chin, 0);
  let uy = at(top, 1) - at(chin, 1);
  const length = Math.hypot(ux, uy) || 1;
  ux /= length;
  uy /= length;
  const heightOf = (x: number, y: number) => (x - at(glabella, 0)) * ux + (y - at(glabella, 1)) * uy;
  const limit = kept * heightOf(at(top, 0), at(top, 1));
  const out = new Float32Array(landmarks.length);
  out.set(landmarks);
  for (const v of FACE_OVAL) {
    const excess = heightOf(at(v, 0), at(v, 1)) - limit;
    if (excess <= 0) continue;
    out[3 * v] -= excess * ux;
    out[3 * v + 1] -= excess * uy;
  }
  return out;
}

/**
 * The blend mask's intermediate planes, reused from call to call (they never leave
 * buildFaceMasks, which runs to the end once started): per-frame allocations of the face's size
 * otherwise bring the garbage collector round every few frames.
 */
const planes = new ScratchBuffers();

/** Outline and openings filled on a grid of `scale` frame pixels per cell (the reused `planes` with `reuse`). */
function fillRegions(
  landmarks: Float32Array,
  rect: Rect,
  scale: number,
  gw: number,
  gh: number,
  options: FaceMaskOptions,
  reuse = false,
): { outline: Float32Array; openings: Float32Array } {
  const outline = reuse ? planes.floats('outline', gw * gh) : new Float32Array(gw * gh);
  fillPolygon(outline, gw, gh, loopPoints(outlinePoints(landmarks, options.foreheadKept), FACE_OVAL, rect, scale), 1);
  const openings = reuse ? planes.floats('openings', gw * gh) : new Float32Array(gw * gh);
  const cut = [...(options.eyeHoles === false ? [] : [RIGHT_EYE, LEFT_EYE]), ...(options.lipsKept ? [LIPS_OUTER] : options.mouthMask ? [LIPS_INNER] : [])];
  for (const loop of cut) fillPolygon(openings, gw, gh, loopPoints(landmarks, loop, rect, scale), 1);
  return { outline, openings };
}

export function buildFaceMasks(landmarks: Float32Array, rect: Rect, faceSize: number, options: FaceMaskOptions, factor = 1): FaceMasks {
  const w = gridSize(rect.x1 - rect.x0, factor);
  const h = gridSize(rect.y1 - rect.y0, factor);
  const workingSize = faceSize / factor;

  // The outline's edge lies on the jaw and hairline: pull the blend well inside it and feather
  // widely, so the seam falls on skin. Openings get a narrow feather so eyelids stay crisp.
  const grid = maskGrid(workingSize);
  const gw = gridSize(w, grid);
  const gh = gridSize(h, grid);
  const size = workingSize / grid;
  const { outline, openings } = fillRegions(landmarks, rect, grid * factor, gw, gh, options, true);
  const cells = gw * gh;
  // On a grid of one working pixel the feathered outline is the blend mask itself: a plane of its own, returned.
  const outerPlane = grid === 1 ? new Float32Array(cells) : planes.floats('outer', cells);
  const blurScratch = planes.floats('blur', 2 * cells);
  const eroded = erode(outline, gw, gh, Math.max(3, Math.round(size * 0.05)) | 1, planes.floats('eroded', cells));
  const outer = boxBlurFast(eroded, gw, gh, 1, Math.max(1, size * 0.035), outerPlane, blurScratch);
  const dilated = dilate(openings, gw, gh, Math.max(1, Math.round(size * 0.012)) | 1, planes.floats('dilated', cells));
  const holes = boxBlurFast(dilated, gw, gh, 1, Math.max(0.7, size * 0.01), dilated, blurScratch);
  for (let i = 0; i < cells; i++) outer[i] *= 1 - holes[i];

  // Statistics need far fewer samples: about 48 cells across the face.
  const statsGrid = Math.max(1, Math.floor(workingSize / 48));
  const sw = gridSize(w, statsGrid);
  const sh = gridSize(h, statsGrid);
  const coarse = fillRegions(landmarks, rect, statsGrid * factor, sw, sh, options);
  const skin = new Float32Array(sw * sh);
  for (let i = 0; i < skin.length; i++) skin[i] = coarse.outline[i] * (1 - coarse.openings[i]);
  return { blend: grid === 1 ? outer : upsampleField(outer, grid, w, h), skin, grid: statsGrid, gridWidth: sw, gridHeight: sh };
}
