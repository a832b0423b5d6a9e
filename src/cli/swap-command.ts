/**
 * `liveswap swap`: one source photo onto one target image. Everything that can be checked cheaply
 * (flags, files, output folder) is checked before the models are loaded.
 */

import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { checkOutputPath } from '../node/files/output.js';
import { outputFormatFor, readImage } from '../node/media/image-io.js';
import type { NodeSwapper } from '../node/jobs/swapper.js';
import { DEFAULT_SWAP_OPTIONS, ENGINES, EXECUTION_PROVIDERS, type EngineChoice, type ExecutionProvider } from '../pipeline/options.js';
import type { StillResult } from '../pipeline/report.js';
import type { Terminal } from './errors.js';
import { runtimeFromFlags, sourceFiles, swapOptionsFromFlags, type SwapFlags } from './flags.js';
import { formatSummary, roundTimings, type SwapSummary } from './summary.js';
import { DEFAULT_SIMILAR_FACE_DISTANCE, isVideoPath, rejectVideoFlags, runVideoSwap } from './video-command.js';
import { DEFAULT_ONE_EURO } from '../core/one-euro.js';
import { VIDEO_CODECS, VIDEO_PRESETS } from '../node/media/ffmpeg-write.js';
import { DEFAULT_VIDEO_FACE_OPTIONS } from '../pipeline/video.js';
import { DEFAULT_LABEL_OPTIONS, DEFAULT_LABEL_TEXT, LABEL_CORNERS } from '../provenance/label.js';
import { defaultHome } from '../node/models/model-cache.js';
import { startProvenance } from '../node/provenance/output-provenance.js';
import { provenanceChoicesFromFlags } from './flags.js';

/** Loaded on demand so --help, usage errors and input errors never pay for onnxruntime. */
export async function openSwapper(runtime: { provider?: ExecutionProvider; threads?: number; engine?: EngineChoice } = {}): Promise<NodeSwapper> {
  const { createNodeSwapper } = await import('../node/jobs/swapper.js');
  return createNodeSwapper(runtime);
}

export function describeDefault(value: unknown): string {
  if (value === undefined) return "the engine's choice";
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return String(value);
}

export function createSwapCommand(run: (flags: SwapFlags) => Promise<void>): Command {
  const d = DEFAULT_SWAP_OPTIONS;
  return new Command('swap')
    .description('Put the face from a source photo onto the face(s) in a target image or video.')
    .option('-s, --source <file>', 'photo with the face to use (JPEG, PNG or WebP); repeat for several photos of the same person', (value: string, previous: string[] = []) => [...previous, value])
    .requiredOption('-t, --target <file>', 'image (JPEG, PNG, WebP) or video (MP4, MOV, MKV, WebM, GIF, …) whose face(s) are replaced')
    .requiredOption('-o, --output <file>', 'where to write the result; the format follows the extension: .jpg, .jpeg, .png, .webp for images, .mp4, .mkv, .webm, .mov for videos')
    .addOption(new Option('--engine <name>', `which engine swaps (default: ${d.engine})`).choices(ENGINES))
    .option('--many-faces', 'swap every face in the target, not only the largest')
    .option('--face-index <n>', 'swap only this target face (0 = largest, then by size)')
    .option('--source-face <n>', 'take the identity from this source face (default: the largest)')
    .option('--mouth-mask', `keep the target's own mouth interior (default: ${describeDefault(d.mouthMask)}; on for mesh)`)
    .option('--no-mouth-mask', 'paint the source mouth too')
    .option('--opacity <0..1>', `how much of the swapped face shows (default: ${d.opacity})`)
    .option('--sharpness <0..5>', `sharpen the swapped face (default: ${d.sharpness})`)
    .option('--color-match', `match the face's colour and light to the target (default: ${describeDefault(d.colorMatch)})`)
    .option('--no-color-match', 'keep the source face colours')
    .option('--face-shape <0..1>', "mesh: how much of the source's face shape to paint, 0 keeps the target's (default: 1)")
    .option('--face-outline <0..1>', "mesh: give the face the source's jaw and cheek outline, bending what is around it (default: 0)")
    .option('--max-pixels <n>', `refuse larger images; forms like 50000000, 50e6, 50M (default: ${d.maxPixels})`)
    .addOption(new Option('--execution-provider <name>', 'where the models run (default: cpu); an unavailable one is an error').choices(EXECUTION_PROVIDERS))
    .option('--execution-threads <n>', 'threads per model (default: 1)')
    .option('--fps <n>', "video: output frame rate (default: the source's own frame times, variable rates too)")
    .option('--no-audio', 'video: drop the audio (default: kept, copied where the container allows)')
    .addOption(new Option('--video-encoder <name>', 'video: encoder (default: libx264; libvpx-vp9 for .webm)').choices(VIDEO_CODECS))
    .option('--video-quality <0..51>', 'video: quality as Deep-Live-Cam, lower is better (x264 CRF; default 18, x265 22, VP9 31 of 63)')
    .addOption(new Option('--video-preset <name>', 'video: encoding speed against file size (default: veryfast)').choices(VIDEO_PRESETS))
    .option('--trim-start <time|Nf>', 'video: start here: seconds, [h:]m:s, or a frame number like 150f')
    .option('--trim-end <time|Nf>', 'video: stop before this point (same forms)')
    .option('--detect-every <n|auto>', 'video: run the face detector every n frames and track in between (default: auto)')
    .option('--no-smoothing', 'video: do not smooth landmarks between frames')
    .option('--smoothing-min-cutoff <hz>', `video: One Euro minimum cut-off; lower is steadier (default: ${DEFAULT_ONE_EURO.minCutoff})`)
    .option('--smoothing-beta <b>', `video: One Euro speed coefficient; higher follows fast motion sooner (default: ${DEFAULT_ONE_EURO.beta})`)
    .option('--max-missed <n>', `video: frames a lost face keeps its track (default: ${DEFAULT_VIDEO_FACE_OPTIONS.maxMissed})`)
    .option('--min-face-size <px>', `video: leave faces smaller than this alone (default: ${DEFAULT_VIDEO_FACE_OPTIONS.minFaceSize})`)
    .option('--min-sharpness <v>', `video: leave faces blurrier than this alone; 0 swaps all (default: ${DEFAULT_VIDEO_FACE_OPTIONS.minSharpness})`)
    .option('--no-shot-change', 'video: do not look for cuts (by default a cut drops every track and the new shot is detected afresh)')
    .option('--reference-face <image>', 'video: swap only the person in this photo')
    .option('--similar-face-distance <d>', `video: how close to the reference a face must be, 1 − cosine similarity (default: ${DEFAULT_SIMILAR_FACE_DISTANCE})`)
    .option('--map-faces <map.json>', 'video: swap each person with their own photo, from `liveswap faces scan` (no -s)')
    .option('--ffmpeg <path>', 'video: the ffmpeg binary to use (default: LIVESWAP_FFMPEG, else the bundled one)')
    .option('--no-label', 'leave out the visible "AI-generated" label (recorded in the content credentials and the audit log)')
    .option('--label-text <text>', `the label's text, 1–40 printable ASCII characters (default: "${DEFAULT_LABEL_TEXT}")`)
    .addOption(new Option('--label-corner <corner>', `where the label goes (default: ${DEFAULT_LABEL_OPTIONS.corner})`).choices(LABEL_CORNERS))
    .option('--watermark-key <file>', 'the invisible watermark\'s key (default: made on first use under LIVESWAP_HOME)')
    .option('--sign-cert <file>', 'sign the content credentials with this PEM certificate chain (leaf first) instead of the local one; needs --sign-key')
    .option('--sign-key <file>', 'the PKCS#8 PEM private key of --sign-cert')
    .option('--json', 'print one JSON object with the result (or the error) on stdout; for videos, JSON lines of progress events first')
    .option('--quiet', 'print nothing on success (errors still go to stderr)')
    .action(async (flags: SwapFlags) => run(flags));
}

/** The swap itself, with the terminal and the engine injected so tests can drive it. */
export async function runSwap(
  flags: SwapFlags,
  terminal: Terminal,
  open: (runtime: { provider: ExecutionProvider; threads: number; engine: EngineChoice }) => Promise<NodeSwapper> = openSwapper,
): Promise<void> {
  const started = performance.now();
  const options = swapOptionsFromFlags(flags);
  const runtime = runtimeFromFlags(flags);
  if (isVideoPath(flags.target)) {
    await runVideoSwap(flags, { terminal, open, runtime, options, sources: sourceFiles(flags) });
    return;
  }
  rejectVideoFlags(flags);
  outputFormatFor(flags.output);

  const sources = sourceFiles(flags);
  let t = performance.now();
  const sourceImages = [];
  for (const file of sources) sourceImages.push(await readImage(file, { maxPixels: options.maxPixels }));
  const target = await readImage(flags.target, { maxPixels: options.maxPixels });
  const decode = performance.now() - t;
  await checkOutputPath(flags.output, { inputs: [...sources, flags.target] });
  const provenance = await startProvenance(defaultHome(), provenanceChoicesFromFlags(flags), 'still');

  t = performance.now();
  const swapper = await open({ ...runtime, engine: options.engine });
  const load = performance.now() - t;
  let result: StillResult;
  try {
    const prepared = sources.length === 1 ? sourceImages[0] : await swapper.prepareSources(sourceImages, options, sources);
    result = await swapper.swap(prepared, target, options, { source: sources[0], target: flags.target });
  } finally {
    await swapper.close();
  }

  t = performance.now();
  const published = await provenance.publishImage(flags.output, result.image, {
    kind: 'image',
    sources,
    target: flags.target,
    engine: result.report.engine,
    options: { ...options, label: provenance.label },
  });
  const encode = performance.now() - t;

  const { report } = result;
  const summary: SwapSummary = {
    output: resolve(flags.output),
    engine: report.engine,
    sourceFaces: report.sourceFaces,
    targetFaces: report.targetFaces,
    sourceFaceUsed: report.sourceFaceUsed,
    swappedFaces: report.swappedFaces,
    skippedFaces: report.skippedFaces,
    timings: roundTimings({ decode, load, ...report.timings, encode, total: performance.now() - started }),
    provenance: { watermarkId: published.watermarkId, label: published.label, credentials: published.credentials },
    notices: [...(swapper.notice ? [swapper.notice] : []), ...report.notices, ...(published.notice ? [published.notice] : [])],
  };
  if (flags.json) {
    terminal.out(JSON.stringify(summary));
  } else if (!flags.quiet) {
    for (const notice of summary.notices) terminal.err(`liveswap: note: ${notice}`);
    terminal.out(formatSummary(summary, { source: sources.join(', '), target: flags.target }));
  }
}
