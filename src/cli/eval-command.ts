/**
 * `liveswap eval`: measures an engine on folders of sources and targets (or the built-in set made
 * from the bundled photos) and writes eval.json and report.html with thumbnails.
 */

import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { ENGINES, type EngineChoice } from '../pipeline/options.js';
import type { Terminal } from './errors.js';
import { bundledPhotosDir } from './package-info.js';

export const DEFAULT_EVAL_DIR = 'liveswap-eval';

export interface EvalFlags {
  sources?: string;
  targets?: string;
  engine?: EngineChoice;
  out?: string;
  json?: boolean;
}

export function createEvalCommand(run: (flags: EvalFlags) => Promise<void>): Command {
  return new Command('eval')
    .description('Swap every source onto every target and measure identity, pose, expression, blending and stability.')
    .option('--sources <dir>', 'folder of source photos (default: the bundled photos)')
    .option('--targets <dir>', 'folder of target images and videos (default: augmented copies of the bundled photos and a group picture)')
    .addOption(new Option('--engine <name>', 'which engine swaps (default: auto)').choices(ENGINES))
    .option('--out <dir>', `folder for eval.json, report.html and thumbnails (default: ./${DEFAULT_EVAL_DIR})`)
    .option('--json', 'print the whole report as one JSON object on stdout')
    .action(async (flags: EvalFlags) => run(flags));
}

export async function runEvalCommand(flags: EvalFlags, terminal: Terminal): Promise<void> {
  const { LiveswapError } = await import('../core/errors.js');
  if ((flags.sources === undefined) !== (flags.targets === undefined)) {
    throw new LiveswapError('usage', '--sources and --targets go together: give both folders, or neither for the built-in set.');
  }
  const { builtinEvalSet, readEvalFolders } = await import('../node/eval-set.js');
  const { runEval, writeEvalJson } = await import('../node/eval-runner.js');
  const { writeEvalHtml } = await import('../node/eval-html.js');
  const { createNodeSwapper } = await import('../node/swapper.js');
  const { loadRecogniser } = await import('../node/recogniser.js');
  const { DEFAULT_SWAP_OPTIONS } = await import('../pipeline/options.js');

  const outDir = resolve(flags.out ?? DEFAULT_EVAL_DIR);
  const set =
    flags.sources !== undefined && flags.targets !== undefined
      ? await readEvalFolders(flags.sources, flags.targets, DEFAULT_SWAP_OPTIONS.maxPixels)
      : await builtinEvalSet(bundledPhotosDir(), resolve(outDir, 'clips'));
  const swapper = await createNodeSwapper({ engine: flags.engine ?? 'auto' });
  if (swapper.notice && !flags.json) terminal.err(`liveswap: note: ${swapper.notice}`);
  const recogniser = await loadRecogniser();
  try {
    const report = await runEval(set, swapper, recogniser, {
      engine: flags.engine ?? 'auto',
      outDir,
      onPair: flags.json ? undefined : (p, done, total) => terminal.err(`  [${done}/${total}] ${p.source} → ${p.target}${p.skipped ? `: skipped (${p.skipped})` : ''}`),
    });
    const jsonPath = await writeEvalJson(outDir, report);
    const htmlPath = await writeEvalHtml(outDir, report);
    if (flags.json) {
      terminal.out(JSON.stringify(report, (_, v) => (v === Infinity ? 'Infinity' : v)));
      return;
    }
    const { formatEvalSummary } = await import('./eval-summary.js');
    terminal.out(formatEvalSummary(report));
    terminal.out(`Report: ${htmlPath}\nFigures: ${jsonPath}`);
  } finally {
    await Promise.all([swapper.close(), recogniser.close()]);
  }
}
