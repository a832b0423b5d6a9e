/**
 * `liveswap eval`: measures an engine on a folder of people (sources and galleries) with group
 * photos, on folders of sources and targets, or on the built-in set made from the bundled photos,
 * and writes eval.json and report.html with thumbnails. `--ablate` runs the stills once per
 * variant of the mesh engine's settings and adds a table of the differences.
 */

import { resolve } from 'node:path';
import { Command } from 'commander';
import { invalidOption, LiveswapError } from '../core/errors.js';
import { RECOGNISERS, type RecogniserId } from '../eval/recognisers.js';
import { STILL_DEFAULTS, type EngineChoice } from '../pipeline/options.js';
import { addFlags, CLI_DEFAULTS, type FlagsOf } from './option-table.js';
import type { Terminal } from './errors.js';
import { parseWholeNumber } from './flags.js';
import { bundledPhotosDir } from '../node/files/package-info.js';

export const DEFAULT_EVAL_DIR = CLI_DEFAULTS.evalDir;

export type EvalFlags = FlagsOf<'eval'>;

export function createEvalCommand(run: (flags: EvalFlags) => Promise<void>): Command {
  return addFlags(new Command('eval'), 'eval')
    .description('Swap every source onto every target and measure identity, pose, expression, blending and stability.')
    .action(async (flags: EvalFlags) => run(flags));
}

/** `--recognisers faceres,mobileface` → ids in RECOGNISERS order; unknown or empty is a usage error. */
export function parseRecognisers(value: string | undefined): RecogniserId[] {
  if (value === undefined) return [...RECOGNISERS];
  const names = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const unknown = names.filter((n) => !(RECOGNISERS as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length) throw invalidOption('--recognisers', `a comma-separated list of ${RECOGNISERS.join(', ')}`, value);
  return RECOGNISERS.filter((r) => names.includes(r));
}

/** Which set the flags ask for; throws a usage error for flags that do not go together. */
export function evalMode(flags: EvalFlags): 'gallery' | 'folders' | 'builtin' {
  if ((flags.sources === undefined) !== (flags.targets === undefined)) {
    throw new LiveswapError('usage', '--sources and --targets go together: give both folders, or neither for the built-in set.');
  }
  if (flags.people !== undefined && flags.sources !== undefined) {
    throw new LiveswapError('usage', '--people replaces --sources and --targets: give one or the other.');
  }
  if (flags.groups !== undefined && flags.people === undefined) throw new LiveswapError('usage', '--groups needs --people (the galleries its faces are compared with).');
  gallerySplit(flags);
  if (flags.ablate && flags.engine === 'inswapper') throw new LiveswapError('usage', "--ablate varies the mesh engine's settings: use --engine mesh (or leave --engine out).");
  return flags.people !== undefined ? 'gallery' : flags.sources !== undefined ? 'folders' : 'builtin';
}

/**
 * `--source-photos n` and `--gallery-from k` read and checked: n at least 1, k at least n (no
 * source photo in a gallery), both only with --people.
 */
export function gallerySplit(flags: EvalFlags): { sourcePhotos?: number; galleryFrom?: number } {
  const sourcePhotos = parseWholeNumber('--source-photos', flags.sourcePhotos);
  const galleryFrom = parseWholeNumber('--gallery-from', flags.galleryFrom);
  if ((sourcePhotos !== undefined || galleryFrom !== undefined) && flags.people === undefined) {
    throw new LiveswapError('usage', '--source-photos and --gallery-from split each person of --people into sources and gallery: give --people.');
  }
  if (sourcePhotos !== undefined && sourcePhotos < 1) throw invalidOption('--source-photos', 'a whole number of photos, at least 1', String(sourcePhotos));
  if (galleryFrom !== undefined && galleryFrom < (sourcePhotos ?? 1)) {
    throw new LiveswapError('usage', `--gallery-from ${galleryFrom} would put source photos in the gallery: give at least --source-photos (${sourcePhotos ?? 1}).`);
  }
  return { sourcePhotos, galleryFrom };
}

export async function runEvalCommand(flags: EvalFlags, terminal: Terminal): Promise<void> {
  const mode = evalMode(flags);
  const recogniserIds = parseRecognisers(flags.recognisers);
  // The ablation tunes the mesh engine, so `auto` must not pick inswapper there.
  const engine: EngineChoice = flags.ablate ? 'mesh' : (flags.engine ?? STILL_DEFAULTS.paint.engine);
  const { builtinEvalSet, readEvalFolders, readGallerySet } = await import('../node/eval/eval-set.js');
  const { runEval, writeEvalJson } = await import('../node/eval/eval-runner.js');
  const { writeEvalHtml } = await import('../node/eval/eval-html.js');
  const { createNodeSwapper } = await import('../node/jobs/swapper.js');
  const { loadRecognisers } = await import('../node/models/recogniser.js');
  const { DEFAULT_SWAP_OPTIONS } = await import('../pipeline/options.js');
  const { meshAblations } = await import('../swap/mesh-tuning.js');

  const outDir = resolve(flags.out ?? DEFAULT_EVAL_DIR);
  const maxPixels = DEFAULT_SWAP_OPTIONS.maxPixels;
  const set =
    mode === 'gallery'
      ? await readGallerySet(flags.people!, flags.groups, maxPixels, gallerySplit(flags))
      : mode === 'folders'
        ? await readEvalFolders(flags.sources!, flags.targets!, maxPixels)
        : await builtinEvalSet(bundledPhotosDir(), resolve(outDir, 'clips'));
  // Recognisers first: a missing model package fails before any model is loaded for the engine.
  const recognisers = await loadRecognisers(recogniserIds);
  const swapper = await createNodeSwapper({ engine }).catch(async (error: unknown) => {
    await Promise.all(recognisers.map((r) => r.close()));
    throw error;
  });
  if (swapper.notice && !flags.json) terminal.err(`liveswap: note: ${swapper.notice}`);
  const progress = !flags.json;
  let variantStart = performance.now();
  try {
    const report = await runEval(set, swapper, recognisers, {
      engine,
      outDir,
      mode,
      ablations: flags.ablate ? meshAblations() : undefined,
      onPair:
        progress && !flags.ablate ? (p, done, total) => terminal.err(`  [${done}/${total}] ${p.source} → ${p.target}${p.skipped ? `: skipped (${p.skipped})` : ''}`) : undefined,
      onVariant: progress
        ? (name, i, total) => {
            const now = performance.now();
            if (i > 0) terminal.err(`    ${((now - variantStart) / 1000).toFixed(1)} s`);
            variantStart = now;
            terminal.err(`  variant ${i + 1}/${total}: ${name}`);
          }
        : undefined,
    });
    if (progress && flags.ablate) terminal.err(`    ${((performance.now() - variantStart) / 1000).toFixed(1)} s`);
    const jsonPath = await writeEvalJson(outDir, report);
    const htmlPath = await writeEvalHtml(outDir, report);
    const { formatAblationTable } = await import('../node/eval/eval-ablation.js');
    const ablationTable = report.ablation ? formatAblationTable(report.ablation, recogniserIds) : undefined;
    let ablationPath: string | undefined;
    if (ablationTable) {
      const { writeFile } = await import('node:fs/promises');
      ablationPath = resolve(outDir, 'ablation.md');
      await writeFile(ablationPath, `# Mesh engine ablation (${report.pairs.length} pairs per variant)\n\n${ablationTable}\n`);
    }
    if (flags.json) {
      terminal.out(JSON.stringify(report, (_, v: unknown) => (v === Infinity ? 'Infinity' : v)));
      return;
    }
    const { formatEvalSummary } = await import('./eval-summary.js');
    terminal.out(formatEvalSummary(report));
    if (ablationTable) terminal.out(`\nAblation (each variant's change from the defaults in brackets):\n${ablationTable}`);
    terminal.out(`Report: ${htmlPath}\nFigures: ${jsonPath}${ablationPath ? `\nAblation: ${ablationPath}` : ''}`);
  } finally {
    await Promise.all([swapper.close(), ...recognisers.map((r) => r.close())]);
  }
}
