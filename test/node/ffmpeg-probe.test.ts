/** Stream facts from `ffmpeg -i`, on clips made here, and the errors for inputs that are not videos. */

import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ErrorKind, LiveswapError } from '../../src/core/errors.js';
import { parseInputInfo, parseVideoStream } from '../../src/node/media/ffmpeg-probe.js';
import { probeVideo } from '../../src/node/media/ffmpeg.js';
import { makeAudioFile, makeClip } from '../helpers/clips.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { PHONE_MP4_PROBE } from '../helpers/ffmpeg-samples.js';

let dir: string;
let withAudio: string;
let silent: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-probe-'));
  [withAudio, silent] = await Promise.all([
    makeClip({ dir, name: 'tone', frames: 50, fps: 25, audioHz: 440, noise: 4 }),
    makeClip({ dir, name: 'silent', frames: 29, fps: 29.97, width: 160, height: 120, format: 'mkv' }),
  ]);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejectsWith(promise: Promise<unknown>, kind: ErrorKind, words: RegExp, file: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof LiveswapError, String(error));
    assert.equal(error.kind, kind, error.message);
    assert.match(error.message, words);
    assert.ok(error.message.includes(file), `message names the file: ${error.message}`);
    assert.equal(error.file, file);
    return true;
  });
}

describe('probeVideo', () => {
  it('reads size, rate, duration, codecs and audio of an MP4 with sound', async () => {
    const info = await probeVideo(withAudio);
    assert.equal(info.width, 320);
    assert.equal(info.height, 240);
    assert.equal(info.codedWidth, 320);
    assert.equal(info.fps, 25);
    assert.ok(Math.abs(info.durationSeconds - 2) <= 0.05, `duration ${info.durationSeconds}`);
    assert.equal(info.frameCount, 50);
    assert.equal(info.frameCountExact, false);
    assert.equal(info.rotation, 0);
    assert.equal(info.hasAudio, true);
    assert.equal(info.videoCodec, 'h264');
    assert.equal(info.pixelFormat, 'yuv420p');
    assert.match(info.container, /mp4/);
    assert.equal(info.streamIndex, 0);
  });

  it('gives NTSC rates exactly and counts frames by decoding when asked', async () => {
    const estimate = await probeVideo(silent);
    assert.equal(estimate.hasAudio, false);
    assert.equal(estimate.fps, 30000 / 1001);
    assert.equal(estimate.container, 'matroska,webm');
    assert.equal(estimate.frameCountExact, false);
    assert.ok(Math.abs(estimate.frameCount - 29) <= 1, `estimate ${estimate.frameCount}`);
    const exact = await probeVideo(silent, { countFrames: true });
    assert.equal(exact.frameCount, 29);
    assert.equal(exact.frameCountExact, true);
  });

  it('reports the rotation tag and the displayed (turned) size', async () => {
    const clip = await makeClip({ dir, name: 'turned', frames: 5, rotation: 90 });
    const info = await probeVideo(clip);
    assert.equal(info.rotation, 90);
    assert.deepEqual([info.width, info.height, info.codedWidth, info.codedHeight], [240, 320, 320, 240]);
    const upsideDown = await makeClip({ dir, name: 'upside-down', frames: 5, rotation: 180 });
    const flipped = await probeVideo(upsideDown);
    assert.equal(flipped.rotation, 180);
    assert.deepEqual([flipped.width, flipped.height], [320, 240]);
  });

  it('treats a still image as a one-frame video, counted since it has no duration', async () => {
    const info = await probeVideo(join(FIXTURES, 'astronaut.png'));
    assert.equal(info.videoCodec, 'png');
    assert.equal(info.frameCount, 1);
    assert.equal(info.frameCountExact, true);
    assert.deepEqual([info.width, info.height], [512, 512]);
  });
});

describe('probeVideo errors', () => {
  it('a missing file is input-missing', async () => {
    const missing = join(dir, 'nope.mp4');
    await rejectsWith(probeVideo(missing), 'input-missing', /Cannot find .*nope\.mp4: no such file/, missing);
  });

  it('a text file named .mp4 or .txt is not a video', async () => {
    const fake = join(dir, 'fake.mp4');
    await writeFile(fake, 'this is not a video, only a few words of text\n');
    await rejectsWith(probeVideo(fake), 'input-unsupported', /is not a video liveswap can read/, fake);
    // ffmpeg would open this one as ANSI art.
    const notes = join(dir, 'notes.txt');
    await writeFile(notes, 'plain words\n');
    await rejectsWith(probeVideo(notes), 'input-unsupported', /is not a video liveswap can read \(it looks like text\)/, notes);
  });

  it('an audio-only file has no video stream', async () => {
    const audio = await makeAudioFile({ dir });
    await rejectsWith(probeVideo(audio), 'input-unsupported', /has only audio, no video stream/, audio);
  });

  it('empty, truncated and folder inputs are input-unreadable', async () => {
    const empty = join(dir, 'empty.mp4');
    await writeFile(empty, '');
    await rejectsWith(probeVideo(empty), 'input-unreadable', /the file is empty/, empty);
    const truncated = join(dir, 'truncated.mp4');
    await writeFile(truncated, (await readFile(withAudio)).subarray(0, 4000));
    await rejectsWith(probeVideo(truncated), 'input-unreadable', /damaged or truncated/, truncated);
    const folder = join(dir, 'folder.mp4');
    await mkdir(folder);
    await rejectsWith(probeVideo(folder), 'input-unreadable', /is a folder/, folder);
  });

  it('a program that is not ffmpeg is a usage error naming it, not a damaged video', { skip: process.platform === 'win32' ? 'needs /bin/false and a shell' : false }, async () => {
    const liar = join(dir, 'not-ffmpeg');
    await writeFile(liar, '#!/bin/sh\necho "hello from another program"\nexit 0\n');
    await chmod(liar, 0o755);
    for (const [binary, said] of [
      ['/bin/false', /stopped with exit code 1 and printed nothing/],
      [liar, /stopped with exit code 0 and printed "hello from another program"/],
    ] as const) {
      await assert.rejects(probeVideo(withAudio, { ffmpegPath: binary }), (error: unknown) => {
        assert.ok(error instanceof LiveswapError, String(error));
        assert.equal(error.kind, 'usage', error.message);
        assert.ok(error.message.startsWith(`${binary} does not run as ffmpeg: asked for its version`), error.message);
        assert.match(error.message, said);
        assert.match(error.message, /Point --ffmpeg \(or LIVESWAP_FFMPEG\) at an ffmpeg executable/);
        assert.ok(!error.message.includes(withAudio), `the video is not blamed: ${error.message}`);
        assert.equal(error.file, binary);
        return true;
      });
    }
  });

  it('reads paths that ffmpeg would take for a protocol or an option', async () => {
    const odd = join(dir, 'take:two -y.mp4');
    await copyFile(withAudio, odd);
    assert.equal((await probeVideo(odd)).frameCount, 50);
  });
});

describe('parseInputInfo', () => {
  // The layout of newer ffmpeg releases: stream ids in brackets, cover art first, rotation only as side data.
  const newer = PHONE_MP4_PROBE;

  it('finds streams, duration and display-matrix rotation', () => {
    const parsed = parseInputInfo(newer);
    assert.equal(parsed.container, 'mov,mp4,m4a,3gp,3g2,mj2');
    assert.equal(parsed.durationSeconds, 62.5);
    assert.deepEqual(
      parsed.streams.map((s) => [s.index, s.type, s.rotation]),
      [
        [0, 'Video', undefined],
        [1, 'Video', 90],
        [2, 'Audio', undefined],
      ],
    );
  });

  it('reads codec, pixel format with its parenthesised details, size and rate', () => {
    const facts = parseVideoStream(parseInputInfo(newer).streams[1]!.description);
    assert.deepEqual(facts, { codec: 'hevc', pixelFormat: 'yuv420p', colorRange: 'tv', colorMatrix: 'bt709', width: 1920, height: 1080, fps: 30000 / 1001 });
    assert.deepEqual(parseVideoStream('vp9 (Profile 0), yuv420p(tv), 640x360, SAR 1:1 DAR 16:9, 30 fps, 30 tbr, 1k tbn, 1k tbc (default)'), {
      codec: 'vp9',
      pixelFormat: 'yuv420p',
      colorRange: 'tv',
      colorMatrix: 'unknown',
      width: 640,
      height: 360,
      fps: 30,
    });
    // No average rate: the base rate stands in; no pixel format printed.
    assert.deepEqual(parseVideoStream('rawvideo, 320x240, 24 tbr, 24 tbn'), {
      codec: 'rawvideo',
      pixelFormat: 'unknown',
      colorRange: 'unknown',
      colorMatrix: 'unknown',
      width: 320,
      height: 240,
      fps: 24,
    });
    assert.deepEqual(parseVideoStream('mjpeg, yuvj420p(pc, bt470bg/unknown/unknown), 640x480, 25 fps'), {
      codec: 'mjpeg',
      pixelFormat: 'yuvj420p',
      colorRange: 'pc',
      colorMatrix: 'bt470bg',
      width: 640,
      height: 480,
      fps: 25,
    });
    assert.equal(parseVideoStream('h264, none'), undefined);
  });

  it('takes only quarter turns, the ones ffmpeg applies', () => {
    const rotated = (angle: string): number | undefined =>
      parseInputInfo(`Input #0, mov, from 'a.mov':\n    Stream #0:0: Video: h264, yuv420p, 64x48\n      displaymatrix: rotation of ${angle} degrees\n`).streams[0]!.rotation;
    assert.deepEqual(['90.00', '-90.00', '-180.00', '270.00', '-0.00', '45.00', '89.50'].map(rotated), [270, 90, 180, 90, 0, 0, 270]);
  });

  it('ignores output sections and lines before the input', () => {
    const log = [
      'garbage',
      "Input #0, matroska,webm, from 'a.mkv':",
      '  Duration: N/A, start: 0.0',
      '    Stream #0:0: Video: vp8, yuv420p, 64x48, 25 fps',
      "Output #0, null, to 'pipe:':",
      '    Stream #0:0: Video: wrapped_avframe, yuv420p, 64x48',
    ].join('\n');
    const parsed = parseInputInfo(log);
    assert.equal(parsed.durationSeconds, undefined);
    assert.equal(parsed.streams.length, 1);
    assert.equal(parseInputInfo('t.mp4: Invalid data found when processing input').container, undefined);
  });
});
