/**
 * The triangulation the mesh engine warps with: a Delaunay triangulation of the canonical face
 * mesh's texture coordinates, cut to the face outline, with the mouth and eye openings split off
 * so the engine can leave them to the target. Also the left-right mirror map of the vertices.
 */

import Delaunator from 'delaunator';
import { CANONICAL_UV } from './canonical-uv.js';
import { FACE_OVAL, LEFT_EYE, LIPS_INNER, LOWER_LIP, RIGHT_EYE, UPPER_LIP } from './mesh-indices.js';
import { MESH_POINTS } from './face.js';

export interface MeshTopology {
  /** Skin triangles (index triples into the 468 mesh points). */
  readonly skin: Uint16Array;
  /** Triangles that fill the mouth opening. */
  readonly mouth: Uint16Array;
  /** Triangles that fill the two eye openings. */
  readonly eyes: Uint16Array;
  /** mirror[i]: the vertex on the other side of the face's symmetry plane. */
  readonly mirror: Uint16Array;
}

function pointInPolygon(x: number, y: number, loop: readonly number[]): boolean {
  let inside = false;
  for (let i = 0, j = loop.length - 1; i < loop.length; j = i++) {
    const xi = CANONICAL_UV[2 * loop[i]],
      yi = CANONICAL_UV[2 * loop[i] + 1];
    const xj = CANONICAL_UV[2 * loop[j]],
      yj = CANONICAL_UV[2 * loop[j] + 1];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function mirrorMap(): Uint16Array {
  const mirror = new Uint16Array(MESH_POINTS);
  for (let i = 0; i < MESH_POINTS; i++) {
    const mx = 1 - CANONICAL_UV[2 * i];
    const my = CANONICAL_UV[2 * i + 1];
    let best = i;
    let bestDistance = Infinity;
    for (let j = 0; j < MESH_POINTS; j++) {
      const d = (CANONICAL_UV[2 * j] - mx) ** 2 + (CANONICAL_UV[2 * j + 1] - my) ** 2;
      if (d < bestDistance) {
        bestDistance = d;
        best = j;
      }
    }
    mirror[i] = best;
  }
  return mirror;
}

function buildTopology(): MeshTopology {
  const { triangles } = new Delaunator(CANONICAL_UV.subarray(0, 2 * MESH_POINTS));
  const onEye = new Set<number>([...LEFT_EYE, ...RIGHT_EYE]);
  const onInnerLip = new Set<number>(LIPS_INNER);
  const upper = new Set<number>(UPPER_LIP);
  const lower = new Set<number>(LOWER_LIP);
  const skin: number[] = [];
  const mouth: number[] = [];
  const eyes: number[] = [];
  for (let t = 0; t < triangles.length; t += 3) {
    const tri = [triangles[t], triangles[t + 1], triangles[t + 2]] as const;
    const cx = (CANONICAL_UV[2 * tri[0]] + CANONICAL_UV[2 * tri[1]] + CANONICAL_UV[2 * tri[2]]) / 3;
    const cy = (CANONICAL_UV[2 * tri[0] + 1] + CANONICAL_UV[2 * tri[1] + 1] + CANONICAL_UV[2 * tri[2] + 1]) / 3;
    // Delaunay fills the convex hull; the forehead and jaw outline is not convex.
    if (!pointInPolygon(cx, cy, FACE_OVAL)) continue;
    const spansLips = tri.some((v) => upper.has(v)) && tri.some((v) => lower.has(v));
    if ((tri.every((v) => onInnerLip.has(v)) && pointInPolygon(cx, cy, LIPS_INNER)) || spansLips) mouth.push(...tri);
    else if (tri.every((v) => onEye.has(v)) && (pointInPolygon(cx, cy, LEFT_EYE) || pointInPolygon(cx, cy, RIGHT_EYE))) eyes.push(...tri);
    else skin.push(...tri);
  }
  return { skin: Uint16Array.from(skin), mouth: Uint16Array.from(mouth), eyes: Uint16Array.from(eyes), mirror: mirrorMap() };
}

/** Computed once when the module loads (a few milliseconds) and shared: it is immutable data. */
const TOPOLOGY: MeshTopology = buildTopology();

export function meshTopology(): MeshTopology {
  return TOPOLOGY;
}
