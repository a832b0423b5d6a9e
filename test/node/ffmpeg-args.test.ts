/**
 * The encoder's command line as exact arrays: codec × container × pixel format × colour × timing ×
 * audio (the decoder and the scans: ffmpeg-args-decode.test.ts). No ffmpeg runs here.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodedSize, type EncodePlan, encoderArgs, encoderFilterGraph, rateArg } from '../../src/node/media/ffmpeg-args.js';

/** Every directly spawned ffmpeg: no banner, no keyboard on stdin, errors only on stderr. */
const QUIET = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
/** The swscale flags of every RGB↔YUV conversion: exact rounding, chroma per pixel. */
const ACCURATE = 'flags=bicubic+accurate_rnd+full_chroma_int';
const FILES = { filterScript: '/tmp/f/graph.txt', output: '/videos/.out.partial-1-ab.mp4' };
const OUT = ['-y', 'file:/videos/.out.partial-1-ab.mp4'];
/** BT.709 limited range, tagged in full: what players assume for untagged HD, written explicitly. */
const BT709_TV_TAGS = ['-color_range', 'tv', '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709'];
const BT709_TV_SCALE = `scale=out_color_matrix=bt709:out_range=tv:${ACCURATE}`;
/** MP4/MOV: the index up front for streaming, and audio priming kept in an edit list. */
const MP4_MUX = ['-movflags', '+faststart'];
/** Matroska/WebM have no edit list: shift the whole file so nothing starts before zero. */
const MKV_MUX = ['-avoid_negative_ts', 'make_zero'];

/** 320×240 RGB at 25 fps into H.264 MP4, 4:2:0, BT.709 tv, no timing list, no audio. */
const BASE: EncodePlan = {
  container: '.mp4',
  width: 320,
  height: 240,
  channels: 3,
  fps: 25,
  codec: 'libx264',
  crf: 18,
  preset: 'medium',
  pixelFormat: 'yuv420p',
  color: { matrix: 'bt709', range: 'tv' },
};

/** The raw-frame input on stdin: size and rate of the pipe, which carries no times of its own. */
function rawInput(size: string, rate: string, pixFmt = 'rgb24'): string[] {
  return ['-f', 'rawvideo', '-pix_fmt', pixFmt, '-video_size', size, '-framerate', rate, '-i', 'pipe:0'];
}
const VIDEO_MAP = ['-map', '0:v:0', '-filter_script:v', '/tmp/f/graph.txt'];
const X264_MEDIUM_18 = ['-c:v', 'libx264', '-preset', 'medium', '-crf', '18'];
/** Never duplicate or drop a frame: one out per frame piped in. */
const PASSTHROUGH = ['-vsync', 'passthrough'];

describe('encoderArgs: codec × container', () => {
  it('the whole command line of the default encode (H.264 in MP4)', () => {
    assert.deepEqual(encoderArgs(BASE, FILES), [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
      ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-video_size', '320x240', '-framerate', '25', '-i', 'pipe:0'],
      ...['-map', '0:v:0', '-filter_script:v', '/tmp/f/graph.txt'],
      ...['-c:v', 'libx264', '-preset', 'medium', '-crf', '18'],
      ...['-vsync', 'passthrough'],
      '-an',
      ...['-color_range', 'tv', '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709'],
      ...['-movflags', '+faststart'],
      ...['-y', 'file:/videos/.out.partial-1-ab.mp4'],
    ]);
  });

  const cases: { why: string; plan: Partial<EncodePlan>; codec: string[]; mux: string[] }[] = [
    {
      why: 'x264 in Matroska: same codec flags, Matroska muxing',
      plan: { container: '.mkv', preset: 'veryfast', crf: 20 },
      codec: ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20'],
      mux: MKV_MUX,
    },
    { why: 'x264 in MOV', plan: { container: '.mov' }, codec: X264_MEDIUM_18, mux: MP4_MUX },
    {
      why: 'x265 in MP4: hvc1 tag for Apple players, x265 told to log errors only',
      plan: { codec: 'libx265', crf: 22 },
      codec: ['-c:v', 'libx265', '-preset', 'medium', '-crf', '22', '-x265-params', 'log-level=error', '-tag:v', 'hvc1'],
      mux: MP4_MUX,
    },
    {
      why: 'x265 in MOV: hvc1 as in MP4',
      plan: { container: '.mov', codec: 'libx265', crf: 28, preset: 'slow' },
      codec: ['-c:v', 'libx265', '-preset', 'slow', '-crf', '28', '-x265-params', 'log-level=error', '-tag:v', 'hvc1'],
      mux: MP4_MUX,
    },
    {
      why: 'x265 in Matroska: no hvc1 tag (Matroska has no such tag)',
      plan: { container: '.mkv', codec: 'libx265', crf: 22 },
      codec: ['-c:v', 'libx265', '-preset', 'medium', '-crf', '22', '-x265-params', 'log-level=error'],
      mux: MKV_MUX,
    },
    {
      why: 'VP9 in WebM: -b:v 0 for pure constant quality, medium → cpu-used 4, row-mt on',
      plan: { container: '.webm', codec: 'libvpx-vp9', crf: 31 },
      codec: ['-c:v', 'libvpx-vp9', '-crf', '31', '-b:v', '0', '-deadline', 'good', '-cpu-used', '4', '-row-mt', '1'],
      mux: MKV_MUX,
    },
    {
      why: 'VP9 in MP4 with the fastest preset: cpu-used 8, MP4 muxing',
      plan: { codec: 'libvpx-vp9', crf: 40, preset: 'ultrafast' },
      codec: ['-c:v', 'libvpx-vp9', '-crf', '40', '-b:v', '0', '-deadline', 'good', '-cpu-used', '8', '-row-mt', '1'],
      mux: MP4_MUX,
    },
    {
      why: 'VP9 in Matroska with the slowest preset: cpu-used 1',
      plan: { container: '.mkv', codec: 'libvpx-vp9', crf: 31, preset: 'veryslow' },
      codec: ['-c:v', 'libvpx-vp9', '-crf', '31', '-b:v', '0', '-deadline', 'good', '-cpu-used', '1', '-row-mt', '1'],
      mux: MKV_MUX,
    },
  ];
  for (const { why, plan, codec, mux } of cases) {
    it(why, () => {
      assert.deepEqual(encoderArgs({ ...BASE, ...plan }, FILES), [
        ...QUIET,
        ...rawInput('320x240', '25'),
        ...VIDEO_MAP,
        ...codec,
        ...PASSTHROUGH,
        '-an',
        ...BT709_TV_TAGS,
        ...mux,
        ...OUT,
      ]);
    });
  }

  it('RGBA frames are piped as rgba (alpha dropped by the colour conversion)', () => {
    assert.deepEqual(encoderArgs({ ...BASE, channels: 4 }, FILES), [
      ...QUIET,
      ...rawInput('320x240', '25', 'rgba'),
      ...VIDEO_MAP,
      ...X264_MEDIUM_18,
      ...PASSTHROUGH,
      '-an',
      ...BT709_TV_TAGS,
      ...MP4_MUX,
      ...OUT,
    ]);
  });
});

describe('encoderFilterGraph: pixel format and colour', () => {
  it('4:2:0, 4:2:2, 4:4:4 at an even size: only the conversion and the format', () => {
    for (const pixelFormat of ['yuv420p', 'yuv422p', 'yuv444p'] as const) {
      assert.equal(encoderFilterGraph({ ...BASE, pixelFormat }), `${BT709_TV_SCALE},format=${pixelFormat}`);
    }
  });

  it('an odd size is padded where the chroma subsampling needs it, by repeating the edge', () => {
    const odd = { ...BASE, width: 33, height: 21 };
    // 4:2:0 halves both directions: one column and one row more.
    assert.equal(encoderFilterGraph({ ...odd, pixelFormat: 'yuv420p' }), `pad=34:22:0:0,fillborders=right=1:bottom=1:mode=smear,${BT709_TV_SCALE},format=yuv420p`);
    // 4:2:2 halves only the width.
    assert.equal(encoderFilterGraph({ ...odd, pixelFormat: 'yuv422p' }), `pad=34:21:0:0,fillborders=right=1:bottom=0:mode=smear,${BT709_TV_SCALE},format=yuv422p`);
    // 4:4:4 takes any size.
    assert.equal(encoderFilterGraph({ ...odd, pixelFormat: 'yuv444p' }), `${BT709_TV_SCALE},format=yuv444p`);
    assert.deepEqual(encodedSize({ ...odd, pixelFormat: 'yuv422p' }), { width: 34, height: 21, padWidth: 1, padHeight: 0 });
    // The pipe still carries the unpadded frames: the input size is the caller's.
    assert.deepEqual(encoderArgs(odd, FILES).slice(4, 14), rawInput('33x21', '25'));
  });

  it('colour: matrix and range converted with, and tagged as, what the source had', () => {
    const cases: { why: string; color: EncodePlan['color']; scale: string; tags: string[] }[] = [
      {
        why: 'BT.709 full range',
        color: { matrix: 'bt709', range: 'pc' },
        scale: 'scale=out_color_matrix=bt709:out_range=pc',
        tags: ['-color_range', 'pc', '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709'],
      },
      {
        why: 'BT.601 (smpte170m) limited: primaries and transfer share the matrix name',
        color: { matrix: 'smpte170m', range: 'tv' },
        scale: 'scale=out_color_matrix=smpte170m:out_range=tv',
        tags: ['-color_range', 'tv', '-colorspace', 'smpte170m', '-color_primaries', 'smpte170m', '-color_trc', 'smpte170m'],
      },
      {
        why: 'BT.601 full range (a JPEG-style yuvj source)',
        color: { matrix: 'smpte170m', range: 'pc' },
        scale: 'scale=out_color_matrix=smpte170m:out_range=pc',
        tags: ['-color_range', 'pc', '-colorspace', 'smpte170m', '-color_primaries', 'smpte170m', '-color_trc', 'smpte170m'],
      },
      // bt470bg is "bt470" to swscale; its primaries/transfer have other names, so only the matrix is tagged.
      {
        why: 'BT.601 PAL (bt470bg)',
        color: { matrix: 'bt470bg', range: 'tv' },
        scale: 'scale=out_color_matrix=bt470:out_range=tv',
        tags: ['-color_range', 'tv', '-colorspace', 'bt470bg'],
      },
      // Untagged sources decode as BT.601 limited, so they are re-encoded that way and stay untagged.
      { why: 'untagged', color: { matrix: 'unknown', range: 'unknown' }, scale: 'scale=out_color_matrix=bt601:out_range=tv', tags: [] },
    ];
    for (const { why, color, scale, tags } of cases) {
      const plan = { ...BASE, color };
      assert.equal(encoderFilterGraph(plan), `${scale}:${ACCURATE},format=yuv420p`, why);
      assert.deepEqual(
        encoderArgs(plan, FILES),
        [...QUIET, ...rawInput('320x240', '25'), ...VIDEO_MAP, ...X264_MEDIUM_18, ...PASSTHROUGH, '-an', ...tags, ...MP4_MUX, ...OUT],
        why,
      );
    }
  });
});

describe('encoderArgs: timing', () => {
  it('constant rates: n×1000/1001 rates as exact rationals, others as given', () => {
    for (const [fps, rate] of [
      [25, '25'],
      [30, '30'],
      [12.5, '12.5'],
      [29.97, '30000/1001'],
      [23.976, '24000/1001'],
      [59.94, '60000/1001'],
    ] as const) {
      assert.equal(rateArg(fps), rate, `${fps} fps`);
      assert.deepEqual(encoderArgs({ ...BASE, fps }, FILES).slice(4, 14), rawInput('320x240', rate), `${fps} fps`);
    }
  });

  it('per-frame times evenly spaced from zero become one exact input rate, no setpts', () => {
    // 512 ticks of 1/12800 s: 25 fps, written unreduced; the last frame gets its full length.
    const plan: EncodePlan = { ...BASE, timing: { timeBase: [1, 12800], pts: [0, 512, 1024, 1536] } };
    assert.deepEqual(encoderArgs(plan, FILES), [
      ...QUIET,
      ...rawInput('320x240', '12800/512'),
      ...VIDEO_MAP,
      ...X264_MEDIUM_18,
      ...PASSTHROUGH,
      '-an',
      ...BT709_TV_TAGS,
      ...MP4_MUX,
      ...OUT,
    ]);
    assert.equal(encoderFilterGraph(plan), `${BT709_TV_SCALE},format=yuv420p`);
  });

  it('variable spacing: the source tick, each time by setpts, and the encoder kept on that tick', () => {
    const plan: EncodePlan = { ...BASE, timing: { timeBase: [1, 90000], pts: [0, 3000, 9000, 10500] } };
    // -framerate falls back to fps (setpts replaces the times); -enc_time_base stops rounding to it.
    assert.deepEqual(encoderArgs(plan, FILES), [
      ...QUIET,
      ...rawInput('320x240', '25'),
      ...VIDEO_MAP,
      ...X264_MEDIUM_18,
      ...PASSTHROUGH,
      ...['-enc_time_base', '1/90000'],
      '-an',
      ...BT709_TV_TAGS,
      ...MP4_MUX,
      ...OUT,
    ]);
    // A binary search on N over the list; past the end, the last spacing (1500 ticks) goes on.
    const setpts = 'if(lt(N,4),if(lt(N,2),if(lt(N,1),0,3000),if(lt(N,3),9000,10500)),10500+(N-3)*1500)';
    assert.equal(encoderFilterGraph(plan), `settb=1/90000,setpts='${setpts}',${BT709_TV_SCALE},format=yuv420p`);
  });

  it('even spacing that does not start at zero (a trimmed source) is listed as one linear term', () => {
    const plan: EncodePlan = { ...BASE, container: '.mkv', timing: { timeBase: [1, 1000], pts: [40, 80, 120] } };
    assert.equal(encoderFilterGraph(plan), `settb=1/1000,setpts='40+N*40',${BT709_TV_SCALE},format=yuv420p`);
    assert.deepEqual(encoderArgs(plan, FILES), [
      ...QUIET,
      ...rawInput('320x240', '25'),
      ...VIDEO_MAP,
      ...X264_MEDIUM_18,
      ...PASSTHROUGH,
      '-enc_time_base',
      '1/1000',
      '-an',
      ...BT709_TV_TAGS,
      ...MKV_MUX,
      ...OUT,
    ]);
  });
});

describe('encoderArgs: audio', () => {
  const source = '/videos/in.mp4';
  const AUDIO_INPUT = ['-i', 'file:/videos/in.mp4'];
  /** Everything of the default encode but the audio, which goes after -vsync, in place of -an. */
  function withAudio(audioOut: string[], codec = X264_MEDIUM_18, mux = MP4_MUX): string[] {
    return [...QUIET, ...rawInput('320x240', '25'), ...AUDIO_INPUT, ...VIDEO_MAP, ...codec, ...PASSTHROUGH, ...audioOut, ...BT709_TV_TAGS, ...mux, ...OUT];
  }

  it('a codec the container holds is copied as it is', () => {
    const plan: EncodePlan = { ...BASE, audio: { path: source, streams: [{ index: 1, codec: 'aac' }] } };
    assert.deepEqual(encoderArgs(plan, FILES), withAudio(['-map', '1:1', '-c:a:0', 'copy']));
  });

  it('a codec the container cannot hold is re-encoded: AAC 192k, Opus 128k in WebM', () => {
    const intoMp4: EncodePlan = { ...BASE, audio: { path: source, streams: [{ index: 2, codec: 'opus' }] } };
    assert.deepEqual(encoderArgs(intoMp4, FILES), withAudio(['-map', '1:2', '-c:a:0', 'aac', '-b:a:0', '192k']));
    const vp9 = ['-c:v', 'libvpx-vp9', '-crf', '31', '-b:v', '0', '-deadline', 'good', '-cpu-used', '4', '-row-mt', '1'];
    const intoWebm: EncodePlan = { ...BASE, container: '.webm', codec: 'libvpx-vp9', crf: 31, audio: { path: source, streams: [{ index: 1, codec: 'aac' }] } };
    assert.deepEqual(encoderArgs(intoWebm, FILES), withAudio(['-map', '1:1', '-c:a:0', 'libopus', '-b:a:0', '128k'], vp9, MKV_MUX));
  });

  it('several streams: each mapped, each decided on its own (PCM goes into MOV and MKV, not MP4)', () => {
    const streams = [
      { index: 1, codec: 'opus' },
      { index: 2, codec: 'pcm_s16le' },
    ];
    const mkv: EncodePlan = { ...BASE, container: '.mkv', audio: { path: source, streams } };
    assert.deepEqual(encoderArgs(mkv, FILES), withAudio(['-map', '1:1', '-map', '1:2', '-c:a:0', 'copy', '-c:a:1', 'copy'], X264_MEDIUM_18, MKV_MUX));
    const mp4: EncodePlan = { ...BASE, audio: { path: source, streams } };
    assert.deepEqual(encoderArgs(mp4, FILES), withAudio(['-map', '1:1', '-map', '1:2', '-c:a:0', 'aac', '-b:a:0', '192k', '-c:a:1', 'aac', '-b:a:1', '192k']));
    const mov: EncodePlan = { ...BASE, container: '.mov', audio: { path: source, streams: [streams[1]!] } };
    assert.deepEqual(encoderArgs(mov, FILES), withAudio(['-map', '1:2', '-c:a:0', 'copy']));
  });

  it('trimmed audio is cut exactly with atrim and so re-encoded, even where it could be copied', () => {
    const trimmed = (startSeconds: number | undefined, durationSeconds: number | undefined): EncodePlan => ({
      ...BASE,
      audio: { path: source, streams: [{ index: 1, codec: 'aac' }], startSeconds, durationSeconds },
    });
    const reencode = ['-c:a:0', 'aac', '-b:a:0', '192k'];
    assert.deepEqual(encoderArgs(trimmed(0.2, 0.5), FILES), withAudio(['-map', '1:1', '-filter:a:0', 'atrim=start=0.2:end=0.7,asetpts=PTS-STARTPTS', ...reencode]));
    assert.deepEqual(encoderArgs(trimmed(1.5, undefined), FILES), withAudio(['-map', '1:1', '-filter:a:0', 'atrim=start=1.5,asetpts=PTS-STARTPTS', ...reencode]));
    assert.deepEqual(encoderArgs(trimmed(undefined, 2), FILES), withAudio(['-map', '1:1', '-filter:a:0', 'atrim=start=0:end=2,asetpts=PTS-STARTPTS', ...reencode]));
  });

  it('no audio, or an audio file with no streams chosen: no second input, -an', () => {
    const silent = [...QUIET, ...rawInput('320x240', '25'), ...VIDEO_MAP, ...X264_MEDIUM_18, ...PASSTHROUGH, '-an', ...BT709_TV_TAGS, ...MP4_MUX, ...OUT];
    assert.deepEqual(encoderArgs({ ...BASE, audio: undefined }, FILES), silent);
    assert.deepEqual(encoderArgs({ ...BASE, audio: { path: source, streams: [] } }, FILES), silent);
  });
});
