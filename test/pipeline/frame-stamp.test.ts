/**
 * The frame stamp under WebRTC pictures (pipeline/frame-stamp.ts, node/live/i420.ts): every value
 * reads back at small and large widths, from a luma plane and from RGB(A), through coding noise and
 * through I420 → RGB; an unclear cell or a picture too narrow reads as no stamp, never a wrong
 * one; the stripe scales with the picture; the stamped frame keeps its picture's planes untouched.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { i420Size, i420ToImage, stampedI420, unstampedI420 } from '../../src/node/live/i420.js';
import { readStamp, STAMP_MIN_WIDTH, STAMP_MODULUS, stampRows, writeStamp } from '../../src/pipeline/frame-stamp.js';

/** A deterministic noise in ±amplitude. */
function noisy(values: Uint8Array, amplitude: number, seed = 1): Uint8Array {
  let state = seed;
  return values.map((v) => {
    state = (state * 1103515245 + 12345) >>> 0;
    return Math.max(0, Math.min(255, v + ((state >>> 8) % (2 * amplitude + 1)) - amplitude));
  });
}

describe('frame stamp', () => {
  it('reads back every value at small and large widths, through noise', () => {
    for (const width of [STAMP_MIN_WIDTH, 322, 640, 1920]) {
      for (let value = 0; value < STAMP_MODULUS; value++) {
        const stripe = new Uint8Array(width * stampRows(width));
        writeStamp(stripe, width, value);
        assert.equal(readStamp(noisy(stripe, 60, value + 1), width, width), value, `${value} at width ${width}`);
      }
    }
    const stripe = new Uint8Array(640 * stampRows(640));
    writeStamp(stripe, 640, STAMP_MODULUS + 5);
    assert.equal(readStamp(stripe, 640, 640), 5, 'numbers start over past the modulus');
  });

  it('reads from RGBA (green) with a row stride wider than the stripe', () => {
    const width = 100;
    const rows = stampRows(width);
    const luma = new Uint8Array(width * rows);
    writeStamp(luma, width, 0xa5);
    const stride = 4 * (width + 7);
    const rgba = new Uint8Array(stride * rows).fill(77);
    for (let y = 0; y < rows; y++) for (let x = 0; x < width; x++) rgba.fill(luma[y * width + x]! > 128 ? 255 : 0, y * stride + 4 * x, y * stride + 4 * x + 3);
    assert.equal(readStamp(rgba, width, stride, 4), 0xa5);
  });

  it('reads no stamp, rather than a wrong one, from an unclear cell, a picture with none, or one too narrow', () => {
    const width = 320;
    const rows = stampRows(width);
    const stripe = new Uint8Array(width * rows);
    writeStamp(stripe, width, 0x0f);
    for (let y = 0; y < rows; y++) stripe.fill(128, y * width + 3 * 40, y * width + 4 * 40);
    assert.equal(readStamp(stripe, width, width), undefined);
    assert.equal(readStamp(new Uint8Array(width * rows).fill(120), width, width), undefined, 'a grey picture');
    writeStamp(stripe, width, undefined);
    assert.equal(readStamp(stripe, width, width), undefined, 'the stripe of an unreadable stamp');
    assert.equal(readStamp(new Uint8Array(16 * 8), 16, 16), undefined, 'too narrow');
  });

  it('has a stripe a 40th of the width, so it reads back from a picture a video encoder scaled down', () => {
    assert.deepEqual([320, 640, 960, 1280, 1920].map(stampRows), [8, 16, 24, 32, 48]);
    for (const [from, to] of [
      [1280, 960],
      [1280, 640],
      [1920, 1280],
      [640, 480],
    ] as const) {
      const rows = stampRows(from);
      const stripe = new Uint8Array(from * rows);
      writeStamp(stripe, from, 0x6c);
      // Scaled by to/from both ways (the nearest pixel), as the stripe under a scaled picture.
      const scaledRows = Math.round((rows * to) / from);
      const scaled = new Uint8Array(to * stampRows(to));
      for (let y = 0; y < stampRows(to); y++) {
        for (let x = 0; x < to; x++) scaled[y * to + x] = y < scaledRows ? stripe[Math.min(rows - 1, Math.floor((y * from) / to)) * from + Math.floor((x * from) / to)]! : 0;
      }
      assert.equal(stampRows(to), scaledRows, `${from} → ${to}`);
      assert.equal(readStamp(scaled, to, to), 0x6c, `${from} → ${to}`);
    }
  });

  it('stamps an I420 frame below its picture and takes it off again: planes unchanged, neutral chroma, readable after conversion to RGB, buffer reused', () => {
    const width = 64;
    const height = 36;
    const rows = stampRows(width);
    const data = new Uint8Array(i420Size(width, height)).map((_, i) => (i * 7) % 251);
    const stamped = stampedI420({ width, height, data }, 200);
    assert.equal(stamped.width, width);
    assert.equal(stamped.height, height + rows);
    assert.equal(stamped.data.length, i420Size(width, height + rows));
    const cw = width / 2;
    const [plane, tallPlane] = [cw * (height / 2), cw * ((height + rows) / 2)];
    const luma = width * height;
    const tallLuma = width * (height + rows);
    assert.deepEqual(stamped.data.subarray(0, luma), data.subarray(0, luma), 'luma');
    assert.deepEqual(stamped.data.subarray(tallLuma, tallLuma + plane), data.subarray(luma, luma + plane), 'U');
    assert.deepEqual(stamped.data.subarray(tallLuma + tallPlane, tallLuma + tallPlane + plane), data.subarray(luma + plane, luma + 2 * plane), 'V');
    assert.ok(
      stamped.data.subarray(tallLuma + plane, tallLuma + tallPlane).every((v) => v === 128),
      'the stripe has no colour',
    );
    assert.equal(readStamp(stamped.data.subarray(luma, tallLuma), width, width), 200);
    const rgb = i420ToImage(stamped);
    assert.equal(readStamp(rgb.data.subarray(3 * width * height), width, 3 * width, 3), 200);
    const split = unstampedI420(stamped);
    assert.equal(split.stamp, 200);
    assert.deepEqual(split.picture, { width, height, data }, 'taken off again, the picture is as it was');
    assert.equal(unstampedI420(stampedI420({ width, height, data }, undefined)).stamp, undefined, 'a grey stripe is no stamp');
    const again = stampedI420({ width, height, data }, 201, stamped.data);
    assert.equal(again.data, stamped.data, 'the buffer is reused');
    assert.throws(() => stampedI420({ width, height: 35, data: new Uint8Array(i420Size(width, 35)) }, 1), /even height/);
  });
});
