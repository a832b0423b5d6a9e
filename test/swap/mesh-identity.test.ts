/**
 * What the mesh engine takes from the source and what it leaves to the target: parts of a
 * three-quarter source that the photo does not show come from the mirrored half (no smear), and
 * the result is lit like the target, not like the source.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Image } from '../../src/core/image.js';
import { CANONICAL_UV } from '../../src/face/canonical-uv.js';
import { meshTopology } from '../../src/face/mesh-topology.js';
import { faceSize, type Face } from '../../src/face/face.js';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { resolveSwapOptions } from '../../src/pipeline/options.js';
import { MeshSwapper, triangleVisibility } from '../../src/swap/mesh-engine.js';
import { loadFixture, TEST_HOME } from '../helpers/fixtures.js';

let swapper: NodeSwapper;

before(async () => {
  swapper = await createNodeSwapper({ home: TEST_HOME });
});
after(async () => {
  await swapper.close();
});

/** Multiply the image by a horizontal ramp across the face: `from` at its left edge to `to` at its right. */
async function relight(name: string, from: number, to: number): Promise<Image> {
  const image = await loadFixture(name);
  const [face] = await swapper.analyze(image);
  const x0 = face.box[0];
  const x1 = face.box[0] + face.box[2];
  const out = { ...image, data: new Uint8ClampedArray(image.data) };
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const gain = from + (to - from) * Math.min(1, Math.max(0, (x - x0) / (x1 - x0)));
      for (let k = 0; k < 3; k++) out.data[(y * image.width + x) * 3 + k] = image.data[(y * image.width + x) * 3 + k] * gain;
    }
  }
  return out;
}

/** Mean luma in a square of side `size` centred on mesh point `index`. */
function lumaAround(image: Image, face: Face, index: number, size: number): number {
  const cx = Math.round(face.landmarks[3 * index]);
  const cy = Math.round(face.landmarks[3 * index + 1]);
  const r = Math.round(size / 2);
  let sum = 0;
  let n = 0;
  for (let y = cy - r; y <= cy + r; y++) {
    for (let x = cx - r; x <= cx + r; x++) {
      const i = (y * image.width + x) * 3;
      sum += 0.299 * image.data[i] + 0.587 * image.data[i + 1] + 0.114 * image.data[i + 2];
      n++;
    }
  }
  return sum / n;
}

describe('mesh engine identity', () => {
  test('a three-quarter source: unseen triangles are filled from the mirrored half', async () => {
    const source = await loadFixture('camera.png');
    const [face] = await swapper.analyze(source);
    assert.ok(face, 'the three-quarter face is found');
    const { skin } = meshTopology();
    const visibility = triangleVisibility(face.landmarks, skin);
    const unseen = [...visibility].filter((v) => v === 0).length / visibility.length;
    assert.ok(unseen > 0.15, `a three-quarter view hides part of the face (${(unseen * 100).toFixed(0)} % of triangles unseen)`);

    const { texture, size } = new MeshSwapper().createIdentity(source, face);
    // Inside unseen triangles whose mirror was seen, each texel must equal its mirrored texel:
    // the texture there is the visible half's, not a stretched smear of the hidden side.
    let checked = 0;
    let sumDiff = 0;
    let confident = 0;
    let lower = 0;
    for (let t = 0; t < skin.length / 3; t++) {
      const [a, b, c] = [skin[3 * t], skin[3 * t + 1], skin[3 * t + 2]];
      const cx = ((CANONICAL_UV[2 * a] + CANONICAL_UV[2 * b] + CANONICAL_UV[2 * c]) / 3) * size;
      const cy = ((CANONICAL_UV[2 * a + 1] + CANONICAL_UV[2 * b + 1] + CANONICAL_UV[2 * c + 1]) / 3) * size;
      const x = Math.floor(cx);
      const y = Math.floor(cy);
      const i = (y * size + x) * 4;
      const j = (y * size + (size - 1 - x)) * 4;
      // Above the eyes the texture also gives up hair and shadows (hideHairOnForehead): the mirror
      // fill is judged below them.
      if (cy / size > 0.42) {
        lower++;
        if (texture.data[i + 3] > 200) confident++;
      }
      if (visibility[t] !== 0) continue;
      checked++;
      sumDiff += Math.abs(texture.data[i] - texture.data[j]);
    }
    const meanDiff = sumDiff / checked;
    assert.ok(checked > 20);
    assert.ok(meanDiff < 6, `unseen texels differ from their mirror by ${meanDiff.toFixed(1)} levels on average`);
    assert.ok(confident / lower > 0.85, `the mirror fill leaves most of the face usable (${((confident / lower) * 100).toFixed(1)} %)`);
  });

  test('the swapped face is lit like the target, not like the source', async (t) => {
    // Source lit from its right, target from its left: after the swap the face must be brighter
    // on the target's bright side, about as much as the target was.
    const source = await relight('astronaut.png', 1.3, 0.5);
    const target = await relight('grace_hopper.jpg', 0.5, 1.3);
    const [targetFace] = await swapper.analyze(target);
    const [sourceFace] = await swapper.analyze(source);
    const { image } = await swapper.swap(source, target, resolveSwapOptions({}), { marks: false });
    // 205 and 425 are the cheeks (image-left and image-right).
    const ratio = (img: Image, face: Face) => lumaAround(img, face, 425, faceSize(face) * 0.12) / lumaAround(img, face, 205, faceSize(face) * 0.12);
    const targetRatio = ratio(target, targetFace);
    const sourceRatio = ratio(source, sourceFace);
    const outputRatio = ratio(image, targetFace);
    t.diagnostic(`right/left cheek brightness: source ${sourceRatio.toFixed(2)}, target ${targetRatio.toFixed(2)}, result ${outputRatio.toFixed(2)}`);
    assert.ok(sourceRatio < 0.8 && targetRatio > 1.25, 'the relit inputs have opposite lighting');
    assert.ok(Math.abs(Math.log(outputRatio / targetRatio)) < 0.2, 'the result follows the target lighting');
  });

  test('without colour matching the source lighting stays (the option really switches it)', async () => {
    const source = await relight('astronaut.png', 1.3, 0.5);
    const target = await relight('grace_hopper.jpg', 0.5, 1.3);
    const [targetFace] = await swapper.analyze(target);
    const matched = await swapper.swap(source, target, resolveSwapOptions({}), { marks: false });
    const raw = await swapper.swap(source, target, resolveSwapOptions({ colorMatch: false }), { marks: false });
    const side = (img: Image) => lumaAround(img, targetFace, 425, faceSize(targetFace) * 0.12) / lumaAround(img, targetFace, 205, faceSize(targetFace) * 0.12);
    assert.ok(side(raw.image) < side(matched.image), 'colour matching moves the lighting towards the target');
  });
});

describe('image formats the library accepts', () => {
  test('grey and RGBA images swap like their RGB versions', async () => {
    const rgb = await loadFixture('grace_hopper.jpg');
    const source = await loadFixture('astronaut.png');
    const grey = { width: rgb.width, height: rgb.height, channels: 1 as const, data: new Uint8ClampedArray(rgb.width * rgb.height) };
    const rgba = { width: rgb.width, height: rgb.height, channels: 4 as const, data: new Uint8ClampedArray(rgb.width * rgb.height * 4) };
    for (let i = 0; i < rgb.width * rgb.height; i++) {
      grey.data[i] = rgb.data[3 * i + 1];
      rgba.data.set([rgb.data[3 * i], rgb.data[3 * i + 1], rgb.data[3 * i + 2], 200], 4 * i);
    }
    const fromGrey = await swapper.swap(source, grey, resolveSwapOptions({}), { marks: false });
    assert.equal(fromGrey.image.channels, 3);
    const fromRgba = await swapper.swap(source, rgba, resolveSwapOptions({}), { marks: false });
    assert.equal(fromRgba.image.channels, 4);
    const fromRgb = await swapper.swap(source, rgb, resolveSwapOptions({}), { marks: false });
    let maxDiff = 0;
    let alphaKept = true;
    for (let i = 0; i < rgb.width * rgb.height; i++) {
      for (let k = 0; k < 3; k++) maxDiff = Math.max(maxDiff, Math.abs(fromRgba.image.data[4 * i + k] - fromRgb.image.data[3 * i + k]));
      if (fromRgba.image.data[4 * i + 3] !== 200) alphaKept = false;
    }
    assert.ok(maxDiff <= 1, `RGBA and RGB results differ by up to ${maxDiff}`);
    assert.ok(alphaKept, 'the alpha channel is left as it was');
    // A grey source swaps too (its texture is grey; the colour match gives it the target's tint).
    const greySource = { ...grey };
    const { report } = await swapper.swap(greySource, rgb, resolveSwapOptions({}), { marks: false });
    assert.deepEqual(report.swappedFaces, [0]);
  });
});
