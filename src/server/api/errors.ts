/**
 * The API's one error shape, `{error: {kind, message}}`: LiveswapError's kinds (the CLI's) and the
 * API's own (auth, quotas, limits), each with its HTTP status. Route code throws ApiError or
 * LiveswapError; the error handler turns every error, Fastify's own included, into this shape.
 */

import { basename } from 'node:path';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LiveswapError, type ErrorKind } from '../../core/errors.js';

/** Kinds only the API has. */
export const API_ERROR_KINDS = [
  'unauthorized',
  'forbidden',
  'not-found',
  'conflict',
  'consent-required',
  'protected-face',
  'quota-exceeded',
  'rate-limited',
  'overloaded',
  'payload-too-large',
  'range-not-satisfiable',
  'unavailable',
] as const;
export type ApiErrorKind = (typeof API_ERROR_KINDS)[number];

/** Every kind an answer's `error.kind` may hold. */
export type AnyErrorKind = ErrorKind | ApiErrorKind;

/** The status each kind is sent with. */
export const STATUS_OF: Readonly<Record<AnyErrorKind, number>> = {
  usage: 400,
  'input-missing': 400,
  'input-unreadable': 422,
  'input-unsupported': 415,
  'input-too-large': 413,
  'no-face': 422,
  output: 500,
  model: 503,
  interrupted: 503,
  internal: 500,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'consent-required': 400,
  'protected-face': 403,
  'quota-exceeded': 429,
  'rate-limited': 429,
  overloaded: 503,
  'payload-too-large': 413,
  'range-not-satisfiable': 416,
  /** A part the route needs is not installed on the server (flite for spoken text). */
  unavailable: 503,
};

/** An error the API answers with its own kind; `headers` go out with it (Retry-After, X-Quota-*). */
export class ApiError extends Error {
  readonly kind: AnyErrorKind;
  readonly headers: Readonly<Record<string, string>>;

  constructor(kind: AnyErrorKind, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.headers = headers;
  }
}

export interface ErrorBody {
  error: { kind: AnyErrorKind; message: string };
}

/** The kind, status and message an error is answered with. */
export function describeError(error: unknown): { kind: AnyErrorKind; status: number; message: string; headers: Record<string, string> } {
  if (error instanceof ApiError) return { kind: error.kind, status: STATUS_OF[error.kind], message: error.message, headers: { ...error.headers } };
  if (error instanceof LiveswapError) {
    // A file named in a message is a path on the server: callers see only its last part.
    const message = error.file ? error.message.split(error.file).join(basename(error.file)) : error.message;
    return { kind: error.kind, status: STATUS_OF[error.kind], message, headers: {} };
  }
  const fastifyError = error as Partial<FastifyError> & { validation?: unknown };
  if (fastifyError.validation !== undefined) return { kind: 'usage', status: 400, message: fastifyError.message ?? 'Invalid request.', headers: {} };
  const status = fastifyError.statusCode;
  if (
    status === 413 ||
    fastifyError.code === 'FST_REQ_FILE_TOO_LARGE' ||
    fastifyError.code === 'FST_FILES_LIMIT' ||
    fastifyError.code === 'FST_PARTS_LIMIT' ||
    fastifyError.code === 'FST_FIELDS_LIMIT'
  ) {
    return { kind: 'payload-too-large', status: 413, message: fastifyError.message ?? 'The request is too large.', headers: {} };
  }
  if (status === 415) return { kind: 'input-unsupported', status: 415, message: fastifyError.message ?? 'Unsupported media type.', headers: {} };
  if (status === 429) return { kind: 'rate-limited', status: 429, message: fastifyError.message ?? 'Too many requests.', headers: {} };
  if (status === 503) return { kind: 'overloaded', status: 503, message: fastifyError.message ?? 'The service is overloaded; try again shortly.', headers: {} };
  if (status === 404) return { kind: 'not-found', status: 404, message: fastifyError.message ?? 'Not found.', headers: {} };
  if (status !== undefined && status >= 400 && status < 500) return { kind: 'usage', status, message: fastifyError.message ?? 'Bad request.', headers: {} };
  return { kind: 'internal', status: 500, message: 'Internal error; it has been logged.', headers: {} };
}

/** Sends `error` in the API's shape. */
export function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  const { kind, status, message, headers } = describeError(error);
  if (status === 401) headers['WWW-Authenticate'] = 'Bearer realm="liveswap"';
  const body: ErrorBody = { error: { kind, message } };
  return reply.code(status).headers(headers).type('application/json; charset=utf-8').send(body);
}

/** The error and not-found handlers of the API. */
export function addErrorHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) =>
    sendError(reply, new ApiError('not-found', `Not found: ${request.method} ${request.url.split('?')[0]}`)),
  );
  app.setErrorHandler(async (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const described = describeError(error);
    if (described.status >= 500 && described.kind !== 'overloaded' && described.kind !== 'model') request.log.error({ err: error }, 'request failed');
    return sendError(reply, error);
  });
}
