/**
 * `liveswap verify FILE…`: reports each file's content credentials, invisible watermark and
 * visible label, and whether they agree. The exit code says the verdict so scripts can branch:
 * 0 every file is marked, 10 a file carries no mark, 11 a file's credentials were tampered with
 * or contradict its watermark.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import type { Terminal } from './errors.js';
import { addFlags, type FlagsOf } from './option-table.js';
import type { VerifyReport } from '../node/provenance/verify.js';

export const VERIFY_EXIT = { marked: 0, unmarked: 10, tampered: 11 } as const;

export type VerifyFlags = FlagsOf<'verify'>;

export function createVerifyCommand(run: (files: string[], flags: VerifyFlags) => Promise<number>, setExit: (code: number) => void): Command {
  const verify = new Command('verify')
    .description("Check files for liveswap's marks: content credentials, the invisible watermark and the visible label.")
    .argument('<files...>', 'images or videos to check');
  return addFlags(verify, 'verify').action(async (files: string[], flags: VerifyFlags) => setExit(await run(files, flags)));
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

export function formatVerifyReport(r: VerifyReport): string {
  const m = r.manifest;
  const lines = [`${r.file}: ${r.verdict.toUpperCase()}: ${r.summary}`];
  if (m.error && !m.present) lines.push(`  credentials  could not be read: ${m.error}`);
  else if (!m.present) lines.push('  credentials  none');
  else {
    lines.push(`  credentials  present, valid ${yesNo(m.valid)}, trusted signer ${yesNo(m.trusted)}${m.signer?.subject ? ` (${m.signer.subject})` : ''}`);
    const s = m.statement;
    if (s) {
      lines.push(`               ${s.tool ?? '?'} ${s.version ?? ''}, ${s.created ?? 'no time'}, source type ${m.digitalSourceType?.split('/').pop() ?? 'unstated'}`);
      lines.push(
        `               source photo SHA-256 ${(s.sourceSha256 ?? []).join(', ') || 'unstated'}; watermark ${s.watermarkId ?? 'unstated'}; label ${s.label?.shown === false ? 'turned off (--no-label)' : s.label?.text ? `"${s.label.text}"` : 'unstated'}`,
      );
    }
    for (const p of m.problems) lines.push(`               problem: ${p.code}${p.explanation ? `: ${p.explanation}` : ''}`);
  }
  const w = r.watermark;
  if (!w.checked) lines.push('  watermark    not checked: no key (make one by running a swap, or give --watermark-key)');
  else if (w.found)
    lines.push(
      `  watermark    found: ${w.watermarkId} (format ${w.version}), p = ${w.pValue.toExponential(2)}, from ${w.framesUsed} of ${w.framesRead} frame(s)${w.bitsCorrected ? `, ${w.bitsCorrected} weak bit(s) corrected` : ''}`,
    );
  else lines.push(`  watermark    not found in ${w.framesRead} frame(s)`);
  lines.push(`  label        ${r.label.found ? `"${r.label.text}" at ${r.label.corner}` : 'none found'}`);
  if (r.agree !== undefined) lines.push(`  agreement    ${r.agree ? 'the credentials and the watermark name the same id' : 'the credentials and the watermark disagree'}`);
  return lines.join('\n');
}

export async function runVerify(files: string[], flags: VerifyFlags, terminal: Terminal, home?: string): Promise<number> {
  const { defaultHome } = await import('../node/models/model-cache.js');
  const { existingWatermarkKey } = await import('../node/provenance/output-provenance.js');
  const { verifyFile } = await import('../node/provenance/verify.js');
  const { parseWholeNumber } = await import('./flags.js');
  const root = home ?? defaultHome();
  const maxFrames = parseWholeNumber('--max-frames', flags.maxFrames);
  const key = await existingWatermarkKey(root, flags.watermarkKey);
  const localCa = await readFile(join(root, 'provenance', 'signer', 'ca.pem'), 'utf8').catch(() => undefined);
  const trustAnchors = [...(localCa ? [localCa] : [])];
  const { MIB, readInputFile } = await import('../node/files/input-file.js');
  for (const file of flags.trust ?? []) {
    // A CA certificate is a few kilobytes; a FIFO or a device is refused before it is opened.
    trustAnchors.push((await readInputFile(file, 'trusted certificate', { maxBytes: MIB })).toString('utf8'));
  }
  let code: number = VERIFY_EXIT.marked;
  for (const file of files) {
    const report = await verifyFile(file, { ...(key ? { key } : {}), trustAnchors, ...(maxFrames ? { maxFrames } : {}) });
    terminal.out(flags.json ? JSON.stringify(report) : formatVerifyReport(report));
    if (report.verdict === 'tampered' || report.verdict === 'mismatch') code = VERIFY_EXIT.tampered;
    else if (report.verdict === 'unmarked' && code === VERIFY_EXIT.marked) code = VERIFY_EXIT.unmarked;
  }
  return code;
}
