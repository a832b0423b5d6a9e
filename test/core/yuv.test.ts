/** Limited-range Y′CbCr → RGB: the fixed-point matrices, the SIMD kernel against the loop, and ffmpeg's choice of matrix. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simdKernels } from '../../src/core/simd-kernels.js';
import { yuv444ToRgb, yuvFactors, yuvLoop, yuvMatrixFor, type YuvMatrix } from '../../src/core/yuv.js';

/** One pixel's planes (a 1×1 frame). */
function pixel(y: number, cb: number, cr: number, matrix: YuvMatrix): number[] {
  const out = new Uint8ClampedArray(3);
  yuv444ToRgb(Uint8Array.of(y, cb, cr), 1, 1, matrix, out, 3);
  return [...out];
}

/** A deterministic pseudo-random byte pattern (no two planes alike). */
function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe('yuv444ToRgb', () => {
  it('maps limited range to full: black at 16, white at 235, grey stays grey', () => {
    for (const matrix of ['bt601', 'bt709'] as const) {
      assert.deepEqual(pixel(16, 128, 128, matrix), [0, 0, 0]);
      assert.deepEqual(pixel(235, 128, 128, matrix), [255, 255, 255]);
      assert.deepEqual(pixel(126, 128, 128, matrix), [128, 128, 128]);
      // Below black and above white clip rather than wrap.
      assert.deepEqual(pixel(0, 128, 128, matrix), [0, 0, 0]);
      assert.deepEqual(pixel(255, 128, 128, matrix), [255, 255, 255]);
    }
  });

  it('uses each matrix: the primaries of BT.601 and BT.709 come back as primaries', () => {
    // Limited-range codes of pure red, green and blue under each matrix (Y, Cb, Cr).
    const codes: Record<YuvMatrix, [number, number, number][]> = {
      bt601: [
        [81, 90, 240],
        [145, 54, 34],
        [41, 240, 110],
      ],
      bt709: [
        [63, 102, 240],
        [173, 42, 26],
        [32, 240, 118],
      ],
    };
    const primaries = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
    ];
    for (const matrix of ['bt601', 'bt709'] as const) {
      codes[matrix].forEach(([y, cb, cr], k) => {
        const rgb = pixel(y, cb, cr, matrix);
        rgb.forEach((v, c) => assert.ok(Math.abs(v - primaries[k]![c]!) <= 2, `${matrix} primary ${k}: ${rgb}`));
      });
    }
    // The other matrix's red is visibly off: BT.709's red read as BT.601 is 22 levels short.
    const wrong = pixel(63, 102, 240, 'bt601');
    assert.ok(wrong[0]! < 240, `BT.709 red read as BT.601: ${wrong}`);
  });

  it('rounds as exact arithmetic does: every byte equals the rounded real-valued matrix', () => {
    const planes = pattern(3 * 4096, 7);
    for (const matrix of ['bt601', 'bt709'] as const) {
      const [kr, kb] = matrix === 'bt601' ? [0.299, 0.114] : [0.2126, 0.0722];
      const kg = 1 - kr - kb;
      const out = new Uint8ClampedArray(3 * 4096);
      yuv444ToRgb(planes, 64, 64, matrix, out, 3);
      let off = 0;
      for (let i = 0; i < 4096; i++) {
        const y = ((planes[i]! - 16) * 255) / 219;
        const cb = ((planes[4096 + i]! - 128) * 255) / 224;
        const cr = ((planes[8192 + i]! - 128) * 255) / 224;
        const exact = [y + 2 * (1 - kr) * cr, y - ((2 * kb * (1 - kb)) / kg) * cb - ((2 * kr * (1 - kr)) / kg) * cr, y + 2 * (1 - kb) * cb];
        exact.forEach((v, c) => {
          if (Math.abs(Math.min(255, Math.max(0, Math.round(v))) - out[3 * i + c]!) > 0) off++;
        });
      }
      // 16-bit fixed point: a value within 1/65536 of a half may round the other way, nothing else.
      assert.ok(off <= 4, `${matrix}: ${off} of ${3 * 4096} bytes off by a level`);
    }
  });

  it('gives the same bytes with the SIMD kernel as with the loop, for any length, and RGBA with alpha 255', () => {
    assert.ok(simdKernels(), 'WebAssembly SIMD is available to Node 20');
    for (const [width, height] of [
      [1, 1],
      [15, 1],
      [16, 1],
      [17, 3],
      [641, 359],
      [1280, 24],
    ] as const) {
      const n = width * height;
      const planes = pattern(3 * n, n);
      for (const matrix of ['bt601', 'bt709'] as const) {
        const loop = new Uint8ClampedArray(3 * n);
        yuvLoop(planes, n, 0, yuvFactors(matrix), loop, 3);
        const fast = new Uint8ClampedArray(3 * n);
        yuv444ToRgb(planes, width, height, matrix, fast, 3);
        assert.deepEqual(fast, loop, `${width}×${height} ${matrix}`);
        const rgba = new Uint8ClampedArray(4 * n);
        yuv444ToRgb(planes, width, height, matrix, rgba, 4);
        for (let i = 0; i < n; i++) {
          assert.deepEqual([...rgba.subarray(4 * i, 4 * i + 4)], [...loop.subarray(3 * i, 3 * i + 3), 255]);
        }
      }
    }
  });

  it('refuses planes or an output too short for the size', () => {
    assert.throws(() => yuv444ToRgb(new Uint8Array(8), 2, 2, 'bt601', new Uint8ClampedArray(12), 3), /need 12 bytes/);
    assert.throws(() => yuv444ToRgb(new Uint8Array(12), 2, 2, 'bt601', new Uint8ClampedArray(11), 3), /needs 12 bytes/);
  });
});

describe('yuvMatrixFor', () => {
  it('reads untagged video and the BT.601 tags as BT.601, bt709 as BT.709, and leaves the rest to ffmpeg', () => {
    assert.equal(yuvMatrixFor('unknown'), 'bt601');
    assert.equal(yuvMatrixFor('smpte170m'), 'bt601');
    assert.equal(yuvMatrixFor('bt470bg'), 'bt601');
    assert.equal(yuvMatrixFor('bt709'), 'bt709');
    for (const tag of ['bt2020nc', 'bt2020c', 'fcc', 'smpte240m', 'gbr', 'ycgco']) assert.equal(yuvMatrixFor(tag), undefined, tag);
  });
});
