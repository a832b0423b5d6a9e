/**
 * The live app's audit trail: the page asks for an asset id when it starts an engine (the worker
 * watermarks every frame with it) and reports each recording or snapshot it saves. Each request
 * appends one line to the audit log under the home folder. Bodies are checked field by field.
 */

import { randomBytes } from 'node:crypto';
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
import { ENGINE_NAMES, type EngineName } from '../pipeline/options.js';
import { checkLabelText } from '../provenance/label.js';
import { formatWatermarkId, randomAssetId } from '../provenance/payload.js';

export const PROVENANCE_PATHS = { session: '/api/provenance/session', output: '/api/provenance/output' } as const;
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

export interface ProvenanceContext {
  /** Where the audit log is (LIVESWAP_HOME). */
  home: string;
  /** The label text the page starts with; recorded when a shown label names no text. */
  labelText: string;
}

function sessionOptions(engine: EngineName, sources: readonly SourceDigest[]): Record<string, unknown> {
  return { engine, sourceNames: sources.map((source) => source.name) };
}

/** Adds the two routes; JSON only (a form post from another site gets 415), 64 kB at most. */
export function addProvenanceRoutes(app: FastifyInstance, context: ProvenanceContext): void {
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
    await appendAudit(context.home, entryFor('live-session', body, watermarkId, undefined, {}));
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
    await appendAudit(context.home, entryFor(body.kind, body, watermarkId, { sha256: body.sha256 }, { bytes: body.bytes, mimeType: body.mimeType }));
    return reply.header('Cache-Control', 'no-store').send({ ok: true });
  });
}

function entryFor(
  kind: AuditEntry['kind'],
  body: { engine: EngineName; label: LabelState; sources: SourceDigest[] },
  watermarkId: string,
  output: { sha256: string } | undefined,
  options: Record<string, unknown>,
): AuditEntry {
  return auditEntry({
    kind,
    // The browser never tells the server where its files are: photos and outputs go by hash.
    sources: body.sources.map((source) => ({ sha256: source.sha256 })),
    ...(output ? { output } : {}),
    watermarkId,
    label: body.label,
    // A browser's recording or PNG carries no content credentials; the label, the watermark and this line mark it.
    credentials: 'none',
    options: { ...sessionOptions(body.engine, body.sources), ...options },
  });
}
