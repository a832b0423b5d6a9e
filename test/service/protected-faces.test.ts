/**
 * Protected faces with the real FaceRes recogniser on the committed fixture photos: an altered
 * copy of a protected face matches at PROTECTED_FACE_THRESHOLD, another person does not; the
 * store is private, keeps no photo, takes changes from another instance at once, and a damaged
 * file is an error rather than an empty list.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { LiveswapError } from '../../src/core/errors.js';
import {
  cosineSimilarity,
  FileProtectedFaceStore,
  findProtectedFace,
  openPhotoFaceEmbedder,
  PROTECTED_FACE_THRESHOLD,
  protectedFacesPath,
  type PhotoFaceEmbedder,
} from '../../src/node/service/protected-faces.js';
import { decodeRgb, FIXTURES, loadFixture, TEST_HOME } from '../helpers/fixtures.js';

describe('protected faces', () => {
  let home: string;
  let embedder: PhotoFaceEmbedder;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'liveswap-protected-'));
    embedder = await openPhotoFaceEmbedder({ home: TEST_HOME });
  });
  after(async () => {
    await embedder?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('an altered copy of a protected face matches; another person does not', async () => {
    const [astronaut] = await embedder.embedFaces(await loadFixture('astronaut.png'));
    const [hopper] = await embedder.embedFaces(await loadFixture('grace_hopper.jpg'));
    assert.ok(astronaut && hopper, 'a face in each fixture');
    assert.ok(Math.abs(Math.hypot(...astronaut.embedding) - 1) < 1e-3, 'unit length');
    // The same person in another picture: smaller, brighter, re-encoded as JPEG, on a wider canvas.
    const altered = await sharp(join(FIXTURES, 'astronaut.png'))
      .resize(400)
      .modulate({ brightness: 1.15 })
      .extend({ top: 60, bottom: 20, left: 90, right: 10, background: '#808080' })
      .jpeg({ quality: 80 })
      .toBuffer();
    const [copy] = await embedder.embedFaces(await decodeRgb(altered));
    assert.ok(copy);

    const store = await FileProtectedFaceStore.open(home);
    const added = await store.add({ label: 'astronaut', photoSha256: 'a'.repeat(64), recogniser: embedder.recogniser, embedding: Array.from(astronaut.embedding) });
    const same = cosineSimilarity(copy.embedding, astronaut.embedding);
    const other = cosineSimilarity(hopper.embedding, astronaut.embedding);
    assert.ok(same >= PROTECTED_FACE_THRESHOLD, `same person ${same.toFixed(3)}`);
    assert.ok(other < PROTECTED_FACE_THRESHOLD, `other person ${other.toFixed(3)}`);
    const hit = await store.match(copy.embedding, PROTECTED_FACE_THRESHOLD);
    assert.equal(hit?.face.id, added.id);
    assert.equal(await store.match(hopper.embedding, PROTECTED_FACE_THRESHOLD), undefined);
    const found = await findProtectedFace(store, [hopper.embedding, copy.embedding]);
    assert.equal(found?.index, 1);
    assert.equal(found?.face.label, 'astronaut');
  });

  it('private file, no photo kept; another instance sees changes at once; remove', async () => {
    const own = await mkdtemp(join(tmpdir(), 'liveswap-protected-own-'));
    try {
      const a = await FileProtectedFaceStore.open(own);
      const b = await FileProtectedFaceStore.open(own);
      const embedding = [0.6, 0.8, 0];
      const face = await a.add({ label: 'someone', photoSha256: 'b'.repeat(64), recogniser: 'faceres', embedding });
      assert.match(face.id, /^p_[A-Za-z0-9_-]{12}$/);
      assert.equal((await stat(protectedFacesPath(own))).mode & 0o777, 0o600);
      assert.deepEqual(await b.list(), [face]);
      assert.equal((await b.match(new Float32Array([0.6, 0.8, 0]), 0.99))?.face.id, face.id);
      assert.equal(await b.remove(face.id), true);
      assert.equal(await b.remove(face.id), false);
      assert.equal(await a.match(new Float32Array([0.6, 0.8, 0]), 0.5), undefined, 'the removal is seen by the other instance');
      await writeFile(protectedFacesPath(own), `${(await readFile(protectedFacesPath(own), 'utf8')).slice(0, 5)}`);
      await assert.rejects(a.list(), (e: unknown) => e instanceof LiveswapError && e.kind === 'input-unreadable' && /protected\.json/.test(e.message));
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});
