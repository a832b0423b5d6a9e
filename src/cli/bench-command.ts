/**
 * `liveswap bench`: times the swap per stage for still images, a video and a simulated live
 * camera, on frames made from the bundled photos; a table, or one JSON object with --json.
 */

import { Command } from 'commander';
import { invalidOption } from '../core/errors.js';
import { STILL_DEFAULTS } from '../pipeline/options.js';
import { BENCH_MODES, type BenchMode } from '../node/eval/bench-modes.js';
import { addFlags, CLI_DEFAULTS, type FlagsOf } from './option-table.js';
import type { BenchResult } from '../node/eval/bench-runner.js';
import type { Terminal } from './errors.js';
import { bundledPhotosDir } from '../node/files/package-info.js';

export { BENCH_MODES, type BenchMode } from '../node/eval/bench-modes.js';

export type BenchFlags = FlagsOf<'bench'>;

export function createBenchCommand(run: (flags: BenchFlags) => Promise<void>): Command {
  return addFlags(new Command('bench'), 'bench')
    .description('Time the swap stage by stage on images, a video and a simulated live camera.')
    .action(async (flags: BenchFlags) => run(flags));
}

export function parseSize(raw: string | undefined): { width: number; height: number } {
  if (raw === undefined) return { ...CLI_DEFAULTS.benchSize };
  const m = /^\s*(\d+)\s*[x×]\s*(\d+)\s*$/i.exec(raw);
  const width = m ? Number(m[1]) : NaN;
  const height = m ? Number(m[2]) : NaN;
  if (!(width >= 64 && height >= 64 && width <= 7680 && height <= 4320)) throw invalidOption('--size', 'WIDTHxHEIGHT between 64x64 and 7680x4320', raw);
  return { width, height };
}

export function parseModes(raw: string | undefined): BenchMode[] {
  if (raw === undefined) return [...BENCH_MODES];
  const modes = raw
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  for (const m of modes) if (!(BENCH_MODES as readonly string[]).includes(m)) throw invalidOption('--modes', `a list of ${BENCH_MODES.join(', ')}`, raw);
  return modes as BenchMode[];
}

function parseFrames(raw: string | undefined): number {
  if (raw === undefined) return CLI_DEFAULTS.benchFrames;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw invalidOption('--frames', 'a whole number from 1 to 100000', raw);
  return n;
}

export function formatBench(results: readonly BenchResult[], size: string, engine: string): string {
  const lines = [`liveswap bench: ${engine} engine, ${size} frames (milliseconds: min / median / p95)`];
  for (const r of results) {
    lines.push('', `${r.mode}: ${r.frames} frames, ${r.throughputFps.toFixed(1)} frames/s end to end, peak RSS ${r.peakRssMb.toFixed(0)} MiB`);
    for (const [stage, s] of Object.entries(r.stages)) {
      lines.push(`  ${stage.padEnd(8)} ${s.min.toFixed(1).padStart(7)} ${s.median.toFixed(1).padStart(7)} ${s.p95.toFixed(1).padStart(7)}`);
    }
    if (r.live) {
      const l = r.live;
      lines.push(
        `  camera ${l.cameraFps} fps: ${l.produced} frames produced, ${l.dropped} dropped; latency ${l.latency.median.toFixed(1)} ms median, ${l.latency.p95.toFixed(1)} p95`,
      );
    }
  }
  return lines.join('\n');
}

export async function runBenchCommand(flags: BenchFlags, terminal: Terminal): Promise<void> {
  const { width, height } = parseSize(flags.size);
  const frames = parseFrames(flags.frames);
  const modes = parseModes(flags.modes);
  const engine = flags.engine ?? STILL_DEFAULTS.paint.engine;
  const { createNodeSwapper } = await import('../node/jobs/swapper.js');
  const { readImage } = await import('../node/media/image-io.js');
  const runner = await import('../node/eval/bench-runner.js');
  const photos = bundledPhotosDir();
  const swapper = await createNodeSwapper({ engine });
  if (swapper.notice && !flags.json) terminal.err(`liveswap: note: ${swapper.notice}`);
  const source = await swapper.prepareSource(await readImage(`${photos}/astronaut.png`, { maxPixels: 50_000_000 }), { sourceFace: undefined, maxPixels: 50_000_000 });
  const options = { engine, width, height, frames, photos };
  const results: BenchResult[] = [];
  try {
    for (const mode of modes) {
      if (mode === 'image') results.push(await runner.benchImage(swapper, source, options));
      if (mode === 'video') results.push(await runner.benchVideo(swapper, source, options));
      if (mode === 'live') results.push(await runner.benchLive(swapper, source, options));
    }
  } finally {
    await swapper.close();
  }
  const size = `${width}x${height}`;
  if (flags.json) terminal.out(JSON.stringify({ bench: 'liveswap', engine, size, frames, results }));
  else terminal.out(formatBench(results, size, engine));
}
