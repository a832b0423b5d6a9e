/**
 * The SDK's errors: every answer that is not a success becomes a LiveswapApiError carrying the
 * HTTP status and the API's stable error kind (`{error: {kind, message}}`), so callers branch on
 * the kind, never on message text. A video job that ends without a result is a LiveswapJobError.
 */

/** An error answer of the API (or a failure to reach it: status 0, kind `network`). */
export class LiveswapApiError extends Error {
  /** The HTTP status; 0 when no answer came (network failure). */
  readonly status: number;
  /** The API's error kind (e.g. `unauthorized`, `quota-exceeded`, `no-face`), or `http`/`network` when the answer had none. */
  readonly kind: string;
  /** Seconds the server asked to wait (Retry-After), on 429 and 503. */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, kind: string, message: string, options: { retryAfterSeconds?: number | undefined; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LiveswapApiError';
    this.status = status;
    this.kind = kind;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** A video job that failed or was cancelled; `job` is its last status. */
export class LiveswapJobError extends Error {
  readonly kind: string;
  readonly job: { id: string; state: string; error?: { kind: string; message: string } };

  constructor(job: { id: string; state: string; error?: { kind: string; message: string } }) {
    const kind = job.error?.kind ?? job.state;
    super(job.error ? `Job ${job.id} ${job.state}: ${job.error.message}` : `Job ${job.id} ended ${job.state} without a result.`);
    this.name = 'LiveswapJobError';
    this.kind = kind;
    this.job = job;
  }
}

/** Whether a value is the API's error body. */
function errorBody(value: unknown): { kind: string; message: string } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const error = (value as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { kind, message } = error as { kind?: unknown; message?: unknown };
  return typeof kind === 'string' && typeof message === 'string' ? { kind, message } : undefined;
}

/** Retry-After in seconds (a number of seconds or an HTTP date), if the answer has one. */
export function retryAfterOf(headers: Headers): number | undefined {
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** The error for a parsed error answer (openapi-fetch's `error`), or for the raw response when its body was not the API's shape. */
export function apiErrorOf(response: Response, body: unknown, what: string): LiveswapApiError {
  const parsed = errorBody(body);
  const retryAfterSeconds = retryAfterOf(response.headers);
  if (parsed) return new LiveswapApiError(response.status, parsed.kind, parsed.message, { retryAfterSeconds });
  const text = typeof body === 'string' && body.trim() !== '' ? `: ${body.trim().slice(0, 200)}` : '';
  return new LiveswapApiError(response.status, 'http', `${what} failed with HTTP ${response.status}${text}`, { retryAfterSeconds });
}

/** Reads an error answer's body (JSON when it is JSON) and makes the error. */
export async function apiErrorFromResponse(response: Response, what: string): Promise<LiveswapApiError> {
  let body: unknown;
  try {
    const text = await response.text();
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      body = text;
    }
  } catch {
    body = undefined;
  }
  return apiErrorOf(response, body, what);
}

/** Whether an error is the caller's abort (which is passed on as it is, never wrapped). */
export function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return (signal?.aborted ?? false) || (error instanceof Error && error.name === 'AbortError');
}

/** A failed fetch (no answer) as an API error, unless the caller aborted it. */
export function networkError(error: unknown, what: string, signal?: AbortSignal): unknown {
  if (isAbort(error, signal)) return signal?.reason ?? error;
  const reason = error instanceof Error ? error.message : String(error);
  return new LiveswapApiError(0, 'network', `${what}: the server could not be reached (${reason})`, { cause: error });
}
