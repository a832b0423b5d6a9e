import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { multiplyAffine, type Affine } from '../../src/core/affine.js';
import { cloneImage, type Image, type Rect } from '../../src/core/image.js';
import { insightfacePasteStages, pasteBackInsightface } from '../../src/compose/insightface-paste.js';
import { compare, goldenCases, goldenFloats, goldenImage } from '../fixtures/goldens/load.js';

/** The part of a row-major plane (origin `from`) that lies in `r`, as a new array. */
function window(plane: ArrayLike<number>, from: Rect, channels: number, r: Rect): Float32Array {
  const fw = from.x1 - from.x0;
  const w = r.x1 - r.x0;
  const out = new Float32Array(w * (r.y1 - r.y0) * channels);
  for (let y = r.y0; y < r.y1; y++) {
    for (let i = 0; i < w * channels; i++) out[(y - r.y0) * w * channels + i] = plane[((y - from.y0) * fw + r.x0 - from.x0) * channels + i];
  }
  return out;
}

function intersect(a: Rect, b: Rect): Rect {
  return { x0: Math.max(a.x0, b.x0), y0: Math.max(a.y0, b.y0), x1: Math.min(a.x1, b.x1), y1: Math.min(a.y1, b.y1) };
}

describe('pasteBackInsightface against insightface 0.7.3 run with OpenCV 4.6 (goldens)', () => {
  for (const c of goldenCases('pasteBack')) {
    it(`${c.name}: stage by stage`, async () => {
      const target = await goldenImage(c.target!);
      const swapped = await goldenImage(c.swapped!);
      const m = c.matrix as unknown as Affine;
      const st = insightfacePasteStages(target, swapped, m, { precision: 'fixed-point' });
      assert.deepEqual([st.maskSize, st.erodeSize, st.blurSize], [c.mask_size, c.erode_k, c.blur_ksize]);
      const [x0, y0, x1, y1] = c.stageRect!;
      const golden: Rect = { x0, y0, x1, y1 };
      const both = intersect(golden, st.rect);
      const exactStages = { mask_warp: st.maskWarp, mask_thresh: st.maskThresh, mask_erode: st.maskErode } as const;
      for (const [name, plane] of Object.entries(exactStages)) {
        const expected = goldenFloats(c.stages![name as keyof typeof exactStages]);
        assert.deepEqual(compare(window(plane, st.rect, 1, both), window(expected, golden, 1, both)), { maxAbs: 0, exact: 1 }, name);
      }
      // Outside our rectangle the reference's blurred mask is zero, i.e. the frame is untouched there.
      const blurGolden = goldenFloats(c.stages!.mask_blur);
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          if (x < st.rect.x0 || x >= st.rect.x1 || y < st.rect.y0 || y >= st.rect.y1) assert.equal(blurGolden[(y - y0) * (x1 - x0) + x - x0], 0);
        }
      }
      // cv2's float32 filter accumulates in float32; ours in double: a few ulps of 255.
      const blur = compare(window(st.maskBlur, st.rect, 1, both), window(blurGolden, golden, 1, both));
      assert.ok(blur.maxAbs < 1e-4, JSON.stringify(blur));
      const fakeFull = await goldenImage(c.fakeFull!);
      const full: Rect = { x0: 0, y0: 0, x1: target.width, y1: target.height };
      assert.deepEqual(compare(st.fakeFull.data, window(fakeFull.data, full, 3, st.rect)), { maxAbs: 0, exact: 1 }, 'fake_full');
    });

    it(`${c.name}: final frame within 1 LSB (truncation of the blend turns the blur's ulps into ±1)`, async () => {
      const target = await goldenImage(c.target!);
      const out = cloneImage(target);
      pasteBackInsightface(out, await goldenImage(c.swapped!), c.matrix as unknown as Affine, { precision: 'fixed-point' });
      const r = compare(out.data, (await goldenImage(c.expected)).data);
      assert.ok(r.maxAbs <= 1 && r.exact > 0.7, JSON.stringify(r));
    });
  }
});

describe('pasteBackInsightface: face neighbourhood = whole frame', () => {
  function frame(width: number, height: number): Image {
    const data = new Uint8ClampedArray(width * height * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    return { width, height, channels: 3, data };
  }
  const crop = frame(128, 128);
  // frame → crop: rotate by ~17°, scale 0.55, placed at several spots (inside, across each edge).
  const rot = (tx: number, ty: number): Affine => {
    const a = 0.55 * Math.cos(0.3);
    const b = 0.55 * Math.sin(0.3);
    return multiplyAffine([a, b, 0, -b, a, 0], [1, 0, -tx, 0, 1, -ty]);
  };
  const cases: [string, Affine][] = [
    ['interior', rot(180, 150)],
    ['across the left and top edges', rot(-60, -40)],
    ['across the right and bottom edges', rot(330, 230)],
    ['even erode kernel (12)', [1.0, 0.02, -150.3, -0.02, 1.0, -120.7]],
  ];
  for (const [name, m] of cases) {
    for (const precision of ['float32', 'fixed-point'] as const) {
      it(`${name}, ${precision}: identical pixels, nothing changed outside the rectangle`, () => {
        const base = frame(400, 300);
        const a = cloneImage(base);
        const b = cloneImage(base);
        pasteBackInsightface(a, crop, m, { precision });
        pasteBackInsightface(b, crop, m, { precision, region: 'frame' });
        assert.deepEqual(a.data, b.data);
        assert.notDeepEqual(a.data, base.data);
      });
    }
  }

  it('throws when the crop misses the frame', () => {
    assert.throws(() => pasteBackInsightface(frame(50, 40), crop, [1, 0, 500, 0, 1, 500]), /outside the frame/);
  });
});
