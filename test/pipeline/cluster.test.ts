/** Tracklet linking, shot changes and identity clustering on synthetic data and fixture photos. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cropImage, createImage, pasteImage } from '../../src/core/image.js';
import {
  boxIoU,
  clusterIdentities,
  DEFAULT_SHOT_CHANGE_THRESHOLD,
  detectShotChange,
  type FaceDetection,
  frameDifference,
  linkTracklets,
  meanEmbedding,
} from '../../src/pipeline/cluster.js';
import { clipFrame } from '../helpers/clips.js';
import { seededRandom as random } from '../helpers/random.js';

function normalise(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** `groups` random directions with `perGroup` noisy copies each (similarity to the centre ≈ 0.9). */
function groupedEmbeddings(groups: number, perGroup: number, seed: number, dim = 64): { embeddings: Float32Array[]; group: number[] } {
  const rand = random(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const centres = Array.from({ length: groups }, () => normalise(Float32Array.from({ length: dim }, gauss)));
  const embeddings: Float32Array[] = [];
  const group: number[] = [];
  for (let g = 0; g < groups; g++) {
    for (let k = 0; k < perGroup; k++) {
      embeddings.push(normalise(centres[g]!.map((c) => c + 0.06 * gauss())));
      group.push(g);
    }
  }
  return { embeddings, group };
}

/** A partition as a canonical string of sorted groups, to compare clusterings whatever their numbering. */
function partition(clusters: number[][], names: (i: number) => number = (i) => i): string {
  return clusters
    .map((c) =>
      c
        .map(names)
        .sort((a, b) => a - b)
        .join(','),
    )
    .sort()
    .join(' | ');
}

function detection(frame: number, box: [number, number, number, number], embedding = new Float32Array([1, 0])): FaceDetection {
  return { frame, seconds: frame / 2, box, embedding };
}

describe('boxIoU', () => {
  it('is 1 for the same box, 0 for disjoint boxes and the area ratio for nested ones', () => {
    assert.equal(boxIoU([10, 10, 20, 20], [10, 10, 20, 20]), 1);
    assert.equal(boxIoU([0, 0, 10, 10], [10, 0, 10, 10]), 0);
    assert.equal(boxIoU([0, 0, 20, 20], [5, 5, 10, 10]), 100 / 400);
    assert.ok(Math.abs(boxIoU([0, 0, 10, 10], [5, 0, 10, 10]) - 50 / 150) < 1e-12);
  });
});

describe('linkTracklets', () => {
  it('follows two faces that move a little and keeps them apart', () => {
    const dets: FaceDetection[] = [];
    for (let f = 0; f < 4; f++) {
      // Given in a shuffled order within each frame: linking must not depend on it.
      if (f % 2) dets.push(detection(f, [200 + 3 * f, 50, 60, 60]), detection(f, [20 + 4 * f, 40, 60, 60]));
      else dets.push(detection(f, [20 + 4 * f, 40, 60, 60]), detection(f, [200 + 3 * f, 50, 60, 60]));
    }
    const tracklets = linkTracklets(dets);
    assert.equal(tracklets.length, 2);
    for (const t of tracklets) {
      assert.deepEqual(
        t.members.map((m) => dets[m]!.frame),
        [0, 1, 2, 3],
      );
      const xs = t.members.map((m) => dets[m]!.box[0]);
      assert.ok(
        xs.every((x) => x < 100 === xs[0]! < 100),
        `one tracklet holds one face: ${xs.join(',')}`,
      );
    }
  });

  it('cuts at shot starts, at missed frames and where boxes overlap less than the IoU limit', () => {
    const box: [number, number, number, number] = [50, 50, 80, 80];
    const dets = [detection(0, box), detection(1, box), detection(2, box), detection(4, box), detection(5, [90, 50, 80, 80]), detection(6, [92, 50, 80, 80])];
    assert.deepEqual(
      linkTracklets(dets, { shotStarts: new Set([2]) }).map((t) => t.members),
      [[0, 1], [2], [3, 4, 5]],
    );
    // IoU of the 40-px jump is 40·80 / (2·6400 − 3200) = 1/3: linked at the default 0.3, cut at 0.4.
    assert.deepEqual(
      linkTracklets(dets).map((t) => t.members),
      [
        [0, 1, 2],
        [3, 4, 5],
      ],
    );
    assert.deepEqual(
      linkTracklets(dets, { minIoU: 0.4 }).map((t) => t.members),
      [[0, 1, 2], [3], [4, 5]],
    );
  });

  it('gives each detection to at most one tracklet and prefers the best overlap', () => {
    // Two faces in frame 0 side by side; in frame 1 one face between them, closer to the right one.
    const dets = [detection(0, [0, 0, 50, 50]), detection(0, [40, 0, 50, 50]), detection(1, [30, 0, 50, 50])];
    assert.deepEqual(
      linkTracklets(dets).map((t) => t.members),
      [[0], [1, 2]],
    );
    assert.deepEqual(linkTracklets([]), []);
  });
});

describe('meanEmbedding', () => {
  it('averages and normalises', () => {
    const m = meanEmbedding([new Float32Array([1, 0]), new Float32Array([0, 1])]);
    assert.ok(Math.abs(m[0]! - Math.SQRT1_2) < 1e-6 && Math.abs(m[1]! - Math.SQRT1_2) < 1e-6);
    assert.deepEqual(Array.from(meanEmbedding([new Float32Array([1, 2]), new Float32Array([-1, -2])])), [0, 0]);
  });
});

describe('detectShotChange', () => {
  it('finds a cut between two photos and the cut to a side-by-side pair, but not a small pan or noise', async () => {
    const big = await clipFrame('grace_hopper.jpg', 400, 300);
    const pan = (dx: number, dy: number) => cropImage(big, { x0: 40 + dx, y0: 30 + dy, x1: 360 + dx, y1: 270 + dy });
    const grace = await clipFrame('grace_hopper.jpg', 320, 240);
    const astronaut = await clipFrame('astronaut.png', 320, 240);
    const pair = createImage(320, 240, 3);
    pasteImage(pair, await clipFrame('grace_hopper.jpg', 160, 240), 0, 0);
    pasteImage(pair, await clipFrame('astronaut.png', 160, 240), 160, 0);
    const noisy = { ...grace, data: grace.data.slice() };
    const rand = random(7);
    for (let i = 0; i < noisy.data.length; i++) noisy.data[i] = noisy.data[i]! + Math.round((rand() - 0.5) * 16);

    assert.equal(frameDifference(grace, grace), 0);
    for (const [name, a, b] of [
      ['pan 10 px', pan(0, 0), pan(10, 0)],
      ['pan 30 px, 10 px down', pan(0, 0), pan(30, 10)],
      ['noise ±8', grace, noisy],
    ] as const) {
      const d = frameDifference(a, b);
      assert.ok(d < DEFAULT_SHOT_CHANGE_THRESHOLD / 2 + 0.01, `${name}: difference ${d.toFixed(3)}`);
      assert.equal(detectShotChange(a, b), false, name);
    }
    for (const [name, a, b] of [
      ['photo to photo', grace, astronaut],
      ['photo to pair', grace, pair],
    ] as const) {
      const d = frameDifference(a, b);
      assert.ok(d > DEFAULT_SHOT_CHANGE_THRESHOLD + 0.1, `${name}: difference ${d.toFixed(3)}`);
      assert.equal(detectShotChange(a, b), true, name);
    }
  });
});

describe('clusterIdentities', () => {
  it('finds 5 well separated groups without being told how many', () => {
    const { embeddings, group } = groupedEmbeddings(5, 8, 1);
    const { labels, clusters } = clusterIdentities(embeddings, { threshold: 0.6 });
    assert.equal(clusters.length, 5);
    assert.equal(
      partition(clusters, (i) => i),
      partition([0, 1, 2, 3, 4].map((g) => group.flatMap((h, i) => (h === g ? [i] : [])))),
    );
    clusters.forEach((c, k) => c.forEach((i) => assert.equal(labels[i], k)));
    // Numbered by first member, members ascending.
    assert.deepEqual(
      clusters.map((c) => c[0]),
      [0, 8, 16, 24, 32],
    );
  });

  it('keeps one group together, and more groups than a fixed cap would allow', () => {
    assert.equal(clusterIdentities(groupedEmbeddings(1, 12, 2).embeddings, { threshold: 0.6 }).clusters.length, 1);
    assert.equal(clusterIdentities(groupedEmbeddings(24, 3, 3).embeddings, { threshold: 0.6 }).clusters.length, 24);
  });

  it('gives the same partition whatever the input order, and the same result on every run', () => {
    const { embeddings } = groupedEmbeddings(5, 6, 4);
    const reference = clusterIdentities(embeddings, { threshold: 0.6 });
    assert.deepEqual(clusterIdentities(embeddings, { threshold: 0.6 }), reference);
    const rand = random(5);
    for (let trial = 0; trial < 3; trial++) {
      const order = embeddings.map((_, i) => i).sort(() => rand() - 0.5);
      const shuffled = clusterIdentities(
        order.map((i) => embeddings[i]!),
        { threshold: 0.6 },
      );
      assert.equal(
        partition(shuffled.clusters, (i) => order[i]!),
        partition(reference.clusters),
      );
    }
  });

  it('stops at the threshold: average linkage, not single linkage', () => {
    // a–b 0.8, b–c 0.75, a–c ≈ 0.20: single linkage chains all three; average linkage merges a, b
    // first and then sees (0.75 + 0.20) / 2 ≈ 0.48 for c, under 0.6.
    const angle = (t: number) => new Float32Array([Math.cos(t), Math.sin(t), 0]);
    const a = angle(0);
    const b = angle(Math.acos(0.8));
    const c = angle(Math.acos(0.8) + Math.acos(0.75));
    const { clusters } = clusterIdentities([a, b, c], { threshold: 0.6 });
    assert.deepEqual(clusters, [[0, 1], [2]]);
    assert.deepEqual(clusterIdentities([c, b, a], { threshold: 0.6 }).clusters, [[0], [1, 2]]);
    assert.deepEqual(clusterIdentities([a, b, c], { threshold: 0.45 }).clusters, [[0, 1, 2]]);
    assert.deepEqual(clusterIdentities([], { threshold: 0.6 }), { labels: [], clusters: [] });
    assert.throws(() => clusterIdentities([a], { threshold: Number.NaN }), RangeError);
  });
});
