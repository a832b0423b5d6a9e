/**
 * The pure parts of `liveswap live`: what --input and --output name, the ffmpeg command lines of
 * the decoder and each encoder (pinned as exact arrays), the camera lists of avfoundation and
 * dshow, the reconnect waits, and the typed errors for a missing camera or v4l2 device.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { inputArgs, liveDecoderArgs, liveEncoderArgs, LOW_LATENCY_INPUT } from '../../src/node/live/live-args.js';
import { checkV4l2Output, listV4l2Devices, parseAvfoundationList, parseDshowList } from '../../src/node/live/live-devices.js';
import { probeLiveInput } from '../../src/node/live/live-input.js';
import { backoffDelay, recordingWorkPath } from '../../src/node/live/live-output.js';
import { parseInputSpec, parseOutputSpec, parseOutputSpecs, redactUrl } from '../../src/node/live/live-spec.js';
import { ffmpegPath } from '../../src/node/media/ffmpeg-binary.js';

const kind = (k: string) => (error: unknown) => error instanceof LiveswapError && error.kind === k;

describe('live inputs and outputs', () => {
  it('reads cameras, stream URLs and files as inputs', () => {
    assert.deepEqual(parseInputSpec('camera:0', { platform: 'linux' }), { kind: 'camera', api: 'v4l2', device: '/dev/video0' });
    assert.deepEqual(parseInputSpec('/dev/video2', { platform: 'linux' }), { kind: 'camera', api: 'v4l2', device: '/dev/video2' });
    assert.deepEqual(parseInputSpec('camera:1', { platform: 'darwin' }), { kind: 'camera', api: 'avfoundation', device: '1' });
    assert.deepEqual(parseInputSpec('camera:Integrated Camera', { platform: 'win32' }), { kind: 'camera', api: 'dshow', device: 'Integrated Camera' });
    for (const url of ['rtmp://127.0.0.1/live/in', 'rtsp://cam.local/stream', 'srt://127.0.0.1:9000', 'https://example.com/a.m3u8']) {
      assert.equal(parseInputSpec(url).kind, 'url', url);
    }
    assert.deepEqual(parseInputSpec('clip.mp4', { loop: true }), { kind: 'file', path: 'clip.mp4', loop: true });
    assert.throws(() => parseInputSpec('ftp://host/x.mp4'), kind('usage'));
    assert.throws(() => parseInputSpec('rtmp://host/live/x', { loop: true }), /--loop replays a video file/);
    assert.throws(() => parseInputSpec('camera:'), kind('usage'));
  });

  it('reads outputs and refuses unknown or doubled ones', () => {
    assert.deepEqual(parseOutputSpec('rtmp://127.0.0.1:1935/live/key'), { kind: 'rtmp', url: 'rtmp://127.0.0.1:1935/live/key' });
    assert.deepEqual(parseOutputSpec('srt://127.0.0.1:9000?mode=caller'), { kind: 'srt', url: 'srt://127.0.0.1:9000?mode=caller' });
    assert.deepEqual(parseOutputSpec('show.mkv'), { kind: 'file', path: 'show.mkv', container: '.mkv' });
    assert.deepEqual(parseOutputSpec('output'), { kind: 'page', port: 7861 });
    assert.deepEqual(parseOutputSpec('output:0'), { kind: 'page', port: 0 });
    assert.deepEqual(parseOutputSpec('page:8000'), { kind: 'page', port: 8000 });
    assert.throws(() => parseOutputSpec('output:70000'), /port is a number from 0/);
    assert.throws(() => parseOutputSpec('output:abc'), kind('usage'));
    assert.throws(() => parseOutputSpecs(['output', 'output:7861']), /given twice/);
    assert.deepEqual(parseOutputSpec('whep'), { kind: 'whep', port: 7862 });
    assert.deepEqual(parseOutputSpec('WHEP:0'), { kind: 'whep', port: 0 });
    assert.throws(() => parseOutputSpec('whep:-1'), /port is a number from 0/);
    assert.deepEqual(parseOutputSpec('v4l2:/dev/video9', { platform: 'linux' }), { kind: 'v4l2', device: '/dev/video9' });
    assert.throws(() => parseOutputSpec('v4l2:/dev/video9', { platform: 'darwin' }), /Linux only/);
    assert.throws(() => parseOutputSpec('show.webm'), /\.mp4 or \.mkv/);
    assert.throws(() => parseOutputSpec('http://host/x'), kind('usage'));
    assert.throws(() => parseOutputSpecs([]), /at least one --output/);
    assert.throws(() => parseOutputSpecs(['a.mp4', 'a.mp4']), /given twice/);
  });

  it('hides stream keys in what it prints', () => {
    assert.equal(redactUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl'), 'rtmp://a.rtmp.youtube.com/live2/…');
    assert.equal(redactUrl('rtmp://user:pw@host/app/key?x=1'), 'rtmp://host/app/……');
    assert.equal(redactUrl('srt://127.0.0.1:9000'), 'srt://127.0.0.1:9000');
  });
});

describe('live ffmpeg command lines', () => {
  it('opens files at their own pace, streams with the low-latency flags, cameras by platform', () => {
    assert.deepEqual(inputArgs({ kind: 'file', path: '/v/clip.mp4', loop: true }), ['-re', '-stream_loop', '-1', '-i', 'file:/v/clip.mp4']);
    assert.deepEqual(inputArgs({ kind: 'url', url: 'rtmp://h/live/a', protocol: 'rtmp' }), [...LOW_LATENCY_INPUT, '-i', 'rtmp://h/live/a']);
    assert.deepEqual(LOW_LATENCY_INPUT, ['-fflags', 'nobuffer', '-analyzeduration', '500000', '-probesize', '500000']);
    assert.deepEqual(inputArgs({ kind: 'camera', api: 'v4l2', device: '/dev/video0' }, { width: 1280, height: 720, fps: 30 }), [
      '-f',
      'v4l2',
      '-framerate',
      '30',
      '-video_size',
      '1280x720',
      '-i',
      '/dev/video0',
    ]);
    assert.deepEqual(inputArgs({ kind: 'camera', api: 'avfoundation', device: '0' }), ['-f', 'avfoundation', '-framerate', '30', '-i', '0:none']);
    assert.deepEqual(inputArgs({ kind: 'camera', api: 'dshow', device: 'USB Cam' }), ['-f', 'dshow', '-i', 'video=USB Cam']);
  });

  it('decodes to raw RGB at a constant rate with the sound as PCM on fd 3', () => {
    const args = liveDecoderArgs({ input: { kind: 'url', url: 'rtmp://h/live/a', protocol: 'rtmp' }, width: 640, height: 360, fps: 30, audio: true });
    assert.deepEqual(args.slice(args.indexOf('-map')), [
      ...['-map', '0:v:0', '-an', '-sn', '-dn', '-vf', 'fps=30,scale=640:360', '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'],
      ...['-map', '0:a:0', '-vn', '-sn', '-dn', '-af', 'aresample=async=1:min_hard_comp=0.02', '-ac', '2', '-ar', '48000', '-f', 's16le', 'pipe:3'],
    ]);
    // A file's sound is placed from the file's start, as its frames are.
    const file = liveDecoderArgs({ input: { kind: 'file', path: '/v/a.mp4', loop: true }, width: 640, height: 360, fps: 30, audio: true });
    assert.equal(file[file.indexOf('-af') + 1], 'aresample=async=1:min_hard_comp=0.02:first_pts=0');
  });

  it('pushes FLV with H.264 and AAC, writes fragmented MP4, and sends v4l2 raw video only', () => {
    const base = { width: 1280, height: 720, fps: 30, audio: true, audioDelayMs: 120, preset: 'veryfast' as const, crf: 20 };
    const rtmp = liveEncoderArgs({ ...base, output: { kind: 'rtmp', url: 'rtmp://h/live/out' } });
    assert.deepEqual(rtmp.slice(-5), ['-f', 'flv', '-flvflags', 'no_duration_filesize', 'rtmp://h/live/out']);
    assert.ok(rtmp.includes('libx264') && rtmp.includes('aac') && rtmp.includes('zerolatency'));
    assert.deepEqual(rtmp.slice(rtmp.indexOf('-itsoffset'), rtmp.indexOf('-itsoffset') + 2), ['-itsoffset', '0.12']);
    assert.deepEqual(rtmp.slice(rtmp.indexOf('-g'), rtmp.indexOf('-g') + 4), ['-g', '60', '-keyint_min', '60']);
    const file = liveEncoderArgs({ ...base, output: { kind: 'file', path: '/r/show.mp4', container: '.mp4' }, writeTo: '/r/.work.show.mp4' });
    assert.deepEqual(file.slice(-6), ['-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4', '-y', 'file:/r/.work.show.mp4']);
    const device = liveEncoderArgs({ ...base, output: { kind: 'v4l2', device: '/dev/video9' } });
    assert.deepEqual(device.slice(device.indexOf('-map')), ['-map', '0:v:0', '-vf', 'format=yuv420p', '-f', 'v4l2', '/dev/video9']);
    assert.ok(!device.includes('pipe:3'), 'a v4l2 device takes no sound');
  });
});

describe('live devices, waits and errors', () => {
  it('reads the camera lists of avfoundation and dshow', () => {
    const mac = [
      '[AVFoundation indev @ 0x7f] AVFoundation video devices:',
      '[AVFoundation indev @ 0x7f] [0] FaceTime HD Camera',
      '[AVFoundation indev @ 0x7f] [1] Capture screen 0',
      '[AVFoundation indev @ 0x7f] AVFoundation audio devices:',
      '[AVFoundation indev @ 0x7f] [0] MacBook Pro Microphone',
    ].join('\n');
    assert.deepEqual(
      parseAvfoundationList(mac).map((d) => [d.id, d.name]),
      [
        ['0', 'FaceTime HD Camera'],
        ['1', 'Capture screen 0'],
      ],
    );
    const win = ['[dshow @ 000001] "Integrated Camera" (video)', '[dshow @ 000001]   Alternative name "@device_pnp_…"', '[dshow @ 000001] "Microphone (Realtek)" (audio)'].join(
      '\n',
    );
    assert.deepEqual(
      parseDshowList(win).map((d) => d.id),
      ['Integrated Camera'],
    );
  });

  it('lists v4l2 devices with their names and marks loopback ones', async () => {
    const root = await mkdtemp(join(tmpdir(), 'liveswap-v4l2-'));
    try {
      const { mkdir } = await import('node:fs/promises');
      await mkdir(join(root, 'dev'));
      await mkdir(join(root, 'sys', 'video0'), { recursive: true });
      await mkdir(join(root, 'sys', 'video10'), { recursive: true });
      await writeFile(join(root, 'dev', 'video0'), '');
      await writeFile(join(root, 'dev', 'video10'), '');
      await writeFile(join(root, 'sys', 'video0', 'name'), 'USB Camera\n');
      await writeFile(join(root, 'sys', 'video10', 'name'), 'liveswap\n');
      await writeFile(join(root, 'sys', 'video10', 'device'), '');
      const devices = await listV4l2Devices(join(root, 'dev'), join(root, 'sys'));
      assert.deepEqual(
        devices.map((d) => [d.id.slice(root.length), d.name]),
        [
          ['/dev/video0', 'USB Camera'],
          ['/dev/video10', 'liveswap'],
        ],
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('a missing v4l2 output device or camera is a typed error', async () => {
    await assert.rejects(checkV4l2Output('/dev/video987'), (error: unknown) => kind('output')(error) && /modprobe v4l2loopback/.test((error as Error).message));
    await assert.rejects(
      probeLiveInput({ kind: 'camera', api: 'v4l2', device: '/dev/video987' }, { ffmpegPath: ffmpegPath() }),
      (error: unknown) => kind('input-missing')(error) && /--list-devices/.test((error as Error).message),
    );
  });

  it('waits longer after each failed try, up to a cap', () => {
    const backoff = { firstMs: 1000, maxMs: 8000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => backoffDelay(backoff, n)),
      [1000, 2000, 4000, 8000, 8000],
    );
    assert.equal(recordingWorkPath('/r/show.mp4', 42), '/r/.liveswap.recording-42.show.mp4');
  });
});
