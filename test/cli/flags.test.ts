/** Command-line values to swap options: number forms, defaults and messages naming the flag. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { DEFAULT_SWAP_OPTIONS, VIDEO_DEFAULTS } from '../../src/pipeline/options.js';
import { markOptionsFromFlags, parsePixelCount, parseWholeNumber, swapOptionsFromFlags, trackingOptionsFromFlags, type SwapFlags } from '../../src/cli/flags.js';
import { rejectVideoFlags } from '../../src/cli/video-command.js';
import { formatSummary, roundTimings } from '../../src/cli/summary.js';

const FILES = { source: 's.png', target: 't.png', output: 'o.png' };

function usageError(fn: () => unknown, words: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof LiveswapError);
    assert.equal(error.kind, 'usage');
    assert.match(error.message, words);
    return true;
  });
}

describe('parsePixelCount', () => {
  it('accepts plain, scientific and suffixed counts', () => {
    const cases: Array<[string, number]> = [
      ['50000000', 50_000_000],
      ['50e6', 50_000_000],
      ['50M', 50_000_000],
      ['50m', 50_000_000],
      ['2.5M', 2_500_000],
      ['800k', 800_000],
      ['1G', 1_000_000_000],
      [' 1000 ', 1000],
    ];
    for (const [raw, expected] of cases) assert.equal(parsePixelCount('--max-pixels', raw), expected, raw);
    assert.equal(parsePixelCount('--max-pixels', undefined), undefined);
  });

  it('refuses fractions, zero, negatives and junk', () => {
    for (const raw of ['0', '-5', '1.5', '12 px', 'M', '', '1e400', '5T']) {
      usageError(() => parsePixelCount('--max-pixels', raw), /--max-pixels/);
    }
  });
});

describe('swapOptionsFromFlags', () => {
  it('leaves unset flags to the shared defaults', () => {
    assert.deepEqual(swapOptionsFromFlags(FILES), { ...DEFAULT_SWAP_OPTIONS });
  });

  it('parses every value flag', () => {
    const flags: SwapFlags = {
      ...FILES,
      engine: 'mesh',
      faceIndex: '2',
      sourceFace: '1',
      mouthMask: false,
      opacity: '0.5',
      sharpness: '1.5',
      colorMatch: false,
      faceShape: '0.5',
      faceOutline: '0.25',
      maskRegions: ['nose,upper-lip', 'lower-lip'],
      keepRegions: ['mouth'],
      faceParser: 'landmarks',
      maskStrength: '0.5',
      maskPadding: ['10,0,5,0'],
      maskBlur: '0.2',
      occlusionMask: 'xseg_1',
      maxPixels: '1M',
    };
    assert.deepEqual(swapOptionsFromFlags(flags), {
      // Options of other features keep their defaults.
      ...DEFAULT_SWAP_OPTIONS,
      maskRegions: ['nose', 'upper-lip', 'lower-lip'],
      keepRegions: ['mouth'],
      faceParser: 'landmarks',
      maskStrength: 0.5,
      maskPadding: [10, 0, 5, 0],
      maskBlur: 0.2,
      occlusionMask: 'xseg_1',
      engine: 'mesh',
      manyFaces: false,
      faceIndex: 2,
      sourceFace: 1,
      mouthMask: false,
      opacity: 0.5,
      sharpness: 1.5,
      colorMatch: false,
      faceShape: 0.5,
      faceOutline: 0.25,
      maxPixels: 1_000_000,
    });
  });

  it('names the flag in every complaint', () => {
    usageError(() => swapOptionsFromFlags({ ...FILES, opacity: '1.2' }), /between 0 and 1 for --opacity but received 1\.2/);
    usageError(() => swapOptionsFromFlags({ ...FILES, sharpness: '6' }), /--sharpness/);
    usageError(() => swapOptionsFromFlags({ ...FILES, opacity: 'half' }), /a number for --opacity but received "half"/);
    usageError(() => swapOptionsFromFlags({ ...FILES, faceIndex: '-1' }), /--face-index/);
    usageError(() => swapOptionsFromFlags({ ...FILES, faceShape: '1.5' }), /between 0 and 1 for --face-shape/);
    usageError(() => swapOptionsFromFlags({ ...FILES, faceOutline: '-0.1' }), /between 0 and 1 for --face-outline/);
    usageError(() => swapOptionsFromFlags({ ...FILES, sourceFace: '0.5' }), /--source-face/);
    usageError(() => swapOptionsFromFlags({ ...FILES, manyFaces: true, faceIndex: '0' }), /--face-index and --many-faces/);
    assert.equal(parseWholeNumber('--face-index', '0'), 0);
  });
});

describe('trackingOptionsFromFlags', () => {
  it("leaves unset flags to a video's defaults", () => {
    assert.deepEqual(trackingOptionsFromFlags(FILES), { ...VIDEO_DEFAULTS.tracking });
  });

  it('reads every tracking flag', () => {
    const options = trackingOptionsFromFlags({ ...FILES, detectEvery: '3', smoothingBeta: '5', maxMissed: '2', minFaceSize: '40', minSharpness: '0', shotChange: false });
    assert.deepEqual(options, {
      ...VIDEO_DEFAULTS.tracking,
      detectEvery: 3,
      smoothing: { ...VIDEO_DEFAULTS.tracking.smoothing, beta: 5 },
      maxMissed: 2,
      minFaceSize: 40,
      minSharpness: 0,
      shotChange: false,
    });
    assert.equal(trackingOptionsFromFlags({ ...FILES, smoothing: false }).smoothing, false);
  });

  it('names the flag in every complaint', () => {
    usageError(() => trackingOptionsFromFlags({ ...FILES, detectEvery: '0' }), /'auto' or a whole number ≥ 1 for --detect-every/);
    usageError(() => trackingOptionsFromFlags({ ...FILES, minSharpness: '-1' }), /≥ 0 for --min-sharpness but received -1/);
    usageError(() => trackingOptionsFromFlags({ ...FILES, maxMissed: 'many' }), /a number for --max-missed/);
    usageError(() => trackingOptionsFromFlags({ ...FILES, smoothing: false, smoothingBeta: '1' }), /--no-smoothing cannot be combined/);
  });
});

describe('markOptionsFromFlags', () => {
  it('marks by default; turning the label off is explicit', () => {
    assert.deepEqual(markOptionsFromFlags({}), { label: true, labelText: 'AI-generated', labelCorner: 'bottom-right', watermark: true });
    assert.deepEqual(markOptionsFromFlags({ label: false, labelCorner: 'top-left' }), { label: false, labelText: 'AI-generated', labelCorner: 'top-left', watermark: true });
    assert.equal(markOptionsFromFlags({ labelText: '  Synthetic ' }).labelText, 'Synthetic');
  });

  it('names the flag in every complaint', () => {
    usageError(() => markOptionsFromFlags({ labelText: '' }), /^--label-text: The label text is empty/);
    usageError(() => markOptionsFromFlags({ label: false, labelText: 'x' }), /--label-text sets the text of the label that --no-label leaves out/);
  });
});

describe('rejectVideoFlags', () => {
  it('names the video-only flags given for an image, --no- forms included', () => {
    assert.doesNotThrow(() => rejectVideoFlags({ ...FILES, audio: true, smoothing: true, shotChange: true }));
    usageError(() => rejectVideoFlags({ ...FILES, fps: '30' }), /^--fps applies to video targets only; t\.png is an image\.$/);
    usageError(() => rejectVideoFlags({ ...FILES, audio: false, maxMissed: '2', shotChange: false }), /^--no-audio, --max-missed, --no-shot-change apply to video targets only/);
  });
});

describe('formatSummary', () => {
  it('says what was found, what was swapped, how long it took and where the result is', () => {
    const text = formatSummary(
      {
        output: '/results/out.jpg',
        engine: 'mesh',
        sourceFaces: [{ index: 0, box: [1, 2, 3, 4], score: 0.9 }],
        targetFaces: [
          { index: 0, box: [1, 2, 3, 4], score: 0.9 },
          { index: 1, box: [5, 6, 7, 8], score: 0.8 },
        ],
        sourceFaceUsed: 0,
        swappedFaces: [0, 1],
        skippedFaces: [],
        timings: roundTimings({ decode: 12.345, detect: 40.04, encode: 7, total: 140.26 }),
        provenance: { watermarkId: '0a1b2c3d', label: { shown: true, text: 'AI-generated' }, credentials: 'embedded' },
        notices: [],
      },
      { source: 'photos/me.png', target: 'photos/group.jpg' },
    );
    assert.match(text, /Swapped 2 faces with the mesh engine in 140 ms/);
    assert.match(text, /me\.png: 1 face, used face #0/);
    assert.match(text, /group\.jpg: 2 faces, swapped faces #0, #1$/m);
    assert.match(text, /decode 12, detect 40, encode 7 \(ms\)/);
    assert.match(text, /output {2}\/results\/out\.jpg/);
    assert.match(text, /marks {3}label "AI-generated", watermark 0a1b2c3d, signed content credentials, audit log/);
  });
});
