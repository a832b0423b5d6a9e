/**
 * The page's side of provenance: an asset id from the server for each engine start (the worker
 * watermarks every frame with it), and an audit-log line for every recording or snapshot saved.
 * A snapshot is known to the server by its SHA-256 only; a recording is sent to be finished
 * (duration, content credentials) and logged, and the finished file comes back.
 */

import type {
  LabelState,
  EngineName,
  LiveOutputKind,
  ProvenanceOutputRequest,
  ProvenanceSessionReply,
  ProvenanceSessionRequest,
  SourceDigest,
} from '../../src/browser/protocol.js';
import { sentence } from './dom.js';

const SESSION_PATH = '/api/provenance/session';
const OUTPUT_PATH = '/api/provenance/output';
const RECORDING_PATH = '/api/provenance/recording';
/** The header naming what a recording holds (src/server/provenance-routes.ts, RECORDING_HEADER). */
const RECORDING_HEADER = 'x-liveswap-recording';

/** SHA-256 of a file's bytes as 64 lowercase hex digits. */
export async function sha256Hex(blob: Blob): Promise<string> {
  if (!globalThis.crypto?.subtle) {
    throw new Error('This page cannot hash files: the browser offers crypto.subtle only to pages from this machine or over https. Open the app at its 127.0.0.1 address');
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** The watermark key from /api/info's hex. */
export function keyFromHex(hex: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new Error('The server sent a watermark key that is not hex');
  const key = new Uint8Array(hex.length / 2);
  for (let i = 0; i < key.length; i++) key[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return key;
}

/** The label as the audit log records it. */
export function labelState(shown: boolean, text: string): LabelState {
  return shown ? { shown: true, text } : { shown: false };
}

export interface LiveSessionInfo extends ProvenanceSessionReply {
  engine: EngineName;
}

async function postJson<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });
  const answer = (await response.json().catch(() => undefined)) as (T & { error?: unknown }) | undefined;
  if (!response.ok) {
    const reason = typeof answer?.error === 'string' ? answer.error : `${response.status} ${response.statusText}`.trim();
    throw new Error(`${path} answered: ${reason}`);
  }
  if (answer === undefined) throw new Error(`${path} answered with no JSON`);
  return answer;
}

export class ProvenanceLog {
  private current: LiveSessionInfo | null = null;
  private readonly listeners = new Set<(session: LiveSessionInfo) => void>();

  constructor(private readonly idText: HTMLElement) {
    this.show();
  }

  /** Logs a new session and returns its asset id; the previous session ends. */
  async startSession(engine: EngineName, label: LabelState, sources: SourceDigest[]): Promise<LiveSessionInfo> {
    this.end();
    const request: ProvenanceSessionRequest = { engine, label, sources };
    const reply = await postJson<ProvenanceSessionReply>(SESSION_PATH, request);
    if (!Number.isInteger(reply.assetId) || typeof reply.watermarkId !== 'string') throw new Error(`${SESSION_PATH} answered without an asset id`);
    const session = { engine, assetId: reply.assetId, watermarkId: reply.watermarkId };
    this.current = session;
    this.show();
    for (const listener of this.listeners) listener(session);
    return session;
  }

  end(): void {
    this.current = null;
    this.show();
  }

  get session(): LiveSessionInfo | null {
    return this.current;
  }

  /** Called with every new session (a recording spanning an engine switch carries both ids). */
  onSession(listener: (session: LiveSessionInfo) => void): void {
    this.listeners.add(listener);
  }

  /** Logs a saved file against each session whose frames it holds; rejects with the reason when the server refuses. */
  async recordOutput(kind: LiveOutputKind, blob: Blob, label: LabelState, sessions: readonly LiveSessionInfo[], sources: SourceDigest[]): Promise<void> {
    if (sessions.length === 0) throw new Error('No engine session was running, so there is no watermark id to log it under');
    const sha256 = await sha256Hex(blob);
    for (const session of sessions) {
      const request: ProvenanceOutputRequest = { kind, assetId: session.assetId, sha256, bytes: blob.size, mimeType: blob.type, label, sources, engine: session.engine };
      await postJson<{ ok: true }>(OUTPUT_PATH, request);
    }
  }

  private show(): void {
    const session = this.current;
    this.idText.textContent = session ? `watermark ${session.watermarkId}` : '';
    this.idText.title = session ? 'The invisible watermark in every frame of this session names this id in the audit log.' : '';
    if (session) this.idText.dataset.watermarkId = session.watermarkId;
    else delete this.idText.dataset.watermarkId;
  }
}

/** A recording as the server finished it: a complete file, and whether it carries content credentials. */
export interface FinishedRecording {
  blob: Blob;
  credentials: string;
}

/**
 * Sends a recording to the server, which finishes it (a WebM gets its duration, an MP4 its index
 * and content credentials) and logs it against each session; resolves with the finished file.
 */
export async function finishRecording(recording: Blob, label: LabelState, sessions: readonly LiveSessionInfo[], sources: SourceDigest[]): Promise<FinishedRecording> {
  const facts = { sessions: sessions.map((session) => ({ assetId: session.assetId, engine: session.engine })), label, sources };
  const response = await fetch(RECORDING_PATH, {
    method: 'POST',
    headers: { 'content-type': recording.type, [RECORDING_HEADER]: encodeURIComponent(JSON.stringify(facts)) },
    body: recording,
  });
  if (!response.ok) {
    const answer = (await response.json().catch(() => undefined)) as { error?: unknown } | undefined;
    const reason = typeof answer?.error === 'string' ? answer.error : `${response.status} ${response.statusText}`.trim();
    throw new Error(`${RECORDING_PATH} answered: ${reason}`);
  }
  const blob = await response.blob();
  return { blob: blob.type ? blob : new Blob([blob], { type: recording.type }), credentials: response.headers.get('x-liveswap-credentials') ?? 'none' };
}

/** The message for a saved file whose audit line could not be written. */
export function unloggedMessage(what: string, error: unknown): string {
  return `${what} was not written to the audit log: ${sentence(error instanceof Error ? error.message : String(error))} The file still carries the label and the watermark.`;
}
