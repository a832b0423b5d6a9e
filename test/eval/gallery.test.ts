/**
 * Identity arithmetic of the gallery protocol on hand-made embeddings: gallery scores with the
 * target's own photo left out, retrieval among people, gain, the baseline split, and how the
 * aggregate and the gates read the pairs.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { galleryScore, identityBaseline, measureAgainstGalleries, measureAgainstSources, nearestPerson, type Gallery } from '../../src/eval/gallery.js';
import { aggregatePairs, type PairResult } from '../../src/node/eval/eval-report.js';
import { checkGates, EVAL_GATES, formatGates } from '../../src/node/eval/eval-gates.js';
import type { IdentityMeasures } from '../../src/eval/gallery.js';

/** A unit vector in the plane of axes 0 and 1 at `degrees`, in 3-D (axis 2 unused). */
const at = (degrees: number) => Float32Array.of(Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180), 0);
const cos = (degrees: number) => Math.cos((degrees * Math.PI) / 180);
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} vs ${b}`);

// Ann's photos near 0°, Bob's near 90°, Cy (one photo, a distractor) at 45°.
const galleries: Gallery[] = [
  {
    person: 'ann',
    photos: [
      { name: 'ann/2', embedding: at(10) },
      { name: 'ann/3', embedding: at(-10) },
    ],
  },
  { person: 'bob', photos: [{ name: 'bob/2', embedding: at(80) }] },
  { person: 'cy', photos: [{ name: 'cy/1', embedding: at(45) }] },
];

describe('galleries', () => {
  test('the score is the mean cosine over the photos, the excluded one left out', () => {
    close(galleryScore(at(0), galleries[0]), (cos(10) + cos(-10)) / 2, 'both photos');
    close(galleryScore(at(0), galleries[0], 'ann/3'), cos(10), 'ann/3 left out');
    assert.ok(Number.isNaN(galleryScore(at(0), galleries[2], 'cy/1')), 'an emptied gallery has no score');
  });

  test('retrieval picks the best-scoring person and passes over an emptied gallery', () => {
    assert.equal(nearestPerson(at(5), galleries)?.person, 'ann');
    assert.equal(nearestPerson(at(50), galleries)?.person, 'cy');
    // With cy's only photo excluded (it is the target): ann scores (cos 40° + cos 60°) / 2 ≈ 0.63, bob cos 30° ≈ 0.87.
    assert.equal(nearestPerson(at(50), galleries, 'cy/1')?.person, 'bob');
    assert.equal(nearestPerson(at(0), []), undefined);
  });

  test('gallery measures: gain is cos(O, G) − cos(T, G); retrieved when the output is nearest the source person', () => {
    // Ann (source photo at 0°) swapped onto Bob's photo bob/2 (at 80°); the output lands at 20°.
    const m = measureAgainstGalleries({ output: at(20), target: at(80), source: at(0) }, galleries, 'ann', 'bob/2');
    close(m.toSource, cos(20), 'cos(O, S)');
    close(m.toTarget, cos(60), 'cos(O, T)');
    close(m.targetToSource, cos(80), 'cos(T, S)');
    close(m.toGallery!, (cos(10) + cos(30)) / 2, 'cos(O, G)');
    close(m.targetToGallery!, (cos(70) + cos(90)) / 2, 'cos(T, G)');
    close(m.gain, m.toGallery! - m.targetToGallery!, 'gain');
    assert.equal(m.nearest, 'ann');
    assert.equal(m.retrieved, true);
    // An output that stays near the target would be retrieved as the target's person, but the
    // target photo is left out: bob's gallery is emptied, so the nearest is cy.
    const stuck = measureAgainstGalleries({ output: at(78), target: at(80), source: at(0) }, galleries, 'ann', 'bob/2');
    assert.equal(stuck.nearest, 'cy');
    assert.equal(stuck.retrieved, false);
    assert.throws(() => measureAgainstGalleries({ output: at(0), target: at(0), source: at(0) }, galleries, 'dan', 'x'), /no gallery for dan/);
    // Beside the galleries, retrieval among the source photos (the other protocol).
    const sources = [
      { name: 'ann/1', embedding: at(0) },
      { name: 'cy/0', embedding: at(60) },
    ];
    assert.equal(measureAgainstGalleries({ output: at(20), target: at(80), source: sources[0].embedding }, galleries, 'ann', 'bob/2', sources).retrievedAmongSources, true);
    assert.equal(measureAgainstGalleries({ output: at(50), target: at(80), source: sources[0].embedding }, galleries, 'ann', 'bob/2', sources).retrievedAmongSources, false);
    assert.equal(m.retrievedAmongSources, undefined, 'not measured without the source photos');
  });

  test('folders measures: retrieval among the source photos, gain against the source photo', () => {
    const sources = [
      { name: 'a.jpg', embedding: at(0) },
      { name: 'b.jpg', embedding: at(90) },
    ];
    const m = measureAgainstSources({ output: at(30), target: at(90) }, sources, 0);
    close(m.gain, cos(30) - cos(90), 'gain');
    assert.equal(m.toGallery, undefined);
    assert.deepEqual([m.nearest, m.retrieved], ['a.jpg', true]);
    assert.deepEqual([measureAgainstSources({ output: at(60), target: at(90) }, sources, 0).nearest], ['b.jpg']);
  });

  test('the baseline splits every pair of photos into same-person and different-person cosines', () => {
    const { same, different } = identityBaseline([
      { name: '1', person: 'ann', embedding: at(0) },
      { name: '2', person: 'ann', embedding: at(20) },
      { name: '3', person: 'bob', embedding: at(90) },
    ]);
    assert.equal(same.length, 1);
    close(same[0], cos(20), 'same');
    assert.deepEqual(different.map((v) => Math.round(v * 1e6) / 1e6).sort(), [cos(70), cos(90)].map((v) => Math.round(v * 1e6) / 1e6).sort());
  });
});

function pair(samePerson: boolean | undefined, retrieved: boolean, gain: number, extra: Partial<PairResult> = {}): PairResult {
  const m: IdentityMeasures = {
    toSource: 0.5,
    toTarget: 0.4,
    targetToSource: 0.3,
    toGallery: 0.5 + gain,
    targetToGallery: 0.5,
    gain,
    nearest: retrieved ? 'src' : 'other',
    retrieved,
  };
  return {
    source: 's',
    target: 't',
    samePerson,
    identity: { faceres: m },
    attributes: { yaw: 1, pitch: 2, roll: 0, mouthOpen: 0, eyesOpen: 0, mouthOpenRelative: 0.1, eyesOpenRelative: 0.05, landmarkError: 0 },
    blending: { seamRatio: 1, psnrOutside: Infinity },
    ...extra,
  };
}

describe('aggregate and gates', () => {
  const pairs = [
    pair(false, true, 0.4),
    pair(false, false, 0.2),
    pair(undefined, false, 0.3), // a group face: counted in the means, not in retrieval
    pair(true, true, 0), // same person: in neither the means nor retrieval
    { source: 's', target: 'u', skipped: 'no face in the target' },
  ];
  const a = aggregatePairs(pairs);

  test('retrieval over pairs of different people; means over pairs not of the same person', () => {
    assert.deepEqual([a.pairs, a.measured, a.pairsAcrossPeople, a.pairsSamePerson], [5, 4, 2, 1]);
    const f = a.identity.faceres!;
    assert.equal(f.retrieval, 0.5);
    assert.equal(f.retrievalAll, 0.5);
    close(f.gain.mean, 0.3, 'mean gain');
    assert.equal(f.gain.count, 3);
    close(f.toGallery!.mean, 0.8, 'cos(O, G)');
    assert.equal(a.identity.mobileface, undefined, 'a recogniser that measured nothing is absent');
    assert.equal(a.yaw.count, 4);
  });

  test('gates: pass and fail against the bars; a recogniser not run is n/a', () => {
    const results = checkGates(a);
    assert.equal(results.length, EVAL_GATES.length);
    const by = (label: string) => results.find((r) => r.label === label)!;
    assert.equal(by('ID retrieval, FaceRes').pass, false);
    assert.equal(by('ID retrieval, MobileFace').pass, undefined);
    assert.equal(by('mean identity gain, FaceRes').pass, true);
    assert.equal(by('|Δ yaw|, worst pair').pass, true);
    assert.equal(by('mouth openness relative difference, worst pair').pass, true);
    assert.equal(by('seam ratio, worst pair').pass, true);
    const text = formatGates(results).join('\n');
    assert.match(text, /FAIL {2}ID retrieval, FaceRes: 50\.0 % \(bar ≥ 90\.0 %\)/);
    assert.match(text, / n\/a {2}ID retrieval, MobileFace: –/);
    assert.match(text, /PASS {2}\|Δ pitch\|, worst pair: 2\.00° \(bar ≤ 3\.00°, mean 2\.00°\)/);
  });

  test('pose, expression and seam gates hold on every pair: one pair over the bar fails them', () => {
    const worse = aggregatePairs([
      pair(false, true, 0.4),
      pair(false, true, 0.4, {
        attributes: { yaw: 3.5, pitch: 1, roll: 0, mouthOpen: 0, eyesOpen: 0, mouthOpenRelative: 0.2, eyesOpenRelative: 0.05, landmarkError: 0 },
        blending: { seamRatio: 1.3, psnrOutside: Infinity },
      }),
    ]);
    const results = checkGates(worse);
    const by = (label: string) => results.find((r) => r.label === label)!;
    assert.equal(by('|Δ yaw|, worst pair').pass, false, 'the mean (2.25°) is under the bar, one pair is not');
    assert.equal(by('|Δ yaw|, worst pair').value, 3.5);
    close(by('|Δ yaw|, worst pair').mean!, 2.25, 'mean beside it');
    assert.equal(by('|Δ pitch|, worst pair').pass, true);
    assert.equal(by('mouth openness relative difference, worst pair').pass, false);
    assert.equal(by('eye openness relative difference, worst pair').pass, true);
    assert.equal(by('seam ratio, worst pair').pass, false);
  });

  test('with the pairs, the worst-pair gates count the pairs over their bar', () => {
    const pairs = [
      pair(false, true, 0.4),
      pair(false, true, 0.4, {
        attributes: { yaw: 3.5, pitch: 1, roll: 0, mouthOpen: 0, eyesOpen: 0, mouthOpenRelative: 0.2, eyesOpenRelative: 0.05, landmarkError: 0 },
        blending: { seamRatio: 1.3, psnrOutside: Infinity },
      }),
      pair(false, true, 0.4, {
        attributes: { yaw: 4, pitch: 1, roll: 0, mouthOpen: 0, eyesOpen: 0, mouthOpenRelative: 0.1, eyesOpenRelative: 0.05, landmarkError: 0 },
      }),
    ];
    const results = checkGates(aggregatePairs(pairs), undefined, pairs);
    const by = (label: string) => results.find((r) => r.label === label)!;
    assert.deepEqual(by('|Δ yaw|, worst pair').over, { pairs: 2, of: 3 });
    assert.deepEqual(by('|Δ pitch|, worst pair').over, { pairs: 0, of: 3 });
    assert.deepEqual(by('mouth openness relative difference, worst pair').over, { pairs: 1, of: 3 });
    assert.equal(by('ID retrieval, FaceRes').over, undefined, 'an aggregate gate counts no pairs');
    assert.match(formatGates(results).join('\n'), /FAIL {2}\|Δ yaw\|, worst pair: 4\.00° \(bar ≤ 3\.00°, mean [0-9.]+°, 2 of 3 pairs over the bar\)/);
    assert.equal(checkGates(aggregatePairs(pairs))[3].over, undefined, 'without the pairs, no count');
  });
});
