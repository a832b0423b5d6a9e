/**
 * The options schema: one engine list, the mode defaults side by side (and where they differ on
 * purpose), the older names as aliases, and one resolver per group with messages naming the option.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { DEFAULT_LIVE_SETTINGS, LIVE_ENGINES } from '../../src/pipeline/live-options.js';
import {
  DEFAULT_SWAP_OPTIONS,
  ENGINE_CHOICES,
  ENGINE_NAMES,
  ENGINES,
  LIVE_DEFAULTS,
  MODE_DEFAULTS,
  resolveMarkOptions,
  resolvePaintOptions,
  resolveSwapOptions,
  resolveTrackingOptions,
  STILL_DEFAULTS,
  VIDEO_DEFAULTS,
} from '../../src/pipeline/options.js';
import { DEFAULT_TRACKER_OPTIONS } from '../../src/pipeline/tracker.js';
import { FACEFUSION_SWAPPER_IDS } from '../../src/models/model-spec-facefusion.js';
import { DEFAULT_VIDEO_FACE_OPTIONS } from '../../src/pipeline/video.js';

function usageError(fn: () => unknown, words: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof LiveswapError && error.kind === 'usage' && words.test(error.message));
}

describe('options schema', () => {
  it('has one engine list; the choices add auto', () => {
    // mesh, inswapper, then FaceFusion's swappers by row id; the live page offers them all (those installed).
    assert.deepEqual([...ENGINE_NAMES], ['mesh', 'inswapper', ...FACEFUSION_SWAPPER_IDS]);
    assert.deepEqual([...ENGINE_CHOICES], ['auto', ...ENGINE_NAMES]);
    assert.equal(ENGINES, ENGINE_CHOICES);
    assert.deepEqual([...LIVE_ENGINES], [...ENGINE_NAMES]);
  });

  it('keeps the older names as the same values', () => {
    assert.equal(DEFAULT_SWAP_OPTIONS, STILL_DEFAULTS.paint);
    assert.deepEqual(resolveSwapOptions({ opacity: 0.5 }), resolvePaintOptions({ opacity: 0.5 }));
    const { smoothing: _, ...tracking } = VIDEO_DEFAULTS.tracking;
    assert.deepEqual({ ...DEFAULT_VIDEO_FACE_OPTIONS }, tracking);
    assert.equal(DEFAULT_TRACKER_OPTIONS.maxMissed, VIDEO_DEFAULTS.tracking.maxMissed);
    assert.equal(DEFAULT_TRACKER_OPTIONS.minFaceSize, VIDEO_DEFAULTS.tracking.minFaceSize);
  });

  it('differs between modes only where it says so', () => {
    assert.deepEqual(VIDEO_DEFAULTS.paint, STILL_DEFAULTS.paint);
    assert.deepEqual(LIVE_DEFAULTS.paint, { ...STILL_DEFAULTS.paint, engine: 'mesh', mouthMask: true, colorMatch: true });
    assert.deepEqual(LIVE_DEFAULTS.tracking, { ...VIDEO_DEFAULTS.tracking, minSharpness: 0 });
    assert.deepEqual(STILL_DEFAULTS.tracking, { detectEvery: 1, smoothing: false, maxMissed: 0, minFaceSize: 0, minSharpness: 0, holdFrames: 0, shotChange: false });
    for (const mode of ['still', 'video', 'live'] as const) {
      assert.deepEqual(MODE_DEFAULTS[mode].marks, { label: true, labelText: 'AI-generated', labelCorner: 'bottom-right', watermark: true }, mode);
    }
  });

  it("gives the live app's first settings from the live defaults", () => {
    assert.equal(DEFAULT_LIVE_SETTINGS.engine, LIVE_DEFAULTS.paint.engine);
    assert.equal(DEFAULT_LIVE_SETTINGS.mouthMask, LIVE_DEFAULTS.paint.mouthMask);
    assert.equal(DEFAULT_LIVE_SETTINGS.colorMatch, LIVE_DEFAULTS.paint.colorMatch);
    assert.equal(DEFAULT_LIVE_SETTINGS.detectEvery, 0, "the page's 0 is 'auto'");
    assert.equal(DEFAULT_LIVE_SETTINGS.smoothing, true);
    assert.equal(DEFAULT_LIVE_SETTINGS.label, LIVE_DEFAULTS.marks.label);
    assert.equal(DEFAULT_LIVE_SETTINGS.labelText, LIVE_DEFAULTS.marks.labelText);
  });

  it('cannot be changed by a caller', () => {
    assert.throws(() => {
      (VIDEO_DEFAULTS.tracking as { maxMissed: number }).maxMissed = 1;
    }, TypeError);
  });

  it('checks each group with one function and messages naming the option', () => {
    assert.deepEqual(resolveTrackingOptions(), VIDEO_DEFAULTS.tracking);
    assert.deepEqual(resolveTrackingOptions({}, LIVE_DEFAULTS.tracking), LIVE_DEFAULTS.tracking);
    usageError(() => resolvePaintOptions({ engine: 'warp' as never }), /one of auto, mesh, inswapper, hyperswap_1a_256, .* for engine/);
    usageError(() => resolvePaintOptions({ pixelBoost: 300 }), /one of 128, 256, 384, 512, 768, 1024 for pixelBoost/);
    usageError(() => resolvePaintOptions({ faceEnhancerBlend: 101 }), /for faceEnhancerBlend/);
    usageError(() => resolvePaintOptions({ faceEnhancer: 'gfpgan_9' as never }), /one of gfpgan_1.2, .*codeformer.* for faceEnhancer/);
    usageError(() => resolveTrackingOptions({ detectEvery: 0 }), /for detectEvery/);
    usageError(() => resolveTrackingOptions({ maxMissed: -1 }), /^Expected an integer >= 0 for maxMissed but received -1$/);
    usageError(() => resolveTrackingOptions({ holdFrames: 1.5 }), /for holdFrames/);
    usageError(() => resolveTrackingOptions({ smoothing: { minCutoff: 0, beta: 1, dCutoff: 1 } }), /for minCutoff/);
    usageError(() => resolveMarkOptions({ labelCorner: 'middle' as never }), /one of bottom-right, bottom-left, top-right, top-left for labelCorner/);
    usageError(() => resolveMarkOptions({ labelText: '\u00e9' }), /printable ASCII/);
    assert.equal(resolveMarkOptions({ label: false }).label, false);
  });
});
