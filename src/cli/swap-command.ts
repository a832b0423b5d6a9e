/**
 * `liveswap swap`: one source photo onto one target image. Everything that can be checked cheaply
 * (flags, files, output folder) is checked before the models are loaded.
 */

import { Command } from 'commander';
import type { OpenSwapper } from '../node/jobs/image-job.js';
import type { NodeSwapper } from '../node/jobs/swapper.js';
import type { EngineChoice, ExecutionProvider } from '../pipeline/options.js';
import type { Terminal } from './errors.js';
import { runtimeFromFlags, sourceFiles, swapOptionsFromFlags, type SwapFlags } from './flags.js';
import { formatSummary, roundTimings, type SwapSummary } from './summary.js';
import { isVideoPath, rejectVideoFlags, runVideoSwap } from './video-command.js';
import { addFlags } from './option-table.js';
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

/**
 * The swap itself, with the terminal and the engine injected so tests can drive it: flags → spec →
 * plan → run → print. `signal` is main's Ctrl-C/SIGTERM: aborting it stops the job with nothing saved.
 */
export async function runSwap(flags: SwapFlags, terminal: Terminal, open: OpenSwapper = openSwapper, signal?: AbortSignal): Promise<void> {
  const options = swapOptionsFromFlags(flags);
  const runtime = runtimeFromFlags(flags);
  if (isVideoPath(flags.target)) {
    await runVideoSwap(flags, { terminal, open, runtime, options, sources: sourceFiles(flags), ...(signal ? { signal } : {}) });
    return;
  }
  rejectVideoFlags(flags);
  const sources = sourceFiles(flags);
  const { planImageJob, runImageJob } = await import('../node/jobs/image-job.js');
  const plan = await planImageJob({ sources, target: flags.target, output: flags.output, paint: options, marks: provenanceChoicesFromFlags(flags), runtime });
  const result = await runImageJob(plan, { open, ...(signal ? { signal } : {}) });
  const { report, published } = result;
  const summary: SwapSummary = {
    output: result.output,
    engine: result.engine,
    sourceFaces: report.sourceFaces,
    targetFaces: report.targetFaces,
    sourceFaceUsed: report.sourceFaceUsed,
    swappedFaces: report.swappedFaces,
    skippedFaces: report.skippedFaces,
    timings: roundTimings(result.timings),
    provenance: { watermarkId: published.watermarkId, label: published.label, credentials: published.credentials },
    notices: result.notices,
  };
  if (flags.json) {
    terminal.out(JSON.stringify(summary));
  } else if (!flags.quiet) {
    for (const notice of summary.notices) terminal.err(`liveswap: note: ${notice}`);
    terminal.out(formatSummary(summary, { source: sources.join(', '), target: flags.target }));
  }
}
