/**
 * The licence gate of `models pull`: a model whose licence forbids commercial use is fetched only
 * after the user accepts that licence, once; acceptances live in `$LIVESWAP_HOME/licences.json`,
 * keyed by model id and a hash of the licence text (a changed text is asked again).
 */

import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import type { ModelEntry } from '../../models/registry.js';
import { writeFileAtomically } from '../files/output.js';

export interface LicenceAcceptance {
  id: string;
  /** SHA-256 of the licence text that was accepted. */
  licenceSha256: string;
  /** ISO 8601 time of acceptance. */
  acceptedAt: string;
}

interface LicenceFile {
  accepted: LicenceAcceptance[];
}

export function licencesPath(home: string): string {
  return join(home, 'licences.json');
}

export function licenceHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The recorded acceptances; an unreadable or malformed file counts as none (the user is asked again). */
export async function readLicenceAcceptances(home: string): Promise<LicenceAcceptance[]> {
  const text = await readFile(licencesPath(home), 'utf8').catch(() => undefined);
  if (text === undefined) return [];
  try {
    const parsed = JSON.parse(text) as Partial<LicenceFile>;
    return Array.isArray(parsed.accepted) ? parsed.accepted.filter((a) => typeof a?.id === 'string' && typeof a.licenceSha256 === 'string') : [];
  } catch {
    return [];
  }
}

function isAccepted(entry: ModelEntry, accepted: readonly LicenceAcceptance[]): boolean {
  const hash = licenceHash(entry.licence);
  return accepted.some((a) => a.id === entry.id && a.licenceSha256 === hash);
}

async function recordAcceptances(home: string, entries: readonly ModelEntry[], previous: readonly LicenceAcceptance[]): Promise<void> {
  const ids = new Set(entries.map((e) => e.id));
  const acceptedAt = new Date().toISOString();
  const accepted = [...previous.filter((a) => !ids.has(a.id)), ...entries.map((e) => ({ id: e.id, licenceSha256: licenceHash(e.licence), acceptedAt }))];
  await mkdir(home, { recursive: true });
  await writeFileAtomically(licencesPath(home), new TextEncoder().encode(`${JSON.stringify({ accepted }, null, 2)}\n`));
}

export interface LicenceGateOptions {
  /** Accept every licence shown (the `--accept-license` flag). */
  acceptLicense?: boolean;
  /** Asks the user a yes/no question; given by the CLI on a terminal. */
  confirm?: (question: string) => Promise<boolean>;
}

/**
 * Makes sure every non-commercial entry in `entries` has an accepted licence, asking once per
 * distinct licence text when a prompt is available. Throws a `usage` error when acceptance is missing.
 */
export async function ensureLicencesAccepted(home: string, entries: readonly ModelEntry[], options: LicenceGateOptions): Promise<void> {
  const previous = await readLicenceAcceptances(home);
  const pending = entries.filter((e) => e.nonCommercial && !isAccepted(e, previous));
  if (pending.length === 0) return;
  if (!options.acceptLicense) {
    const byText = new Map<string, ModelEntry[]>();
    for (const entry of pending) byText.set(entry.licence, [...(byText.get(entry.licence) ?? []), entry]);
    for (const [text, group] of byText) {
      const ids = group.map((e) => e.id).join(', ');
      const question = `${ids}: ${text}\nAccept this licence for ${ids}?`;
      const yes = options.confirm ? await options.confirm(question) : false;
      if (!yes) {
        throw new LiveswapError(
          'usage',
          `The licence of ${ids} was not accepted: ${text} Run again with --accept-license to accept it (asked once, remembered in ${licencesPath(home)}).`,
        );
      }
    }
  }
  await recordAcceptances(home, pending, previous);
}
