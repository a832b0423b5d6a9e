/**
 * `liveswap talk`'s errors, through the real command: each says what is wrong and how to fix it,
 * with its exit code, and leaves no output behind.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { EXIT_CODES } from '../../src/core/errors.js';
import { FIXTURES, TEST_HOME } from '../helpers/fixtures.js';
import { MAIN_PATH, REPO_ROOT, runCli, show, TSX_URL } from '../cli/run-cli.js';

const PHOTO = join(FIXTURES, 'grace_hopper.jpg');
const fliteInstalled = !spawnSync('flite', ['-lv']).error;

describe('liveswap talk: errors', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'liveswap-talk-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const talk = (args: string[]) => runCli(['talk', ...args], { home: TEST_HOME });

  it('refuses empty text, a phone track without audio, two kinds of speech, and a container without AAC', () => {
    const output = join(dir, 'out.mp4');
    let r = talk(['--face', PHOTO, '--text', '  ', '-o', output]);
    assert.equal(r.code, EXIT_CODES.usage, show(r));
    assert.match(r.stderr, /--text is empty/);
    r = talk(['--face', PHOTO, '--text', 'hi', '--phonemes', join(dir, 'p.txt'), '-o', output]);
    assert.equal(r.code, EXIT_CODES.usage, show(r));
    assert.match(r.stderr, /--phonemes goes with --audio/);
    r = talk(['--face', PHOTO, '--text', 'hi', '--audio', join(dir, 'a.wav'), '-o', output]);
    assert.match(r.stderr, /exactly one of --text TEXT, --text-file FILE or --audio FILE/);
    r = talk(['--face', PHOTO, '--text', 'hi', '-o', join(dir, 'out.webm')]);
    assert.match(r.stderr, /written as \.mp4 or \.mov/);
    assert.equal(existsSync(output), false);
  });

  it('says how to install flite when it is missing', () => {
    const output = join(dir, 'out.mp4');
    const r = spawnSync(process.execPath, ['--import', TSX_URL, MAIN_PATH, 'talk', '--face', PHOTO, '--text', 'Hello there', '-o', output], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      input: '',
      env: { ...process.env, PATH: join(dir, 'no-such-folder'), LIVESWAP_HOME: TEST_HOME, NO_COLOR: '1' },
    });
    assert.equal(r.status, EXIT_CODES.usage, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /flite, which is not installed/);
    assert.match(r.stderr, /apt-get install flite/);
    assert.match(r.stderr, /brew install flite/);
    assert.match(r.stderr, /--audio FILE/);
  });

  it('names unreadable audio and a wrong line of a phone track', async () => {
    const output = join(dir, 'out.mp4');
    const notAudio = join(dir, 'speech.wav');
    writeFileSync(notAudio, 'this is text, not sound\n');
    let r = talk(['--face', PHOTO, '--audio', notAudio, '-o', output]);
    assert.equal(r.code, EXIT_CODES['input-unreadable'], show(r));
    assert.match(r.stderr, /speech\.wav cannot be read as audio: /);
    const tone = join(dir, 'tone.wav');
    const samples = new Float32Array(16000);
    for (let i = 0; i < samples.length; i++) samples[i] = 0.3 * Math.sin(i / 5);
    const { writeWav } = await import('../../src/node/jobs/talk-speech.js');
    await writeWav(tone, samples, 16000);
    const track = join(dir, 'track.txt');
    writeFileSync(track, 'pau 0.1\nzz 0.3\n');
    r = talk(['--face', PHOTO, '--audio', tone, '--phonemes', track, '-o', output]);
    assert.equal(r.code, EXIT_CODES.usage, show(r));
    assert.match(r.stderr, /track\.txt, line 2: "zz" is neither an ARPAbet phone/);
    assert.equal(existsSync(output), false);
  });

  it('says when the photo has no face', { skip: fliteInstalled ? undefined : 'flite is not installed' }, async () => {
    const blank = join(dir, 'wall.png');
    await sharp({ create: { width: 160, height: 200, channels: 3, background: { r: 180, g: 170, b: 160 } } })
      .png()
      .toFile(blank);
    const output = join(dir, 'out.mp4');
    const r = talk(['--face', blank, '--text', 'Hello', '-o', output]);
    assert.equal(r.code, EXIT_CODES['no-face'], show(r));
    assert.match(r.stderr, /no face was found in the photo/);
    assert.equal(existsSync(output), false);
  });
});
