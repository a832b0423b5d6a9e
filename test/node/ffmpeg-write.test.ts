/** Encoding Images to video files: round trips, codecs, odd sizes, and nothing left behind on failure. */

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ErrorKind, LiveswapError } from '../../src/core/errors.js';
import { createImage, type Image } from '../../src/core/image.js';
import { runFfmpeg } from '../../src/node/media/ffmpeg-binary.js';
import { createVideoWriter, probeVideo, readFrames } from '../../src/node/media/ffmpeg.js';
import { encoderArgs, encoderFilterGraph } from '../../src/node/media/ffmpeg-args.js';
import { encodeError, planEncode } from '../../src/node/media/ffmpeg-write.js';
import { clipFrame, ffmpegChildren } from '../helpers/clips.js';
import { meanAbsDiff } from '../helpers/fixtures.js';

let dir: string;
let photo: Image;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-write-'));
  photo = await clipFrame('astronaut.png', 320, 240);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Frame i: the photo shifted right by i pixels (edge repeated), so frames differ and order shows. */
function shifted(source: Image, i: number): Image {
  const out = createImage(source.width, source.height, 3);
  for (let y = 0; y < source.height; y++) {
    for (let x = 0; x < source.width; x++) {
      const from = (y * source.width + Math.max(0, x - i)) * 3;
      out.data.set(source.data.subarray(from, from + 3), (y * source.width + x) * 3);
    }
  }
  return out;
}

async function collect(path: string): Promise<Image[]> {
  const all: Image[] = [];
  for await (const frame of readFrames(path)) all.push(frame);
  return all;
}

async function rejectsWith(promise: Promise<unknown>, kind: ErrorKind, words: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof LiveswapError, String(error));
    assert.equal(error.kind, kind, error.message);
    assert.match(error.message, words);
    return true;
  });
}

describe('createVideoWriter', () => {
  it('round trip: the frames written come back in order, close to the originals', async () => {
    const path = join(dir, 'round-trip.mp4');
    const frames = Array.from({ length: 20 }, (_, i) => shifted(photo, i * 3));
    const writer = await createVideoWriter(path, { width: 320, height: 240, fps: 25 });
    assert.deepEqual([writer.outputWidth, writer.outputHeight], [320, 240]);
    for (const frame of frames) await writer.write(frame);
    await assert.rejects(readFile(path), /ENOENT/, 'nothing at the path before close');
    await writer.close();

    const info = await probeVideo(path, { countFrames: true });
    assert.deepEqual([info.width, info.height, info.fps, info.frameCount, info.videoCodec, info.pixelFormat], [320, 240, 25, 20, 'h264', 'yuv420p']);
    const back = await collect(path);
    assert.equal(back.length, 20);
    for (const i of [0, 7, 19]) {
      const same = meanAbsDiff(back[i]!, frames[i]!, 0, 0, 320, 240);
      assert.ok(same < 2.5, `frame ${i} differs by ${same}`);
      // Order check: each frame is nearer its own original than a neighbour's.
      const other = meanAbsDiff(back[i]!, frames[i === 0 ? 1 : i - 1]!, 0, 0, 320, 240);
      assert.ok(same < other, `frame ${i}: ${same} vs neighbour ${other}`);
    }
    assert.deepEqual(await readdir(dir).then((names) => names.filter((n) => n.includes('.partial-'))), [], 'no temporary file left');
  });

  it('pads an odd size to even for 4:2:0 by repeating the edge, and keeps it for 4:4:4', async () => {
    const odd = createImage(161, 121, 3);
    for (let y = 0; y < 121; y++) odd.data.set(photo.data.subarray(y * 320 * 3, y * 320 * 3 + 161 * 3), y * 161 * 3);
    const path = join(dir, 'odd.mp4');
    const writer = await createVideoWriter(path, { width: 161, height: 121, fps: 10, preset: 'ultrafast' });
    assert.deepEqual([writer.outputWidth, writer.outputHeight], [162, 122]);
    for (let i = 0; i < 3; i++) await writer.write(odd);
    await writer.close();
    const [back] = await collect(path);
    assert.deepEqual([back!.width, back!.height], [162, 122]);
    const inside = meanAbsDiff(back!, { ...odd, width: 162, height: 122, data: repeatEdges(odd) }, 0, 0, 162, 122);
    assert.ok(inside < 3, `padded frame differs by ${inside}`);

    const full = join(dir, 'odd-444.mkv');
    const writer444 = await createVideoWriter(full, { width: 161, height: 121, fps: 10, pixelFormat: 'yuv444p', preset: 'ultrafast' });
    assert.deepEqual([writer444.outputWidth, writer444.outputHeight], [161, 121]);
    await writer444.write(odd);
    await writer444.close();
    const info = await probeVideo(full);
    assert.deepEqual([info.width, info.height, info.pixelFormat], [161, 121, 'yuv444p']);
  });

  it('writes H.265 and VP9 too, and 29.97 fps exactly', async () => {
    for (const [name, codec] of [
      ['hevc.mp4', 'libx265'],
      ['vp9.webm', 'libvpx-vp9'],
    ] as const) {
      const path = join(dir, name);
      const writer = await createVideoWriter(path, { width: 320, height: 240, fps: 29.97, codec, preset: 'ultrafast' });
      for (let i = 0; i < 4; i++) await writer.write(shifted(photo, i));
      await writer.close();
      const info = await probeVideo(path, { countFrames: true });
      assert.equal(info.videoCodec, codec === 'libx265' ? 'hevc' : 'vp9');
      assert.equal(info.frameCount, 4);
      assert.equal(info.fps, 30000 / 1001);
      const [first] = await collect(path);
      assert.ok(meanAbsDiff(first!, photo, 0, 0, 320, 240) < 4, `${name}: ${meanAbsDiff(first!, photo, 0, 0, 320, 240)}`);
    }
  });

  it('listed times keep the last frame in every container, VP9 in MP4 included (65 frames in, 65 shown)', async () => {
    const frames = Array.from({ length: 65 }, (_, i) => shifted(photo, i));
    // Evenly spaced but starting at 14 ms, as a WebM with Opus has them: written one by one, not as a rate.
    const timing = { timeBase: [1, 1000] as [number, number], pts: frames.map((_, i) => 14 + 40 * i) };
    for (const [name, codec] of [
      ['vp9.mp4', 'libvpx-vp9'],
      ['x264.mp4', 'libx264'],
      ['x264.mov', 'libx264'],
      ['vp9.mkv', 'libvpx-vp9'],
      ['vp9.webm', 'libvpx-vp9'],
    ] as const) {
      const path = join(dir, `last-frame-${name}`);
      const writer = await createVideoWriter(path, { width: 320, height: 240, fps: 25, codec, preset: 'ultrafast', timing });
      for (const frame of frames) await writer.write(frame);
      await writer.close();
      const back = await collect(path);
      assert.equal(back.length, 65, `${name}: ${back.length} frames shown`);
      const last = meanAbsDiff(back[64]!, frames[64]!, 0, 0, 320, 240);
      assert.ok(last < meanAbsDiff(back[64]!, frames[63]!, 0, 0, 320, 240), `${name}: the last frame shown is the last one written`);
      if (name.endsWith('.mkv') || name.endsWith('.webm')) continue;
      // MP4 and MOV: the edit list shows the last frame for its whole spacing, to 14 + 65 × 40 ms.
      const info = await probeVideo(path);
      assert.ok(Math.abs(info.startSeconds + info.durationSeconds - 2.614) <= 0.011, `${name}: starts ${info.startSeconds} s, lasts ${info.durationSeconds} s`);
    }
  });

  it('repeatLast sends the last frame again (a held gap); only when opened repeatable and after a frame', async () => {
    const path = join(dir, 'repeat.mkv');
    const writer = await createVideoWriter(path, { width: 320, height: 240, fps: 25, preset: 'ultrafast', repeatable: true });
    await assert.rejects(writer.repeatLast(), /has no frame to repeat \(none written yet\)/);
    const frame = shifted(photo, 0);
    await writer.write(frame);
    frame.data.fill(0); // the caller may reuse its buffer once write() resolved
    await writer.repeatLast();
    await writer.write(shifted(photo, 30));
    await writer.close();
    const back = await collect(path);
    assert.equal(back.length, 3);
    assert.ok(meanAbsDiff(back[1]!, shifted(photo, 0), 0, 0, 320, 240) < 2, 'the repeat is the frame as written');

    const plain = await createVideoWriter(join(dir, 'no-repeat.mkv'), { width: 320, height: 240, fps: 25, preset: 'ultrafast' });
    await plain.write(shifted(photo, 0));
    await assert.rejects(plain.repeatLast(), /not opened repeatable/);
    await plain.abort();
  });

  it('abort leaves nothing at the path, and an existing file untouched', async () => {
    const path = join(dir, 'aborted.mp4');
    await writeFile(path, 'the previous video');
    const writer = await createVideoWriter(path, { width: 320, height: 240, fps: 25, preset: 'ultrafast' });
    for (let i = 0; i < 5; i++) await writer.write(photo);
    await writer.abort();
    await writer.abort();
    assert.equal(await readFile(path, 'utf8'), 'the previous video');
    assert.deepEqual(await readdir(dir).then((names) => names.filter((n) => n.includes('aborted'))), ['aborted.mp4']);
    await rejectsWith(writer.write(photo), 'internal', /already aborted/);
    await rejectsWith(writer.close(), 'output', /was aborted; nothing was saved/);
    assert.deepEqual(ffmpegChildren() ?? [], []);
  });

  it('ffmpeg killed mid-write: a clear error and no output file', async (t) => {
    const before = new Set(ffmpegChildren());
    const path = join(dir, 'killed.mp4');
    const writer = await createVideoWriter(path, { width: 320, height: 240, fps: 25, preset: 'ultrafast' });
    await writer.write(photo);
    const mine = ffmpegChildren()?.filter((pid) => !before.has(pid));
    if (mine === undefined) return t.skip('needs /proc to find the ffmpeg process');
    assert.equal(mine.length, 1);
    process.kill(mine[0]!, 'SIGKILL');
    let error: unknown;
    try {
      for (let i = 0; i < 50; i++) await writer.write(photo);
      await writer.close();
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof LiveswapError, `expected a LiveswapError, got ${String(error)}`);
    assert.equal(error.kind, 'output');
    assert.equal(error.message, `Cannot write ${path}: ffmpeg was killed by SIGKILL before the video was complete; nothing was saved.`);
    assert.deepEqual(await readdir(dir).then((names) => names.filter((n) => n.includes('killed'))), []);
    await rejectsWith(writer.close(), 'output', /killed by SIGKILL/);
  });

  it('checks options, container and frames before and while writing', async () => {
    const path = join(dir, 'checked.mp4');
    const webm = createVideoWriter(join(dir, 'x.webm'), { width: 64, height: 48, fps: 25, codec: 'libx264' });
    await rejectsWith(webm, 'usage', /A \.webm file cannot hold libx264 video; use libvpx-vp9/);
    await rejectsWith(createVideoWriter(join(dir, 'x.gif'), { width: 64, height: 48, fps: 25 }), 'usage', /use one of \.mp4, \.mov, \.mkv, \.webm as the extension/);
    await rejectsWith(createVideoWriter(path, { width: 64, height: 48, fps: 0 }), 'usage', /fps/);
    await rejectsWith(createVideoWriter(path, { width: 64, height: 48, fps: 25, crf: 60 }), 'usage', /crf/);
    await rejectsWith(createVideoWriter(join(dir, 'no-such-folder', 'x.mp4'), { width: 64, height: 48, fps: 25 }), 'output', /does not exist/);
    const writer = await createVideoWriter(path, { width: 64, height: 48, fps: 25 });
    await rejectsWith(writer.write(photo), 'usage', /a 64×48 image with 3 channels/);
    await rejectsWith(writer.close(), 'output', /no frames were given/);
    assert.deepEqual(await readdir(dir).then((names) => names.filter((n) => n.includes('checked'))), []);
  });

  it('says the disk is full when ffmpeg reports ENOSPC', async (t) => {
    // A real ffmpeg failing on /dev/full, mapped as the writer maps its own failures.
    if (process.platform !== 'linux') return t.skip('needs /dev/full');
    const source = ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5', '-frames:v', '5'];
    const run = await runFfmpeg(['-loglevel', 'error', ...source, '-c:v', 'libx264', '-f', 'mp4', '-y', 'file:/dev/full']);
    assert.notEqual(run.code, 0);
    const error = encodeError('/videos/out.mp4', run, run.stderr);
    assert.equal(error.kind, 'output');
    assert.match(error.message, /^Cannot write \/videos\/out\.mp4: the disk is full\. Free some space or write elsewhere\.$/);
    const missing = encodeError('/videos/out.mp4', { code: 1, signal: null }, "Unknown encoder 'libfoo'");
    assert.equal(missing.kind, 'usage');
    assert.match(missing.message, /This ffmpeg has no libfoo encoder/);
  });
});

describe('planEncode', () => {
  const plain = { channels: 3, crf: 18, preset: 'medium', pixelFormat: 'yuv420p', color: { matrix: 'bt709', range: 'tv' }, timing: undefined, audio: undefined } as const;

  it('settles the defaults from the extension: x264 crf 18 (x265 22), VP9 crf 31 for WebM, 4:2:0, BT.709 tv', () => {
    assert.deepEqual(planEncode('/v/out.MP4', { width: 64, height: 48, fps: 25 }), { ...plain, container: '.mp4', codec: 'libx264', width: 64, height: 48, fps: 25 });
    assert.deepEqual(planEncode('/v/out.webm', { width: 64, height: 48, fps: 30, channels: 4 }), {
      ...plain,
      container: '.webm',
      codec: 'libvpx-vp9',
      crf: 31,
      width: 64,
      height: 48,
      fps: 30,
      channels: 4,
    });
    assert.equal(planEncode('/v/out.mkv', { width: 64, height: 48, fps: 25, codec: 'libx265' }).crf, 22);
  });

  it("a trimmed copy of a BT.601 full-range 4:2:2 source: its colour, times and audio reach ffmpeg's command line", () => {
    const plan = planEncode('/v/out.mkv', {
      width: 320,
      height: 240,
      fps: 25,
      preset: 'veryfast',
      pixelFormat: 'yuv422p',
      color: { matrix: 'smpte170m', range: 'pc' },
      timing: { timeBase: [1, 1000], pts: [0, 40, 100] },
      audio: { path: '/videos/in.mp4', streams: [{ index: 1, codec: 'aac' }], startSeconds: 0.5 },
    });
    assert.equal(
      encoderFilterGraph(plan),
      "settb=1/1000,setpts='if(lt(N,3),if(lt(N,1),0,if(lt(N,2),40,100)),100+(N-2)*60)',scale=out_color_matrix=smpte170m:out_range=pc:flags=bicubic+accurate_rnd+full_chroma_int,format=yuv422p",
    );
    assert.deepEqual(encoderArgs(plan, { filterScript: '/tmp/f/graph.txt', output: '/v/.out.partial-1-ab.mkv' }), [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
      ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-video_size', '320x240', '-framerate', '25', '-i', 'pipe:0'],
      ...['-i', 'file:/videos/in.mp4'],
      ...['-map', '0:v:0', '-filter_script:v', '/tmp/f/graph.txt'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18'],
      ...['-vsync', 'passthrough', '-enc_time_base', '1/1000'],
      // Cut at 0.5 s exactly, so re-encoded although Matroska could hold the AAC as it is.
      ...['-map', '1:1', '-filter:a:0', 'atrim=start=0.5,asetpts=PTS-STARTPTS', '-c:a:0', 'aac', '-b:a:0', '192k'],
      ...['-color_range', 'pc', '-colorspace', 'smpte170m', '-color_primaries', 'smpte170m', '-color_trc', 'smpte170m'],
      ...['-avoid_negative_ts', 'make_zero'],
      ...['-y', 'file:/v/.out.partial-1-ab.mkv'],
    ]);
  });
});

/** The odd image padded by one column and row that repeat its last column and row. */
function repeatEdges(image: Image): Uint8ClampedArray {
  const w = image.width + 1;
  const h = image.height + 1;
  const out = new Uint8ClampedArray(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const from = (Math.min(y, image.height - 1) * image.width + Math.min(x, image.width - 1)) * 3;
      out.set(image.data.subarray(from, from + 3), (y * w + x) * 3);
    }
  }
  return out;
}
