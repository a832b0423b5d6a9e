/**
 * scanFaces on a generated clip: one person alone, then a cut to that person beside another. The
 * scan must find exactly two people, order them by appearances, cut thumbnails that show each of
 * them, and write a map.json whose descriptors tell the fixture people apart.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createImage, type Image, pasteImage } from '../../src/core/image.js';
import { LiveswapError } from '../../src/core/errors.js';
import { cosineSimilarity } from '../../src/face/embedder.js';
import { IdentityMatcher } from '../../src/pipeline/face-map.js';
import { createVideoWriter } from '../../src/node/media/ffmpeg.js';
import { readFaceMap, scanFaces, type ScanSummary } from '../../src/node/jobs/faces-scan.js';
import { loadRecogniser, type NodeRecogniser } from '../../src/node/models/recogniser.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { clipFrame } from '../helpers/clips.js';
import { decodeRgb, TEST_HOME } from '../helpers/fixtures.js';

const FPS = 10;
const SAMPLE_FPS = 4;

/** 2 s at 320×240: 1 s of person A alone, then a cut to A (left) beside B (right). */
async function writeTwoPeopleClip(path: string): Promise<void> {
  const alone = await clipFrame('grace_hopper.jpg', 320, 240);
  const pair = createImage(320, 240, 3);
  pasteImage(pair, await clipFrame('grace_hopper.jpg', 160, 240), 0, 0);
  pasteImage(pair, await clipFrame('astronaut.png', 160, 240), 160, 0);
  const writer = await createVideoWriter(path, { width: 320, height: 240, fps: FPS, crf: 16, preset: 'veryfast' });
  try {
    for (let i = 0; i < 2 * FPS; i++) await writer.write(i < FPS ? alone : pair);
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

let dir: string;
let clip: string;
let summary: ScanSummary;
let swapper: NodeSwapper;
let recogniser: NodeRecogniser;

/** The FaceRes descriptor of the largest face in an image. */
async function embedLargest(image: Image): Promise<Float32Array> {
  const faces = await swapper.analyze(image);
  assert.ok(faces[0], 'a face in the image');
  return recogniser.embed(image, faces[0]);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-faces-scan-'));
  clip = join(dir, 'two-people.mp4');
  await writeTwoPeopleClip(clip);
  summary = await scanFaces(clip, { outDir: join(dir, 'faces'), sampleFps: SAMPLE_FPS, home: TEST_HOME });
  swapper = await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' });
  recogniser = await loadRecogniser({ home: TEST_HOME });
});

after(async () => {
  await Promise.all([swapper?.close(), recogniser?.close()]);
  await rm(dir, { recursive: true, force: true });
});

describe('scanFaces', () => {
  it('finds the two people, the cut, and orders them by appearances', () => {
    assert.equal(summary.sampledFrames, 2 * SAMPLE_FPS);
    assert.equal(summary.shots, 2, 'one cut');
    assert.equal(summary.faces, 3 * SAMPLE_FPS, 'A in every frame, B in the second half');
    assert.equal(summary.tracklets, 3, 'A alone, A in the pair, B');
    assert.equal(summary.identities.length, 2);
    const [a, b] = summary.identities;
    assert.deepEqual([a!.id, a!.frames, a!.firstSeconds], [0, 2 * SAMPLE_FPS, 0]);
    assert.equal(b!.id, 1);
    assert.equal(b!.frames, SAMPLE_FPS);
    assert.ok(Math.abs(b!.firstSeconds - 1) <= 1 / SAMPLE_FPS, `B first seen at ${b!.firstSeconds} s`);
  });

  it('writes one thumbnail per person that shows that person', async () => {
    const files = (await readdir(join(dir, 'faces'))).sort();
    assert.deepEqual(files, ['identity-0.jpg', 'identity-1.jpg', 'map.json']);
    const a = await embedLargest(await clipFrame('grace_hopper.jpg', 320, 240));
    const b = await embedLargest(await clipFrame('astronaut.png', 320, 240));
    for (const [identity, same, other] of [
      [summary.identities[0]!, a, b],
      [summary.identities[1]!, b, a],
    ] as const) {
      const thumbnail = await decodeRgb(identity.thumbnail);
      assert.deepEqual([thumbnail.width, thumbnail.height], [160, 160]);
      const e = await embedLargest(thumbnail);
      const sSame = cosineSimilarity(e, same);
      const sOther = cosineSimilarity(e, other);
      assert.ok(sSame > 0.85 && sOther < 0.5, `identity ${identity.id}: similarity ${sSame.toFixed(3)} to its person, ${sOther.toFixed(3)} to the other`);
    }
  });

  it('writes a map.json that parses, with descriptors that match the right person and nobody else', async () => {
    const map = await readFaceMap(summary.map);
    assert.equal(map.video, clip);
    assert.equal(map.threshold, 0.6);
    assert.deepEqual(
      map.identities.map((i) => [i.id, i.thumbnail, i.frames, i.source]),
      [
        [0, 'identity-0.jpg', 8, null],
        [1, 'identity-1.jpg', 4, null],
      ],
    );
    const matcher = new IdentityMatcher(map.identities, map.threshold);
    assert.equal(matcher.match(await embedLargest(await clipFrame('grace_hopper.jpg', 512, 600))), 0);
    assert.equal(matcher.match(await embedLargest(await clipFrame('astronaut.png', 512, 512))), 1);
    const stranger = await embedLargest(await clipFrame('camera.png', 512, 512));
    assert.equal(
      matcher.match(stranger),
      undefined,
      `a third person: similarities ${matcher
        .similarities(stranger)
        .map((s) => s.toFixed(3))
        .join(', ')}`,
    );
  });

  it('resolves sources relative to the map file when read back', async () => {
    const text = (await readFile(summary.map, 'utf8')).replace('"source": null', '"source": "photos/me.jpg"');
    const edited = join(dir, 'faces', 'edited.json');
    await writeFile(edited, text);
    assert.equal((await readFaceMap(edited)).identities[0]!.source, join(dir, 'faces', 'photos', 'me.jpg'));
    await assert.rejects(readFaceMap(join(dir, 'nope.json')), (e: unknown) => e instanceof LiveswapError && e.kind === 'input-missing');
  });

  it('reports a video without faces as no-face and writes nothing', async () => {
    const blank = join(dir, 'blank.mp4');
    const writer = await createVideoWriter(blank, { width: 160, height: 120, fps: 4, preset: 'veryfast' });
    const grey = createImage(160, 120, 3);
    grey.data.fill(128);
    for (let i = 0; i < 4; i++) await writer.write(grey);
    await writer.close();
    const out = join(dir, 'blank-faces');
    await assert.rejects(
      scanFaces(blank, { outDir: out, home: TEST_HOME }),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'no-face' && /No face found in .*blank\.mp4/.test(e.message),
    );
    assert.deepEqual(await readdir(out), []);
  });

  it('checks its options before any work', async () => {
    for (const options of [{ sampleFps: 0 }, { sampleFps: Number.NaN }, { threshold: 1 }, { threshold: -0.2 }]) {
      await assert.rejects(scanFaces(clip, { outDir: join(dir, 'never'), home: TEST_HOME, ...options }), (e: unknown) => e instanceof LiveswapError && e.kind === 'usage');
    }
    await assert.rejects(readdir(join(dir, 'never')));
  });
});
