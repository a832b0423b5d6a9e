/** `liveswap faces scan` through the real command: the table, --json, and the exit code of each failure. */

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT_CODES } from '../../src/core/errors.js';
import { createImage } from '../../src/core/image.js';
import { createVideoWriter } from '../../src/node/media/ffmpeg.js';
import { parseFaceMap } from '../../src/pipeline/face-map.js';
import { makeAudioFile, makeClip } from '../helpers/clips.js';
import { runCli, show } from './run-cli.js';

let dir: string;
let clip: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-faces-cli-'));
  clip = await makeClip({ dir, motion: 'zoom', fps: 10, frames: 15, name: 'one person' });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('liveswap faces scan', () => {
  it('prints a table of the people and how to use map.json', async () => {
    const out = join(dir, 'faces');
    const result = runCli(['faces', 'scan', clip, '--out', out, '--sample-fps', '4']);
    assert.equal(result.code, 0, show(result));
    assert.match(result.stdout, /^1 person in .*one person\.mp4 \(6 faces in 6 frames, 1 shot\):/);
    assert.match(result.stdout, /\n +id +appearances +first seen +thumbnail\n +0 +6 +0:00\.0 +.*identity-0\.jpg\n/);
    assert.match(result.stdout, /"source"/);
    assert.match(result.stdout, /liveswap swap -t '.*one person\.mp4' --map-faces .*map\.json -o out\.mp4/);
    const map = parseFaceMap(await readFile(join(out, 'map.json'), 'utf8'), 'map.json');
    assert.deepEqual(
      map.identities.map((i) => [i.id, i.frames, i.source]),
      [[0, 6, null]],
    );
    assert.ok(existsSync(join(out, 'identity-0.jpg')));
  });

  it('prints the summary as JSON with --json, with the threshold it was given', () => {
    const out = join(dir, 'faces-json');
    const result = runCli(['faces', 'scan', clip, '--out', out, '--threshold', '0.7', '--json']);
    assert.equal(result.code, 0, show(result));
    const summary = JSON.parse(result.stdout) as { threshold: number; sampleFps: number; sampledFrames: number; identities: { id: number; frames: number }[] };
    assert.equal(summary.threshold, 0.7);
    assert.equal(summary.sampleFps, 2);
    assert.equal(summary.sampledFrames, 3);
    assert.deepEqual(
      summary.identities.map((i) => [i.id, i.frames]),
      [[0, 3]],
    );
  });

  it('fails with the exit code of each kind of problem', async () => {
    const out = join(dir, 'never');
    const text = join(dir, 'notes.mp4');
    await writeFile(text, 'not a video at all\n');
    const audio = await makeAudioFile({ dir });
    const blank = join(dir, 'blank.mp4');
    const writer = await createVideoWriter(blank, { width: 160, height: 120, fps: 4, preset: 'veryfast' });
    for (let i = 0; i < 4; i++) await writer.write(createImage(160, 120, 3));
    await writer.close();

    const cases: [string[], number, RegExp][] = [
      [[join(dir, 'missing.mp4'), '--out', out], EXIT_CODES['input-missing'], /Cannot find .*missing\.mp4/],
      [[text, '--out', out], EXIT_CODES['input-unsupported'], /notes\.mp4 is not a video/],
      [[audio, '--out', out], EXIT_CODES['input-unsupported'], /tone\.m4a has/],
      [[blank, '--out', out], EXIT_CODES['no-face'], /No face found in .*blank\.mp4/],
      [[clip, '--out', out, '--sample-fps', '0'], EXIT_CODES.usage, /--sample-fps/],
      [[clip, '--out', out, '--sample-fps', 'lots'], EXIT_CODES.usage, /--sample-fps/],
      [[clip, '--out', out, '--threshold', '1.2'], EXIT_CODES.usage, /--threshold/],
      [[clip], EXIT_CODES.usage, /--out/],
    ];
    for (const [args, code, message] of cases) {
      const result = runCli(['faces', 'scan', ...args]);
      assert.equal(result.code, code, show(result));
      assert.match(result.stderr, message, show(result));
    }
    assert.equal(existsSync(join(out, 'map.json')), false, 'no map after a failure');
    const json = runCli(['faces', 'scan', blank, '--out', out, '--json']);
    assert.equal((JSON.parse(json.stdout) as { error: { kind: string } }).error.kind, 'no-face', show(json));
  });
});
