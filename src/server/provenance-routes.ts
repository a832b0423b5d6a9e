/**
 * The live app's audit trail: the page asks for an asset id when it starts an engine (the worker
 * watermarks every frame with it) and reports each snapshot it saves; a recording is sent whole,
 * finished into a complete file (signed when it is an MP4) and sent back. Each request appends one
 * line per session to the audit log under the home folder. Bodies are checked field by field.
 */

import { randomBytes } from 'node:crypto';
import { LiveswapError } from '../core/errors.js';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { appendAudit, auditEntry, type AuditEntry } from '../node/provenance/output-provenance.js';
import {
  LIVE_OUTPUT_KINDS,
  type LabelState,
  type ProvenanceOutputRequest,
  type ProvenanceSessionReply,
  type ProvenanceSessionRequest,
  type SourceDigest,
} from '../pipeline/live-options.js';
import { ENGINE_NAMES, type EngineName } from '../pipeline/live-options.js';
import { checkLabelText } from '../provenance/label.js';
import { formatWatermarkId, randomAssetId } from '../provenance/payload.js';
import { finishRecording, RECORDING_TYPES, type RecordingType } from './live-recording.js';

export const PROVENANCE_PATHS = { session: '/api/provenance/session', output: '/api/provenance/output', recording: '/api/provenance/recording' } as const;
/** The header of a recording's upload that describes it (URI-encoded JSON, see {@link parseRecordingFacts}). */
export const RECORDING_HEADER = 'x-liveswap-recording';
/** A recording's upload at most (about an hour at the browser's usual 2.5 Mbit/s). */
export const MAX_RECORDING_BYTES = 1024 * 1024 * 1024;
/** Engine sessions one recording may span (each engine switch starts one). */
const MAX_RECORDING_SESSIONS = 64;
/** The bodies are a few hundred bytes; anything near this is not the page talking. */
export const MAX_PROVENANCE_BODY = 64 * 1024;
const MAX_SOURCES = 64;
const MAX_NAME = 255;
/** Asset ids kept for the output route's check; a page makes one per engine start. */
const MAX_SESSIONS = 10_000;

/** A 400 answer: the error handler sends `{ error: message }`. */
export class BadRequest extends Error {
  readonly statusCode: number = 400;
}

/** A body that is not JSON: a page elsewhere can send text/plain without asking (no CORS preflight), never JSON. */
class NotJson extends BadRequest {
  override readonly statusCode = 415;
}

/** A value for a message; a body nested too deep for JSON.stringify is summarised, not a 500 (found by fuzzing). */
function quote(value: unknown): string | undefined {
  try {
    return JSON.stringify(value)?.slice(0, 80);
  } catch {
    return Array.isArray(value) ? 'a deeply nested list' : 'a deeply nested object';
  }
}

/** One message shape for every bad field, so tests and the page can rely on it. */
function invalidField(name: string, expected: string, actual: unknown): BadRequest {
  // JSON.stringify gives undefined for a function or a symbol, which no parsed body holds.
  const shown = actual === undefined ? 'nothing' : (quote(actual) ?? `a ${typeof actual}`);
  return new BadRequest(`Expected ${expected} for ${name} but received ${shown}`);
}

type Fields = Record<string, unknown>;

function objectOf(value: unknown, name: string, allowed: readonly string[]): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidField(name, 'an object', value);
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw new BadRequest(`Unknown field ${name === 'body' ? '' : `${name}.`}${unknown[0]}; expected only ${allowed.join(', ')}`);
  return value as Fields;
}

function oneOf<T extends string>(value: unknown, name: string, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) throw invalidField(name, `one of ${choices.join(', ')}`, value);
  return value as T;
}

function sha256Of(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) throw invalidField(name, 'a SHA-256 as 64 lowercase hex digits', value);
  return value;
}

function integerOf(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw invalidField(name, `a whole number from ${min} to ${max}`, value);
  return value;
}

function labelOf(value: unknown, fallbackText: string): LabelState {
  const fields = objectOf(value, 'label', ['shown', 'text']);
  if (typeof fields.shown !== 'boolean') throw invalidField('label.shown', 'true or false', fields.shown);
  if (!fields.shown) return { shown: false };
  if (fields.text === undefined) return { shown: true, text: fallbackText };
  if (typeof fields.text !== 'string') throw invalidField('label.text', 'a string', fields.text);
  try {
    return { shown: true, text: checkLabelText(fields.text) };
  } catch (error) {
    throw new BadRequest(`label.text: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Whether `text` holds a C0 control character or DEL (U+0000–U+001F, U+007F). */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function sourcesOf(value: unknown): SourceDigest[] {
  if (!Array.isArray(value) || value.length > MAX_SOURCES) throw invalidField('sources', `a list of at most ${MAX_SOURCES} photos`, value);
  return value.map((item: unknown, index) => {
    const fields = objectOf(item, `sources[${index}]`, ['name', 'sha256']);
    const name = fields.name;
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME || hasControlCharacter(name)) {
      throw invalidField(`sources[${index}].name`, `a file name of 1 to ${MAX_NAME} printable characters`, name);
    }
    return { name, sha256: sha256Of(fields.sha256, `sources[${index}].sha256`) };
  });
}

export function parseSessionRequest(body: unknown, labelText: string): ProvenanceSessionRequest {
  const fields = objectOf(body, 'body', ['engine', 'label', 'sources']);
  return { engine: oneOf(fields.engine, 'engine', ENGINE_NAMES), label: labelOf(fields.label, labelText), sources: sourcesOf(fields.sources) };
}

export function parseOutputRequest(body: unknown, labelText: string): ProvenanceOutputRequest {
  const fields = objectOf(body, 'body', ['kind', 'assetId', 'sha256', 'bytes', 'mimeType', 'label', 'sources', 'engine']);
  const kind = oneOf(fields.kind, 'kind', LIVE_OUTPUT_KINDS);
  const family = kind === 'live-snapshot' ? 'image' : 'video';
  const mimeType = fields.mimeType;
  if (typeof mimeType !== 'string' || mimeType.length > 100 || !new RegExp(`^${family}/[a-z0-9][a-z0-9.+-]*$`).test(mimeType)) {
    throw invalidField('mimeType', `${family === 'image' ? 'an' : 'a'} ${family}/… media type`, mimeType);
  }
  return {
    kind,
    assetId: integerOf(fields.assetId, 'assetId', 0, 0xffffffff),
    sha256: sha256Of(fields.sha256, 'sha256'),
    bytes: integerOf(fields.bytes, 'bytes', 1, Number.MAX_SAFE_INTEGER),
    mimeType,
    label: labelOf(fields.label, labelText),
    sources: sourcesOf(fields.sources),
    engine: oneOf(fields.engine, 'engine', ENGINE_NAMES),
  };
}

/** What the page says about a recording it uploads: the sessions whose frames it holds, the label at its weakest, the photos. */
export interface RecordingFactsRequest {
  sessions: { assetId: number; engine: EngineName }[];
  label: LabelState;
  sources: SourceDigest[];
}

/** Reads the recording header: URI-encoded JSON `{ sessions: [{ assetId, engine }], label, sources }`. */
export function parseRecordingFacts(header: unknown, labelText: string): RecordingFactsRequest {
  if (typeof header !== 'string') throw new BadRequest(`Send what the recording holds in the ${RECORDING_HEADER} header.`);
  let body: unknown;
  try {
    body = JSON.parse(decodeURIComponent(header));
  } catch {
    throw new BadRequest(`The ${RECORDING_HEADER} header is not URI-encoded JSON.`);
  }
  const fields = objectOf(body, 'body', ['sessions', 'label', 'sources']);
  if (!Array.isArray(fields.sessions) || fields.sessions.length === 0 || fields.sessions.length > MAX_RECORDING_SESSIONS) {
    throw invalidField('sessions', `a list of 1 to ${MAX_RECORDING_SESSIONS} sessions`, fields.sessions);
  }
  const sessions = fields.sessions.map((item: unknown, index) => {
    const session = objectOf(item, `sessions[${index}]`, ['assetId', 'engine']);
    return { assetId: integerOf(session.assetId, `sessions[${index}].assetId`, 0, 0xffffffff), engine: oneOf(session.engine, `sessions[${index}].engine`, ENGINE_NAMES) };
  });
  return { sessions, label: labelOf(fields.label, labelText), sources: sourcesOf(fields.sources) };
}

/** The container of an upload from its content type (parameters such as codecs= ignored). */
function recordingTypeOf(contentType: string | undefined): RecordingType {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!Object.hasOwn(RECORDING_TYPES, type)) throw new NotJson(`Send the recording as one of ${Object.keys(RECORDING_TYPES).join(', ')}, not ${JSON.stringify(type)}.`);
  return type as RecordingType;
}

export interface ProvenanceContext {
  /** Where the audit log is (LIVESWAP_HOME). */
  home: string;
  /** The label text the page starts with; recorded when a shown label names no text. */
  labelText: string;
}

function sessionOptions(engine: EngineName, sources: readonly SourceDigest[]): Record<string, unknown> {
  return { engine, sourceNames: sources.map((source) => source.name) };
}

/**
 * Adds the two routes; JSON only (a form post from another site gets 415), 64 kB at most. Answers
 * whether an asset id was given out by this server (the server-side live socket checks it).
 */
export function addProvenanceRoutes(app: FastifyInstance, context: ProvenanceContext): (assetId: number) => boolean {
  // Asset ids this server gave out: an output names one of them, so the log cannot be fed made-up ids.
  const allotted = new Set<number>();
  const common = {
    bodyLimit: MAX_PROVENANCE_BODY,
    preValidation: (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
      done(/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '') ? undefined : new NotJson('Send the body as application/json.'));
    },
  };

  app.post(PROVENANCE_PATHS.session, common, async (request, reply) => {
    const body = parseSessionRequest(request.body, context.labelText);
    let assetId = randomAssetId((bytes) => bytes.set(randomBytes(bytes.length)));
    while (allotted.has(assetId)) assetId = randomAssetId((bytes) => bytes.set(randomBytes(bytes.length)));
    const watermarkId = formatWatermarkId(assetId);
    await appendAudit(context.home, entryFor('live-session', body, watermarkId, undefined, 'none', {}));
    if (allotted.size >= MAX_SESSIONS) allotted.delete(allotted.values().next().value!);
    allotted.add(assetId);
    const answer: ProvenanceSessionReply = { assetId, watermarkId };
    return reply.header('Cache-Control', 'no-store').send(answer);
  });

  app.post(PROVENANCE_PATHS.output, common, async (request, reply) => {
    const body = parseOutputRequest(request.body, context.labelText);
    if (!allotted.has(body.assetId)) {
      throw new BadRequest(`assetId ${body.assetId} was not given out by this server (it restarted, or the page is stale): reload the page to start a new session.`);
    }
    const watermarkId = formatWatermarkId(body.assetId);
    await appendAudit(context.home, entryFor(body.kind, body, watermarkId, { sha256: body.sha256 }, 'none', { bytes: body.bytes, mimeType: body.mimeType }));
    return reply.header('Cache-Control', 'no-store').send({ ok: true });
  });

  // The recording's own content-type parser lives in this scope only: everywhere else a video body is still refused.
  void app.register((scope, _options, registered) => {
    scope.addContentTypeParser(/^video\//i, { parseAs: 'buffer', bodyLimit: MAX_RECORDING_BYTES }, (_request, body, done) => done(null, body));
    scope.post(PROVENANCE_PATHS.recording, { bodyLimit: MAX_RECORDING_BYTES }, async (request, reply) => {
      const mimeType = recordingTypeOf(request.headers['content-type']);
      const facts = parseRecordingFacts(request.headers[RECORDING_HEADER], context.labelText);
      const stale = facts.sessions.find((session) => !allotted.has(session.assetId));
      if (stale) {
        throw new BadRequest(`assetId ${stale.assetId} was not given out by this server (it restarted, or the page is stale): reload the page to start a new session.`);
      }
      const body = request.body;
      if (!Buffer.isBuffer(body) || body.length === 0) throw new BadRequest('The recording is empty.');
      const first = facts.sessions[0]!;
      let finished;
      try {
        finished = await finishRecording(body, {
          mimeType,
          label: facts.label,
          sources: facts.sources,
          engine: first.engine,
          watermarkId: formatWatermarkId(first.assetId),
          home: context.home,
        });
      } catch (error) {
        if (error instanceof LiveswapError && error.kind === 'input-unreadable') throw new BadRequest(error.message);
        throw error;
      }
      for (const session of facts.sessions) {
        const options = { bytes: finished.bytes.length, mimeType, received: body.length };
        await appendAudit(
          context.home,
          entryFor('live-recording', { ...facts, engine: session.engine }, formatWatermarkId(session.assetId), { sha256: finished.sha256 }, finished.credentials, options),
        );
      }
      return reply
        .header('Cache-Control', 'no-store')
        .header('Content-Type', mimeType)
        .header('X-Liveswap-Credentials', finished.credentials)
        .header('X-Liveswap-Notice', encodeURIComponent(finished.notice ?? ''))
        .send(finished.bytes);
    });
    registered();
  });
  return (assetId) => allotted.has(assetId);
}

function entryFor(
  kind: AuditEntry['kind'],
  body: { engine: EngineName; label: LabelState; sources: SourceDigest[] },
  watermarkId: string,
  output: { sha256: string } | undefined,
  credentials: AuditEntry['credentials'],
  options: Record<string, unknown>,
): AuditEntry {
  return auditEntry({
    kind,
    // The browser never tells the server where its files are: photos and outputs go by hash.
    sources: body.sources.map((source) => ({ sha256: source.sha256 })),
    ...(output ? { output } : {}),
    watermarkId,
    label: body.label,
    // A browser's PNG carries no content credentials (a finished MP4 recording does); the label, the watermark and this line mark it.
    credentials,
    options: { ...sessionOptions(body.engine, body.sources), ...options },
  });
}
