/** The gallery set reader: people folders into sources, targets and galleries; group photos; errors. */

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { LiveswapError } from '../../src/core/errors.js';
import { readGallerySet } from '../../src/node/eval/eval-set.js';
import { FIXTURES } from '../helpers/fixtures.js';

const MAX_PIXELS = 50_000_000;

/** A fixture photo, shrunk and optionally mirrored or relit: the same person seen differently. */
async function photo(path: string, fixture: string, steps: { mirror?: boolean; brightness?: number } = {}): Promise<void> {
  let pipeline = sharp(join(FIXTURES, fixture)).removeAlpha().resize({ height: 128 });
  if (steps.mirror) pipeline = pipeline.flop();
  if (steps.brightness) pipeline = pipeline.linear(1, steps.brightness);
  await pipeline.toFile(path);
}

describe('readGallerySet', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liveswap-gallery-'));
    const people = join(dir, 'people');
    for (const person of ['ann', 'bob', 'cy', 'empty']) await mkdir(join(people, person), { recursive: true });
    // Numbered as people number photos: 10 must sort after 2.
    await photo(join(people, 'ann', 'ann-10.png'), 'astronaut.png', { brightness: 20 });
    await photo(join(people, 'ann', 'ann-2.png'), 'astronaut.png', { mirror: true });
    await photo(join(people, 'ann', 'ann-1.png'), 'astronaut.png');
    await photo(join(people, 'bob', 'bob-1.jpg'), 'grace_hopper.jpg');
    await photo(join(people, 'bob', 'bob-2.jpg'), 'grace_hopper.jpg', { mirror: true });
    await photo(join(people, 'cy', 'cy-1.png'), 'camera.png');
    await writeFile(join(people, 'cy', 'notes.md'), 'not a photo');
    await writeFile(join(people, 'SOURCES.md'), 'a file beside the people folders');
    await mkdir(join(dir, 'groups'));
    await photo(join(dir, 'groups', 'pair.jpg'), 'grace_hopper.jpg');
    await writeFile(join(dir, 'groups', 'clip.mp4'), '');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('photo 1 of each person with two or more is the source; the rest is their gallery; one-photo people are gallery only', async () => {
    const set = await readGallerySet(join(dir, 'people'), undefined, MAX_PIXELS);
    assert.deepEqual(
      set.sources.map((s) => [s.name, s.identity]),
      [
        ['ann/ann-1.png', 'ann'],
        ['bob/bob-1.jpg', 'bob'],
      ],
    );
    assert.deepEqual(
      set.targets.map((t) => t.name),
      ['ann/ann-1.png', 'ann/ann-2.png', 'ann/ann-10.png', 'bob/bob-1.jpg', 'bob/bob-2.jpg', 'cy/cy-1.png'],
    );
    assert.ok(set.targets.every((t) => t.identity === t.name.split('/')[0] && !t.everyFace));
    assert.deepEqual(set.galleries, [
      { person: 'ann', photos: ['ann/ann-2.png', 'ann/ann-10.png'] },
      { person: 'bob', photos: ['bob/bob-2.jpg'] },
      { person: 'cy', photos: ['cy/cy-1.png'] },
    ]);
    assert.deepEqual(set.videos, []);
    // The source photo object is the target of the same name: a source is never swapped onto itself.
    assert.equal(set.sources[0].image, set.targets[0].image);
    assert.equal(set.targets[0].image.height, 128);
  });

  test('group photos are targets of unknown identity whose every face is swapped; videos beside them are kept', async () => {
    const set = await readGallerySet(join(dir, 'people'), join(dir, 'groups'), MAX_PIXELS);
    const group = set.targets.at(-1)!;
    assert.equal(group.name, 'groups/pair.jpg');
    assert.equal(group.identity, undefined);
    assert.equal(group.everyFace, true);
    assert.deepEqual(set.videos, [join(dir, 'groups', 'clip.mp4')]);
  });

  test('no person with a source and a gallery, or a missing folder, is an input error', async () => {
    const lonely = await mkdtemp(join(tmpdir(), 'liveswap-gallery-'));
    try {
      await mkdir(join(lonely, 'cy'));
      await photo(join(lonely, 'cy', 'cy-1.png'), 'camera.png');
      await assert.rejects(
        readGallerySet(lonely, undefined, MAX_PIXELS),
        (e: unknown) => e instanceof LiveswapError && e.kind === 'input-missing' && /two or more photos/.test(e.message),
      );
      await assert.rejects(readGallerySet(join(lonely, 'nowhere'), undefined, MAX_PIXELS), (e: unknown) => e instanceof LiveswapError && e.kind === 'input-missing');
      await assert.rejects(readGallerySet(join(dir, 'people'), join(lonely, 'nowhere'), MAX_PIXELS), (e: unknown) => e instanceof LiveswapError && e.kind === 'input-missing');
    } finally {
      await rm(lonely, { recursive: true, force: true });
    }
  });
});
