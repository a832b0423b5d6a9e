/**
 * Consent: the statement a caller of the HTTP API accepts before a face is used, and the records
 * of who attested what, appended to `<home>/service/consents.jsonl` (mode 0600). A record holds
 * hashes of the photos, never the photos; records are kept when the identity is deleted.
 */

import { createHash, randomBytes } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LiveswapError } from '../../core/errors.js';
import { withLockFile } from '../files/lock-file.js';
import { ensurePrivateDir, serviceDir } from './state-files.js';
import type { ConsentRecord, ConsentStatement, ConsentStore, ConsentSubject } from './types.js';

/** Raise with every change of the text: records name the version they agreed to. */
export const CONSENT_STATEMENT_VERSION = '2026-12-01';

export const CONSENT_STATEMENT_TEXT = [
  'Before you upload a photo of a face, confirm the following.',
  '',
  '1. The person whose face is in the photos is you, or that person has given you permission to use their face in this way: to make images and videos in which their face replaces the face of someone else.',
  '2. You will not use the results to deceive, defraud, harass or defame anyone, to impersonate a person without their permission, or to make sexual content of anyone.',
  '3. Every image and video this service makes is labelled as AI-generated, carries an invisible watermark, and is logged with the time, your token, your IP address and fingerprints (SHA-256) of the photos and of the result. The log never holds the photos themselves.',
  '4. Some jurisdictions require the separate, explicit consent of the person depicted before their face is edited (for example, Art. 14 of the Provisions on the Administration of Deep Synthesis of Internet Information Services in China, and data-protection law on biometric data in the EU). You are responsible for obtaining it where it is required.',
  '5. Faces the operator has registered as protected are refused. You can delete an identity at any time; this removes its photos, while this consent record (with fingerprints only) is kept as evidence of the attestation.',
].join('\n');

/** The SHA-256 (hex) of a statement text, as clients can check it. */
export function statementHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The statement in force. */
export const CONSENT_STATEMENT: ConsentStatement = Object.freeze({
  version: CONSENT_STATEMENT_VERSION,
  text: CONSENT_STATEMENT_TEXT,
  sha256: statementHash(CONSENT_STATEMENT_TEXT),
});

export const CONSENT_SUBJECTS: readonly ConsentSubject[] = ['self', 'other-with-permission'];

export function consentsFilePath(home: string): string {
  return join(serviceDir(home), 'consents.jsonl');
}

/** A consent id: `c_` and 22 URL-safe characters (128 random bits). */
export function newConsentId(): string {
  return `c_${randomBytes(16).toString('base64url')}`;
}

function checkFields(fields: Omit<ConsentRecord, 'consentId' | 'time'>, statement: ConsentStatement): void {
  if (fields.attested !== true) throw new LiveswapError('usage', 'Consent must be attested (attested: true).');
  if (!CONSENT_SUBJECTS.includes(fields.subject))
    throw new LiveswapError('usage', `Expected a consent subject of ${CONSENT_SUBJECTS.join(' or ')}, not ${JSON.stringify(fields.subject)}.`);
  if (fields.statementVersion !== statement.version || fields.statementSha256 !== statement.sha256) {
    throw new LiveswapError(
      'usage',
      `The consent names statement ${fields.statementVersion}, but the statement in force is ${statement.version} (sha256 ${statement.sha256}); show it again.`,
    );
  }
  if (!fields.sourceSha256.every((h) => /^[0-9a-f]{64}$/.test(h))) throw new LiveswapError('usage', 'Consent source hashes must be SHA-256 in hex.');
}

/**
 * The consent records of one home. Appends are serialised by a lock file (one line each, whole);
 * `get` reads the file, skipping damaged lines.
 */
export class FileConsentStore implements ConsentStore {
  private constructor(
    readonly path: string,
    private readonly current: ConsentStatement,
  ) {}

  static async open(home: string, statement: ConsentStatement = CONSENT_STATEMENT): Promise<FileConsentStore> {
    await ensurePrivateDir(serviceDir(home));
    return new FileConsentStore(consentsFilePath(home), statement);
  }

  statement(): ConsentStatement {
    return this.current;
  }

  async record(fields: Omit<ConsentRecord, 'consentId' | 'time'>): Promise<ConsentRecord> {
    checkFields(fields, this.current);
    const record: ConsentRecord = { consentId: newConsentId(), time: new Date().toISOString(), ...fields, sourceSha256: [...fields.sourceSha256] };
    await withLockFile(
      `${this.path}.lock`,
      async () => {
        try {
          await appendFile(this.path, `${JSON.stringify(record)}\n`, { mode: 0o600 });
        } catch (cause) {
          throw new LiveswapError('output', `Cannot append to ${this.path}: ${(cause as Error).message}. Nothing was recorded.`, { file: this.path, cause });
        }
      },
      { what: 'the consent records' },
    );
    return record;
  }

  async get(consentId: string): Promise<ConsentRecord | undefined> {
    for (const record of await this.all()) if (record.consentId === consentId) return record;
    return undefined;
  }

  /** Every readable record, oldest first. */
  async all(): Promise<ConsentRecord[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new LiveswapError('input-unreadable', `Cannot read ${this.path}: ${(cause as Error).message}.`, { file: this.path, cause });
    }
    const records: ConsentRecord[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const value = JSON.parse(line) as ConsentRecord;
        if (typeof value.consentId === 'string' && value.attested === true) records.push(value);
      } catch {
        // A damaged line (a crash mid-write) is skipped.
      }
    }
    return records;
  }
}
