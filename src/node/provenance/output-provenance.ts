/**
 * Provenance on Node: the watermark key and the audit log under LIVESWAP_HOME, and the last step
 * of every output: marks in the frames (see FrameMarker), then content credentials, the audit
 * line, and only then the file at its real name. Nothing is at the output path until all of that
 * worked.
 *
 * Layout under the home folder:
 *   provenance/watermark.key   64 hex digits (32 bytes), made on first use, mode 0600
 *   provenance/signer/         the local signing certificate (see credentials.ts)
 *   audit.jsonl                one JSON object per line, one line per output, hash-chained (`prev`)
 *   audit.jsonl.head           the chain's head: line count, size and hash of the last line
 *   audit.jsonl.lock           held while a process appends
 */

import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, link, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { sha256File } from '../files/hash.js';
import { formatBytes, type InputFile, KIB, openInput } from '../files/input-file.js';
import { LiveswapError } from '../../core/errors.js';
import { checkLabelText, DEFAULT_LABEL_TEXT, LABEL_CORNERS, type LabelCorner, type LabelOptions } from '../../provenance/label.js';
import { LIVE_OUTPUT_KINDS } from '../../pipeline/live-options.js';
import { FrameMarker } from '../../provenance/marks.js';
import { randomAssetId, WATERMARK_VERSION } from '../../provenance/payload.js';
import { WATERMARK_KEY_BYTES } from '../../provenance/watermark.js';
import type { ProvenanceStatement, SignerFiles } from './credentials.js';
import type { Image } from '../../core/image.js';
import { writeImage } from '../media/image-io.js';
import { temporaryPathFor } from '../files/output.js';
import { ownVersion } from '../files/package-info.js';
import { withLockFile } from '../files/lock-file.js';

export const AUDIT_LOG = 'audit.jsonl';

export function watermarkKeyPath(home: string): string {
  return join(home, 'provenance', 'watermark.key');
}

export function auditLogPath(home: string): string {
  return join(home, AUDIT_LOG);
}

/** A key file holds 64 hex digits (whitespace around them allowed) or 32 raw bytes; a larger file is not one and is never read. */
export const KEY_FILE_MAX_BYTES = 4 * KIB;

/**
 * Where a key comes from decides what a bad one is: a file named with --watermark-key is the
 * user's choice (a `usage` error); the key under LIVESWAP_HOME was made by liveswap, so a bad one
 * there is damage (`input-unreadable`), with what to do about it.
 */
type KeySource = 'flag' | 'home';

function notAKey(file: string, source: KeySource, what: string): LiveswapError {
  const must = `it must hold ${WATERMARK_KEY_BYTES * 2} hex digits (or ${WATERMARK_KEY_BYTES} raw bytes)`;
  if (source === 'flag') return new LiveswapError('usage', `The watermark key ${file} is not a key: ${must}${what}.`, { file });
  return new LiveswapError(
    'input-unreadable',
    `The watermark key ${file} under LIVESWAP_HOME is damaged: ${must}${what}. Move it away and the next run makes a new key, but marks made with the old key can then no longer be verified (unless you find the old key and give it with --watermark-key).`,
    { file },
  );
}

function parseKey(text: Buffer, file: string, source: KeySource): Uint8Array {
  if (text.length === WATERMARK_KEY_BYTES) return new Uint8Array(text);
  const hex = text.toString('utf8').trim();
  if (/^[0-9a-fA-F]+$/.test(hex) && hex.length === WATERMARK_KEY_BYTES * 2) return new Uint8Array(Buffer.from(hex, 'hex'));
  throw notAKey(file, source, text.length === 0 ? ', and the file is empty' : '');
}

/**
 * The key in `file`, read with the checks of every user file (a FIFO or a device is refused before
 * it is opened) and never more than {@link KEY_FILE_MAX_BYTES}; `undefined` when `missingOk` and
 * there is no such file.
 */
async function readKeyFile(file: string, source: KeySource, missingOk: boolean): Promise<Uint8Array | undefined> {
  let input: InputFile;
  try {
    input = await openInput(file, 'watermark key', { allowEmpty: true });
  } catch (cause) {
    if (missingOk && cause instanceof LiveswapError && cause.kind === 'input-missing') return undefined;
    throw cause;
  }
  try {
    if (input.size > KEY_FILE_MAX_BYTES) throw notAKey(file, source, `, not ${formatBytes(input.size)}`);
    return parseKey(await input.readAll(), file, source);
  } finally {
    await input.close();
  }
}

export interface LoadedKey {
  key: Uint8Array;
  path: string;
  /** True when this call made the key (first use). */
  created: boolean;
}

/** Reads a key file the user named; missing or malformed files are errors the user can act on. */
export async function readWatermarkKey(file: string): Promise<LoadedKey> {
  const key = (await readKeyFile(file, 'flag', false))!;
  return { key, path: resolve(file), created: false };
}

/**
 * The user's own key when `file` is given, else the key under `home`, made on first use. Two
 * processes making it at once agree: each writes a private file and links it to the real name,
 * which only the first link wins; the others read the winner's key. A damaged key under `home` is
 * `input-unreadable` (not a usage error: no flag named it) and is never replaced.
 */
export async function loadWatermarkKey(home: string, file?: string): Promise<LoadedKey> {
  if (file !== undefined) return readWatermarkKey(file);
  const path = watermarkKeyPath(home);
  const existing = await readKeyFile(path, 'home', true);
  if (existing) return { key: existing, path, created: false };
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const temporary = temporaryPathFor(path);
    await writeFile(temporary, `${randomBytes(WATERMARK_KEY_BYTES).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      await link(temporary, path);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw cause;
    } finally {
      await rm(temporary, { force: true });
    }
  } catch (cause) {
    throw new LiveswapError('output', `Cannot make the watermark key under ${dirname(path)}: ${(cause as Error).message}. Set LIVESWAP_HOME to a writable folder.`, {
      file: path,
      cause,
    });
  }
  const made = (await readKeyFile(path, 'home', false))!;
  return { key: made, path, created: true };
}

/** Only the key's file exists check: `verify` never makes a key. A damaged key is an error, as in {@link loadWatermarkKey}. */
export async function existingWatermarkKey(home: string, file?: string): Promise<LoadedKey | undefined> {
  if (file !== undefined) return readWatermarkKey(file);
  const path = watermarkKeyPath(home);
  const key = await readKeyFile(path, 'home', true);
  return key ? { key, path, created: false } : undefined;
}

export const AUDIT_KINDS = ['image', 'video', 'live-session', ...LIVE_OUTPUT_KINDS, 'identity', 'job', 'refusal'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export interface AuditFile {
  file?: string;
  sha256: string;
}

/** One line of the audit log. */
export interface AuditEntry {
  time: string;
  kind: AuditKind;
  tool: string;
  version: string;
  /** The account that ran liveswap. */
  user: string;
  sources: AuditFile[];
  target?: AuditFile;
  output?: AuditFile;
  watermarkId: string;
  label: { shown: boolean; text?: string };
  /** Whether the output carries signed content credentials, and if not, why not. */
  credentials: 'embedded' | 'format-unsupported' | 'unavailable' | 'none';
  options: Record<string, unknown>;
  /** Who asked and how it ended, for outputs and refusals of the HTTP API and its workers. */
  service?: AuditContext;
  /** SHA-256 (hex) of the previous line as written, '' for the first: the chain `liveswap audit --verify` checks. */
  prev?: string;
}

/** The outcomes the service records. */
export const AUDIT_OUTCOMES = ['ok', 'failed', 'cancelled', 'rejected-quota', 'rejected-auth', 'rejected-consent', 'rejected-protected', 'rejected-limit'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** The request behind an audit line (never images or embeddings). */
export interface AuditContext {
  requestId?: string;
  tokenId?: string;
  tokenName?: string;
  ip?: string;
  /** At most 200 characters. */
  userAgent?: string;
  route?: string;
  consentId?: string;
  identityId?: string;
  jobId?: string;
  attempt?: number;
  workerId?: string;
  outcome: AuditOutcome;
  durationMs?: number;
  videoSeconds?: number;
  /** Why it was refused or failed. */
  reason?: string;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/** Fills in the fields every entry has. */
export function auditEntry(fields: Omit<AuditEntry, 'time' | 'tool' | 'version' | 'user'> & { time?: string }): AuditEntry {
  return { time: fields.time ?? new Date().toISOString(), tool: 'liveswap', version: ownVersion(), user: currentUser(), ...fields };
}

/** The head of the log: how many lines it has and the hash of the last, so a deleted last line shows. */
export const AUDIT_HEAD = `${AUDIT_LOG}.head`;

export function auditHeadPath(home: string): string {
  return join(home, AUDIT_HEAD);
}

/** A place where the log did not match its head when a line was appended (kept in the head, reported by verify). */
interface AuditBreak {
  /** The line about to be appended. */
  line: number;
  time: string;
  expected: { lines: number; bytes: number; sha256: string } | 'no head';
  found: { lines: number; bytes: number; sha256: string };
}

/** `audit.jsonl.head`. */
interface AuditHead {
  version: 1;
  lines: number;
  bytes: number;
  /** Hex SHA-256 of the last line (without its newline). */
  sha256: string;
  breaks?: AuditBreak[];
}

function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readAuditHead(path: string): Promise<AuditHead | 'damaged' | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw cause;
  }
  try {
    const head = JSON.parse(text) as Partial<AuditHead>;
    if (typeof head.lines === 'number' && typeof head.bytes === 'number' && typeof head.sha256 === 'string') return head as AuditHead;
  } catch {
    // Falls through.
  }
  return 'damaged';
}

/** The last line of an open log (bytes up to, not including, the final newline) read backwards in chunks. */
async function lastLineOf(handle: FileHandle, size: number): Promise<Buffer> {
  const end = size;
  let start = end;
  const chunks: Buffer[] = [];
  while (start > 0) {
    const from = Math.max(0, start - 64 * KIB);
    const chunk = Buffer.alloc(start - from);
    await handle.read(chunk, 0, chunk.length, from);
    const newline = chunk.lastIndexOf(0x0a);
    if (newline >= 0) {
      chunks.unshift(chunk.subarray(newline + 1));
      return Buffer.concat(chunks);
    }
    chunks.unshift(chunk);
    start = from;
  }
  return Buffer.concat(chunks);
}

/** Newlines in the whole file (the line count of a log that ends in one). */
async function countNewlines(handle: FileHandle, size: number): Promise<number> {
  let count = 0;
  const chunk = Buffer.alloc(1024 * KIB);
  for (let at = 0; at < size;) {
    const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, size - at), at);
    if (bytesRead === 0) break;
    for (let i = 0; i < bytesRead; i++) if (chunk[i] === 0x0a) count++;
    at += bytesRead;
  }
  return count;
}

/**
 * Appends `entries` as one write under the lock: each gets `prev`, the SHA-256 of the line before
 * it as written. A log that does not end in a newline (a crash mid-line) has that line ended
 * first. The head is checked against the log's end; a mismatch (a line deleted or added by hand
 * since) is recorded in the head before it is brought up to date, so it stays visible to verify.
 */
async function appendChained(home: string, entries: readonly AuditEntry[]): Promise<void> {
  const path = auditLogPath(home);
  const headPath = auditHeadPath(home);
  const handle = await open(path, 'a+', 0o600);
  try {
    let size = (await handle.stat()).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) {
        await handle.appendFile('\n');
        size += 1;
      }
    }
    const lastLine = size > 0 ? await lastLineOf(handle, size - 1) : undefined;
    let prev = lastLine === undefined ? '' : sha256Hex(lastLine);
    const head = await readAuditHead(headPath).catch(() => 'damaged' as const);
    let lines: number;
    const breaks = typeof head === 'object' ? [...(head.breaks ?? [])] : [];
    if (typeof head === 'object' && head.bytes === size && head.sha256 === prev && head.lines >= 0) {
      lines = head.lines;
    } else {
      lines = await countNewlines(handle, size);
      const hadChain = head !== undefined || (lastLine !== undefined && /"prev":"[0-9a-f]*"/.test(lastLine.toString('utf8')));
      if (hadChain && !(size === 0 && head === undefined)) {
        breaks.push({
          line: lines + 1,
          time: new Date().toISOString(),
          expected: typeof head === 'object' ? { lines: head.lines, bytes: head.bytes, sha256: head.sha256 } : 'no head',
          found: { lines, bytes: size, sha256: prev },
        });
      }
    }
    let text = '';
    for (const entry of entries) {
      const line = JSON.stringify({ ...entry, prev });
      text += `${line}\n`;
      prev = sha256Hex(line);
      lines++;
    }
    await handle.appendFile(text);
    await handle.sync();
    const next: AuditHead = { version: 1, lines, bytes: size + Buffer.byteLength(text), sha256: prev, ...(breaks.length ? { breaks } : {}) };
    const temporary = `${headPath}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(next)}\n`, { mode: 0o600 });
    await rename(temporary, headPath);
  } finally {
    await handle.close();
  }
}

interface PendingAudit {
  entry: AuditEntry;
  done: (error?: unknown) => void;
}

/** Lines waiting for this process's next write, per log; one write (and one lock) takes all that wait. */
const pendingAudits = new Map<string, PendingAudit[]>();

async function flushAudits(home: string, path: string): Promise<void> {
  for (;;) {
    const batch = pendingAudits.get(path);
    if (!batch || batch.length === 0) {
      pendingAudits.delete(path);
      return;
    }
    pendingAudits.set(path, []);
    try {
      await mkdir(home, { recursive: true });
      await withLockFile(
        `${path}.lock`,
        () =>
          appendChained(
            home,
            batch.map((p) => p.entry),
          ),
        { what: 'the audit log' },
      );
      for (const p of batch) p.done();
    } catch (cause) {
      const error =
        cause instanceof LiveswapError
          ? cause
          : new LiveswapError('output', `Cannot append to the audit log ${path}: ${(cause as Error).message}. Nothing was saved; set LIVESWAP_HOME to a writable folder.`, {
              file: path,
              cause,
            });
      for (const p of batch) p.done(error);
    }
  }
}

/**
 * Appends one line to the hash-chained log (`prev` set here). Appends are serialised across
 * processes by a lock file beside the log (a lock left by a dead process is taken over after
 * about 10 s; waiting is bounded), and lines of one process that arrive together share a write.
 */
export function appendAudit(home: string, entry: AuditEntry): Promise<void> {
  const path = auditLogPath(home);
  return new Promise<void>((resolve, reject) => {
    const queued = pendingAudits.get(path);
    const item: PendingAudit = { entry, done: (error) => (error === undefined ? resolve() : reject(error as Error)) };
    if (queued) {
      queued.push(item);
      return;
    }
    pendingAudits.set(path, [item]);
    void flushAudits(home, path);
  });
}

/** Reads the log; a damaged line (a crash mid-write, an edit) is skipped and counted. */
export async function readAudit(home: string): Promise<{ entries: AuditEntry[]; damaged: number; path: string }> {
  const path = auditLogPath(home);
  const text = await readFile(path, 'utf8').catch((cause: NodeJS.ErrnoException) => {
    if (cause.code === 'ENOENT') return '';
    throw new LiveswapError('input-unreadable', `Cannot read the audit log ${path}: ${cause.message}.`, { file: path, cause });
  });
  const entries: AuditEntry[] = [];
  let damaged = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value = JSON.parse(line) as AuditEntry;
      if (typeof value.time === 'string' && typeof value.kind === 'string') entries.push(value);
      else damaged++;
    } catch {
      damaged++;
    }
  }
  return { entries, damaged, path };
}

/** What `liveswap audit --verify` found. */
export interface AuditVerification {
  /** True when every chained line links to the one before it and the head matches the end. */
  ok: boolean;
  path: string;
  lines: number;
  /** Lines from before the chain existed (no `prev`, at the start of the log): not checkable, not tampering. */
  unchained: number;
  /** Each problem at the line (1-based) where it shows, in line order. */
  problems: { line: number; reason: string }[];
}

function splitLines(bytes: Buffer): { lines: Buffer[]; unterminated: boolean } {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, start)) {
    lines.push(bytes.subarray(start, i));
    start = i + 1;
  }
  const unterminated = start < bytes.length;
  if (unterminated) lines.push(bytes.subarray(start));
  return { lines, unterminated };
}

/** Why line `n`'s `prev` does not name line n-1: which line it names, if any. */
function brokenLinkReason(n: number, prev: string, lineOfHash: ReadonlyMap<string, number>): string {
  const named = prev === '' ? 0 : lineOfHash.get(prev);
  if (named === undefined) return `its prev does not match line ${n - 1}: line ${n - 1} was edited, or lines were deleted after it`;
  if (named === 0) return `its prev says it is the first line, but lines come before it: lines were inserted before it or the log was spliced`;
  if (named < n - 1) return `its prev names line ${named}, not line ${n - 1}: line(s) ${named + 1}–${n - 1} were inserted or moved here`;
  return `its prev names line ${named}, which comes after it: lines were reordered`;
}

/**
 * Checks the hash chain of the audit log under `home`: every line with `prev` must carry the
 * SHA-256 of the line before it, and the head file must name the last line. Reports edited,
 * deleted, inserted and reordered lines, damaged JSON and a head that does not match; lines from
 * before the chain existed (no `prev`, at the start) are counted as unchained, not as problems.
 */
export async function verifyAudit(home: string): Promise<AuditVerification> {
  const path = auditLogPath(home);
  const bytes = await readFile(path).catch((cause: NodeJS.ErrnoException) => {
    if (cause.code === 'ENOENT') return Buffer.alloc(0);
    throw new LiveswapError('input-unreadable', `Cannot read the audit log ${path}: ${cause.message}.`, { file: path, cause });
  });
  const { lines, unterminated } = splitLines(bytes);
  const hashes = lines.map((line) => sha256Hex(line));
  const lineOfHash = new Map<string, number>();
  hashes.forEach((hash, i) => lineOfHash.set(hash, i + 1));
  const problems: { line: number; reason: string }[] = [];
  let unchained = 0;
  let chained = false;
  lines.forEach((line, i) => {
    const n = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(line.toString('utf8'));
    } catch {
      value = undefined;
    }
    const entry = typeof value === 'object' && value !== null ? (value as Partial<AuditEntry>) : undefined;
    if (!entry || typeof entry.time !== 'string' || typeof entry.kind !== 'string') {
      problems.push({ line: n, reason: unterminated && n === lines.length ? 'the last line is incomplete (a crash mid-write?)' : 'not an audit entry (damaged JSON)' });
      return;
    }
    if (typeof entry.prev !== 'string') {
      if (chained) problems.push({ line: n, reason: 'it has no prev although the lines before it are chained: inserted or edited' });
      else unchained++;
      return;
    }
    chained = true;
    const expected = n === 1 ? '' : hashes[i - 1]!;
    if (entry.prev !== expected) problems.push({ line: n, reason: brokenLinkReason(n, entry.prev, lineOfHash) });
  });
  const head = await readAuditHead(auditHeadPath(home)).catch(() => 'damaged' as const);
  const lastHash = hashes.length ? hashes[hashes.length - 1]! : '';
  if (head === 'damaged') {
    problems.push({ line: lines.length, reason: `the head file ${auditHeadPath(home)} is damaged` });
  } else if (head === undefined) {
    if (chained) problems.push({ line: lines.length, reason: `the head file ${auditHeadPath(home)} is missing` });
  } else {
    for (const b of head.breaks ?? []) {
      const expected = b.expected === 'no head' ? 'no head file' : `${b.expected.lines} lines ending in ${b.expected.sha256.slice(0, 12)}…`;
      problems.push({
        line: b.line,
        reason: `when line ${b.line} was appended (${b.time}) the log did not match its head: expected ${expected}, found ${b.found.lines} lines (lines deleted or added outside liveswap, or a crash between a line and its head)`,
      });
    }
    if (head.lines !== lines.length || head.sha256 !== lastHash) {
      const reason =
        head.lines > lines.length
          ? `the head says ${head.lines} lines but the log has ${lines.length}: lines were deleted from the end`
          : head.lines < lines.length
            ? `the head says ${head.lines} lines but the log has ${lines.length}: lines were added without the head`
            : `the last line does not match the hash in the head: it was edited or replaced`;
      problems.push({ line: head.lines === lines.length ? lines.length : Math.min(head.lines, lines.length) + 1, reason });
    }
  }
  problems.sort((a, b) => a.line - b.line);
  return { ok: problems.length === 0, path, lines: lines.length, unchained, problems };
}

/** What the user chose on the command line (or the live app's settings). */
export interface ProvenanceChoices {
  /** false only with an explicit --no-label. */
  label: boolean;
  labelText?: string;
  labelCorner?: string;
  watermarkKey?: string;
  /** The user's own signing certificate chain and key (both or neither). */
  signer?: SignerFiles;
}

export function labelOptionsFrom(choices: ProvenanceChoices): Partial<LabelOptions> {
  const corner = choices.labelCorner;
  if (corner !== undefined && !(LABEL_CORNERS as readonly string[]).includes(corner)) {
    throw new LiveswapError('usage', `Expected one of ${LABEL_CORNERS.join(', ')} for --label-corner but received ${JSON.stringify(corner)}`);
  }
  return {
    ...(choices.labelText !== undefined ? { text: checkLabelText(choices.labelText) } : {}),
    ...(corner !== undefined ? { corner: corner as LabelCorner } : {}),
  };
}

export interface PublishFacts {
  kind: AuditKind;
  sources: readonly string[];
  target?: string;
  engine: string;
  options: Record<string, unknown>;
  /** The request behind this output (the HTTP API's jobs); recorded in the audit line. */
  audit?: AuditContext;
  /**
   * Called once the output is complete under its temporary name, just before the audit line and
   * the rename: a queue worker checks it still holds the job's lock here, and throws if not, so
   * nothing is logged or put in place by a worker that lost the job.
   */
  beforeCommit?: () => Promise<void>;
}

export interface PublishedOutput {
  watermarkId: string;
  label: { shown: boolean; text?: string };
  credentials: AuditEntry['credentials'];
  /** Why credentials are missing, for the user. */
  notice?: string;
  sha256: string;
}

/**
 * The provenance of one output: made before the frames are painted (so each frame is marked) and
 * finished by {@link publish} once the encoded file exists under a temporary name.
 */
export class OutputProvenance {
  readonly marker: FrameMarker;
  readonly label: { shown: boolean; text?: string };

  constructor(
    readonly home: string,
    readonly key: LoadedKey,
    readonly assetId: number,
    private readonly choices: ProvenanceChoices,
    media: 'still' | 'video',
  ) {
    const labelOptions = choices.label ? labelOptionsFrom(choices) : false;
    this.label = labelOptions === false ? { shown: false } : { shown: true, text: labelOptions.text ?? DEFAULT_LABEL_TEXT };
    this.marker = new FrameMarker({ label: labelOptions, watermark: { key: key.key, payload: { assetId, version: WATERMARK_VERSION } }, media });
  }

  get watermarkId(): string {
    return this.marker.watermarkId;
  }

  /** Marks a still image in place, writes it and publishes it (see {@link publish}). */
  async publishImage(output: string, image: Image, facts: PublishFacts): Promise<PublishedOutput> {
    this.marker.mark(image);
    return this.publishMarkedImage(output, image, facts);
  }

  /** Writes and publishes a still that already carries this output's marks (a frame processor's). */
  async publishMarkedImage(output: string, image: Image, facts: PublishFacts): Promise<PublishedOutput> {
    const temporary = temporaryPathFor(output);
    await writeImage(temporary, image);
    return this.publish(temporary, output, facts);
  }

  /**
   * Signs `temporary` into the output (where the format takes a manifest), logs the output and
   * moves it to `output`. On any failure the temporary files are removed and `output` is untouched.
   */
  async publish(temporary: string, output: string, facts: PublishFacts): Promise<PublishedOutput> {
    const signed = temporaryPathFor(output);
    try {
      const { statement, sources } = await this.statementFor(facts);
      const made = await this.credentialsFor(temporary, signed, output, statement);
      const final = made.credentials === 'embedded' ? signed : temporary;
      const sha256 = await sha256File(final);
      await facts.beforeCommit?.();
      await this.log(output, sha256, made.credentials, statement, sources, facts);
      await rename(final, output);
      return { watermarkId: this.watermarkId, label: this.label, credentials: made.credentials, ...(made.notice ? { notice: made.notice } : {}), sha256 };
    } finally {
      await rm(temporary, { force: true }).catch(() => undefined);
      await rm(signed, { force: true }).catch(() => undefined);
    }
  }

  /**
   * Signs a finished recording where it lies (a live stream's, written while it happened): the
   * signed copy replaces it atomically. Where credentials cannot be made (a format that takes none,
   * a platform without the signer, a failure while signing) the recording is kept as it was and the
   * notice says why. The recording is logged either way; nothing the user has is removed.
   */
  async sealRecording(file: string, facts: PublishFacts): Promise<PublishedOutput> {
    const signed = temporaryPathFor(file);
    try {
      const { statement, sources } = await this.statementFor(facts);
      let made: { credentials: AuditEntry['credentials']; notice?: string };
      try {
        made = await this.credentialsFor(file, signed, file, statement);
        if (made.credentials === 'embedded') await rename(signed, file);
      } catch (error) {
        made = {
          credentials: 'none',
          notice: `${file}: content credentials could not be added (${error instanceof Error ? error.message : String(error)}); the recording is kept with its label and watermark.`,
        };
      }
      const sha256 = await sha256File(file);
      await this.log(file, sha256, made.credentials, statement, sources, facts);
      return { watermarkId: this.watermarkId, label: this.label, credentials: made.credentials, ...(made.notice ? { notice: made.notice } : {}), sha256 };
    } finally {
      await rm(signed, { force: true }).catch(() => undefined);
    }
  }

  private async statementFor(facts: PublishFacts): Promise<{ statement: ProvenanceStatement; sources: { file: string; sha256: string }[] }> {
    const sources = await Promise.all(facts.sources.map(async (file) => ({ file: resolve(file), sha256: await sha256File(file) })));
    const statement: ProvenanceStatement = {
      tool: 'liveswap',
      version: ownVersion(),
      created: new Date().toISOString(),
      sourceSha256: sources.map((s) => s.sha256),
      watermarkId: this.watermarkId,
      label: this.label,
      engine: facts.engine,
    };
    return { statement, sources };
  }

  /** Signs `input` into `signed` when `output`'s format and this platform allow; else says why not. */
  private async credentialsFor(
    input: string,
    signed: string,
    output: string,
    statement: ProvenanceStatement,
  ): Promise<{ credentials: AuditEntry['credentials']; notice?: string }> {
    const c2pa = await import('./credentials.js');
    const available = await c2pa.credentialsAvailable();
    if (!c2pa.credentialsSupported(output)) {
      return { credentials: 'format-unsupported', notice: `${output}: this format cannot carry content credentials; the label, the watermark and the audit log still mark it.` };
    }
    if (!available.ok) {
      return {
        credentials: 'unavailable',
        notice: `Content credentials are not available on this platform (${available.reason ?? 'unknown reason'}); the label, the watermark and the audit log still mark ${output}.`,
      };
    }
    const signer = await c2pa.loadSigner(this.home, this.choices.signer);
    await c2pa.signOutput(input, signed, statement, signer);
    return { credentials: 'embedded' };
  }

  private async log(
    output: string,
    sha256: string,
    credentials: AuditEntry['credentials'],
    statement: ProvenanceStatement,
    sources: readonly { file: string; sha256: string }[],
    facts: PublishFacts,
  ): Promise<void> {
    const target = facts.target !== undefined ? { file: resolve(facts.target), sha256: await sha256File(facts.target) } : undefined;
    await appendAudit(
      this.home,
      auditEntry({
        time: statement.created,
        kind: facts.kind,
        sources: [...sources],
        ...(target ? { target } : {}),
        output: { file: resolve(output), sha256 },
        watermarkId: this.watermarkId,
        label: this.label,
        credentials,
        options: { engine: facts.engine, ...facts.options },
        ...(facts.audit ? { service: facts.audit } : {}),
      }),
    );
  }
}

/** Prepares the marks of one output: loads (or makes) the key and draws a fresh asset id. */
export async function startProvenance(home: string, choices: ProvenanceChoices, media: 'still' | 'video'): Promise<OutputProvenance> {
  if (choices.label) labelOptionsFrom(choices); // bad label text is a usage error before any work
  const key = await loadWatermarkKey(home, choices.watermarkKey);
  const assetId = randomAssetId((bytes) => bytes.set(randomBytes(bytes.length)));
  return new OutputProvenance(home, key, assetId, choices, media);
}
