/**
 * `liveswap models`: list, pull (by id or by feature), verify and import the downloadable models
 * (insightface's and FaceFusion's: swappers, converters, enhancers, parsers, occluders), and print
 * the folder they live in. Each subcommand prints a table, or one JSON object.
 */

import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { LiveswapError } from '../core/errors.js';
import { INSWAPPER_ENGINE_MODELS, modelsForFeature } from '../models/registry.js';
import { pullModels, type PullProgress } from '../node/models/model-pull.js';
import { formatBytes, ModelStore, type ModelStatus } from '../node/models/model-store.js';
import type { Terminal } from './errors.js';
import { addFlags, type FlagsOf } from './option-table.js';

/** Where progress goes (stderr by default): a redrawn bar on a terminal, else a line a second. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export interface ModelsCommandDeps {
  store?: () => ModelStore;
  progress?: ProgressStream;
  /** The yes/no prompt of the licence gate; by default asked on a terminal, absent otherwise. */
  confirm?: (question: string) => Promise<boolean>;
  now?: () => number;
}

/** Every models subcommand takes --json only (pull also --accept-license). */
type JsonFlag = FlagsOf<'models list'>;

async function askOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

function defaultConfirm(): ((question: string) => Promise<boolean>) | undefined {
  return process.stdin.isTTY && process.stderr.isTTY ? askOnTerminal : undefined;
}

/** Renders pull progress: percentage, megabytes and speed, throttled. */
export function progressReporter(stream: ProgressStream, now: () => number): { update(p: PullProgress): void; end(): void } {
  const tty = stream.isTTY === true;
  let key = '';
  let started = 0;
  let shown = -Infinity;
  let open = false;
  const line = (p: PullProgress, t: number): string => {
    const seconds = Math.max(1e-3, (t - started) / 1000);
    const speed = `${(p.receivedBytes / 1e6 / seconds).toFixed(1)} MB/s`;
    const total = p.totalBytes;
    const percent = total ? Math.min(100, (100 * p.receivedBytes) / total) : undefined;
    const amount = total ? `${formatBytes(p.receivedBytes)} of ${formatBytes(total)}` : formatBytes(p.receivedBytes);
    const bar = percent === undefined ? '' : `[${'#'.repeat(Math.round(percent / 5)).padEnd(20, '.')}] `;
    const pct = percent === undefined ? '' : `${percent.toFixed(0).padStart(3)}% `;
    return `${p.id} ${p.phase} ${tty ? bar : ''}${pct}${amount}${p.phase === 'download' ? `, ${speed}` : ''}`;
  };
  return {
    update(p) {
      const t = now();
      const k = `${p.id}|${p.phase}|${p.url}`;
      if (k !== key) {
        if (open && tty) stream.write('\n');
        key = k;
        started = t;
        shown = -Infinity;
      }
      const finished = p.totalBytes !== undefined && p.receivedBytes >= p.totalBytes;
      if (t - shown < (tty ? 100 : 1000) && !finished) return;
      shown = t;
      open = true;
      stream.write(tty ? `\r${line(p, t)}\u001b[K` : `${line(p, t)}\n`);
    },
    end() {
      if (open && tty) stream.write('\n');
      open = false;
    },
  };
}

/**
 * A licence text's terms in a few words: what follows the model's name up to the first bracket
 * ("Apache-2.0", "non-commercial research use only"); `--json` gives the whole text.
 */
export function licenceSummary(text: string): string {
  const afterName = text.includes(': ') ? text.slice(text.indexOf(': ') + 2) : text;
  return afterName.split(/ \(|;|\.(?:\s|$)/)[0]!.trim();
}

function sizeOf(r: ModelStatus): string {
  if (r.bytes !== null) return formatBytes(r.bytes);
  if (r.expectedBytes !== null) return formatBytes(r.expectedBytes);
  return r.approxBytes !== null ? `~${formatBytes(r.approxBytes)}` : '?';
}

function statusTable(folder: string, rows: readonly ModelStatus[]): string {
  const lines = rows.map((r) => {
    const summary = licenceSummary(r.licence);
    const terms = r.nonCommercial && !/non-commercial/i.test(summary) ? `non-commercial: ${summary}` : summary;
    return `${r.id.padEnd(24)} ${r.file.padEnd(28)} ${r.state.padEnd(10)} ${sizeOf(r).padStart(10)}  ${r.hash.padEnd(6)}  ${r.role.padEnd(18)} ${terms}${r.problem ? `  (${r.problem})` : ''}`;
  });
  const head = `${'id'.padEnd(24)} ${'file'.padEnd(28)} ${'state'.padEnd(10)} ${'size'.padStart(10)}  ${'hash'.padEnd(6)}  ${'role'.padEnd(18)} licence`;
  return [head, ...lines, `folder: ${folder}`].join('\n');
}

function publicStatus(r: ModelStatus): Record<string, unknown> {
  return { ...r, problem: r.problem ?? null };
}

export function createModelsCommand(terminal: Terminal, deps: ModelsCommandDeps = {}): Command {
  const store = deps.store ?? (() => new ModelStore());
  const models = new ModelsCommand('models').description('List, download, verify and import the models: swappers, converters, enhancers, face parsers and occluders.');
  addFlags(models.command('list').description('show each model: role, installed/missing/damaged/unverified, size, hash kind (sha256 or crc32), licence'), 'models list').action(
    async (flags: JsonFlag) => {
      const s = store();
      const rows = await s.status();
      if (flags.json) terminal.out(JSON.stringify({ folder: s.folder, models: rows.map(publicStatus) }));
      else terminal.out(statusTable(s.folder, rows));
    },
  );
  const pull = models
    .command('pull')
    .description(`download models by id or by feature (default: ${INSWAPPER_ENGINE_MODELS.join(', ')}); checks each SHA-256, or FaceFusion's CRC-32 and records the SHA-256`)
    .argument('[ids...]', 'model ids (see `liveswap models list`)');
  addFlags(pull, 'models pull').action(async (ids: string[], flags: FlagsOf<'models pull'>) => {
    const reporter = progressReporter(deps.progress ?? process.stderr, deps.now ?? Date.now);
    try {
      const models = store();
      const wanted = [...ids, ...(flags.for ?? []).flatMap((feature) => modelsForFeature(feature))];
      const results = await pullModels(models, models.entries(wanted.length > 0 ? wanted : INSWAPPER_ENGINE_MODELS), {
        acceptLicense: flags.acceptLicense === true,
        confirm: 'confirm' in deps ? deps.confirm : defaultConfirm(),
        onProgress: (p) => reporter.update(p),
      });
      reporter.end();
      if (flags.json) terminal.out(JSON.stringify({ models: results }));
      else for (const r of results) terminal.out(`${r.id}: ${r.alreadyInstalled ? 'already installed' : `installed from ${r.source}`} (${r.path})`);
    } finally {
      reporter.end();
    }
  });
  const verify = models
    .command('verify')
    .description('re-hash installed models (or the named ones) and report damaged files')
    .argument('[ids...]', 'model ids (default: every installed or damaged model)');
  addFlags(verify, 'models verify').action(async (ids: string[], flags: JsonFlag) => {
    const s = store();
    const all = await s.verify(ids);
    const rows = ids.length > 0 ? all : all.filter((r) => r.state !== 'missing');
    const bad = rows.filter((r) => r.state !== 'installed');
    if (bad.length > 0) {
      const what = bad.map((r) => `${r.id} is ${r.state}${r.problem ? ` (${r.problem})` : ''}`).join('; ');
      if (!flags.json) terminal.out(statusTable(s.folder, rows));
      throw new LiveswapError('model', `${what}. Run \`liveswap models pull ${bad.map((r) => r.id).join(' ')}\` or import the file.`, { file: bad[0]!.path });
    }
    if (flags.json) terminal.out(JSON.stringify({ folder: s.folder, models: rows.map(publicStatus) }));
    else terminal.out(rows.length > 0 ? statusTable(s.folder, rows) : `No models installed in ${s.folder}.`);
  });
  const importFiles = models
    .command('import')
    .description('install model files you already have; each is recognised by its SHA-256')
    .argument('<files...>', 'model files (any names)');
  addFlags(importFiles, 'models import').action(async (files: string[], flags: JsonFlag) => {
    const results = await store().importFiles(files);
    if (flags.json) terminal.out(JSON.stringify({ models: results }));
    else for (const r of results) terminal.out(`${r.id}: imported ${r.from} → ${r.path}`);
  });
  addFlags(models.command('path').description('print the folder that holds the installed models'), 'models path').action((flags: JsonFlag) => {
    const folder = store().folder;
    terminal.out(flags.json ? JSON.stringify({ folder }) : folder);
  });
  return models;
}

/** Passes the program's exit override and output settings on to the subcommands as well. */
class ModelsCommand extends Command {
  override copyInheritedSettings(source: Command): this {
    super.copyInheritedSettings(source);
    for (const sub of this.commands) sub.copyInheritedSettings(this);
    return this;
  }
}
