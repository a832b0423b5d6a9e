/**
 * The video swap's decoding costs: the optional bilinear-chroma YUV→RGB conversion (exact rounding, as
 * 'accurate', and as bright), and frames' buffers given back to the decoder for later frames
 * (the frames read into them are the same bytes).
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BILINEAR_SCALE_FLAGS, decoderArgs } from '../../src/node/media/ffmpeg-args.js';
import { readFrames } from '../../src/node/media/ffmpeg-read.js';
import { openVideoSource } from '../../src/node/media/ffmpeg-source.js';
import { makeClip } from '../helpers/clips.js';

let dir: string;
let clip: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-video-media-'));
  // A framed photo, zoomed: skin, hair and a background, with colour edges that 4:2:0 blurs.
  clip = await makeClip({ dir, name: 'zoom', motion: 'zoom', width: 320, height: 240, frames: 12, fps: 25 });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function frames(colorConversion: 'accurate' | 'bilinear' | 'fast', readAhead?: number): Promise<Uint8ClampedArray[]> {
  const all: Uint8ClampedArray[] = [];
  for await (const image of readFrames(clip, { colorConversion, ...(readAhead !== undefined ? { readAhead } : {}) })) all.push(image.data.slice());
  return all;
}

/** Mean signed difference (b − a) and PSNR over every byte of every frame. */
function compare(a: Uint8ClampedArray[], b: Uint8ClampedArray[]): { meanSigned: number; psnr: number } {
  assert.equal(a.length, b.length);
  let signed = 0;
  let squares = 0;
  let count = 0;
  for (let f = 0; f < a.length; f++) {
    const x = a[f]!;
    const y = b[f]!;
    assert.equal(x.length, y.length);
    for (let i = 0; i < x.length; i++) {
      const d = y[i]! - x[i]!;
      signed += d;
      squares += d * d;
    }
    count += x.length;
  }
  return { meanSigned: signed / count, psnr: squares === 0 ? Infinity : 10 * Math.log10((255 * 255 * count) / squares) };
}

const digest = (data: Uint8ClampedArray): string => createHash('sha256').update(data).digest('hex');

describe('decoding for a video swap', () => {
  it("'bilinear' keeps exact rounding and per-pixel chroma, with bilinear chroma taps", () => {
    assert.equal(BILINEAR_SCALE_FLAGS, 'bilinear+accurate_rnd+full_chroma_int');
    const args = decoderArgs({ input: '/videos/in.mp4', streamIndex: 0, width: 320, height: 240, channels: 3, colorConversion: 'bilinear' });
    assert.equal(args[args.indexOf('-vf') + 1], `scale=320:240:flags=${BILINEAR_SCALE_FLAGS}`);
  });

  it("'bilinear' decodes within 45 dB of 'accurate' and as bright, where the fast path is darker", async () => {
    const [accurate, bilinear, fast] = await Promise.all([frames('accurate'), frames('bilinear'), frames('fast')]);
    const near = compare(accurate, bilinear);
    assert.ok(near.psnr >= 45, `bilinear against accurate: ${near.psnr.toFixed(2)} dB`);
    assert.ok(Math.abs(near.meanSigned) < 0.1, `bilinear is as bright as accurate (mean difference ${near.meanSigned.toFixed(3)})`);
    assert.ok(near.psnr < Infinity, 'the two conversions differ (the flags reach ffmpeg)');
    const darker = compare(accurate, fast);
    assert.ok(darker.meanSigned < -0.3, `the fast path is darker (mean difference ${darker.meanSigned.toFixed(3)}), as the check above would notice`);
  });

  for (const readAhead of [0, 2]) {
    it(`frames read into given-back buffers are the same bytes (read-ahead ${readAhead})`, async () => {
      const expected = (await frames('bilinear', readAhead)).map(digest);
      const source = await openVideoSource(clip, { colorConversion: 'bilinear', readAhead });
      const seen: string[] = [];
      let taken = 0;
      assert.equal(source.recycle(new Uint8ClampedArray(320 * 240 * 3)), false, 'nothing is taken before the decoder runs');
      for await (const { image } of source) {
        seen.push(digest(image.data));
        assert.equal(source.recycle(new Uint8ClampedArray(7)), false, 'a buffer of another size is refused');
        const data = image.data;
        if (source.recycle(data)) {
          taken++;
          if (readAhead > 0) assert.equal(data.length, 0, 'a buffer given to the pipe thread is moved');
        }
      }
      assert.deepEqual(seen, expected);
      assert.ok(taken >= expected.length - 2, `buffers taken back: ${taken} of ${expected.length}`);
      assert.equal(source.recycle(new Uint8ClampedArray(320 * 240 * 3)), false, 'nothing is taken once the decoder has ended');
    });
  }
});
