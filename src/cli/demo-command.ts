/**
 * `liveswap demo`: swaps between the bundled photos and into a composed group picture, writing each
 * result and a side-by-side sheet (source | target | result), so a new user sees what it does.
 */

import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { LiveswapError } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { DEMO_PHOTOS, loadDemoPhotos, makeGroupPicture, sideBySide, type DemoPhoto } from '../node/eval/demo-assets.js';
import { defaultHome } from '../node/models/model-cache.js';
import { startProvenance } from '../node/provenance/output-provenance.js';
import { writeImage } from '../node/media/image-io.js';
import { outputError } from '../node/files/output.js';
import type { NodeSwapper } from '../node/jobs/swapper.js';
import { resolveSwapOptions, type SwapOptions } from '../pipeline/options.js';
import type { Terminal } from './errors.js';
import { bundledPhotosDir } from '../node/files/package-info.js';
import { addFlags, CLI_DEFAULTS, type FlagsOf } from './option-table.js';
import { openSwapper } from './swap-command.js';
import { formatTimings, roundTimings } from './summary.js';

export const DEFAULT_DEMO_DIR = CLI_DEFAULTS.demoDir;

export type DemoFlags = FlagsOf<'demo'>;

interface DemoCase {
  name: string;
  source: string;
  target: string;
  options: Partial<SwapOptions>;
  /** Must succeed for the demo to pass; a hard case may find no face and is only reported. */
  required: boolean;
}

const CASES: readonly DemoCase[] = [
  { name: 'astronaut-to-grace_hopper', source: 'astronaut', target: 'grace_hopper', options: {}, required: true },
  { name: 'grace_hopper-to-astronaut', source: 'grace_hopper', target: 'astronaut', options: {}, required: true },
  { name: 'grace_hopper-to-group', source: 'grace_hopper', target: 'group', options: { manyFaces: true }, required: true },
  { name: 'astronaut-to-camera', source: 'astronaut', target: 'camera', options: {}, required: false },
];

export function createDemoCommand(run: (flags: DemoFlags) => Promise<void>): Command {
  return addFlags(new Command('demo'), 'demo')
    .description('Run example swaps on the bundled photos and write the results to a folder.')
    .action(async (flags: DemoFlags) => run(flags));
}

function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : rel;
}

export async function runDemo(flags: DemoFlags, terminal: Terminal, open: () => Promise<NodeSwapper> = openSwapper): Promise<void> {
  const outDir = resolve(flags.out ?? DEFAULT_DEMO_DIR);
  await mkdir(outDir, { recursive: true }).catch((cause: unknown) => {
    throw outputError(join(outDir, 'demo'), cause);
  });

  const photos = await loadDemoPhotos(bundledPhotosDir());
  const photoFile = (name: string): string => join(bundledPhotosDir(), DEMO_PHOTOS[name as DemoPhoto]);
  const home = defaultHome();
  const images: Record<string, Image> = { ...photos, group: await makeGroupPicture(photos.astronaut, photos.grace_hopper) };
  await writeImage(join(outDir, 'group.jpg'), images.group!);
  terminal.out(`Inputs: the bundled photos and a three-face group picture (${shortPath(join(outDir, 'group.jpg'))}).`);

  let t = performance.now();
  const swapper = await open();
  terminal.out(`Models ready in ${Math.round(performance.now() - t)} ms (converted into the model cache on first use); engine: ${swapper.engine}.`);
  if (swapper.notice) terminal.out(`  ${swapper.notice}`);

  let firstFailure: LiveswapError | undefined;
  try {
    for (const [i, demo] of CASES.entries()) {
      const label = `${demo.source} → ${demo.target}`;
      const source = images[demo.source]!;
      const target = images[demo.target]!;
      t = performance.now();
      try {
        const { image, report } = await swapper.swap(source, target, resolveSwapOptions(demo.options), { marks: false }); // marked as it is published
        const total = performance.now() - t;
        const stem = join(outDir, `${String(i + 1).padStart(2, '0')}-${demo.name}`);
        // Every output is marked, the demo's too: label, watermark, credentials and audit line.
        const facts = {
          kind: 'image' as const,
          sources: [photoFile(demo.source)],
          target: demo.target === 'group' ? join(outDir, 'group.jpg') : photoFile(demo.target),
          engine: report.engine,
          options: { demo: demo.name, ...demo.options },
        };
        const sheet = await sideBySide([source, target, image]);
        await (await startProvenance(home, { label: true }, 'still')).publishImage(`${stem}.jpg`, image, facts);
        await (await startProvenance(home, { label: true }, 'still')).publishImage(`${stem}-compare.jpg`, sheet, facts);
        const swapped = report.swappedFaces.length;
        terminal.out(`  ${label}: swapped ${swapped} of ${report.targetFaces.length} face(s) in ${Math.round(total)} ms → ${shortPath(`${stem}.jpg`)}`);
        terminal.out(`      stages: ${formatTimings(roundTimings(report.timings))} (ms)`);
        for (const notice of report.notices) terminal.out(`      note: ${notice}`);
      } catch (error) {
        if (!(error instanceof LiveswapError) || error.kind !== 'no-face') throw error;
        if (demo.required) {
          firstFailure ??= error;
          terminal.err(`  ${label}: failed: ${error.message}`);
        } else {
          terminal.out(`  ${label}: no face found (a hard three-quarter view; this one may fail): ${error.message}`);
        }
      }
    }
  } finally {
    await swapper.close();
  }

  terminal.out(`Results are in ${outDir} (open the *-compare.jpg files: source | target | result).`);
  if (firstFailure) throw firstFailure;
}
