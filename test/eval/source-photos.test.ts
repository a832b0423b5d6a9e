/**
 * `liveswap eval --source-photos n --gallery-from k`: each person's first n photos are one source
 * (the engine combines them), the gallery starts after the first k and never holds a source photo;
 * a short real run with both recognisers.
 */

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { gallerySplit, runEvalCommand } from '../../src/cli/eval-command.js';
import { LiveswapError } from '../../src/core/errors.js';
import { readGallerySet, splitPhotos } from '../../src/node/eval/eval-set.js';
import { FIXTURES, TEST_HOME } from '../helpers/fixtures.js';

const MAX_PIXELS = 50_000_000;

/** A fixture photo, shrunk and optionally mirrored or relit: the same person seen differently. */
async function photo(path: string, fixture: string, steps: { mirror?: boolean; brightness?: number } = {}): Promise<void> {
  let pipeline = sharp(join(FIXTURES, fixture)).removeAlpha().resize({ height: 256 });
  if (steps.mirror) pipeline = pipeline.flop();
  if (steps.brightness) pipeline = pipeline.linear(1, steps.brightness);
  await pipeline.toFile(path);
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-source-photos-'));
  const people = join(dir, 'people');
  for (const person of ['ann', 'bob', 'cy']) await mkdir(join(people, person), { recursive: true });
  await photo(join(people, 'ann', 'ann-1.png'), 'astronaut.png');
  await photo(join(people, 'ann', 'ann-2.png'), 'astronaut.png', { mirror: true });
  await photo(join(people, 'ann', 'ann-3.png'), 'astronaut.png', { brightness: -25 });
  await photo(join(people, 'ann', 'ann-4.png'), 'astronaut.png', { mirror: true, brightness: 20 });
  await photo(join(people, 'bob', 'bob-1.jpg'), 'grace_hopper.jpg');
  await photo(join(people, 'bob', 'bob-2.jpg'), 'grace_hopper.jpg', { mirror: true, brightness: 15 });
  await photo(join(people, 'cy', 'cy-1.png'), 'camera.png');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('splitting people into sources and galleries', () => {
  test('n photos are the source, at least one is left for the gallery, and the gallery starts no earlier than k', () => {
    assert.deepEqual(splitPhotos(4), { sources: 1, galleryFrom: 1 });
    assert.deepEqual(splitPhotos(4, { sourcePhotos: 3 }), { sources: 3, galleryFrom: 3 });
    assert.deepEqual(splitPhotos(3, { sourcePhotos: 3 }), { sources: 2, galleryFrom: 2 });
    assert.deepEqual(splitPhotos(2, { sourcePhotos: 3 }), { sources: 1, galleryFrom: 1 });
    assert.deepEqual(splitPhotos(1, { sourcePhotos: 3 }), { sources: 0, galleryFrom: 0 });
    // One photo as the source, against the gallery a three-photo run has.
    assert.deepEqual(splitPhotos(4, { sourcePhotos: 1, galleryFrom: 3 }), { sources: 1, galleryFrom: 3 });
    assert.deepEqual(splitPhotos(3, { sourcePhotos: 1, galleryFrom: 3 }), { sources: 1, galleryFrom: 2 });
    for (let count = 1; count < 7; count++)
      for (let n = 1; n < 5; n++)
        for (let k = n; k < 6; k++) {
          const s = splitPhotos(count, { sourcePhotos: n, galleryFrom: k });
          assert.ok(s.galleryFrom >= s.sources && (count < 2 || s.galleryFrom < count), `${count} photos, n ${n}, k ${k}: no source photo in a non-empty gallery`);
        }
  });

  test("a person's first photos are one source; the gallery holds none of them", async () => {
    const set = await readGallerySet(join(dir, 'people'), undefined, MAX_PIXELS, { sourcePhotos: 3 });
    assert.deepEqual(
      set.sources.map((s) => [s.name, (s.morePhotos ?? []).map((p) => p.name)]),
      [
        ['ann/ann-1.png', ['ann/ann-2.png', 'ann/ann-3.png']],
        ['bob/bob-1.jpg', []],
      ],
    );
    assert.deepEqual(set.galleries, [
      { person: 'ann', photos: ['ann/ann-4.png'] },
      { person: 'bob', photos: ['bob/bob-2.jpg'] },
      { person: 'cy', photos: ['cy/cy-1.png'] },
    ]);
    const baseline = await readGallerySet(join(dir, 'people'), undefined, MAX_PIXELS, { sourcePhotos: 1, galleryFrom: 3 });
    assert.deepEqual(baseline.galleries, set.galleries, 'the one-photo run shares the gallery');
    assert.equal(baseline.sources[0].morePhotos, undefined);
  });

  test('the flags: whole numbers, k at least n, only with --people', () => {
    const usage = (e: unknown) => e instanceof LiveswapError && e.kind === 'usage';
    assert.deepEqual(gallerySplit({ people: 'p', sourcePhotos: '3' }), { sourcePhotos: 3, galleryFrom: undefined });
    assert.deepEqual(gallerySplit({ people: 'p', sourcePhotos: '1', galleryFrom: '3' }), { sourcePhotos: 1, galleryFrom: 3 });
    assert.throws(() => gallerySplit({ sourcePhotos: '3' }), usage);
    assert.throws(() => gallerySplit({ people: 'p', sourcePhotos: '3', galleryFrom: '2' }), usage);
    assert.throws(() => gallerySplit({ people: 'p', sourcePhotos: '0' }), usage);
    assert.throws(() => gallerySplit({ people: 'p', sourcePhotos: 'two' }), usage);
  });
});

describe('eval with several source photos', () => {
  test('the source of three photos is measured with both recognisers and never swapped onto its own photos', async () => {
    process.env.LIVESWAP_HOME = TEST_HOME;
    const out: string[] = [];
    await runEvalCommand(
      { people: join(dir, 'people'), sourcePhotos: '3', engine: 'mesh', recognisers: 'faceres,mobileface', out: join(dir, 'out') },
      { out: (t) => out.push(t), err: () => undefined },
    );
    const report = JSON.parse(await readFile(join(dir, 'out', 'eval.json'), 'utf8')) as {
      sources: string[];
      sourcePhotos: { source: string; photos: string[] }[];
      pairs: { source: string; target: string; samePerson?: boolean; skipped?: string; identity?: Record<string, { gain: number }> }[];
    };
    assert.deepEqual(report.sources, ['ann/ann-1.png', 'bob/bob-1.jpg']);
    assert.deepEqual(report.sourcePhotos, [{ source: 'ann/ann-1.png', photos: ['ann/ann-1.png', 'ann/ann-2.png', 'ann/ann-3.png'] }]);
    const ann = report.pairs.filter((p) => p.source === 'ann/ann-1.png');
    // Ann's three source photos are never her targets: her fourth, Bob's two and Cy's one are.
    assert.deepEqual(
      ann.map((p) => p.target),
      ['ann/ann-4.png', 'bob/bob-1.jpg', 'bob/bob-2.jpg', 'cy/cy-1.png'],
    );
    const onBob = ann.find((p) => p.target === 'bob/bob-1.jpg')!;
    assert.equal(onBob.skipped, undefined);
    for (const id of ['faceres', 'mobileface']) assert.ok(onBob.identity![id].gain > 0, `${id}: the swap moves the face towards the source person`);
    assert.match(out.join('\n'), /1 of 2 made from several photos of the person \(3 photos\)/);
  });
});
