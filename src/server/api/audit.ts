/**
 * Audit lines of the API: who asked (request id, token, IP, user agent, route) for every refusal
 * on a media route and every identity made. Outputs are logged by the jobs layer when they are
 * published, with the same request fields. Never images or embeddings: hashes only.
 */

import type { FastifyRequest } from 'fastify';
import { appendAudit, auditEntry, type AuditContext, type AuditKind, type AuditOutcome } from '../../node/provenance/output-provenance.js';

/** The longest user agent kept. */
export const MAX_USER_AGENT = 200;

/** The request's part of an audit line. */
export function requestAudit(request: FastifyRequest, outcome: AuditOutcome, fields: Partial<AuditContext> = {}): AuditContext {
  const userAgent = request.headers['user-agent'];
  return {
    requestId: request.id,
    ...(request.token ? { tokenId: request.token.id, tokenName: request.token.name } : {}),
    ip: request.ip,
    ...(typeof userAgent === 'string' ? { userAgent: userAgent.slice(0, MAX_USER_AGENT) } : {}),
    route: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
    durationMs: Math.round(performance.now() - startOf(request)),
    ...fields,
    outcome,
  };
}

/**
 * The request's part of an audit line written later by the jobs layer (an image swap's output):
 * `durationMs` is read when the line is written, so it covers the whole request up to then.
 */
export function deferredRequestAudit(request: FastifyRequest, outcome: AuditOutcome, fields: Partial<AuditContext> = {}): AuditContext {
  const context = requestAudit(request, outcome, fields);
  Object.defineProperty(context, 'durationMs', { get: () => Math.round(performance.now() - startOf(request)), enumerable: true });
  return context;
}

const started = new WeakMap<FastifyRequest, number>();

/** Remembers when a request began (the auth hook calls it first thing). */
export function markStart(request: FastifyRequest): void {
  started.set(request, performance.now());
}

function startOf(request: FastifyRequest): number {
  return started.get(request) ?? performance.now();
}

/** Appends one line for a request (its context from {@link requestAudit}): a refusal, or an identity made. */
export async function auditRequest(
  home: string,
  kind: Extract<AuditKind, 'refusal' | 'identity' | 'job'>,
  context: AuditContext,
  sourceSha256: readonly string[] = [],
): Promise<void> {
  await appendAudit(
    home,
    auditEntry({
      kind,
      sources: sourceSha256.map((sha256) => ({ sha256 })),
      watermarkId: '',
      label: { shown: false },
      credentials: 'none',
      options: {},
      service: context,
    }),
  );
}

/** Appends a refusal line; a failure to write it is logged, never turned into another answer. */
export async function auditRefusal(
  home: string,
  request: FastifyRequest,
  outcome: AuditOutcome,
  reason: string,
  fields: Partial<AuditContext> = {},
  sourceSha256: readonly string[] = [],
): Promise<void> {
  try {
    await auditRequest(home, 'refusal', requestAudit(request, outcome, { ...fields, reason }), sourceSha256);
  } catch (error) {
    request.log.error({ err: error }, 'could not append the refusal to the audit log');
  }
}
