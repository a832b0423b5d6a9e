/**
 * Video-frame planes to RGBA: known colours in I420 and NV12 come out as their RGB values (BT.601
 * limited range), mirrored and scaled in the same pass; an odd-sized frame and padded strides read right.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isYuvFormat, yuvToRgba, type PlaneSpan } from '../../src/browser/frame-pixels.js';

/** BT.601 limited-range YUV of an RGB colour (what a camera would send for it). */
function yuv(r: number, g: number, b: number): [number, number, number] {
  const y = 16 + (65.738 * r + 129.057 * g + 25.064 * b) / 256;
  const u = 128 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256;
  const v = 128 + (112.439 * r - 94.154 * g - 18.285 * b) / 256;
  return [Math.round(y), Math.round(u), Math.round(v)];
}

/** A frame whose left half is `left` and right half `right`, as I420 or NV12 planes with `pad` bytes of stride padding. */
function frame(width: number, height: number, left: number[], right: number[], format: 'I420' | 'NV12', pad = 0) {
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  const yStride = width + pad;
  const cStride = (format === 'NV12' ? cw * 2 : cw) + pad;
  const layout: PlaneSpan[] = [{ offset: 0, stride: yStride }];
  const data = new Uint8Array(yStride * height + cStride * ch * (format === 'NV12' ? 1 : 2));
  layout.push({ offset: yStride * height, stride: cStride });
  if (format === 'I420') layout.push({ offset: yStride * height + cStride * ch, stride: cStride });
  const colour = (x: number) => (x < width / 2 ? left : right);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * yStride + x] = yuv(...(colour(x) as [number, number, number]))[0];
  for (let y = 0; y < ch; y++)
    for (let x = 0; x < cw; x++) {
      const [, u, v] = yuv(...(colour(x * 2) as [number, number, number]));
      if (format === 'NV12') data.set([u, v], layout[1]!.offset + y * cStride + x * 2);
      else {
        data[layout[1]!.offset + y * cStride + x] = u;
        data[layout[2]!.offset + y * cStride + x] = v;
      }
    }
  return { format, data, layout, width, height };
}

const near = (actual: number[], expected: number[]) =>
  assert.ok(
    actual.every((v, i) => Math.abs(v - expected[i]!) <= 2),
    `${actual} ≈ ${expected}`,
  );

describe('yuvToRgba', () => {
  const red = [220, 30, 40];
  const blue = [20, 60, 200];
  for (const format of ['I420', 'NV12'] as const) {
    it(`reads ${format} colours, mirrored and scaled down in one pass`, () => {
      const source = frame(8, 4, red, blue, format, 3);
      const out = yuvToRgba(source, 8, 4, false, new Uint8ClampedArray(8 * 4 * 4));
      near([...out.subarray(0, 3)], red);
      near([...out.subarray(7 * 4, 7 * 4 + 3)], blue);
      assert.equal(out[3], 255);
      const mirrored = yuvToRgba(source, 4, 2, true, new Uint8ClampedArray(4 * 2 * 4));
      near([...mirrored.subarray(0, 3)], blue);
      near([...mirrored.subarray(3 * 4, 3 * 4 + 3)], red);
    });
  }

  it('reads a frame with odd sides', () => {
    const source = frame(5, 3, red, red, 'I420');
    const out = yuvToRgba(source, 5, 3, false, new Uint8ClampedArray(5 * 3 * 4));
    near([...out.subarray(4 * 4 + 2 * 5 * 4, 4 * 4 + 2 * 5 * 4 + 3)], red);
  });

  it('knows which formats it reads', () => {
    assert.ok(isYuvFormat('I420') && isYuvFormat('NV12') && isYuvFormat('I420A'));
    assert.ok(!isYuvFormat('RGBA') && !isYuvFormat(null));
  });
});
