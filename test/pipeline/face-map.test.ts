/** map.json: format and parse round trip, validation messages per field, and identity matching. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { DESCRIPTOR_SIZE } from '../../src/face/embedder.js';
import { type FaceMap, formatFaceMap, IdentityMatcher, matchIdentity, parseFaceMap, roundEmbedding } from '../../src/pipeline/face-map.js';

/** A unit descriptor pointing mostly along axis `k`, with a small shared component. */
function descriptor(k: number): number[] {
  const v = Array.from({ length: DESCRIPTOR_SIZE }, (_, i) => (i === k ? 1 : 0.01 * Math.sin(i + 1)));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function sampleMap(): FaceMap {
  return {
    version: 1,
    video: 'clips/party.mp4',
    recogniser: 'faceres',
    threshold: 0.6,
    identities: [
      { id: 0, thumbnail: 'identity-0.jpg', frames: 12, firstSeconds: 0, source: null, embedding: descriptor(0) },
      { id: 1, thumbnail: 'identity-1.jpg', frames: 4, firstSeconds: 1.5, source: null, embedding: descriptor(1) },
    ],
  };
}

function expectError(fn: () => unknown, kind: LiveswapError['kind'], pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof LiveswapError, String(error));
    assert.equal(error.kind, kind);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('formatFaceMap / parseFaceMap', () => {
  it('round-trips, with descriptors rounded to 5 decimals on one line each', () => {
    const map = sampleMap();
    const text = formatFaceMap(map);
    const parsed = parseFaceMap(text, 'map.json');
    assert.deepEqual(parsed, { ...map, identities: map.identities.map((i) => ({ ...i, embedding: roundEmbedding(i.embedding) })) });
    for (const identity of parsed.identities) {
      identity.embedding.forEach((v, i) => assert.ok(Math.abs(v - map.identities[identity.id]!.embedding[i]!) <= 5e-6));
      assert.ok(identity.embedding.every((v) => Number(v.toFixed(5)) === v));
    }
    // The fields a person edits are on lines of their own; each descriptor is one line.
    assert.match(text, /\n {6}"source": null,\n/);
    assert.equal(text.split('\n').filter((line) => line.includes('"embedding": [')).length, 2);
    assert.ok(text.split('\n').length < 40, 'short enough to edit by hand');
  });

  it('resolves source paths with the resolver it is given, one photo or several', () => {
    const map = sampleMap();
    map.identities[0]!.source = 'alice.jpg';
    map.identities[1]!.source = ['b1.jpg', '/abs/b2.png'];
    const parsed = parseFaceMap(formatFaceMap(map), 'map.json', { resolveSource: (p) => (p.startsWith('/') ? p : `/maps/${p}`) });
    assert.equal(parsed.identities[0]!.source, '/maps/alice.jpg');
    assert.deepEqual(parsed.identities[1]!.source, ['/maps/b1.jpg', '/abs/b2.png']);
    assert.equal(parseFaceMap(formatFaceMap(map), 'map.json').identities[0]!.source, 'alice.jpg');
  });

  it('says which file and which field is wrong', () => {
    type MapJson = Record<string, unknown> & { identities: Record<string, unknown>[] };
    const edit = (change: (data: MapJson) => void): string => {
      const data = JSON.parse(formatFaceMap(sampleMap())) as MapJson;
      change(data);
      return JSON.stringify(data);
    };
    expectError(() => parseFaceMap('{ "version": 1, ', 'my/map.json'), 'input-unreadable', /my\/map\.json.*not valid JSON/);
    expectError(() => parseFaceMap('[]', 'map.json'), 'usage', /map\.json, the top level must be an object/);
    expectError(
      () =>
        parseFaceMap(
          edit((d) => (d.version = 2)),
          'map.json',
        ),
      'usage',
      /map\.json, version must be 1; found 2/,
    );
    expectError(
      () =>
        parseFaceMap(
          edit((d) => (d.recogniser = 'arcface')),
          'map.json',
        ),
      'usage',
      /recogniser must be "faceres"/,
    );
    expectError(
      () =>
        parseFaceMap(
          edit((d) => (d.threshold = 1.5)),
          'map.json',
        ),
      'usage',
      /threshold must be a similarity between 0 and 1; found 1.5/,
    );
    expectError(
      () =>
        parseFaceMap(
          edit((d) => Reflect.deleteProperty(d, 'identities')),
          'map.json',
        ),
      'usage',
      /identities must be a list; found nothing/,
    );
    expectError(
      () =>
        parseFaceMap(
          edit((d) => (d.identities[1]!.source = 42)),
          'map.json',
        ),
      'usage',
      /identities\[1\]\.source must be null .*a photo path.*; found 42/,
    );
    expectError(
      () =>
        parseFaceMap(
          edit((d) => (d.identities[0]!.source = [])),
          'map.json',
        ),
      'usage',
      /identities\[0\]\.source/,
    );
    expectError(
      () =>
        parseFaceMap(
          edit((d) => (d.identities[0]!.source = '  ')),
          'map.json',
        ),
      'usage',
      /identities\[0\]\.source/,
    );
    expectError(
      () =>
        parseFaceMap(
          edit((d) => (d.identities[1]!.id = 0)),
          'map.json',
        ),
      'usage',
      /identities\[1\]\.id must be different/,
    );
    expectError(
      () =>
        parseFaceMap(
          edit((d) => (d.identities[0]!.embedding = [1, 2, 3])),
          'map.json',
        ),
      'usage',
      /identities\[0\]\.embedding must be a list of 1024 numbers.*found "a list of 3 values"/,
    );
    expectError(
      () =>
        parseFaceMap(
          edit((d) => (d.identities[0]!.frames = -1)),
          'map.json',
        ),
      'usage',
      /identities\[0\]\.frames/,
    );
    expectError(
      () =>
        parseFaceMap(
          edit((d) => (d.identities[0]!.firstSeconds = 'soon')),
          'map.json',
        ),
      'usage',
      /identities\[0\]\.firstSeconds/,
    );
    expectError(
      () =>
        parseFaceMap(
          edit((d) => (d.identities[0]!.thumbnail = null)),
          'map.json',
        ),
      'usage',
      /identities\[0\]\.thumbnail/,
    );
  });
});

describe('matchIdentity / IdentityMatcher', () => {
  const identities = [{ embedding: descriptor(0) }, { embedding: descriptor(1) }, { embedding: descriptor(2) }];

  it('picks the most similar identity above the threshold, and nobody below it', () => {
    // Halfway between identity 1 and identity 2 but nearer 2.
    const mixed = descriptor(1).map((v, i) => 0.4 * v + 0.6 * descriptor(2)[i]!);
    assert.equal(matchIdentity(descriptor(1), identities, 0.6), 1);
    assert.equal(matchIdentity(mixed, identities, 0.6), 2);
    assert.equal(matchIdentity(descriptor(3), identities, 0.6), undefined, 'a stranger matches nobody');
    assert.equal(matchIdentity(mixed, identities, 0.95), undefined);
    assert.equal(matchIdentity(descriptor(0), [], 0.6), undefined);
  });

  it('the matcher class gives the same answers and the similarities behind them', () => {
    const matcher = new IdentityMatcher(identities, 0.6);
    for (const k of [0, 1, 2, 3]) assert.equal(matcher.match(descriptor(k)), matchIdentity(descriptor(k), identities, 0.6));
    const s = matcher.similarities(descriptor(1));
    assert.equal(s.length, 3);
    assert.ok(Math.abs(s[1]! - 1) < 1e-6 && s[0]! < 0.1 && s[2]! < 0.1, s.join(', '));
    assert.throws(() => new IdentityMatcher(identities, Number.NaN), RangeError);
  });
});
