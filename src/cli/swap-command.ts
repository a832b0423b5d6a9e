/**
 * `liveswap swap`: one source photo onto one target image. Everything that can be checked cheaply
 * (flags, files, output folder) is checked before the models are loaded.
 */

import { resolve } from 'node:path';
import { Command } from 'commander';
import { checkOutputPath } from '../node/files/output.js';
import { outputFormatFor, readImage } from '../node/media/image-io.js';
import type { NodeSwapper } from '../node/jobs/swapper.js';
import type { EngineChoice, ExecutionProvider } from '../pipeline/options.js';
import type { StillResult } from '../pipeline/report.js';
import type { Terminal } from './errors.js';
import { runtimeFromFlags, sourceFiles, swapOptionsFromFlags, type SwapFlags } from './flags.js';
import { formatSummary, roundTimings, type SwapSummary } from './summary.js';
import { isVideoPath, rejectVideoFlags, runVideoSwap } from './video-command.js';
import { addFlags } from './option-table.js';
import { defaultHome } from '../node/models/model-cache.js';
import { startProvenance } from '../node/provenance/output-provenance.js';
import { provenanceChoicesFromFlags } from './flags.js';

/** Loaded on demand so --help, usage errors and input errors never pay for onnxruntime. */
export async function openSwapper(runtime: { provider?: ExecutionProvider; threads?: number; engine?: EngineChoice } = {}): Promise<NodeSwapper> {
  const { createNodeSwapper } = await import('../node/jobs/swapper.js');
  return createNodeSwapper(runtime);
}

export { describeDefault } from './option-table.js';

export function createSwapCommand(run: (flags: SwapFlags) => Promise<void>): Command {
  return addFlags(new Command('swap'), 'swap')
    .description('Put the face from a source photo onto the face(s) in a target image or video.')
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
    result = await swapper.swap(prepared, target, options, { source: sources[0], target: flags.target, marks: provenance.marker });
  } finally {
    await swapper.close();
  }

  t = performance.now();
  const published = await provenance.publishMarkedImage(flags.output, result.image, {
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
