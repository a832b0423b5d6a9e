/**
 * Identity shape transfer for the mesh engine: where the target's 468 mesh points should move so
 * the face takes the source person's geometry (eye corners and tilt, brow position and arch, nose,
 * mouth width and lip thickness, cheeks and chin) while keeping the target's pose and expression.
 *
 * The source's mesh is made left-right symmetric once (each side weighted by how squarely the
 * photo sees it), then for every target face it is put into the target's pose by a 3-D similarity
 * fitted on rigid points. The raw offset per point is that aligned source minus the target; what
 * carries expression is then taken out region by region:
 * - eyes: the whole eye region follows the similarity that takes the target's eye corners to the
 *   source's, so eye length, spacing and tilt are the source's and the lid aperture the target's;
 * - mouth: the lips are translated with the inner upper lip and scaled to the source's mouth width
 *   along the target's mouth axis; lip thickness is the source's, the opening the target's;
 * - chin: points below the mouth keep the source's shape relative to the lower lip, so the jaw
 *   opens and closes with the target's;
 * - the forehead stays the target's (hair and hats never bend); the outline below the eyes takes
 *   the source's jaw and cheeks only when asked (`outline`), and then the frame around the face
 *   must be warped with it ({@link outlineRing}), or the painted face would not meet its edge.
 * The offsets are smoothed over the mesh's edges, bounded, and scaled down until no triangle folds.
 *
 * Over 400 lines on purpose: the region weights, the transfer, its smoothing, the fold checks and
 * the outline ring are one algorithm tuned together on the same mesh constants; the smile measures
 * at the end share the mouth constants (they could move to face/expression.ts if they grow).
 */

import { smoothstep } from '../core/smoothstep.js';
import { CANONICAL_UV } from './canonical-uv.js';
import { MESH_POINTS } from './face.js';
import { FACE_OVAL, LEFT_EYE, LIPS_INNER, LIPS_OUTER, POINT, RIGHT_EYE } from './mesh-indices.js';
import { meshTopology } from './mesh-topology.js';
import { applySimilarity3, procrustes3 } from './procrustes.js';

export interface ShapeRegionSwitches {
  eyes: boolean;
  brows: boolean;
  nose: boolean;
  mouth: boolean;
  jaw: boolean;
}

/** Points that move little with expression: eye corners, nose bridge and base, cheekbones, temples. */
const RIGID = [33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 98, 327, 234, 454, 93, 323, 127, 356, 116, 345, 50, 280, 9, 151, 108, 337] as const;

const RIGHT_BROW = [46, 53, 52, 65, 55, 70, 63, 105, 66, 107] as const;
const LEFT_BROW = [276, 283, 282, 295, 285, 300, 293, 334, 296, 336] as const;
const UPPER_INNER = 13;
const LOWER_INNER = 14;
const UPPER_OUTER = 0;
const LOWER_OUTER = 17;

/** The outer lip line's upper and lower halves (corners excluded): where lip thickness shows. */
const UPPER_OUTER_LIP: ReadonlySet<number> = new Set([185, 40, 39, 37, 0, 267, 269, 270, 409]);
const LOWER_OUTER_LIP: ReadonlySet<number> = new Set([375, 321, 405, 314, 17, 84, 181, 91, 146]);

/** Largest offset, in inter-ocular distances. */
const MAX_OFFSET = 0.12;

interface Ellipse {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
}

function uvEllipse(indices: readonly number[], growX: number, growY: number): Ellipse {
  let x0 = Infinity,
    x1 = -Infinity,
    y0 = Infinity,
    y1 = -Infinity;
  for (const i of indices) {
    x0 = Math.min(x0, CANONICAL_UV[2 * i]);
    x1 = Math.max(x1, CANONICAL_UV[2 * i]);
    y0 = Math.min(y0, CANONICAL_UV[2 * i + 1]);
    y1 = Math.max(y1, CANONICAL_UV[2 * i + 1]);
  }
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, rx: ((x1 - x0) / 2) * growX, ry: ((y1 - y0) / 2) * growY };
}

/** 1 inside the ellipse, fading to 0 at `fade` times its radii. */
function ellipseWeight(e: Ellipse, u: number, v: number, fade: number): number {
  const r = Math.hypot((u - e.cx) / e.rx, (v - e.cy) / e.ry);
  return 1 - smoothstep(1, fade, r);
}

/** Per-vertex region weights, fixed by the canonical layout (computed once). */
interface RegionWeights {
  eyes: Float32Array;
  /** Which eye each vertex belongs to: 0 the image-left (subject's right), 1 the other. */
  eyeSide: Uint8Array;
  mouth: Float32Array;
  chin: Float32Array;
  brows: Float32Array;
  nose: Float32Array;
  /** Cheeks and jaw: inside the outline, below the brows, away from its edge. */
  jaw: Float32Array;
  /** 0 on the outline rising to 1 a little inside it. */
  inside: Float32Array;
  /** 0 above the eyes rising to 1 below them: where the outline may move. */
  lowerFace: Float32Array;
  /** Vertices whose offset is fixed before smoothing (eye and lip contours, the outline). */
  pinned: Uint8Array;
  /** Mesh edges as vertex pairs, for smoothing. */
  edges: Uint16Array;
  /** Triangles checked for folding (skin, eyes and mouth). */
  triangles: Uint16Array;
}

function buildRegions(): RegionWeights {
  const n = MESH_POINTS;
  const uv = CANONICAL_UV;
  const eyeR = uvEllipse(RIGHT_EYE, 1.25, 2.2);
  const eyeL = uvEllipse(LEFT_EYE, 1.25, 2.2);
  const browR = uvEllipse(RIGHT_BROW, 1.15, 2.2);
  const browL = uvEllipse(LEFT_BROW, 1.15, 2.2);
  const mouth = uvEllipse(LIPS_OUTER, 1.08, 1.2);
  const nose = uvEllipse([168, 6, 197, 195, 5, 4, 1, 2, 98, 327, 64, 294, 48, 278, 129, 358], 1.1, 1.05);
  const lowerLipV = uv[2 * LOWER_OUTER + 1];
  const cornerV = (uv[2 * POINT.mouthRight + 1] + uv[2 * POINT.mouthLeft + 1]) / 2;
  const browTopV = Math.min(...[...RIGHT_BROW, ...LEFT_BROW].map((i) => uv[2 * i + 1]));
  const oval = FACE_OVAL as readonly number[];
  const w = {
    eyes: new Float32Array(n),
    eyeSide: new Uint8Array(n),
    mouth: new Float32Array(n),
    chin: new Float32Array(n),
    brows: new Float32Array(n),
    nose: new Float32Array(n),
    jaw: new Float32Array(n),
    inside: new Float32Array(n),
    lowerFace: new Float32Array(n),
    pinned: new Uint8Array(n),
  };
  const eyeLineV = (uv[2 * POINT.rightEyeOuter + 1] + uv[2 * POINT.leftEyeOuter + 1]) / 2;
  for (let i = 0; i < n; i++) {
    const u = uv[2 * i],
      v = uv[2 * i + 1];
    const right = ellipseWeight(eyeR, u, v, 1.5);
    const left = ellipseWeight(eyeL, u, v, 1.5);
    w.eyes[i] = Math.max(right, left);
    w.eyeSide[i] = u < 0.5 ? 0 : 1;
    w.mouth[i] = ellipseWeight(mouth, u, v, 1.35);
    w.chin[i] = smoothstep(cornerV, lowerLipV + 0.02, v);
    w.brows[i] = Math.max(ellipseWeight(browR, u, v, 1.6), ellipseWeight(browL, u, v, 1.6));
    w.nose[i] = ellipseWeight(nose, u, v, 1.5);
    let edge = Infinity;
    for (const o of oval) edge = Math.min(edge, Math.hypot(u - uv[2 * o], v - uv[2 * o + 1]));
    w.inside[i] = smoothstep(0.015, 0.09, edge);
    w.jaw[i] = w.inside[i] * smoothstep(browTopV - 0.02, browTopV + 0.06, v);
    w.lowerFace[i] = smoothstep(eyeLineV, eyeLineV + 0.1, v);
  }
  for (const i of [...RIGHT_EYE, ...LEFT_EYE, ...LIPS_INNER, ...LIPS_OUTER, ...oval]) w.pinned[i] = 1;
  const topology = meshTopology();
  const triangles = new Uint16Array(topology.skin.length + topology.eyes.length + topology.mouth.length);
  triangles.set(topology.skin, 0);
  triangles.set(topology.eyes, topology.skin.length);
  triangles.set(topology.mouth, topology.skin.length + topology.eyes.length);
  const seen = new Set<number>();
  const edges: number[] = [];
  for (let t = 0; t < triangles.length; t += 3) {
    for (let k = 0; k < 3; k++) {
      const a = triangles[t + k],
        b = triangles[t + ((k + 1) % 3)];
      const key = Math.min(a, b) * n + Math.max(a, b);
      if (seen.has(key)) continue;
      seen.add(key);
      edges.push(a, b);
    }
  }
  return { ...w, edges: Uint16Array.from(edges), triangles };
}

let regions: RegionWeights | undefined;
function regionWeights(): RegionWeights {
  return (regions ??= buildRegions());
}

/**
 * The source face's shape, made once per source: the mesh mirrored onto itself, each side
 * weighted by how squarely the photo sees it, so a three-quarter photo gives a whole face.
 * `visibility` is per vertex in 0..1.
 */
export function symmetricShape(landmarks: Float32Array, visibility: Float32Array): Float32Array {
  const { mirror } = meshTopology();
  const n = MESH_POINTS;
  const mirrored = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    const j = mirror[i];
    mirrored[3 * i] = -landmarks[3 * j];
    mirrored[3 * i + 1] = landmarks[3 * j + 1];
    mirrored[3 * i + 2] = landmarks[3 * j + 2];
  }
  const all = Uint16Array.from({ length: n }, (_, i) => i);
  const aligned = applySimilarity3(procrustes3(mirrored, landmarks, all), mirrored);
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    const own = visibility[i] + 1e-3;
    const other = visibility[mirror[i]] + 1e-3;
    for (let d = 0; d < 3; d++) out[3 * i + d] = (own * landmarks[3 * i + d] + other * aligned[3 * i + d]) / (own + other);
  }
  return out;
}

/** Per-vertex visibility from per-triangle weights: the largest of the triangles around it. */
export function vertexVisibility(triangleWeights: Float32Array, triangles: ArrayLike<number>): Float32Array {
  const out = new Float32Array(MESH_POINTS);
  for (let t = 0; t < triangleWeights.length; t++) {
    for (let k = 0; k < 3; k++) {
      const v = triangles[3 * t + k];
      out[v] = Math.max(out[v], triangleWeights[t]);
    }
  }
  return out;
}

/** Lip gap over mouth width: above this the mouth is open, and its width is not the person's. */
const OPEN_MOUTH = 0.12;

function dist2(m: ArrayLike<number>, i: number, j: number): number {
  return Math.hypot(m[3 * i] - m[3 * j], m[3 * i + 1] - m[3 * j + 1]);
}

/** Where the target's (x, y) goes under the 2-D similarity taking target points a, b to source points a, b. */
function pairSimilarity(t: Float32Array, s: Float32Array, a: number, b: number): (x: number, y: number) => [number, number] {
  const tx = t[3 * b] - t[3 * a],
    ty = t[3 * b + 1] - t[3 * a + 1];
  const sx = s[3 * b] - s[3 * a],
    sy = s[3 * b + 1] - s[3 * a + 1];
  const d = tx * tx + ty * ty || 1;
  // α = (s_b − s_a) / (t_b − t_a) as complex numbers.
  const ar = (sx * tx + sy * ty) / d;
  const ai = (sy * tx - sx * ty) / d;
  return (x, y) => {
    const dx = x - t[3 * a],
      dy = y - t[3 * a + 1];
    return [s[3 * a] + ar * dx - ai * dy, s[3 * a + 1] + ai * dx + ar * dy];
  };
}

export interface ShapeTransferResult {
  /** 468 × (x, y, z): the target's points moved to the source's shape (z is the target's). */
  points: Float32Array;
  /** The strength finally used (halved while triangles folded). */
  strength: number;
}

/**
 * Moves the target mesh towards the source's identity geometry with `strength` in [0, 1].
 * `source` is the source's symmetric shape ({@link symmetricShape}), in any frame.
 */
export function transferShape(target: Float32Array, source: Float32Array, strength: number, switches: ShapeRegionSwitches, outline = 0): ShapeTransferResult {
  const n = MESH_POINTS;
  const out = Float32Array.from(target);
  if (strength <= 0) return { points: out, strength: 0 };
  const r = regionWeights();
  const aligned = applySimilarity3(procrustes3(source, target, RIGID), source);
  const iod = dist2(target, POINT.rightEyeOuter, POINT.leftEyeOuter) || 1;

  const eyeMaps = [pairSimilarity(target, aligned, POINT.rightEyeOuter, POINT.rightEyeInner), pairSimilarity(target, aligned, POINT.leftEyeInner, POINT.leftEyeOuter)];
  // Mouth: translate with the inner upper lip, scale along the target's mouth axis.
  const ax = target[3 * POINT.mouthLeft] - target[3 * POINT.mouthRight];
  const ay = target[3 * POINT.mouthLeft + 1] - target[3 * POINT.mouthRight + 1];
  const width = Math.hypot(ax, ay) || 1;
  const ux = ax / width,
    uy = ay / width;
  const sourceOpen = dist2(aligned, UPPER_INNER, LOWER_INNER) / (dist2(aligned, POINT.mouthRight, POINT.mouthLeft) || 1);
  const targetOpen = dist2(target, UPPER_INNER, LOWER_INNER) / width;
  const widthRatio = dist2(aligned, POINT.mouthRight, POINT.mouthLeft) / width;
  // Width is the person's only when neither mouth is open (a smile or a yawn changes it).
  const neutral = sourceOpen < OPEN_MOUTH && targetOpen < OPEN_MOUTH;
  const k = Math.min(1.15, Math.max(0.88, neutral ? widthRatio : 1 + 0.5 * (widthRatio - 1)));
  const mdx = aligned[3 * UPPER_INNER] - target[3 * UPPER_INNER];
  const mdy = aligned[3 * UPPER_INNER + 1] - target[3 * UPPER_INNER + 1];
  // Lip thickness along the mouth's normal (pointing down the face).
  const nx = -uy,
    ny = ux;
  const along = (m: Float32Array, a: number, b: number) => (m[3 * b] - m[3 * a]) * nx + (m[3 * b + 1] - m[3 * a + 1]) * ny;
  const upperGrow = along(aligned, UPPER_OUTER, UPPER_INNER) - along(target, UPPER_OUTER, UPPER_INNER);
  const lowerGrow = along(aligned, LOWER_INNER, LOWER_OUTER) - along(target, LOWER_INNER, LOWER_OUTER);
  const cx = target[3 * UPPER_INNER],
    cy = target[3 * UPPER_INNER + 1];
  const mouthMap = (i: number): [number, number] => {
    const dx = target[3 * i] - cx,
      dy = target[3 * i + 1] - cy;
    const a = dx * ux + dy * uy;
    const b = dx * nx + dy * ny;
    const grow = UPPER_OUTER_LIP.has(i) ? -upperGrow : LOWER_OUTER_LIP.has(i) ? lowerGrow : 0;
    const x = cx + mdx + k * a * ux + b * nx + grow * nx;
    const y = cy + mdy + k * a * uy + b * ny + grow * ny;
    return [x - target[3 * i], y - target[3 * i + 1]];
  };
  const [lowerDx, lowerDy] = mouthMap(LOWER_OUTER);

  const dx = new Float32Array(n);
  const dy = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const gx = aligned[3 * i] - target[3 * i];
    const gy = aligned[3 * i + 1] - target[3 * i + 1];
    // Generic regions: brows, nose, cheeks and jaw take the aligned source's position.
    // With the outline free, the cheeks and jaw move all the way to it below the eyes.
    const inner = r.inside[i] + (1 - r.inside[i]) * outline * r.lowerFace[i];
    const jaw = outline > 0 ? Math.max(r.jaw[i], inner * r.lowerFace[i]) : r.jaw[i];
    const generic = Math.max(switches.brows ? r.brows[i] : 0, switches.nose ? r.nose[i] : 0, switches.jaw ? jaw : 0);
    let x = generic * gx;
    let y = generic * gy;
    // Chin: follows the lower lip (which the mouth has placed) and keeps the source's shape
    // relative to it, so the jaw opens with the target's; fading out towards the outline.
    const chin = r.chin[i] * (1 - r.mouth[i]);
    if (chin > 0) {
      const relX = switches.jaw ? aligned[3 * i] - aligned[3 * LOWER_OUTER] - (target[3 * i] - target[3 * LOWER_OUTER]) : 0;
      const relY = switches.jaw ? aligned[3 * i + 1] - aligned[3 * LOWER_OUTER + 1] - (target[3 * i + 1] - target[3 * LOWER_OUTER + 1]) : 0;
      const lip = switches.mouth ? 1 : 0;
      x = (1 - chin) * x + chin * inner * (lip * lowerDx + relX);
      y = (1 - chin) * y + chin * inner * (lip * lowerDy + relY);
    }
    const mouth = r.mouth[i];
    if (mouth > 0) {
      const [mx, my] = switches.mouth ? mouthMap(i) : [0, 0];
      x = (1 - mouth) * x + mouth * mx;
      y = (1 - mouth) * y + mouth * my;
    }
    const eye = r.eyes[i];
    if (eye > 0) {
      const [ex, ey] = switches.eyes ? eyeMaps[r.eyeSide[i]](target[3 * i], target[3 * i + 1]) : [target[3 * i], target[3 * i + 1]];
      x = (1 - eye) * x + eye * (ex - target[3 * i]);
      y = (1 - eye) * y + eye * (ey - target[3 * i + 1]);
    }
    dx[i] = x;
    dy[i] = y;
  }
  if (!(outline > 0) || !switches.jaw) for (const i of FACE_OVAL) dx[i] = dy[i] = 0;

  smooth(dx, dy, r, 3);
  const limit = MAX_OFFSET * iod;
  for (let i = 0; i < n; i++) {
    const length = Math.sqrt(dx[i] * dx[i] + dy[i] * dy[i]);
    if (length > limit) {
      dx[i] *= limit / length;
      dy[i] *= limit / length;
    }
  }

  let s = Math.min(1, strength);
  for (let attempt = 0; ; attempt++) {
    for (let i = 0; i < n; i++) {
      out[3 * i] = target[3 * i] + s * dx[i];
      out[3 * i + 1] = target[3 * i + 1] + s * dy[i];
    }
    if (attempt === 3 || !folds(target, out, r.triangles)) break;
    s /= 2;
  }
  return { points: out, strength: s };
}

/** How far the outer loop of the frame warp lies from the face centre, in outline radii. */
const RING_REACH = 1.35;

/**
 * The ring's triangles, the same for every face: outline point k, k + 1 and outer-loop point k
 * (index MESH_POINTS + k), then k + 1 with outer points k + 1 and k.
 */
export const RING_TRIANGLES: Uint16Array = (() => {
  const oval = FACE_OVAL as readonly number[];
  const ring: number[] = [];
  for (let k = 0; k < oval.length; k++) {
    const next = (k + 1) % oval.length;
    ring.push(oval[k], oval[next], MESH_POINTS + k, oval[next], MESH_POINTS + next, MESH_POINTS + k);
  }
  return Uint16Array.from(ring);
})();

export interface OutlineRing {
  /** 468 mesh points then the outer loop, x,y pairs: the target's and the shaped face's. */
  from: Float32Array;
  to: Float32Array;
  /** Triangles of the ring between the outline and the fixed outer loop (indices into from/to). */
  ring: Uint16Array;
}

/**
 * The frame warp that carries the target's silhouette to the shaped face's outline: a ring of
 * triangles from the face outline out to a loop RING_REACH times as far from the face centre,
 * which stays put, so hair, collar and background bend smoothly and nothing further moves.
 */
export function outlineRing(target: Float32Array, shaped: Float32Array): OutlineRing {
  const n = MESH_POINTS;
  const oval = FACE_OVAL as readonly number[];
  const count = oval.length;
  const from = new Float32Array(2 * (n + count));
  const to = new Float32Array(2 * (n + count));
  for (let i = 0; i < n; i++) {
    from[2 * i] = target[3 * i];
    from[2 * i + 1] = target[3 * i + 1];
    to[2 * i] = shaped[3 * i];
    to[2 * i + 1] = shaped[3 * i + 1];
  }
  let cx = 0,
    cy = 0;
  for (const v of oval) {
    cx += target[3 * v] / count;
    cy += target[3 * v + 1] / count;
  }
  oval.forEach((v, k) => {
    const x = cx + RING_REACH * (target[3 * v] - cx);
    const y = cy + RING_REACH * (target[3 * v + 1] - cy);
    from[2 * (n + k)] = to[2 * (n + k)] = x;
    from[2 * (n + k) + 1] = to[2 * (n + k) + 1] = y;
  });
  return { from, to, ring: RING_TRIANGLES };
}

/** Whether any ring triangle turns over (or collapses) between `from` and `to`. */
export function ringFolds(r: OutlineRing): boolean {
  const area = (m: Float32Array, a: number, b: number, c: number) => (m[2 * b] - m[2 * a]) * (m[2 * c + 1] - m[2 * a + 1]) - (m[2 * b + 1] - m[2 * a + 1]) * (m[2 * c] - m[2 * a]);
  for (let t = 0; t < r.ring.length; t += 3) {
    const before = area(r.from, r.ring[t], r.ring[t + 1], r.ring[t + 2]);
    const after = area(r.to, r.ring[t], r.ring[t + 1], r.ring[t + 2]);
    if (Math.sign(before) !== Math.sign(after) || Math.abs(after) < 0.5 * Math.abs(before)) return true;
  }
  return false;
}

/** Jacobi passes that average each free vertex's offset with its neighbours'. */
function smooth(dx: Float32Array, dy: Float32Array, r: RegionWeights, passes: number): void {
  const n = MESH_POINTS;
  const sx = new Float32Array(n);
  const sy = new Float32Array(n);
  const count = new Float32Array(n);
  for (let pass = 0; pass < passes; pass++) {
    sx.fill(0);
    sy.fill(0);
    count.fill(0);
    for (let e = 0; e < r.edges.length; e += 2) {
      const a = r.edges[e],
        b = r.edges[e + 1];
      sx[a] += dx[b];
      sy[a] += dy[b];
      count[a]++;
      sx[b] += dx[a];
      sy[b] += dy[a];
      count[b]++;
    }
    for (let i = 0; i < n; i++) {
      if (r.pinned[i] || count[i] === 0) continue;
      dx[i] = 0.5 * dx[i] + (0.5 * sx[i]) / count[i];
      dy[i] = 0.5 * dy[i] + (0.5 * sy[i]) / count[i];
    }
  }
}

/**
 * Whether moving from `before` to `after` turns any triangle over. Triangles the target shows
 * nearly edge-on (a thirtieth of the mean area or less) are left out: their winding is noise.
 */
export function folds(before: Float32Array, after: Float32Array, triangles: Uint16Array): boolean {
  const area = (m: Float32Array, a: number, b: number, c: number) => (m[3 * b] - m[3 * a]) * (m[3 * c + 1] - m[3 * a + 1]) - (m[3 * b + 1] - m[3 * a + 1]) * (m[3 * c] - m[3 * a]);
  const areas = new Float32Array(triangles.length / 3);
  for (let t = 0; t < areas.length; t++) areas[t] = area(before, triangles[3 * t], triangles[3 * t + 1], triangles[3 * t + 2]);
  let total = 0;
  for (let t = 0; t < areas.length; t++) total += Math.abs(areas[t]);
  const floor = total / areas.length / 30;
  for (let t = 0; t < areas.length; t++) {
    if (Math.abs(areas[t]) <= floor) continue;
    const moved = area(after, triangles[3 * t], triangles[3 * t + 1], triangles[3 * t + 2]);
    if (Math.sign(moved) !== Math.sign(areas[t])) return true;
  }
  return false;
}

/**
 * How broadly a face smiles, 0 (neutral, or talking) to 1 (a portrait smile), from its mesh: a
 * smile widens the mouth (width over the outer eye corners' distance: about 0.5–0.64 at rest,
 * 0.77–0.83 in broad smiles on the evaluation photos) with the corners not pulled below the upper
 * lip (as they are when the mouth is open to speak or sing), measured along the face's own up.
 */
export function smileScore(m: Float32Array): number {
  const ex = m[3 * POINT.leftEyeOuter] - m[3 * POINT.rightEyeOuter];
  const ey = m[3 * POINT.leftEyeOuter + 1] - m[3 * POINT.rightEyeOuter + 1];
  const eyes = Math.hypot(ex, ey) || 1;
  // Up, in image coordinates (y down): the eye line turned a quarter back.
  const ux = ey / eyes,
    uy = -ex / eyes;
  const width = dist2(m, POINT.mouthRight, POINT.mouthLeft) || 1;
  const lift = (i: number) => (m[3 * i] - m[3 * UPPER_INNER]) * ux + (m[3 * i + 1] - m[3 * UPPER_INNER + 1]) * uy;
  const corners = (lift(POINT.mouthRight) + lift(POINT.mouthLeft)) / 2 / width;
  return smoothstep(0.64, 0.78, width / eyes) * smoothstep(-0.08, -0.03, corners);
}

/**
 * Where a smile draws lines into the skin, in the canonical texture layout (u, v in 0..1): the
 * nasolabial folds, crow's feet, and the raised cheeks under the eyes. 1 on a line, fading out.
 */
export function expressionLineWeight(u: number, v: number): number {
  const capsule = (ax: number, ay: number, bx: number, by: number, radius: number) => {
    const dx = bx - ax,
      dy = by - ay;
    const t = Math.min(1, Math.max(0, ((u - ax) * dx + (v - ay) * dy) / (dx * dx + dy * dy)));
    return 1 - smoothstep(radius * 0.5, radius, Math.hypot(u - ax - t * dx, v - ay - t * dy));
  };
  const side = u < 0.5 ? -1 : 1;
  const x = (c: number) => 0.5 + side * Math.abs(c - 0.5);
  const uv = (i: number): [number, number] => [x(CANONICAL_UV[2 * i]), CANONICAL_UV[2 * i + 1]];
  const [alarU, alarV] = uv(98);
  const [cornerU, cornerV] = uv(POINT.mouthRight);
  const [canthusU, canthusV] = uv(POINT.rightEyeOuter);
  const [lidU, lidV] = uv(145);
  // The fold runs from beside the nose wing down and out, past the mouth corner, and curves in.
  const fold = Math.max(
    capsule(alarU + side * 0.01, alarV - 0.06, cornerU + side * 0.065, cornerV - 0.02, 0.05),
    capsule(cornerU + side * 0.065, cornerV - 0.02, cornerU + side * 0.045, cornerV + 0.08, 0.05),
  );
  const crowsFeet = capsule(canthusU + side * 0.02, canthusV - 0.02, canthusU + side * 0.07, canthusV + 0.03, 0.045);
  const cheek = capsule(lidU - side * 0.03, lidV + 0.05, lidU + side * 0.05, lidV + 0.05, 0.05);
  return Math.max(fold, crowsFeet, cheek);
}
