/**
 * Ghost-face benchmark (issue: shot changes): the real video path (`swapVideo`, built-in mesh
 * engine, the main face or all) on a clip with a source photo, counting ghost frames: output
 * frames that paint a face that is not there. A ghost frame is one that paints
 *   - after a cut, a face from a track begun before the cut (until the next cut), or
 *   - on a detection frame, a face the detector did not find on that frame (a hold).
 * Also counted, apart: frames holding a face the tracker lost between detections (within a shot,
 * `holdFrames`), and, as a check independent of the pipeline's own bookkeeping, frames where a
 * painted face overlaps no face found by running the detector afresh on that frame (this one also
 * counts faces only the tracker follows, such as profiles the detector misses: an upper bound).
 * Cuts are the ones given with --cuts (frame indices, 0-based, each the first frame of its shot)
 * or else the ones the shot-change detector finds.
 * Run: npm run bench:ghosts -- VIDEO [--source PHOTO] [--cuts 20,82,211] [--many-faces]
 *        [--no-shot-change] [--out OUT.mp4] [--json]
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ONE_EURO } from '../src/core/one-euro.js';
import { readImage } from '../src/node/media/image-io.js';
import { createNodeSwapper } from '../src/node/jobs/swapper.js';
import { swapVideo } from '../src/node/jobs/video-swap.js';
import { boxIoU } from '../src/pipeline/cluster.js';
import { resolveSwapOptions } from '../src/pipeline/options.js';
import { ShotChangeDetector } from '../src/pipeline/shot-change.js';
import { DEFAULT_VIDEO_FACE_OPTIONS, type VideoFaceOptions } from '../src/pipeline/video.js';
import { clipArgs } from './clip-args.js';

const args = clipArgs('node --import tsx bench/ghosts.ts VIDEO [--source PHOTO] [--cuts 20,82,211] [--many-faces] [--no-shot-change] [--out OUT.mp4] [--json]', [
  '--cuts',
  '--out',
]);
const input = args.video;
const sourcePath = args.source;
const knownCuts = args.option('--cuts')?.split(',').map(Number);
const json = args.has('--json');
/** Least box IoU for a painted face to count as one the detector found afresh. */
const MIN_IOU = 0.3;

interface FrameRecord {
  index: number;
  detected: boolean;
  /** Cut found by the shot-change detector run here, beside the pipeline. */
  foundCut: boolean;
  painted: { trackId: number; firstFrame: number; observed: boolean; fresh: boolean }[];
}

const work = await mkdtemp(join(tmpdir(), 'liveswap-bench-ghosts-'));
const swapper = await createNodeSwapper({ engine: 'mesh' });
try {
  const swap = resolveSwapOptions({ engine: 'mesh' });
  const source = await swapper.prepareSource(await readImage(sourcePath, { maxPixels: swap.maxPixels }), swap, sourcePath);
  const faces: VideoFaceOptions = { ...DEFAULT_VIDEO_FACE_OPTIONS, smoothing: DEFAULT_ONE_EURO, selection: { kind: args.has('--many-faces') ? 'all' : 'primary' } };
  if (args.has('--no-shot-change')) Object.assign(faces, { shotChange: false });
  const shots = new ShotChangeDetector();
  const firstFrame = new Map<number, number>();
  const frames: FrameRecord[] = [];
  let shotMs = 0;
  const started = performance.now();
  const summary = await swapVideo(swapper, {
    input,
    output: args.option('--out') ?? join(work, 'out.mp4'),
    identities: [source],
    swap,
    faces,
    onPlan: async (frame, plan, index) => {
      const t = performance.now();
      const foundCut = shots.next(frame);
      shotMs += performance.now() - t;
      for (const track of plan.tracks) if (!firstFrame.has(track.trackId)) firstFrame.set(track.trackId, index);
      const fresh = plan.faces.length > 0 ? await swapper.analyze(frame) : [];
      const painted = plan.faces.map(({ trackId, face }) => ({
        trackId,
        firstFrame: firstFrame.get(trackId) ?? index,
        observed: plan.tracks.find((track) => track.trackId === trackId)?.observed ?? false,
        fresh: fresh.some((f) => boxIoU(f.box, face.box) >= MIN_IOU),
      }));
      frames.push({ index, detected: plan.detected, foundCut, painted });
    },
  });
  const seconds = (performance.now() - started) / 1000;

  const cuts = knownCuts ?? frames.filter((f) => f.foundCut).map((f) => f.index);
  const shotOf = (index: number): number => cuts.filter((c) => c <= index).length;
  const cutStart = (index: number): number => cuts.filter((c) => c <= index).at(-1) ?? 0;
  const afterCut = frames.filter((f) => f.painted.some((p) => p.firstFrame < cutStart(f.index) && shotOf(f.index) > 0));
  const heldOnDetection = frames.filter((f) => f.detected && f.painted.some((p) => !p.observed));
  const heldAfterLoss = frames.filter((f) => !f.detected && f.painted.some((p) => !p.observed));
  const notFresh = frames.filter((f) => f.painted.some((p) => !p.fresh));
  const perCut = cuts.map((cut) => ({
    cut,
    ghostFrames: afterCut.filter((f) => cutStart(f.index) === cut).map((f) => f.index),
    firstPainted: frames.find((f) => f.index >= cut && f.painted.length > 0 && cutStart(f.index) === cut)?.index ?? null,
  }));
  const result = {
    bench: 'ghosts',
    input,
    source: sourcePath,
    shotChange: faces.shotChange !== false,
    frames: summary.frames,
    framesSwapped: summary.framesSwapped,
    detections: summary.detections,
    cuts: { used: cuts, given: knownCuts !== undefined, found: frames.filter((f) => f.foundCut).map((f) => f.index) },
    ghosts: {
      afterCut: afterCut.length,
      heldOnDetection: heldOnDetection.length,
      heldAfterTrackerLoss: heldAfterLoss.length,
      total: new Set([...afterCut, ...heldOnDetection].map((f) => f.index)).size,
    },
    noFreshDetection: notFresh.length,
    perCut,
    frameLists: { heldOnDetection: heldOnDetection.map((f) => f.index), heldAfterTrackerLoss: heldAfterLoss.map((f) => f.index), noFreshDetection: notFresh.map((f) => f.index) },
    shotDetectorMsPerFrame: Math.round((shotMs / Math.max(1, frames.length)) * 1000) / 1000,
    seconds: Math.round(seconds * 10) / 10,
  };
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(
      `ghost frames in ${input} (${result.frames} frames, ${result.framesSwapped} swapped, detector on ${result.detections}; shot changes ${result.shotChange ? 'on' : 'off'}):`,
    );
    console.log(`  cuts ${result.cuts.given ? 'given' : 'found'}: ${cuts.join(', ') || 'none'}   (found by the detector: ${result.cuts.found.join(', ') || 'none'})`);
    for (const c of perCut)
      console.log(
        `  cut at ${c.cut}: ${c.ghostFrames.length} frames painted from a pre-cut track${c.ghostFrames.length ? ` (${c.ghostFrames.join(', ')})` : ''}; first painted frame ${c.firstPainted ?? 'none'}`,
      );
    console.log(`  painted from a pre-cut track:            ${result.ghosts.afterCut}`);
    console.log(`  painted, not found on a detection frame: ${result.ghosts.heldOnDetection}${heldOnDetection.length ? ` (${result.frameLists.heldOnDetection.join(', ')})` : ''}`);
    console.log(`  ghost frames, total:                     ${result.ghosts.total}`);
    console.log(
      `  within a shot, held after a tracker loss (not ghosts here): ${result.ghosts.heldAfterTrackerLoss}${heldAfterLoss.length ? ` (${result.frameLists.heldAfterTrackerLoss.join(', ')})` : ''}`,
    );
    console.log(`  painted where a fresh detection finds no face (upper bound, includes tracker-only faces): ${result.noFreshDetection}`);
    console.log(`  shot-change detector ${result.shotDetectorMsPerFrame} ms/frame; ${result.seconds} s in all`);
  }
} finally {
  await swapper.close();
  await rm(work, { recursive: true, force: true });
}
