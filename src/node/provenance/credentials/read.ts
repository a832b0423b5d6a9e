/**
 * Reading: a file's manifest and its validation result (integrity, and trust against the anchors
 * given), with liveswap's statement picked out of untrusted data field by field.
 */

import { stat } from 'node:fs/promises';
import type * as C2pa from '@contentauth/c2pa-node';
import { LiveswapError } from '../../../core/errors.js';
import { PEM_CERTIFICATE } from './certificates.js';
import { loadC2pa, type C2paModule } from './load.js';
import { LIVESWAP_ASSERTION, mimeTypeOf, type ProvenanceStatement } from './manifest.js';

export interface CredentialsReport {
  /** The file carries a C2PA manifest. */
  present: boolean;
  /** Integrity: signature and hashes check out (an untrusted signer alone does not make it invalid). */
  valid: boolean;
  /** The signer chains to one of the given trust anchors. */
  trusted: boolean;
  /** The reader's validation_state: "Invalid", "Valid" or "Trusted". */
  state?: string;
  /** Validation failures; the untrusted-credential note is left out when `valid`. */
  problems: { code: string; explanation?: string }[];
  /** The signing certificate: `subject` is its common name, `organization` its O; C2PA does not report the issuer's name. */
  signer?: { subject?: string; organization?: string; issuer?: string };
  statement?: Partial<ProvenanceStatement>;
  digitalSourceType?: string;
  /** Why the file could not be read at all. */
  error?: string;
}

const UNTRUSTED = 'signingCredential.untrusted';

/** Only the certificate blocks of each anchor (openssl exports carry text around them); none is a usage error. */
function readerSettings(trustAnchors: readonly string[]): string {
  const certificates = trustAnchors.flatMap((anchor, index) => {
    const blocks = anchor.match(PEM_CERTIFICATE);
    if (!blocks) throw new LiveswapError('usage', `Trust anchor ${index + 1} is not a PEM certificate (expected a "-----BEGIN CERTIFICATE-----" block).`);
    return blocks;
  });
  // Never fetch anything over the network while checking a local file.
  const settings: Record<string, unknown> = { verify: { remote_manifest_fetch: false, ocsp_fetch: false } };
  if (certificates.length > 0) settings.trust = { verify_trust_list: true, user_anchors: certificates.join('\n') };
  return JSON.stringify(settings);
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Picks the statement fields with the right types from untrusted manifest data. */
function statementFrom(data: Record<string, unknown> | undefined, generator: Record<string, unknown> | undefined): Partial<ProvenanceStatement> {
  const out: Partial<ProvenanceStatement> = {};
  const tool = text(data?.tool) ?? text(generator?.name);
  const version = text(data?.version) ?? text(generator?.version);
  if (tool !== undefined) out.tool = tool;
  if (version !== undefined) out.version = version;
  if (text(data?.created) !== undefined) out.created = text(data?.created);
  if (Array.isArray(data?.sourceSha256)) out.sourceSha256 = data.sourceSha256.filter((h): h is string => typeof h === 'string');
  if (text(data?.watermarkId) !== undefined) out.watermarkId = text(data?.watermarkId);
  if (text(data?.engine) !== undefined) out.engine = text(data?.engine);
  const label = record(data?.label);
  if (label && typeof label.shown === 'boolean') out.label = text(label.text) === undefined ? { shown: label.shown } : { shown: label.shown, text: text(label.text)! };
  return out;
}

/**
 * Reads and validates the manifest of a file. A file without one gives `present: false`; a file
 * that cannot be read gives `error`. Throws (a `usage` error) only for trust anchors that hold no
 * PEM certificate.
 */
export async function readCredentials(path: string, options: { trustAnchors?: string[] } = {}): Promise<CredentialsReport> {
  const settings = readerSettings(options.trustAnchors ?? []);
  const none = (error?: string): CredentialsReport => ({ present: false, valid: false, trusted: false, problems: [], ...(error === undefined ? {} : { error }) });
  let c2pa: C2paModule;
  try {
    c2pa = await loadC2pa();
  } catch (error) {
    return none(`Cannot read content credentials: ${(error as Error).message}`);
  }
  const fileStat = await stat(path).catch(() => undefined);
  if (!fileStat?.isFile()) return none(`Cannot read content credentials: ${path} does not exist or is not a file.`);
  const mimeType = mimeTypeOf(path);
  let reader: C2pa.Reader | null;
  try {
    reader = await c2pa.Reader.fromAsset(mimeType === undefined ? { path } : { path, mimeType }, settings);
  } catch (error) {
    return none(`Cannot read content credentials from ${path}: ${(error as Error).message}`);
  }
  if (reader === null) return none();

  const store = record(reader.json() as unknown) ?? {};
  const active = record(reader.getActive() as unknown) ?? {};
  const state = text(store.validation_state);
  const statuses = (Array.isArray(store.validation_status) ? store.validation_status : [])
    .map(record)
    .filter((s): s is Record<string, unknown> => s !== undefined && typeof s.code === 'string')
    .map((s) => (text(s.explanation) === undefined ? { code: s.code as string } : { code: s.code as string, explanation: text(s.explanation)! }));
  const integrityProblems = statuses.filter((s) => s.code !== UNTRUSTED);
  const valid = state === 'Valid' || state === 'Trusted' || (state !== undefined && integrityProblems.length === 0);

  const assertions = (Array.isArray(active.assertions) ? active.assertions : []).map(record).filter((a) => a !== undefined);
  const ours = assertions.find((a) => a.label === LIVESWAP_ASSERTION);
  const actions = assertions
    .filter((a) => a.label === 'c2pa.actions' || a.label === 'c2pa.actions.v2')
    .flatMap((a) => {
      const list = record(a.data)?.actions;
      return Array.isArray(list) ? list.map(record) : [];
    });
  const digitalSourceType = text(actions.find((a) => a?.action === 'c2pa.created')?.digitalSourceType);
  const generator = Array.isArray(active.claim_generator_info) ? record(active.claim_generator_info[0]) : undefined;
  const signature = record(active.signature_info);

  const report: CredentialsReport = {
    present: true,
    valid,
    trusted: state === 'Trusted',
    problems: valid ? integrityProblems : statuses,
    statement: statementFrom(record(ours?.data), generator),
  };
  if (state !== undefined) report.state = state;
  if (signature) {
    report.signer = {};
    if (text(signature.common_name) !== undefined) report.signer.subject = text(signature.common_name);
    // c2pa-rs calls the signing certificate's organization "issuer".
    if (text(signature.issuer) !== undefined) report.signer.organization = text(signature.issuer);
  }
  if (digitalSourceType !== undefined) report.digitalSourceType = digitalSourceType;
  return report;
}
