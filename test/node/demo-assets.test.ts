/** The demo's composed pictures: the group layout and the side-by-side sheets. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Image } from '../../src/core/image.js';
import { loadDemoPhotos, makeGroupPicture, resizeToHeight, sideBySide } from '../../src/node/eval/demo-assets.js';
import { FIXTURES, meanAbsDiff } from '../helpers/fixtures.js';

function solid(width: number, height: number, rgb: [number, number, number]): Image {
  const data = new Uint8ClampedArray(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { width, height, channels: 3, data };
}

function pixel(image: Image, x: number, y: number): number[] {
  const i = (y * image.width + x) * 3;
  return Array.from(image.data.subarray(i, i + 3));
}

describe('demo assets', () => {
  it('loads the three bundled photos as RGB', async () => {
    const photos = await loadDemoPhotos(FIXTURES);
    assert.deepEqual(
      Object.values(photos).map((p) => [p.width, p.height, p.channels]),
      [
        [512, 512, 3],
        [512, 600, 3],
        [512, 512, 3],
      ],
    );
  });

  it('lays out two photos on top and a mirrored smaller copy of the first below, on grey', async () => {
    const red = solid(100, 100, [250, 0, 0]);
    const blue = solid(120, 100, [0, 0, 250]);
    const group = await makeGroupPicture(red, blue);
    assert.equal(group.channels, 3);
    assert.equal(group.data.length, group.width * group.height * 3);
    // first at 480 high, second at 440 high (1.2 aspect → 528 wide), mirrored copy 380 high.
    assert.deepEqual([group.width, group.height], [24 * 3 + 480 + 528, 24 * 3 + 480 + 380]);
    assert.deepEqual(pixel(group, 5, 5), [200, 200, 200], 'neutral margin');
    assert.deepEqual(pixel(group, 24 + 240, 24 + 240), [250, 0, 0]);
    assert.deepEqual(pixel(group, 48 + 480 + 264, 24 + 240), [0, 0, 250]);
    assert.deepEqual(pixel(group, Math.round(group.width / 2), 48 + 480 + 190), [250, 0, 0]);
  });

  it('mirrors when asked', async () => {
    const half = solid(40, 20, [0, 0, 0]);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) half.data.set([255, 255, 255], (y * 40 + x) * 3);
    const mirrored = await resizeToHeight(half, 20, { mirror: true });
    assert.ok(meanAbsDiff(mirrored, half, 0, 0, 40, 20) > 200, 'left and right swapped');
    assert.deepEqual(pixel(mirrored, 35, 10), [255, 255, 255]);
  });

  it('puts images side by side at one height', async () => {
    const sheet = await sideBySide([solid(100, 50, [10, 10, 10]), solid(50, 50, [240, 240, 240])], { height: 100, gap: 10 });
    assert.deepEqual([sheet.width, sheet.height], [10 + 200 + 10 + 100 + 10, 120]);
    assert.deepEqual(pixel(sheet, 110, 60), [10, 10, 10]);
    assert.deepEqual(pixel(sheet, 270, 60), [240, 240, 240]);
  });
});
