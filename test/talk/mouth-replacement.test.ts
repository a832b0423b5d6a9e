/**
 * The talking mouth replaces the face's own: a synthetic sequence of meshes whose mouth opens and
 * closes by itself (footage of someone speaking or singing) is posed to a viseme plan, and the
 * posed lips follow the plan, not the footage: closed wherever the plan is closed (the lips meet
 * along the whole mouth, no crossing at the corners), open by the plan's amount elsewhere; the
 * painted frame loses the footage's own dark mouth when the plan closes it.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createImage, type Image } from '../../src/core/image.js';
import { fillPolygon } from '../../src/core/polygon.js';
import { MESH_POINTS, type Face } from '../../src/face/face.js';
import { LIPS_INNER, LOWER_LIP, POINT } from '../../src/face/mesh-indices.js';
import { pearson } from '../../src/pipeline/talk-sync.js';
import { posePoints, renderTalkingFace, rigFace, type TalkRig } from '../../src/pipeline/talk-render.js';
import { canonicalLandmarks } from '../helpers/canonical-face.js';

const SIZE = 200;
const OFFSET = 20;
/** Inner-lip pairs, upper then lower, from one corner to the other (MediaPipe's numbering). */
const PAIRS = [
  [191, 95],
  [80, 88],
  [81, 178],
  [82, 87],
  [13, 14],
  [312, 317],
  [311, 402],
  [310, 318],
  [415, 324],
] as const;

/** The canonical face with its own mouth opened by `open` mouth widths at the centre (less towards the corners), jaw and chin following. */
function footageFace(open: number): Face {
  const m = canonicalLandmarks(SIZE);
  for (let i = 0; i < MESH_POINTS; i++) {
    m[3 * i]! += OFFSET;
    m[3 * i + 1]! += OFFSET;
  }
  const cx = (m[3 * POINT.mouthLeft]! + m[3 * POINT.mouthRight]!) / 2;
  const cy = (m[3 * POINT.upperLipInner + 1]! + m[3 * POINT.lowerLipInner + 1]!) / 2;
  const width = Math.abs(m[3 * POINT.mouthLeft]! - m[3 * POINT.mouthRight]!);
  const lower = new Set<number>(LOWER_LIP);
  for (let i = 0; i < MESH_POINTS; i++) {
    const u = (m[3 * i]! - cx) / (width / 2);
    const below = m[3 * i + 1]! > cy + 0.02 * width;
    if (!lower.has(i) && !below) continue;
    // A jaw that drops most at the middle; the corners stay where they are.
    const profile = Math.max(0, 1 - u * u);
    m[3 * i + 1]! += open * width * profile;
  }
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < MESH_POINTS; i++) {
    x0 = Math.min(x0, m[3 * i]!);
    y0 = Math.min(y0, m[3 * i + 1]!);
    x1 = Math.max(x1, m[3 * i]!);
    y1 = Math.max(y1, m[3 * i + 1]!);
  }
  return { box: [x0, y0, x1 - x0, y1 - y0], score: 1, meshScore: 1, kps5: new Float32Array(10), landmarks: m, roi: { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, size: SIZE, angle: 0 } };
}

/** Skin everywhere, the footage's own mouth (its inner-lip polygon) painted dark. */
function footageFrame(face: Face): Image {
  const image = createImage(SIZE + 2 * OFFSET, SIZE + 2 * OFFSET, 3);
  for (let i = 0; i < image.data.length; i += 3) image.data.set([190, 150, 130], i);
  const polygon = Float32Array.from(LIPS_INNER.flatMap((i) => [face.landmarks[3 * i]!, face.landmarks[3 * i + 1]!]));
  const mask = new Float32Array(image.width * image.height);
  fillPolygon(mask, image.width, image.height, polygon, 1);
  for (let p = 0; p < mask.length; p++) if (mask[p]! > 0.5) image.data.set([20, 10, 10], 3 * p);
  return image;
}

/** Gap (down the face) between an upper and a lower posed point. */
function gapOf(rig: TalkRig, posed: Float32Array, upper: number, lower: number): number {
  return (posed[2 * lower]! - posed[2 * upper]!) * rig.ey[0] + (posed[2 * lower + 1]! - posed[2 * upper + 1]!) * rig.ey[1];
}

describe('mouth replacement', () => {
  // The footage's own mouth and the plan's, frame by frame: unrelated rhythms.
  const frames = 40;
  const own = Array.from({ length: frames }, (_, k) => 0.3 * Math.abs(Math.sin(k * 0.45)));
  const plan = Array.from({ length: frames }, (_, k) => (k % 10 < 4 ? 0 : 0.3 + 0.5 * Math.abs(Math.sin(k * 1.3))));

  it("poses the lips to the plan's opening whatever the footage's own mouth does", () => {
    const out: number[] = [];
    for (let k = 0; k < frames; k++) {
      const face = footageFace(own[k]!);
      const rig = rigFace(face, footageFrame(face));
      assert.ok(Math.abs(rig.gap / rig.mouthWidth - own[k]!) < 0.02, `frame ${k}: the footage's own gap is measured (${rig.gap / rig.mouthWidth} vs ${own[k]})`);
      const posed = posePoints(rig, { mouth: { open: plan[k]!, wide: 0, round: 0 } });
      const centre = gapOf(rig, posed, POINT.upperLipInner, POINT.lowerLipInner) / rig.mouthWidth;
      out.push(centre);
      if (plan[k] === 0) {
        // Closed means closed along the whole mouth, with no lip crossing the other near the corners.
        for (const [u, l] of PAIRS) assert.ok(Math.abs(gapOf(rig, posed, u, l)) < 0.01 * rig.mouthWidth, `frame ${k}: pair ${u}/${l} gap ${gapOf(rig, posed, u, l)} px`);
      } else {
        for (const [u, l] of PAIRS) assert.ok(gapOf(rig, posed, u, l) > -0.01 * rig.mouthWidth, `frame ${k}: pair ${u}/${l} crossed (${gapOf(rig, posed, u, l)} px)`);
      }
    }
    const withPlan = pearson(Float32Array.from(out), Float32Array.from(plan));
    const withFootage = pearson(Float32Array.from(out), Float32Array.from(own));
    assert.ok(withPlan > 0.99, `posed opening vs plan: r = ${withPlan}`);
    assert.ok(Math.abs(withFootage) < 0.3, `posed opening vs the footage's own: r = ${withFootage}`);
    // The same plan gives the same opening whatever the footage did: the spread over frames with equal plans is tiny.
    const closed = out.filter((_, k) => plan[k] === 0);
    assert.ok(Math.max(...closed.map(Math.abs)) < 0.01, `closed frames: ${closed.join(', ')}`);
  });

  it("paints the footage's open mouth shut when the plan is closed, and opens it when the plan opens", () => {
    const face = footageFace(0.3);
    const frame = footageFrame(face);
    const rig = rigFace(face, frame);
    const dark = (image: Image): number => {
      let n = 0;
      for (let i = 0; i < image.data.length; i += 3) if (image.data[i]! < 80) n++;
      return n;
    };
    const before = dark(frame);
    assert.ok(before > 200, `the footage's mouth is open: ${before} dark pixels`);
    const out = createImage(frame.width, frame.height, 3);
    renderTalkingFace(frame, rig, { mouth: { open: 0, wide: 0, round: 0 } }, out);
    const shut = dark(out);
    // What is left is the line where the lips meet (their inner edges sample the dark border): a few pixels thick at most.
    assert.ok(shut < before * 0.3 && shut < 3 * rig.mouthWidth, `closed by the plan: ${shut} dark pixels left of ${before} (mouth ${rig.mouthWidth} px wide)`);
    renderTalkingFace(frame, rig, { mouth: { open: 0.8, wide: 0, round: 0 } }, out);
    assert.ok(dark(out) > shut * 3, `opened by the plan: ${dark(out)} dark pixels`);
  });

  it('closes the opening FaceMesh under-reads: the dark mouth reaching past the landmarks is shut too', () => {
    // A small, blurred face: its dark mouth is open 0.2 mouth widths, the landmarks say 0.1.
    const frame = footageFrame(footageFace(0.2));
    const face = footageFace(0.1);
    const rig = rigFace(face, frame);
    assert.ok(rig.gap / rig.mouthWidth > 0.15, `the gap is read to the opening's visible edge: ${rig.gap / rig.mouthWidth} mouth widths`);
    const dark = (image: Image): number => {
      let n = 0;
      for (let i = 0; i < image.data.length; i += 3) if (image.data[i]! < 80) n++;
      return n;
    };
    const out = createImage(frame.width, frame.height, 3);
    renderTalkingFace(frame, rig, { mouth: { open: 0, wide: 0, round: 0 } }, out);
    const shut = dark(out);
    assert.ok(shut < dark(frame) * 0.3 && shut < 3 * rig.mouthWidth, `closed by the plan: ${shut} dark pixels left of ${dark(frame)} (mouth ${rig.mouthWidth} px wide)`);
  });
});
