/**
 * `liveswap swap` with a video target through the real command: JSON progress events, choosing a
 * person with --reference-face, and `faces scan` → map.json → --map-faces.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { Image } from '../../src/core/image.js';
import { fileUrlArg, runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { readFrames } from '../../src/node/media/ffmpeg-read.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { runCli } from './run-cli.js';

let dir: string;
let pair: string;
const SOURCE = join(FIXTURES, 'camera.png');

/** Two people side by side: grace_hopper.jpg on the left, astronaut.png on the right; camera.png is the source. */
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-cli-video-'));
  const left = await sharp(join(FIXTURES, 'grace_hopper.jpg')).resize(200, 240, { fit: 'cover' }).png().toBuffer();
  const right = await sharp(join(FIXTURES, 'astronaut.png')).removeAlpha().resize(200, 240, { fit: 'cover' }).png().toBuffer();
  const still = join(dir, 'pair.png');
  await sharp({ create: { width: 400, height: 240, channels: 3, background: { r: 80, g: 80, b: 80 } } })
    .composite([
      { input: left, left: 0, top: 0 },
      { input: right, left: 200, top: 0 },
    ])
    .png()
    .toFile(still);
  pair = join(dir, 'pair.mp4');
  const run = await runFfmpeg([
    '-loglevel',
    'error',
    '-y',
    '-loop',
    '1',
    '-framerate',
    '10',
    '-i',
    fileUrlArg(still),
    '-frames:v',
    '10',
    '-vf',
    'format=yuv420p',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    fileUrlArg(pair),
  ]);
  assert.equal(run.code, 0, run.stderr);
});
after(() => rm(dir, { recursive: true, force: true }));

async function firstFrame(path: string): Promise<Image> {
  for await (const frame of readFrames(path, { maxFrames: 1 })) return frame;
  throw new Error(`${path} has no frames`);
}

/** Mean absolute difference of two frames over the middle of each person's half (where the faces are). */
async function halves(a: string, b: string): Promise<{ left: number; right: number }> {
  const [x, y] = [await firstFrame(a), await firstFrame(b)];
  const mean = (x0: number): number => {
    let sum = 0;
    let n = 0;
    for (let row = 30; row < 190; row++) {
      for (let i = (row * x.width + x0) * 3; i < (row * x.width + x0 + 120) * 3; i++) {
        sum += Math.abs(x.data[i]! - y.data[i]!);
        n++;
      }
    }
    return sum / n;
  };
  return { left: mean(40), right: mean(240) };
}

/**
 * Which half had its face swapped. Both halves differ a little from the input: the re-encode and
 * the invisible watermark (about one level on average); a swapped face differs clearly more.
 */
function sideChanged(d: { left: number; right: number }): 'left' | 'right' | 'unclear' {
  if (d.left > 3 && d.right < 2.5 && d.left - d.right > 1.2) return 'left';
  if (d.right > 3 && d.left < 2.5 && d.right - d.left > 1.2) return 'right';
  return 'unclear';
}

describe('liveswap swap with a video target', () => {
  test('--json prints progress events, then the summary', () => {
    const output = join(dir, 'json.mp4');
    const result = runCli(['swap', '-s', SOURCE, '-t', pair, '-o', output, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; frame?: number; frames?: number; framesSwapped?: number });
    assert.ok(events.length >= 2);
    assert.ok(events.slice(0, -1).every((e) => e.event === 'progress' && typeof e.frame === 'number'));
    const done = events.at(-1)!;
    assert.equal(done.event, 'done');
    assert.equal(done.frames, 10);
    assert.equal(done.framesSwapped, 10);
  });

  test('--reference-face swaps only that person', async () => {
    const output = join(dir, 'reference.mp4');
    const result = runCli(['swap', '-s', SOURCE, '-t', pair, '-o', output, '--reference-face', join(FIXTURES, 'astronaut.png'), '--quiet']);
    assert.equal(result.code, 0, result.stderr);
    const diff = await halves(pair, output);
    assert.equal(sideChanged(diff), 'right', `left half changed by ${diff.left.toFixed(2)}, right by ${diff.right.toFixed(2)}`);
  });

  test('faces scan writes a map; --map-faces swaps the people given a photo and leaves the others', async () => {
    const scanDir = join(dir, 'scan');
    const scan = runCli(['faces', 'scan', pair, '--out', scanDir, '--sample-fps', '5', '--json']);
    assert.equal(scan.code, 0, scan.stderr);
    const mapPath = join(scanDir, 'map.json');
    const map = JSON.parse(await readFile(mapPath, 'utf8')) as { identities: { id: number; source: string | null; embedding: number[] }[] };
    assert.equal(map.identities.length, 2);

    // Which identity is the person on the right? Ask the swap: give each a photo in turn.
    const nobody = runCli(['swap', '-t', pair, '--map-faces', mapPath, '-o', join(dir, 'nobody.mp4')]);
    assert.equal(nobody.code, 2, 'a map with no sources is a usage error');
    assert.match(nobody.stderr, /no source photo/);

    const results: { left: number; right: number }[] = [];
    for (const chosen of [0, 1]) {
      const edited = { ...map, identities: map.identities.map((p) => ({ ...p, source: p.id === chosen ? SOURCE : null })) };
      const editedPath = join(scanDir, `map-${chosen}.json`);
      await writeFile(editedPath, JSON.stringify(edited));
      const output = join(dir, `mapped-${chosen}.mp4`);
      const result = runCli(['swap', '-t', pair, '--map-faces', editedPath, '-o', output, '--quiet']);
      assert.equal(result.code, 0, result.stderr);
      results.push(await halves(pair, output));
    }
    // Each run changed exactly one half, and the two runs changed different halves.
    const changed = results.map(sideChanged);
    assert.deepEqual([...changed].sort(), ['left', 'right'], JSON.stringify(results));
  });
});
