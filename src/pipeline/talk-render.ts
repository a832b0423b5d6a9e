/**
 * Painting a talking face: the mouth shape of a frame (see talk-timeline.ts) moves the lips and jaw
 * points of the face's 468-point mesh, a still photo's idle motion turns the head and closes the
 * lids, and the picture is re-painted with a piecewise-affine warp of the mesh triangles (the
 * engine's warp), extended by rings of points around the face so the jaw and the head move the
 * neck and hair smoothly into the untouched background. A video face's own mouth (its speaking or
 * singing) is closed first, to the opening's visible edge where FaceMesh's inner lip line falls
 * short of it, and then opened to the speech's shape; an opened mouth gets a dark interior with a
 * hint of teeth.
 */

import Delaunator from 'delaunator';
import type { Image, Rect } from '../core/image.js';
import { median } from '../core/median.js';
import { fillPolygon } from '../core/polygon.js';
import { smoothstep } from '../core/smoothstep.js';
import { warpTriangles } from '../core/warp.js';
import { MESH_POINTS, type Face } from '../face/face.js';
import { FACE_OVAL, LIPS_INNER, LIPS_OUTER, LOWER_LIP, POINT, UPPER_LIP } from '../face/mesh-indices.js';
import { meshTopology } from '../face/mesh-topology.js';
import type { IdleMotion } from './talk-timeline.js';
import type { MouthShape } from './talk-visemes.js';

/** Inner-lip gap at `open` = 1, in mouth widths. */
const GAP_AT_FULL_OPEN = 0.5;
/** How a gap change is shared: the jaw takes the lower lip down, the upper lip rises a little. */
const JAW_SHARE = 0.8;
/** Depth counted into the gap's unit at most this many times the mouth's visible width (FaceMesh's z is rough). */
const MAX_FORESHORTENING = 1.5;
const UPPER_SHARE = 0.2;
/** Relative change of the mouth's width for `wide` = 1 and `round` = 1. */
const SPREAD = 0.12;
const PURSE = 0.22;
/** Rings of points around the face (scale of the face outline about its centre) and how much of the head's motion and the jaw's each takes. */
const RINGS = [
  { scale: 1.2, motion: 0.8, jaw: 0.5 },
  { scale: 1.5, motion: 0.35, jaw: 0.15 },
  { scale: 1.9, motion: 0, jaw: 0 },
] as const;

/** Upper lid points of each eye, their lower-lid partners and the crease above them (subject's right eye first). */
const LIDS = [
  { upper: [246, 161, 160, 159, 158, 157, 173], lower: [7, 163, 144, 145, 153, 154, 155], crease: [247, 30, 29, 27, 28, 56, 190] },
  { upper: [466, 388, 387, 386, 385, 384, 398], lower: [249, 390, 373, 374, 380, 381, 382], crease: [467, 260, 259, 257, 258, 286, 414] },
] as const;

/** The mesh point between the eyes, at the top of the nose. */
const NASION = 168;
/** Skin points around the mouth: its colour. */
const AROUND_MOUTH = [205, 425, 200, 18, 164, 92, 322, 186, 410];
const UPPER = new Set<number>(UPPER_LIP);
const LOWER = new Set<number>(LOWER_LIP);
const LIP = new Set<number>([...LIPS_INNER, ...LIPS_OUTER]);
/** The inner lip line split into its upper and lower halves, corner to corner. */
const INNER_UPPER = LIPS_INNER.slice(0, 11);
const INNER_LOWER = [...LIPS_INNER.slice(10), LIPS_INNER[0]];
/** The outer lip line's upper and lower halves, corner to corner. */
const OUTER_UPPER = LIPS_OUTER.slice(0, 11);
const OUTER_LOWER = [...LIPS_OUTER.slice(10), LIPS_OUTER[0]];
/** Part of the mouth (either side of its centre, in mouth widths) where a lip's visible inner edge is looked for. */
const EDGE_SPAN = 0.3;
/** How far past FaceMesh's inner lip line the visible edge may lie: at most this part of the lip's thickness, and of the mouth's width. */
const EDGE_REACH_OF_LIP = 0.6;
const EDGE_REACH_OF_MOUTH = 0.15;
/** A pixel by the lips darker than this part of the skin's luma is the mouth's inside (lips are lighter). */
const DARK_OF_SKIN = 0.4;

/** What stays fixed about one face while it talks: its neutral points, the triangles and each point's weights. */
export interface TalkRig {
  /** x,y of the 468 mesh points followed by the ring points, frame pixels. */
  readonly points: Float32Array;
  readonly faceTriangles: Uint16Array;
  /** Triangles of the rings (indices into `points`), outside the face outline. */
  readonly outerTriangles: Uint32Array;
  /** Frame region the warp can change: the outer ring's bounds. */
  readonly region: Rect;
  /** Mouth centre and the face's axes (x along the eyes, y down the face), unit vectors. */
  readonly centre: readonly [number, number];
  readonly ex: readonly [number, number];
  readonly ey: readonly [number, number];
  readonly mouthWidth: number;
  /**
   * The mouth's width with depth (FaceMesh's z): the unit of the lip gap, so that a turned face,
   * whose mouth looks narrower, opens as far as it would facing the camera.
   */
  readonly gapUnit: number;
  readonly faceSize: number;
  /** The face's own inner-lip gap at the mouth's centre (pixels), to the opening's visible edges for a replaced mouth. */
  readonly gap: number;
  /**
   * Per point, the move down the face (pixels, negative is up) that closes the face's own
   * opening, from which a pose opens the mouth: see {@link OwnMouth}.
   */
  readonly close: Float32Array;
  readonly ownMouth: OwnMouth;
  /** Where the head turns: below the chin. */
  readonly pivot: readonly [number, number];
  readonly jaw: Float32Array;
  readonly upperLip: Float32Array;
  readonly spread: Float32Array;
  readonly motion: Float32Array;
  /** Mean colour of the lips and of the skin around the mouth (RGB), for the mouth's interior. */
  readonly lipColour: readonly [number, number, number];
  readonly skinLuma: number;
}

/**
 * What becomes of the face's own mouth. `replace` (a video's frames): each inner-lip pair closes
 * exactly where it was open and the jaw below follows, then the pose opens the mouth and its inside
 * is painted anew, so the footage's own speaking or singing never shows through or adds to the
 * speech. `keep` (a still photo): the photo's mouth is the rest shape, closed or opened from there
 * with the pose's own weights, and a photo whose lips were parted keeps most of its own inside.
 */
export type OwnMouth = 'replace' | 'keep';

/** The pose of one frame: the mouth, and for a still photo its idle motion. */
export interface TalkPose {
  mouth: MouthShape;
  motion?: IdleMotion;
}

const lumaOf = (rgb: readonly [number, number, number]): number => 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];

function meanColour(image: Image, points: Float32Array, indices: readonly number[]): [number, number, number] {
  const c = image.channels;
  const sum: [number, number, number] = [0, 0, 0];
  let n = 0;
  for (const i of indices) {
    const x = Math.min(image.width - 1, Math.max(0, Math.floor(points[2 * i]!)));
    const y = Math.min(image.height - 1, Math.max(0, Math.floor(points[2 * i + 1]!)));
    const o = (y * image.width + x) * c;
    for (let k = 0; k < 3; k++) sum[k]! += image.data[o + (c >= 3 ? k : 0)]!;
    n++;
  }
  return [sum[0] / n, sum[1] / n, sum[2] / n];
}

/** Outline test in frame coordinates (even-odd). */
function insidePolygon(x: number, y: number, polygon: ArrayLike<number>): boolean {
  let inside = false;
  const n = polygon.length >> 1;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = polygon[2 * i]!;
    const yi = polygon[2 * i + 1]!;
    const xj = polygon[2 * j]!;
    const yj = polygon[2 * j + 1]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Face coordinates (u along the eyes, w down the face) of point `i` about `centre`. */
function faceCoords(points: Float32Array, i: number, centre: readonly [number, number], ex: readonly [number, number], ey: readonly [number, number]): [number, number] {
  const dx = points[2 * i]! - centre[0];
  const dy = points[2 * i + 1]! - centre[1];
  return [dx * ex[0] + dy * ex[1], dx * ey[0] + dy * ey[1]];
}

/**
 * The moves that close the face's own mouth (see {@link TalkRig.close}): the inner lips' gap is
 * measured across the mouth (upper and lower inner lines, corner to corner); at each point's place
 * along the mouth the lower lip (inner and outer line together) rises by the jaw's share of the gap
 * there and the upper lip comes down by the rest, so the lines meet along the whole mouth without
 * crossing at the corners; the skin below moves up with the jaw by the same profile.
 */
function closingMoves(
  points: Float32Array,
  total: number,
  jaw: Float32Array,
  centre: readonly [number, number],
  ex: readonly [number, number],
  ey: readonly [number, number],
): Float32Array {
  const line = (indices: readonly number[]): { us: Float64Array; ws: Float64Array } => {
    const pairs = indices.map((i) => faceCoords(points, i, centre, ex, ey)).sort((a, b) => a[0] - b[0]);
    return { us: Float64Array.from(pairs, (p) => p[0]), ws: Float64Array.from(pairs, (p) => p[1]) };
  };
  const upper = line(INNER_UPPER);
  const lower = line(INNER_LOWER);
  const u0 = Math.max(upper.us[0]!, lower.us[0]!);
  const u1 = Math.min(upper.us.at(-1)!, lower.us.at(-1)!);
  const gapAt = (u: number): number => (u <= u0 || u >= u1 ? 0 : Math.max(0, lineAt(lower.us, lower.ws, u) - lineAt(upper.us, upper.ws, u)));
  const close = new Float32Array(total);
  for (let i = 0; i < total; i++) {
    const g = gapAt(faceCoords(points, i, centre, ex, ey)[0]);
    if (g === 0) continue;
    if (UPPER.has(i)) close[i] = UPPER_SHARE * g;
    else if (LOWER.has(i)) close[i] = -JAW_SHARE * g;
    else if (!LIP.has(i)) close[i] = -JAW_SHARE * g * jaw[i]!;
  }
  return close;
}

/** Luma of the pixel nearest (x, y), clamped to the image. */
function lumaAt(image: Image, x: number, y: number): number {
  const c = image.channels;
  const o = (Math.min(image.height - 1, Math.max(0, Math.round(y))) * image.width + Math.min(image.width - 1, Math.max(0, Math.round(x)))) * c;
  return c >= 3 ? 0.299 * image.data[o]! + 0.587 * image.data[o + 1]! + 0.114 * image.data[o + 2]! : image.data[o]!;
}

/**
 * How far (pixels) the mouth's visible opening reaches past FaceMesh's inner lip line, for the
 * upper and the lower lip. On a small or blurred face FaceMesh places the inner lip line inside
 * the opening (a singer's dark mouth a few pixels taller than the landmarks say), so a mouth
 * closed by the landmarks' gap alone still shows a band of its inside. Across the middle of the
 * mouth each lip is read outwards from its inner line: pixels far darker than the skin around the
 * mouth (less than {@link DARK_OF_SKIN} of its luma; lips are lighter than that) are the mouth's
 * inside; the first lighter pixel is the lip's edge (a reach under a pixel is the line's own). The median over the columns, at most part of
 * the lip's thickness.
 */
function visibleEdges(
  image: Image,
  points: Float32Array,
  frame: { centre: readonly [number, number]; ex: readonly [number, number]; ey: readonly [number, number]; mouthWidth: number },
  skinLuma: number,
): { upper: number; lower: number } {
  const { centre, ex, ey, mouthWidth } = frame;
  const line = (indices: readonly number[]): { us: Float64Array; ws: Float64Array } => {
    const pairs = indices.map((i) => faceCoords(points, i, centre, ex, ey)).sort((a, b) => a[0] - b[0]);
    return { us: Float64Array.from(pairs, (p) => p[0]), ws: Float64Array.from(pairs, (p) => p[1]) };
  };
  const dark = DARK_OF_SKIN * skinLuma;
  const reachOf = (inner: readonly number[], outer: readonly number[], direction: 1 | -1): number => {
    const innerLine = line(inner);
    const outerLine = line(outer);
    const reaches: number[] = [];
    const half = EDGE_SPAN * mouthWidth;
    for (let u = -half; u <= half; u += 1) {
      const w0 = lineAt(innerLine.us, innerLine.ws, u);
      const thickness = direction * (lineAt(outerLine.us, outerLine.ws, u) - w0);
      const limit = Math.min(EDGE_REACH_OF_LIP * Math.max(0, thickness), EDGE_REACH_OF_MOUTH * mouthWidth);
      let reach = 0;
      // From a pixel past the line: the line's own pixel is the lips' meeting line, dark in a closed mouth too.
      for (let d = 1; d <= limit; d += 0.5) {
        const w = w0 + direction * d;
        if (lumaAt(image, centre[0] + u * ex[0] + w * ey[0], centre[1] + u * ex[1] + w * ey[1]) >= dark) break;
        reach = d;
      }
      reaches.push(reach);
    }
    return median(reaches);
  };
  return { upper: reachOf(INNER_UPPER, OUTER_UPPER, -1), lower: reachOf(INNER_LOWER, OUTER_LOWER, 1) };
}

/** The mouth's frame in `points` (x,y pairs of the mesh): its centre, the face's axes (x along the eyes, y down the midline) and its width. */
function mouthFrame(points: Float32Array): { centre: [number, number]; ex: [number, number]; ey: [number, number]; mouthWidth: number } {
  const px = (i: number): number => points[2 * i]!;
  const py = (i: number): number => points[2 * i + 1]!;
  const downX = px(POINT.chin) - px(NASION);
  const downY = py(POINT.chin) - py(NASION);
  const downLength = Math.hypot(downX, downY) || 1;
  const ey: [number, number] = [downX / downLength, downY / downLength];
  const eyeSide = Math.sign((px(POINT.leftEyeOuter) - px(POINT.rightEyeOuter)) * ey[1] - (py(POINT.leftEyeOuter) - py(POINT.rightEyeOuter)) * ey[0]) || 1;
  const ex: [number, number] = [eyeSide * ey[1], -eyeSide * ey[0]];
  const centre: [number, number] = [(px(POINT.upperLipInner) + px(POINT.lowerLipInner)) / 2, (py(POINT.upperLipInner) + py(POINT.lowerLipInner)) / 2];
  const mouthWidth = Math.max(1, Math.hypot(px(POINT.mouthLeft) - px(POINT.mouthRight), py(POINT.mouthLeft) - py(POINT.mouthRight)));
  return { centre, ex, ey, mouthWidth };
}

/** The visible lip gap of a face (see {@link visibleOpening}). */
export interface VisibleOpening {
  /** FaceMesh's inner-lip gap at the mouth's centre and the dark opening's reach past it, each lip (pixels). */
  meshGap: number;
  upperReach: number;
  lowerReach: number;
  mouthWidth: number;
  /** (meshGap + upperReach + lowerReach) / mouthWidth: the lip gap as the picture shows it, in mouth widths. */
  open: number;
}

/**
 * The mouth's opening as the picture shows it: FaceMesh's inner-lip gap widened to the opening's
 * visible (dark) edges, read from `image` the same way a replaced mouth's own opening is found
 * before it is closed (where a small face's inner lip line falls short of the opening). For
 * measuring: the same reading for any face, painted or filmed.
 */
export function visibleOpening(face: Face, image: Image): VisibleOpening {
  const points = new Float32Array(2 * MESH_POINTS);
  for (let i = 0; i < MESH_POINTS; i++) {
    points[2 * i] = face.landmarks[3 * i]!;
    points[2 * i + 1] = face.landmarks[3 * i + 1]!;
  }
  const frame = mouthFrame(points);
  const { ey } = frame;
  const meshGap = Math.max(
    0,
    (points[2 * POINT.lowerLipInner]! - points[2 * POINT.upperLipInner]!) * ey[0] + (points[2 * POINT.lowerLipInner + 1]! - points[2 * POINT.upperLipInner + 1]!) * ey[1],
  );
  const edges = visibleEdges(image, points, frame, lumaOf(meanColour(image, points, AROUND_MOUTH)));
  return { meshGap, upperReach: edges.upper, lowerReach: edges.lower, mouthWidth: frame.mouthWidth, open: (meshGap + edges.upper + edges.lower) / frame.mouthWidth };
}

/**
 * The rig of a face in `image` (its neutral points and weights): made once for a still photo, per
 * frame for a video (cheap: a few hundred points).
 */
export function rigFace(face: Face, image: Image, ownMouth: OwnMouth = 'replace'): TalkRig {
  const m = face.landmarks;
  const ringCount = RINGS.length * FACE_OVAL.length;
  const total = MESH_POINTS + ringCount;
  const points = new Float32Array(2 * total);
  for (let i = 0; i < MESH_POINTS; i++) {
    points[2 * i] = m[3 * i]!;
    points[2 * i + 1] = m[3 * i + 1]!;
  }
  let cx = 0;
  let cy = 0;
  for (const i of FACE_OVAL) {
    cx += points[2 * i]! / FACE_OVAL.length;
    cy += points[2 * i + 1]! / FACE_OVAL.length;
  }
  RINGS.forEach((ring, r) => {
    FACE_OVAL.forEach((i, k) => {
      const j = MESH_POINTS + r * FACE_OVAL.length + k;
      points[2 * j] = cx + ring.scale * (points[2 * i]! - cx);
      points[2 * j + 1] = cy + ring.scale * (points[2 * i + 1]! - cy);
    });
  });

  const px = (i: number): number => points[2 * i]!;
  const py = (i: number): number => points[2 * i + 1]!;
  // Down the face is the midline, between the eyes to the chin: the way the jaw opens, also on a
  // face turned or bowed, where the line through the eyes is no longer square to it.
  const { centre, ex, ey, mouthWidth } = mouthFrame(points);
  const skin = meanColour(image, points, AROUND_MOUTH);
  if (ownMouth === 'replace') {
    // The inner lip line moved out to the opening's visible edge (fading to nothing at the corners), so closing it leaves none of the inside showing.
    const edges = visibleEdges(image, points, { centre, ex, ey, mouthWidth }, lumaOf(skin));
    const move = (indices: readonly number[], by: number): void => {
      if (by === 0) return;
      for (const i of indices) {
        const u = faceCoords(points, i, centre, ex, ey)[0] / mouthWidth;
        const d = by * (1 - smoothstep(0.25, 0.45, Math.abs(u)));
        points[2 * i]! += ey[0] * d;
        points[2 * i + 1]! += ey[1] * d;
      }
    };
    move(INNER_UPPER, -edges.upper);
    move(INNER_LOWER, edges.lower);
  }
  const dz = m[3 * POINT.mouthLeft + 2]! - m[3 * POINT.mouthRight + 2]!;
  const gapUnit = Math.hypot(mouthWidth, Math.min(Math.abs(dz), mouthWidth * MAX_FORESHORTENING));
  const faceSize = Math.max(face.box[2], face.box[3], 1);
  const gap = Math.max(0, (px(POINT.lowerLipInner) - px(POINT.upperLipInner)) * ey[0] + (py(POINT.lowerLipInner) - py(POINT.upperLipInner)) * ey[1]);
  const chin = POINT.chin;
  const pivot: [number, number] = [px(chin) + ey[0] * 0.35 * faceSize, py(chin) + ey[1] * 0.35 * faceSize];

  const jaw = new Float32Array(total);
  const upperLip = new Float32Array(total);
  const spread = new Float32Array(total);
  const motion = new Float32Array(total);
  for (let i = 0; i < total; i++) {
    const dx = px(i) - centre[0];
    const dy = py(i) - centre[1];
    const u = (dx * ex[0] + dy * ex[1]) / mouthWidth;
    // Down the face in the mouth's true width (with depth): a turned face's mouth looks narrower, its height does not.
    const w = (dx * ey[0] + dy * ey[1]) / gapUnit;
    const ring = i < MESH_POINTS ? undefined : RINGS[Math.floor((i - MESH_POINTS) / FACE_OVAL.length)]!;
    const towardsCorner = smoothstep(0.1, 0.55, Math.abs(u));
    const belowMouth = smoothstep(-0.15, 0.12, w) * (1 - smoothstep(0.5, 1.5, Math.abs(u)));
    if (LOWER.has(i)) jaw[i] = 1 - 0.5 * towardsCorner;
    else if (UPPER.has(i)) upperLip[i] = 1 - towardsCorner;
    else if (LIP.has(i)) jaw[i] = 0.4;
    else jaw[i] = belowMouth * (ring ? ring.jaw : 1);
    spread[i] = LIP.has(i) ? 1 : ring ? 0 : 1 - smoothstep(0.45, 0.95, Math.hypot(u, w * 1.4));
    motion[i] = ring ? ring.motion : 1;
  }
  const close = ownMouth === 'replace' ? closingMoves(points, total, jaw, centre, ex, ey) : jaw.map((weight, i) => -gap * (JAW_SHARE * weight - UPPER_SHARE * upperLip[i]!));

  // The outer triangles: the face outline and the rings, outside the outline.
  const outerIndex = [...FACE_OVAL, ...Array.from({ length: ringCount }, (_, k) => MESH_POINTS + k)];
  const coords = new Float64Array(2 * outerIndex.length);
  outerIndex.forEach((i, k) => {
    coords[2 * k] = px(i);
    coords[2 * k + 1] = py(i);
  });
  const oval = new Float32Array(2 * FACE_OVAL.length);
  FACE_OVAL.forEach((i, k) => {
    oval[2 * k] = px(i);
    oval[2 * k + 1] = py(i);
  });
  const delaunay = new Delaunator(coords);
  const outer: number[] = [];
  const t = delaunay.triangles;
  for (let k = 0; k + 2 < t.length; k += 3) {
    const a = outerIndex[t[k]!]!;
    const b = outerIndex[t[k + 1]!]!;
    const c = outerIndex[t[k + 2]!]!;
    if (a < MESH_POINTS && b < MESH_POINTS && c < MESH_POINTS) continue; // inside the outline: the face's own triangles
    const gx = (px(a) + px(b) + px(c)) / 3;
    const gy = (py(a) + py(b) + py(c)) / 3;
    if (!insidePolygon(gx, gy, oval)) outer.push(a, b, c);
  }
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  const last = MESH_POINTS + (RINGS.length - 1) * FACE_OVAL.length;
  for (let i = last; i < total; i++) {
    x0 = Math.min(x0, px(i));
    y0 = Math.min(y0, py(i));
    x1 = Math.max(x1, px(i));
    y1 = Math.max(y1, py(i));
  }
  const topology = meshTopology();
  const faceTriangles = new Uint16Array(topology.skin.length + topology.mouth.length + topology.eyes.length);
  faceTriangles.set(topology.skin, 0);
  faceTriangles.set(topology.mouth, topology.skin.length);
  faceTriangles.set(topology.eyes, topology.skin.length + topology.mouth.length);

  return {
    points,
    faceTriangles,
    outerTriangles: Uint32Array.from(outer),
    region: {
      x0: Math.max(0, Math.floor(x0)),
      y0: Math.max(0, Math.floor(y0)),
      x1: Math.min(image.width, Math.ceil(x1)),
      y1: Math.min(image.height, Math.ceil(y1)),
    },
    centre,
    ex,
    ey,
    mouthWidth,
    gapUnit,
    faceSize,
    gap,
    close,
    ownMouth,
    pivot,
    jaw,
    upperLip,
    spread,
    motion,
    lipColour: meanColour(image, points, [...LIPS_OUTER]),
    skinLuma: lumaOf(skin),
  };
}

/** The rig's points moved to a pose: mouth and jaw, lids, then the head's motion. */
export function posePoints(rig: TalkRig, pose: TalkPose, into?: Float32Array): Float32Array {
  const out = into ?? new Float32Array(rig.points.length);
  const { points, ex, ey, centre } = rig;
  const { open, wide, round } = pose.mouth;
  const target = Math.max(0, open) * GAP_AT_FULL_OPEN * rig.gapUnit;
  const widen = SPREAD * wide - PURSE * round;
  const n = points.length >> 1;
  for (let i = 0; i < n; i++) {
    const x = points[2 * i]!;
    const y = points[2 * i + 1]!;
    const down = rig.close[i]! + target * (JAW_SHARE * rig.jaw[i]! - UPPER_SHARE * rig.upperLip[i]!);
    const u = (x - centre[0]) * ex[0] + (y - centre[1]) * ex[1];
    const across = widen * rig.spread[i]! * u;
    out[2 * i] = x + ex[0] * across + ey[0] * down;
    out[2 * i + 1] = y + ex[1] * across + ey[1] * down;
  }
  const motion = pose.motion;
  if (!motion) return out;
  if (motion.blink > 0) {
    for (const eye of LIDS) {
      eye.upper.forEach((upper, k) => {
        const lower = eye.lower[k]!;
        const crease = eye.crease[k]!;
        const dx = (points[2 * lower]! - points[2 * upper]!) * 0.95 * motion.blink;
        const dy = (points[2 * lower + 1]! - points[2 * upper + 1]!) * 0.95 * motion.blink;
        out[2 * upper]! += dx;
        out[2 * upper + 1]! += dy;
        out[2 * crease]! += 0.45 * dx;
        out[2 * crease + 1]! += 0.45 * dy;
      });
    }
  }
  const [qx, qy] = rig.pivot;
  const shiftX = (motion.dx * ex[0] + motion.dy * ey[0]) * rig.faceSize;
  const shiftY = (motion.dx * ex[1] + motion.dy * ey[1]) * rig.faceSize;
  for (let i = 0; i < n; i++) {
    const weight = rig.motion[i]!;
    if (weight === 0) continue;
    const a = motion.angle * weight;
    const cos = Math.cos(a);
    const sin = Math.sin(a);
    const x = out[2 * i]! - qx;
    const y = out[2 * i + 1]! - qy;
    out[2 * i] = qx + cos * x - sin * y + shiftX * weight;
    out[2 * i + 1] = qy + sin * x + cos * y + shiftY * weight;
  }
  return out;
}

/**
 * Paints `source` with its face in `pose` into `out` (same size as `source`; pixels the rig cannot
 * move are copied). Returns the posed points (x,y pairs; the first 468 are the mesh).
 */
export function renderTalkingFace(source: Image, rig: TalkRig, pose: TalkPose, out: Image, scratch?: Float32Array): Float32Array {
  const posed = posePoints(rig, pose, scratch);
  out.data.set(source.data);
  warpTriangles(source, rig.points, out, posed, rig.outerTriangles, { rect: rig.region });
  warpTriangles(source, rig.points, out, posed, rig.faceTriangles, { rect: rig.region });
  paintMouthInterior(out, rig, posed);
  return posed;
}

/** Interpolates the w (down) coordinate of a lip line at u, from its points in face coordinates. */
function lineAt(us: Float64Array, ws: Float64Array, u: number): number {
  const n = us.length;
  if (u <= us[0]!) return ws[0]!;
  for (let k = 1; k < n; k++) {
    if (u <= us[k]!) {
      const f = (u - us[k - 1]!) / Math.max(1e-6, us[k]! - us[k - 1]!);
      return ws[k - 1]! + f * (ws[k]! - ws[k - 1]!);
    }
  }
  return ws[n - 1]!;
}

function lipLine(indices: readonly number[], posed: Float32Array, rig: TalkRig): { us: Float64Array; ws: Float64Array } {
  const pairs = indices.map((i) => {
    const dx = posed[2 * i]! - rig.centre[0];
    const dy = posed[2 * i + 1]! - rig.centre[1];
    return [dx * rig.ex[0] + dy * rig.ex[1], dx * rig.ey[0] + dy * rig.ey[1]] as const;
  });
  pairs.sort((a, b) => a[0] - b[0]);
  return { us: Float64Array.from(pairs, (p) => p[0]), ws: Float64Array.from(pairs, (p) => p[1]) };
}

/**
 * The opened mouth's inside: dark, a band of upper teeth under the upper lip (fading towards the
 * corners), a little of the lower teeth and the tongue's colour lower down, with a soft edge. It
 * replaces whatever a replaced mouth showed (footage's singing); a kept photo mouth whose lips were
 * already parted keeps more of its own inside.
 */
function paintMouthInterior(out: Image, rig: TalkRig, posed: Float32Array): void {
  const polygon = new Float32Array(2 * LIPS_INNER.length);
  LIPS_INNER.forEach((i, k) => {
    polygon[2 * k] = posed[2 * i]!;
    polygon[2 * k + 1] = posed[2 * i + 1]!;
  });
  const upper = lipLine(INNER_UPPER, posed, rig);
  const lower = lipLine(INNER_LOWER, posed, rig);
  const opening = lineAt(lower.us, lower.ws, 0) - lineAt(upper.us, upper.ws, 0);
  const W = rig.mouthWidth;
  // A replaced mouth was closed first, so its inside is always painted anew; a kept one with parted lips keeps most of its own.
  const strength = rig.ownMouth === 'replace' || rig.gap < 0.04 * W ? smoothstep(0.5, 2, opening) : Math.min(1, Math.max(0, (opening - rig.gap) / (0.15 * W))) * 0.8;
  if (strength <= 0) return;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let k = 0; k < LIPS_INNER.length; k++) {
    x0 = Math.min(x0, polygon[2 * k]!);
    y0 = Math.min(y0, polygon[2 * k + 1]!);
    x1 = Math.max(x1, polygon[2 * k]!);
    y1 = Math.max(y1, polygon[2 * k + 1]!);
  }
  const ox = Math.max(0, Math.floor(x0) - 2);
  const oy = Math.max(0, Math.floor(y0) - 2);
  const w = Math.min(out.width, Math.ceil(x1) + 2) - ox;
  const h = Math.min(out.height, Math.ceil(y1) + 2) - oy;
  if (w <= 0 || h <= 0) return;
  const hard = new Float32Array(w * h);
  fillPolygon(hard, w, h, polygon, 1, ox, oy);
  // A one-pixel soft edge: the 3×3 mean of the hard mask, kept inside it.
  const mask = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (hard[y * w + x] === 0) continue;
      let sum = 0;
      for (let j = -1; j <= 1; j++) for (let i = -1; i <= 1; i++) sum += hard[Math.min(h - 1, Math.max(0, y + j)) * w + Math.min(w - 1, Math.max(0, x + i))]!;
      mask[y * w + x] = sum / 9;
    }
  }
  const light = Math.min(1.1, Math.max(0.75, rig.skinLuma / 160));
  const [lr, lg, lb] = rig.lipColour;
  const cavity = [lr * 0.22 + 6, lg * 0.12 + 3, lb * 0.12 + 3];
  const tongue = [lr * 0.55, lg * 0.3, lb * 0.3];
  const teeth = [238 * light, 230 * light, 212 * light];
  const c = out.channels;
  const { centre, ex, ey } = rig;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const a = mask[y * w + x]! * strength;
      if (a <= 0) continue;
      const dx = ox + x + 0.5 - centre[0];
      const dy = oy + y + 0.5 - centre[1];
      const u = dx * ex[0] + dy * ex[1];
      const v = dx * ey[0] + dy * ey[1];
      const top = lineAt(upper.us, upper.ws, u);
      const bottom = lineAt(lower.us, lower.ws, u);
      const height = Math.max(1e-3, bottom - top);
      const taper = 1 - smoothstep(0.25 * W, 0.42 * W, Math.abs(u));
      const upperTeeth = Math.min(0.3 * height, 0.1 * W) * taper;
      const lowerTeeth = Math.min(0.15 * height, 0.05 * W) * taper * smoothstep(0.12 * W, 0.25 * W, height);
      const depth = (v - top) / height; // 0 at the upper lip, 1 at the lower
      const t = smoothstep(0.45, 1, depth) * smoothstep(0.1 * W, 0.3 * W, height) * 0.7;
      let r = cavity[0]! + t * (tongue[0]! - cavity[0]!);
      let g = cavity[1]! + t * (tongue[1]! - cavity[1]!);
      let b = cavity[2]! + t * (tongue[2]! - cavity[2]!);
      // The soft edge reaches a little past the lip lines: measured from the upper lip, never above it.
      const fromTop = Math.max(0, v - top);
      if (fromTop < upperTeeth || bottom - v < lowerTeeth) {
        const shade = fromTop < upperTeeth ? 1 - 0.25 * (fromTop / Math.max(1e-3, upperTeeth)) : 0.8;
        // Teeth show in an opening a few pixels tall, not as bright specks in a slit.
        const show = smoothstep(1, 3, height);
        r += show * (teeth[0]! * shade - r);
        g += show * (teeth[1]! * shade - g);
        b += show * (teeth[2]! * shade - b);
      }
      const o = ((oy + y) * out.width + ox + x) * c;
      out.data[o] = out.data[o]! + a * (r - out.data[o]!);
      out.data[o + 1] = out.data[o + 1]! + a * (g - out.data[o + 1]!);
      out.data[o + 2] = out.data[o + 2]! + a * (b - out.data[o + 2]!);
    }
  }
}
