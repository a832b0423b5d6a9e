/**
 * The live app's region picker: each preset is a valid partial swap, and a LiveSession painting
 * with "nose only" changes the nose and leaves the rest of the camera frame as it was; strength 0
 * leaves the frame untouched (the marks are off: only the swap is compared).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Image } from '../../src/core/image.js';
import { BISENET_CLASSES, meshLabelMap } from '../../src/face/face-regions.js';
import { LiveSession } from '../../src/pipeline/live.js';
import { DEFAULT_LIVE_SETTINGS, REGION_PRESETS, REGION_PRESET_NAMES, type ProcessSettings } from '../../src/pipeline/live-options.js';
import { resolvePaintOptions } from '../../src/pipeline/options.js';
import { liveEngineFixture } from '../helpers/live-engine.js';

const settings = (over: Partial<ProcessSettings> = {}): ProcessSettings => ({ ...DEFAULT_LIVE_SETTINGS, ...over });
const copy = (image: Image): Image => ({ ...image, data: new Uint8ClampedArray(image.data) });

describe('live region presets', () => {
  const fx = liveEngineFixture(1280, 720);

  it('every preset is a valid partial swap', () => {
    for (const name of REGION_PRESET_NAMES) {
      const preset: { maskRegions?: readonly string[]; keepRegions?: readonly string[] } = REGION_PRESETS[name];
      assert.doesNotThrow(() => resolvePaintOptions({ maskRegions: preset.maskRegions as never, keepRegions: preset.keepRegions as never }), name);
    }
  });

  it('"nose only" changes the nose and nothing away from it; strength 0 changes nothing', async () => {
    const live = new LiveSession(fx.engine, settings({ regions: 'nose' }), false);
    await live.addSource(1, 'grace.jpg', fx.source);
    const frame = copy(fx.camera);
    const result = await live.process(frame, 0);
    assert.equal(result.faces.length, 1);
    const [face] = await fx.engine.finder.analyze(fx.camera);
    const labels = meshLabelMap(face.landmarks, 3, fx.camera.width, fx.camera.height, (x, y) => [x, y]);
    const [bx, by, bw, bh] = face.box;
    let nose = 0;
    let noseCount = 0;
    let away = 0;
    let awayCount = 0;
    const reach = 0.08 * Math.max(bw, bh);
    // Nose pixels, and face-box pixels farther than `reach` from every nose pixel's bounding box.
    let nx0 = Infinity;
    let ny0 = Infinity;
    let nx1 = -Infinity;
    let ny1 = -Infinity;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] !== BISENET_CLASSES.nose) continue;
      const x = i % fx.camera.width;
      const y = Math.floor(i / fx.camera.width);
      [nx0, ny0, nx1, ny1] = [Math.min(nx0, x), Math.min(ny0, y), Math.max(nx1, x), Math.max(ny1, y)];
    }
    for (let y = Math.floor(by); y < by + bh; y++) {
      for (let x = Math.floor(bx); x < bx + bw; x++) {
        const i = y * fx.camera.width + x;
        let d = 0;
        for (let k = 0; k < 3; k++) d += Math.abs(frame.data[4 * i + k] - fx.camera.data[4 * i + k]) / 3;
        if (labels[i] === BISENET_CLASSES.nose) {
          nose += d;
          noseCount++;
        } else if (x < nx0 - reach || x > nx1 + reach || y < ny0 - reach || y > ny1 + reach) {
          away += d;
          awayCount++;
        }
      }
    }
    console.log(`live "nose only": nose ${(nose / noseCount).toFixed(2)} (${noseCount} px), away from it ${(away / awayCount).toFixed(3)} (${awayCount} px)`);
    assert.ok(nose / noseCount > 5, 'the nose is swapped');
    assert.ok(away / awayCount < 0.5, 'the rest of the face is the camera frame');

    live.updateSettings(settings({ regions: 'nose', maskStrength: 0 }));
    const still = copy(fx.camera);
    await live.process(still, 33);
    assert.deepEqual(still.data, fx.camera.data, 'strength 0: the frame as it came');
    live.close();
  });
});
