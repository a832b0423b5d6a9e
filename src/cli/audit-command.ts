/**
 * `liveswap audit`: lists the audit log (one line per output liveswap made, and per request of the
 * HTTP API), newest last, with filters by time, kind, watermark id, file or hash; `--verify`
 * checks the log's hash chain.
 */

import { basename, resolve } from 'node:path';
import { Command } from 'commander';
import { EXIT_CODES, invalidOption } from '../core/errors.js';
import type { AuditEntry } from '../node/provenance/output-provenance.js';
import type { Terminal } from './errors.js';
import { parseWholeNumber } from './flags.js';
import { addFlags, type FlagsOf } from './option-table.js';

export type AuditFlags = FlagsOf<'audit'>;

export function createAuditCommand(run: (flags: AuditFlags) => Promise<void>): Command {
  return addFlags(new Command('audit'), 'audit')
    .description('List what liveswap made: the audit log under LIVESWAP_HOME, one entry per output; --verify checks its hash chain.')
    .action(async (flags: AuditFlags) => run(flags));
}

/** The exit code of `audit --verify` when the log is not intact (the code of `input-unreadable`). */
export const AUDIT_TAMPERED_EXIT = EXIT_CODES['input-unreadable'];

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

/** The request behind a service entry, on one line: outcome, token, ip, route and the ids it names. */
function formatService(service: NonNullable<AuditEntry['service']>): string {
  const parts = [
    service.outcome,
    service.tokenName !== undefined || service.tokenId !== undefined ? `token ${service.tokenName ?? '?'}${service.tokenId ? ` (${service.tokenId})` : ''}` : undefined,
    service.ip !== undefined ? `ip ${service.ip}` : undefined,
    service.route,
    service.identityId !== undefined ? `identity ${service.identityId}` : undefined,
    service.jobId !== undefined ? `job ${service.jobId}${service.attempt !== undefined ? ` attempt ${service.attempt}` : ''}` : undefined,
    service.consentId !== undefined ? `consent ${service.consentId}` : undefined,
    service.requestId !== undefined ? `request ${service.requestId}` : undefined,
    service.reason !== undefined ? `reason: ${service.reason}` : undefined,
  ];
  return parts.filter((p) => p !== undefined).join('  ');
}

export function formatAuditEntry(e: AuditEntry): string {
  const short = (f: { file?: string; sha256: string }) => `${f.file ? basename(f.file) : '?'} ${f.sha256.slice(0, 12)}…`;
  const sources = e.sources.map(short).join(', ') || '-';
  const service = e.service ? `\n    service ${formatService(e.service)}` : '';
  if (e.kind === 'identity' || e.kind === 'refusal' || (e.kind === 'job' && !e.output)) {
    // Not an output: what was asked, by whom, and how it ended.
    return `${e.time}  ${e.kind.padEnd(14)} by ${e.user}${service}${e.sources.length ? `\n    source ${sources}` : ''}${e.target ? `\n    target ${short(e.target)}` : ''}`;
  }
  const label = e.label.shown ? `label "${e.label.text ?? ''}"` : 'NO LABEL';
  const output = e.output ? `${e.output.file ?? '?'} (sha256 ${e.output.sha256.slice(0, 12)}…)` : '-';
  return `${e.time}  ${e.kind.padEnd(14)} watermark ${e.watermarkId}  ${label}  credentials ${e.credentials}  by ${e.user}${service}\n    output ${output}\n    source ${sources}${e.target ? `\n    target ${short(e.target)}` : ''}`;
}

/**
 * `--verify`: checks the chain and prints the verdict (a JSON object with --json); a log that is
 * not intact sets exit code {@link AUDIT_TAMPERED_EXIT} and names the first bad line.
 */
async function runAuditVerify(flags: AuditFlags, terminal: Terminal, home: string, setExit: (code: number) => void): Promise<void> {
  const { verifyAudit } = await import('../node/provenance/output-provenance.js');
  const result = await verifyAudit(home);
  if (!result.ok) setExit(AUDIT_TAMPERED_EXIT);
  if (flags.json) {
    terminal.out(JSON.stringify(result));
    return;
  }
  for (const p of result.problems) terminal.out(`line ${p.line}: ${p.reason}`);
  const unchained = result.unchained ? `; ${result.unchained} older line(s) from before the chain are not checked` : '';
  if (result.ok) terminal.err(`liveswap: the audit log ${result.path} is intact: ${result.lines} line(s)${unchained}`);
  else
    terminal.err(
      `liveswap: the audit log ${result.path} is NOT intact: first at line ${result.problems[0]!.line} (${result.problems.length} problem(s) in ${result.lines} line(s))${unchained}`,
    );
}

export async function runAudit(flags: AuditFlags, terminal: Terminal, home?: string, setExit: (code: number) => void = () => undefined): Promise<void> {
  const { defaultHome } = await import('../node/models/model-cache.js');
  if (flags.verify) return runAuditVerify(flags, terminal, home ?? defaultHome(), setExit);
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
