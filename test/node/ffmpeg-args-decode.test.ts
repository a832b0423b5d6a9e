/**
 * The decoder's command line (fps, trims and their seek, frame times, stream, layout, colour
 * conversion) and the probe and frame-timing scans, as exact arrays. No ffmpeg runs here.
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodedTimesArgs, type DecodePlan, decoderArgs, frameCountArgs, packetTimesArgs, probeArgs } from '../../src/node/media/ffmpeg-args.js';

/** 320×240 RGB from the first stream of /videos/in.mp4, every frame, exact colour conversion. */
const PLAIN: DecodePlan = { input: '/videos/in.mp4', streamIndex: 0, width: 320, height: 240, channels: 3, colorConversion: 'accurate' };
/** Quiet; the input as a file: URL; only the video stream (no audio, subtitles, data); each decoded frame once. */
const HEAD = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', 'file:/videos/in.mp4', '-map', '0:0', '-an', '-sn', '-dn', '-vsync', 'passthrough'];
/** Raw RGB frames on stdout, sliced by the reader at width × height × 3 bytes. */
const RGB_OUT = ['-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'];
/** The explicit size pins the frame size the pipe is sliced by; the flags make YUV→RGB exact. */
const SCALE = 'scale=320:240:flags=bicubic+accurate_rnd+full_chroma_int';

describe('decoderArgs', () => {
  it('the whole command line of a plain decode', () => {
    assert.deepEqual(decoderArgs(PLAIN), [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
      ...['-i', 'file:/videos/in.mp4', '-map', '0:0', '-an', '-sn', '-dn'],
      ...['-vsync', 'passthrough'],
      ...['-vf', 'scale=320:240:flags=bicubic+accurate_rnd+full_chroma_int'],
      ...['-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'],
    ]);
  });

  it('fps resamples with the fps filter, before scaling (fewer frames to scale)', () => {
    assert.deepEqual(decoderArgs({ ...PLAIN, fps: 10 }), [...HEAD, '-vf', `fps=10,${SCALE}`, ...RGB_OUT]);
    assert.deepEqual(decoderArgs({ ...PLAIN, fps: 29.97 }), [...HEAD, '-vf', `fps=29.97,${SCALE}`, ...RGB_OUT]);
  });

  it('trims by presentation time in stream ticks, start and end alone or together', () => {
    assert.deepEqual(decoderArgs({ ...PLAIN, trim: { startPts: 1024 } }), [...HEAD, '-vf', `trim=start_pts=1024,${SCALE}`, ...RGB_OUT]);
    assert.deepEqual(decoderArgs({ ...PLAIN, trim: { endPts: 4096 } }), [...HEAD, '-vf', `trim=end_pts=4096,${SCALE}`, ...RGB_OUT]);
    assert.deepEqual(decoderArgs({ ...PLAIN, trim: { startPts: 512, endPts: 4096 } }), [...HEAD, '-vf', `trim=start_pts=512:end_pts=4096,${SCALE}`, ...RGB_OUT]);
    assert.deepEqual(decoderArgs({ ...PLAIN, trim: {} }), decoderArgs(PLAIN), 'an empty trim adds no filter');
  });

  it('trim then fps: the trim picks source frames by their own times, fps then drops or repeats', () => {
    assert.deepEqual(decoderArgs({ ...PLAIN, trim: { startPts: 512, endPts: 4096 }, fps: 5 }), [...HEAD, '-vf', `trim=start_pts=512:end_pts=4096,fps=5,${SCALE}`, ...RGB_OUT]);
  });

  it('a trim that starts late seeks first: keyframe seek before -i, timestamps kept, then the exact trim', () => {
    // -ss before -i seeks the demuxer; -noaccurate_seek leaves the cut to the trim; -copyts
    // -start_at_zero keep the file's timestamps less its start, the ones the trim is given in.
    assert.deepEqual(decoderArgs({ ...PLAIN, trim: { startPts: 151552, endPts: 153600 }, seekSeconds: 10.84 }), [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
      ...['-ss', '10.84', '-noaccurate_seek', '-copyts', '-start_at_zero'],
      ...['-i', 'file:/videos/in.mp4', '-map', '0:0', '-an', '-sn', '-dn', '-vsync', 'passthrough'],
      ...['-vf', `trim=start_pts=151552:end_pts=153600,${SCALE}`],
      ...RGB_OUT,
    ]);
    assert.equal(decoderArgs({ ...PLAIN, seekSeconds: 1 / 3 })[5], '0.333333', 'microseconds at most, no exponent');
    assert.deepEqual(decoderArgs({ ...PLAIN, seekSeconds: 0 }), decoderArgs(PLAIN), 'a seek to 0 is no seek');
  });

  it('frame times: showinfo after the trim logs each frame kept, at info level with each line naming its level', () => {
    assert.deepEqual(decoderArgs({ ...PLAIN, trim: { startPts: 512 }, frameTimes: true }), [
      ...['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'repeat+level+info'],
      ...['-i', 'file:/videos/in.mp4', '-map', '0:0', '-an', '-sn', '-dn', '-vsync', 'passthrough'],
      ...['-vf', `trim=start_pts=512,showinfo,${SCALE}`],
      ...RGB_OUT,
    ]);
  });

  it('maxFrames stops the decoder itself; RGBA frames on request', () => {
    assert.deepEqual(decoderArgs({ ...PLAIN, maxFrames: 3, channels: 4 }), [...HEAD, '-frames:v', '3', '-vf', SCALE, '-pix_fmt', 'rgba', '-f', 'rawvideo', 'pipe:1']);
  });

  it('planar frames: the same accurate scale, Y′CbCr 4:4:4 planes out for the reader to convert (RGB or RGBA alike)', () => {
    const planar = ['-pix_fmt', 'yuv444p', '-f', 'rawvideo', 'pipe:1'];
    assert.deepEqual(decoderArgs({ ...PLAIN, planar: true }), [...HEAD, '-vf', SCALE, ...planar]);
    assert.deepEqual(decoderArgs({ ...PLAIN, channels: 4, planar: true }), [...HEAD, '-vf', SCALE, ...planar]);
    assert.deepEqual(decoderArgs({ ...PLAIN, planar: false }), decoderArgs(PLAIN));
  });

  it('another stream, a smaller size, and the fast conversion (no swscale flags)', () => {
    // Stream 1: the first stream was cover art or audio; the map picks the video by index.
    assert.deepEqual(decoderArgs({ ...PLAIN, streamIndex: 1, width: 160, height: 120, colorConversion: 'fast' }), [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', 'file:/videos/in.mp4', '-map', '0:1', '-an', '-sn', '-dn', '-vsync', 'passthrough'],
      ...['-vf', 'scale=160:120'],
      ...RGB_OUT,
    ]);
  });

  it('any local path stays a path: an absolute file: URL, colons and leading dashes included', () => {
    const odd = decoderArgs({ ...PLAIN, input: '/videos/-a:b.mp4' });
    assert.equal(odd[odd.indexOf('-i') + 1], 'file:/videos/-a:b.mp4');
    const relative = decoderArgs({ ...PLAIN, input: 'clip.mp4' });
    assert.equal(relative[relative.indexOf('-i') + 1], `file:${join(process.cwd(), 'clip.mp4')}`);
  });
});

describe('probe and timing scans', () => {
  // These run through runFfmpeg / runFfmpegLines, which put -hide_banner -nostdin in front.
  it('probe: the input description only (no output: ffmpeg prints it and stops)', () => {
    assert.deepEqual(probeArgs('/videos/in.mp4'), ['-i', 'file:/videos/in.mp4']);
  });

  it('frame count: one stream decoded into the null muxer, progress on stdout', () => {
    assert.deepEqual(frameCountArgs('/videos/in.mp4', 2), ['-loglevel', 'error', '-nostats', '-i', 'file:/videos/in.mp4', '-map', '0:2', '-progress', 'pipe:1', '-f', 'null', '-']);
  });

  it('frame times: packets listed without decoding, or decoded through showinfo', () => {
    assert.deepEqual(packetTimesArgs('/videos/in.mp4', 0), ['-i', 'file:/videos/in.mp4', '-map', '0:0', '-c', 'copy', '-f', 'framecrc', 'pipe:1']);
    assert.deepEqual(decodedTimesArgs('/videos/in.mp4', 1), ['-i', 'file:/videos/in.mp4', '-map', '0:1', '-vf', 'showinfo', '-f', 'null', '-']);
  });
});
