/**
 * The live page's stored settings for the model-backed choices (engine, enhancer and its blend and
 * fidelity, occlusion, parser, pixel boost): valid values are kept, anything else falls back to
 * its default, as for the page's other settings.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateSettings } from '../../web/app/settings.js';

describe("the page's model settings", () => {
  it('keeps valid choices and drops the rest to their defaults', () => {
    const good = validateSettings({
      engine: 'simswap_256',
      faceEnhancer: 'codeformer',
      faceEnhancerBlend: 55,
      faceEnhancerWeight: 0.7,
      occlusionMask: 'all',
      faceParser: 'bisenet_resnet_18',
      pixelBoost: 512,
    });
    assert.deepEqual(
      [good.engine, good.faceEnhancer, good.faceEnhancerBlend, good.faceEnhancerWeight, good.occlusionMask, good.faceParser, good.pixelBoost],
      ['simswap_256', 'codeformer', 55, 0.7, 'all', 'bisenet_resnet_18', 512],
    );
    const bad = validateSettings({
      engine: 'deepfacelab',
      faceEnhancer: 'gfpgan_9',
      faceEnhancerBlend: 101,
      faceEnhancerWeight: -1,
      occlusionMask: 'xseg_4',
      faceParser: 'bisenet',
      pixelBoost: 300,
    });
    assert.deepEqual(
      [bad.engine, bad.faceEnhancer, bad.faceEnhancerBlend, bad.faceEnhancerWeight, bad.occlusionMask, bad.faceParser, bad.pixelBoost],
      ['mesh', 'none', 80, 0.5, 'none', 'auto', 0],
    );
  });
});
