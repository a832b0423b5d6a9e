/**
 * The built-in `mesh` engine. The source face is unwrapped once into the canonical mesh's texture
 * space, with each triangle weighted by how squarely the source photo sees it; parts seen edge-on
 * or not at all are filled from the mirrored half. Each target face is then painted by warping
 * that texture triangle by triangle onto the target's own 468-point mesh.
 */

import { createImage, clampRect, type Image } from '../core/image.js';
import { boxBlurFast } from '../core/filters.js';
import { fillPolygon } from '../core/polygon.js';
import { warpTriangles } from '../core/warp.js';
import { buildFaceMasks } from '../compose/face-mask.js';
import { CANONICAL_UV } from '../face/canonical-uv.js';
import { MESH_POINTS, faceSize, type Face } from '../face/face.js';
import { meshTopology } from '../face/mesh-topology.js';
import type { FaceSwapper, SwapPatch, SwapSettings } from './engine.js';

export interface MeshIdentity {
  /** size×size RGBA in canonical texture space; alpha is the confidence in each texel (255 = seen squarely). */
  readonly texture: Image;
  readonly size: number;
}

/** A triangle seen at less than this cosine (≈ 70° from the camera) counts as not visible... */
const HIDDEN_COSINE = 0.3;
/** ...and above this (≈ 50°) as fully visible; in between it fades. */
const VISIBLE_COSINE = 0.6;

function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
}

/**
 * How squarely the camera sees a triangle: the cosine between its 3-D normal and the view axis,
 * negative when it faces away (the winding flips against the canonical layout's).
 */
function triangleFacing(m: Float32Array, a: number, b: number, c: number): number {
  const e1x = m[3 * b] - m[3 * a], e1y = m[3 * b + 1] - m[3 * a + 1], e1z = m[3 * b + 2] - m[3 * a + 2];
  const e2x = m[3 * c] - m[3 * a], e2y = m[3 * c + 1] - m[3 * a + 1], e2z = m[3 * c + 2] - m[3 * a + 2];
  const nx = e1y * e2z - e1z * e2y;
  const ny = e1z * e2x - e1x * e2z;
  const nz = e1x * e2y - e1y * e2x;
  const length = Math.hypot(nx, ny, nz);
  if (length < 1e-6) return 0;
  const u = CANONICAL_UV;
  const canonicalWinding = Math.sign((u[2 * b] - u[2 * a]) * (u[2 * c + 1] - u[2 * a + 1]) - (u[2 * b + 1] - u[2 * a + 1]) * (u[2 * c] - u[2 * a]));
  return (nz / length) * canonicalWinding;
}

function landmarkXY(face: Face, originX: number, originY: number, out: Float32Array): Float32Array {
  for (let i = 0; i < MESH_POINTS; i++) {
    out[2 * i] = face.landmarks[3 * i] - originX;
    out[2 * i + 1] = face.landmarks[3 * i + 1] - originY;
  }
  return out;
}

function concat(a: Uint16Array, b: Uint16Array): Uint16Array {
  const out = new Uint16Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export class MeshSwapper implements FaceSwapper<MeshIdentity> {
  readonly name = 'mesh';
  readonly mouthMaskByDefault = true;
  private readonly topology = meshTopology();
  private readonly skinAndMouth = concat(this.topology.skin, this.topology.mouth);
  private readonly points = new Float32Array(MESH_POINTS * 2);

  createIdentity(image: Image, face: Face): MeshIdentity {
    // Texture resolution follows the source face: the canonical layout spans about 0.9 of it.
    const size = Math.min(1024, Math.max(128, Math.round(faceSize(face) / 0.9 / 8) * 8));
    const texture = createImage(size, size, 4);
    const uv = this.uvPoints(size);
    const coverage = new Float32Array(size * size);
    warpTriangles(image, landmarkXY(face, 0, 0, this.points), texture, uv, this.skinAndMouth, { coverage });

    const visibility = new Float32Array(size * size);
    const tri = new Float32Array(6);
    const t = this.skinAndMouth;
    for (let i = 0; i < t.length; i += 3) {
      const weight = smoothstep(HIDDEN_COSINE, VISIBLE_COSINE, triangleFacing(face.landmarks, t[i], t[i + 1], t[i + 2]));
      if (weight === 0) continue;
      for (let k = 0; k < 3; k++) {
        tri[2 * k] = uv[2 * t[i + k]];
        tri[2 * k + 1] = uv[2 * t[i + k] + 1];
      }
      fillPolygon(visibility, size, size, tri, weight);
    }
    for (let i = 0; i < visibility.length; i++) visibility[i] *= coverage[i];
    const smooth = boxBlurFast(visibility, size, size, 1, size / 96);
    this.fillFromMirror(texture, smooth);
    return { texture, size };
  }

  /**
   * The canonical layout is left-right symmetric about u = 0.5, so a texel's mirror image is the
   * same row, mirrored column. Where the source saw a part poorly, blend in its mirror; where it
   * saw neither side, confidence stays low and the target's own skin will show.
   */
  private fillFromMirror(texture: Image, visibility: Float32Array): void {
    const { width: size, data } = texture;
    const rgb = data.slice();
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = y * size + x;
        const j = y * size + (size - 1 - x);
        const own = visibility[i];
        const mirrored = (1 - own) * visibility[j];
        const total = own + mirrored;
        if (total > 1e-4) {
          for (let k = 0; k < 3; k++) data[4 * i + k] = (own * rgb[4 * i + k] + mirrored * rgb[4 * j + k]) / total;
        }
        data[4 * i + 3] = 255 * Math.min(1, total);
      }
    }
  }

  swap(frame: Image, face: Face, identity: MeshIdentity, settings: SwapSettings): SwapPatch {
    const size = faceSize(face);
    const margin = size * 0.12;
    const [bx, by, bw, bh] = face.box;
    const rect = clampRect({ x0: bx - margin, y0: by - margin, x1: bx + bw + margin, y1: by + bh + margin }, frame.width, frame.height);
    const w = rect.x1 - rect.x0;
    const h = rect.y1 - rect.y0;
    const warped = createImage(w, h, 4);
    const coverage = new Float32Array(w * h);
    const triangles = settings.mouthMask ? this.topology.skin : this.skinAndMouth;
    warpTriangles(identity.texture, this.uvPoints(identity.size), warped, landmarkXY(face, rect.x0, rect.y0, this.points), triangles, { coverage });

    const masks = buildFaceMasks(face.landmarks, rect, size, { mouthMask: settings.mouthMask });
    const pixels = createImage(w, h, 3);
    for (let i = 0; i < w * h; i++) {
      masks.blend[i] *= coverage[i] * warped.data[4 * i + 3] * (1 / 255);
      pixels.data[3 * i] = warped.data[4 * i];
      pixels.data[3 * i + 1] = warped.data[4 * i + 1];
      pixels.data[3 * i + 2] = warped.data[4 * i + 2];
    }
    // Statistics only from skin the source really showed: sample the confidence at cell centres.
    const g = masks.grid;
    for (let gy = 0; gy < masks.gridHeight; gy++) {
      const y = Math.min(h - 1, Math.floor((gy + 0.5) * g));
      for (let gx = 0; gx < masks.gridWidth; gx++) {
        const i = y * w + Math.min(w - 1, Math.floor((gx + 0.5) * g));
        if (coverage[i] * warped.data[4 * i + 3] < 128) masks.skin[gy * masks.gridWidth + gx] = 0;
      }
    }
    return { rect, pixels, mask: masks.blend, statsMask: { grid: g, weights: masks.skin }, faceSize: size };
  }

  private uvPoints(size: number): Float32Array {
    const out = new Float32Array(MESH_POINTS * 2);
    for (let i = 0; i < MESH_POINTS * 2; i++) out[i] = CANONICAL_UV[i] * size;
    return out;
  }
}
