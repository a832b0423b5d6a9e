/**
 * The contracts of the service's state: tokens, quotas, consent, identities, protected faces and
 * video jobs. `liveswap serve` (src/server/api), `liveswap worker` and the CLI's `tokens`,
 * `protect` and `audit` commands use these. Each has two homes with one behaviour: files under
 * LIVESWAP_HOME (one process) and Redis (queue mode, many processes and machines).
 */

import type { PaintOptions, TrackingOptions } from '../../pipeline/options.js';
import type { VideoEncoding } from '../jobs/video-swap.js';

/** What a token may do; each route names the scope it needs. */
export const SCOPES = ['swap:image', 'swap:video', 'identities:read', 'identities:write', 'uploads', 'jobs:read', 'live', 'talk', 'metrics', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Limits of one token; a missing field is unlimited. Daily ones reset at the service's day boundary. */
export interface TokenQuotas {
  swapsPerDay?: number;
  videoSecondsPerDay?: number;
  talkSecondsPerDay?: number;
  liveMinutesPerDay?: number;
  /** Video jobs queued or running at once. */
  maxActiveJobs?: number;
  /** The longest video one job may take, in seconds. */
  maxVideoSeconds?: number;
  maxLiveSessions?: number;
}

/** The daily counters quotas are kept on. */
export const DAILY_METRICS = ['swaps', 'videoSeconds', 'talkSeconds', 'liveMinutes'] as const;
export type DailyMetric = (typeof DAILY_METRICS)[number];

/** The quota field that limits each daily counter. */
export const DAILY_LIMIT_OF: Readonly<Record<DailyMetric, keyof TokenQuotas>> = {
  swaps: 'swapsPerDay',
  videoSeconds: 'videoSecondsPerDay',
  talkSeconds: 'talkSecondsPerDay',
  liveMinutes: 'liveMinutesPerDay',
};

/** A token as stored: the secret only as its SHA-256. */
export interface TokenRecord {
  /** 12 characters of [A-Za-z0-9]; the part of the token before the secret. */
  id: string;
  name: string;
  /** Hex SHA-256 of the secret part. */
  secretSha256: string;
  scopes: Scope[];
  quotas: TokenQuotas;
  createdAt: string;
  expiresAt?: string;
  revokedAt?: string;
}

export interface NewToken {
  name: string;
  scopes: readonly Scope[];
  quotas?: TokenQuotas;
  expiresAt?: string;
}

/** Why a bearer token was refused. */
export type TokenRefusal = 'missing' | 'malformed' | 'unknown' | 'revoked' | 'expired';

export type Authentication = { ok: true; token: TokenRecord } | { ok: false; refusal: TokenRefusal };

export interface TokenStore {
  /** Makes a token; `token` is the whole `lsw_<id>_<secret>` string, shown once and never stored. */
  create(request: NewToken): Promise<{ token: string; record: TokenRecord }>;
  list(): Promise<TokenRecord[]>;
  get(id: string): Promise<TokenRecord | undefined>;
  /** Marks it revoked (kept for the audit's names); false when there is no such token. */
  revoke(id: string): Promise<boolean>;
  /**
   * Checks an `Authorization` header value ("Bearer lsw_…") or a bare token, synchronously, from
   * memory (constant-time comparison of the secret's hash). Changes made by other processes
   * (`liveswap tokens revoke` while a server runs) are seen within about a second.
   */
  authenticate(header: string | undefined, now?: Date): Authentication;
  close(): Promise<void>;
}

export type Reservation = { ok: true } | { ok: false; used: number; limit: number; retryAfterSeconds: number };

/** Daily counters per token, reserved atomically before the work and refunded when it fails or is cancelled. */
export interface QuotaLedger {
  /** Adds `amount` unless that would pass `limit` (undefined: no limit, always ok). */
  reserve(tokenId: string, metric: DailyMetric, amount: number, limit: number | undefined, now?: Date): Promise<Reservation>;
  /** Takes back `amount` reserved on the day of `reservedAt` (never below 0). */
  refund(tokenId: string, metric: DailyMetric, amount: number, reservedAt: Date): Promise<void>;
  /** Today's counters, and when the day ends (ISO time). */
  usage(tokenId: string, now?: Date): Promise<{ day: string; resetsAt: string; used: Record<DailyMetric, number> }>;
  close(): Promise<void>;
}

/** The consent statement clients show before any upload. */
export interface ConsentStatement {
  version: string;
  text: string;
  sha256: string;
}

export type ConsentSubject = 'self' | 'other-with-permission';

/** What a caller attests when adding an identity; kept forever (hashes only, no photos). */
export interface ConsentRecord {
  consentId: string;
  time: string;
  tokenId: string;
  tokenName: string;
  ip: string;
  statementVersion: string;
  statementSha256: string;
  subject: ConsentSubject;
  /** Who the person is, in the caller's words (optional). */
  subjectName?: string;
  attested: true;
  sourceSha256: string[];
}

/** A source identity: photos analysed once on upload, then reused by id. */
export interface IdentityRecord {
  id: string;
  /** The token that made it; only that token (or an admin) sees and uses it. */
  tokenId: string;
  consentId: string;
  createdAt: string;
  /** Faces found in each photo, in order. */
  faces: number[];
  sourceSha256: string[];
  /** The stored photos (absolute paths under LIVESWAP_HOME), in order. */
  photos: string[];
}

export interface ProtectedFace {
  id: string;
  /** The operator's label for the person, e.g. a name; never shown to API callers. */
  label: string;
  addedAt: string;
  photoSha256: string;
  /** The recogniser that embedded it ("faceres"), and the embedding (unit length). */
  recogniser: string;
  embedding: number[];
}

export const JOB_STATES = ['queued', 'active', 'completed', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface JobProgress {
  frame: number;
  total: number;
  fps: number;
  etaSeconds: number;
}

/** What a caller asked for: everything a worker needs, as ids and paths (never pixels). */
export interface VideoJobRequest {
  tokenId: string;
  tokenName: string;
  identityId: string;
  consentId: string;
  /** The uploaded video (absolute path under LIVESWAP_HOME). */
  input: string;
  /** Source photos of the identity (absolute paths). */
  sources: string[];
  paint: Partial<PaintOptions>;
  tracking?: Partial<TrackingOptions>;
  encoding: VideoEncoding;
  /** Seconds of video reserved against the token's quota at submission. */
  videoSeconds: number;
  /** When the reservation was made (ISO), so a refund lands on the same day. */
  reservedAt: string;
  /** The request that submitted it, for the audit. */
  requestId: string;
  ip: string;
  userAgent: string;
  /** The batch it belongs to, if any. */
  batchId?: string;
  /** Lower runs first (BullMQ's rule); the API sets it per token for fairness. */
  priority?: number;
  /** A talking portrait (POST /v1/talks) rather than a swap: `input` is the face, `videoSeconds` the talk seconds reserved. */
  talk?: TalkJobFields;
}

/** What a talk job speaks: its audio (flite's, already spoken at submission, or the caller's) and the phone track, as files under LIVESWAP_HOME. */
export interface TalkJobFields {
  audio: string;
  phonemes?: string;
  fps: number;
  /** Where the speech came from, for the audit line. */
  speech: 'flite' | 'audio';
  voice?: string;
  /** The folder of files made for this job (the speech); removed once its result is committed. */
  folder: string;
}

export interface JobStatus {
  id: string;
  state: JobState;
  tokenId: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  progress: JobProgress;
  /** How many times a worker started it. */
  attempts: number;
  error?: { kind: string; message: string };
  /** The committed result (absolute path), once completed. */
  result?: string;
  /** The result's watermark id and SHA-256, once completed. */
  watermarkId?: string;
  sha256?: string;
  batchId?: string;
}

export type JobEvent = { type: 'state'; status: JobStatus } | { type: 'progress'; progress: JobProgress } | { type: 'done'; status: JobStatus };

/** The video jobs: in-process (files under LIVESWAP_HOME) or BullMQ on Redis. */
export interface JobQueue {
  readonly mode: 'local' | 'redis';
  submit(id: string, request: VideoJobRequest): Promise<JobStatus>;
  get(id: string): Promise<JobStatus | undefined>;
  /** Removes a queued job, stops an active one; the unused quota is refunded. Undefined: no such job. */
  cancel(id: string): Promise<JobStatus | undefined>;
  /** The job's current status first, then its events until it ends or `signal` aborts. */
  events(id: string, signal: AbortSignal): AsyncIterable<JobEvent>;
  /** Jobs of this token that are queued or active. */
  activeCount(tokenId: string): Promise<number>;
  counts(): Promise<Record<JobState, number>>;
  close(): Promise<void>;
}

/** The consent statement and the records of who attested what. */
export interface ConsentStore {
  statement(): ConsentStatement;
  /** Appends a record and returns it with its new id. */
  record(fields: Omit<ConsentRecord, 'consentId' | 'time'>): Promise<ConsentRecord>;
  get(consentId: string): Promise<ConsentRecord | undefined>;
}

export interface IdentityStore {
  /** Stores the photos (already analysed and checked by the caller) and the record. */
  create(fields: { tokenId: string; consentId: string; faces: number[]; photos: readonly { bytes: Uint8Array; sha256: string; extension: string }[] }): Promise<IdentityRecord>;
  get(id: string): Promise<IdentityRecord | undefined>;
  list(tokenId?: string): Promise<IdentityRecord[]>;
  /** Removes the photos and the record; the consent record stays. False: no such identity. */
  delete(id: string): Promise<boolean>;
}

/** Faces that must never be used as a source. */
export interface ProtectedFaceStore {
  list(): Promise<ProtectedFace[]>;
  add(face: Omit<ProtectedFace, 'id' | 'addedAt'>): Promise<ProtectedFace>;
  remove(id: string): Promise<boolean>;
  /** The closest protected face at or above `threshold` cosine similarity, if any. */
  match(embedding: Float32Array, threshold: number): Promise<{ face: ProtectedFace; similarity: number } | undefined>;
}

/** Where a process's audit lines go: the hash-chained JSONL under LIVESWAP_HOME. */
export type { AuditContext, AuditEntry, AuditOutcome } from '../provenance/output-provenance.js';
