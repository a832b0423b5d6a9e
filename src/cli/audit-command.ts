/**
 * `liveswap audit`: lists the audit log (one line per output liveswap made), newest last, with
 * filters by time, kind, watermark id, file or hash.
 */

import { basename, resolve } from 'node:path';
import { Command } from 'commander';
import { invalidOption } from '../core/errors.js';
import type { AuditEntry } from '../node/provenance/output-provenance.js';
import type { Terminal } from './errors.js';
import { parseWholeNumber } from './flags.js';
import { addFlags, type FlagsOf } from './option-table.js';

export type AuditFlags = FlagsOf<'audit'>;

export function createAuditCommand(run: (flags: AuditFlags) => Promise<void>): Command {
  return addFlags(new Command('audit'), 'audit')
    .description('List what liveswap made: the audit log under LIVESWAP_HOME, one entry per output.')
    .action(async (flags: AuditFlags) => run(flags));
}

function parseTime(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const t = Date.parse(raw);
  if (!Number.isFinite(t)) throw invalidOption(flag, 'a date or date-time such as 2026-11-01 or 2026-11-01T12:00:00Z', raw);
  return t;
}

/** The entries matching every filter given. */
export function filterAudit(entries: readonly AuditEntry[], flags: AuditFlags): AuditEntry[] {
  const since = parseTime('--since', flags.since);
  const until = parseTime('--until', flags.until);
  const watermark = flags.watermark?.trim().toLowerCase();
  if (watermark !== undefined && !/^[0-9a-f]{8}$/.test(watermark)) throw invalidOption('--watermark', 'a watermark id of 8 hex digits', flags.watermark);
  const sha = flags.sha256?.trim().toLowerCase();
  if (sha !== undefined && !/^[0-9a-f]{4,64}$/.test(sha)) throw invalidOption('--sha256', 'a SHA-256 in hex (at least 4 digits)', flags.sha256);
  const file = flags.file !== undefined ? resolve(flags.file) : undefined;
  const limit = parseWholeNumber('--limit', flags.limit);
  const files = (e: AuditEntry) => [...e.sources, ...(e.target ? [e.target] : []), ...(e.output ? [e.output] : [])];
  const matching = entries.filter((e) => {
    const t = Date.parse(e.time);
    if (since !== undefined && !(t >= since)) return false;
    if (until !== undefined && !(t < until)) return false;
    if (flags.kind !== undefined && e.kind !== flags.kind) return false;
    if (watermark !== undefined && e.watermarkId !== watermark) return false;
    if (file !== undefined && !files(e).some((f) => f.file === file)) return false;
    if (sha !== undefined && !files(e).some((f) => f.sha256.startsWith(sha))) return false;
    return true;
  });
  return limit !== undefined ? matching.slice(Math.max(0, matching.length - limit)) : matching;
}

export function formatAuditEntry(e: AuditEntry): string {
  const label = e.label.shown ? `label "${e.label.text ?? ''}"` : 'NO LABEL';
  const output = e.output ? `${e.output.file ?? '?'} (sha256 ${e.output.sha256.slice(0, 12)}…)` : '-';
  const sources = e.sources.map((s) => `${s.file ? basename(s.file) : '?'} ${s.sha256.slice(0, 12)}…`).join(', ') || '-';
  return `${e.time}  ${e.kind.padEnd(14)} watermark ${e.watermarkId}  ${label}  credentials ${e.credentials}  by ${e.user}\n    output ${output}\n    source ${sources}${e.target ? `\n    target ${e.target.file ? basename(e.target.file) : '?'} ${e.target.sha256.slice(0, 12)}…` : ''}`;
}

export async function runAudit(flags: AuditFlags, terminal: Terminal, home?: string): Promise<void> {
  const { defaultHome } = await import('../node/models/model-cache.js');
  const { readAudit } = await import('../node/provenance/output-provenance.js');
  const { entries, damaged, path } = await readAudit(home ?? defaultHome());
  const shown = filterAudit(entries, flags);
  if (flags.json) {
    for (const e of shown) terminal.out(JSON.stringify(e));
  } else {
    for (const e of shown) terminal.out(formatAuditEntry(e));
    terminal.err(`liveswap: ${shown.length} of ${entries.length} entries in ${path}${damaged ? `; ${damaged} damaged line(s) skipped` : ''}`);
  }
}
