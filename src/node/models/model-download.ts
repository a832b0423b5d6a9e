/**
 * Resumable HTTP(S) downloads into a `.partial` file: a retry continues where the last attempt
 * stopped (a Range request), with exponential backoff between attempts and a stall timeout.
 */

import { createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DownloadProgress {
  url: string;
  receivedBytes: number;
  /** Undefined when the server does not say. */
  totalBytes: number | undefined;
}

export interface DownloadOptions {
  /** Attempts per URL, the first included (default 4). */
  attempts?: number;
  /** Wait before the second attempt, doubled for each later one (default 1000 ms). */
  backoffMs?: number;
  /** Abort an attempt when no byte arrives for this long (default 60 s). */
  stallTimeoutMs?: number;
  /** The size the file must have, when known: a partial file of that size is not fetched again. */
  expectedBytes?: number;
  onProgress?: (progress: DownloadProgress) => void;
}

/** One failed download, with a short description for the user (`detail`). */
export class DownloadFailure extends Error {
  readonly detail: string;
  readonly retryable: boolean;

  constructor(detail: string, retryable: boolean, cause?: unknown) {
    super(detail, cause === undefined ? undefined : { cause });
    this.name = 'DownloadFailure';
    this.detail = detail;
    this.retryable = retryable;
  }
}

const NETWORK_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found (DNS)',
  EAI_AGAIN: 'host name lookup failed (DNS)',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
};

/** Turns whatever fetch or the body stream threw into a DownloadFailure. */
function networkFailure(error: unknown): DownloadFailure {
  if (error instanceof DownloadFailure) return error;
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  if (typeof code === 'string') {
    const known = NETWORK_CODES[code];
    if (known) return new DownloadFailure(`${known} (${code})`, true, error);
    if (code.startsWith('CERT_') || code.includes('SELF_SIGNED') || code.startsWith('ERR_TLS')) {
      return new DownloadFailure(`TLS certificate problem (${code}); a proxy or firewall may be intercepting the connection`, false, error);
    }
    return new DownloadFailure(`${(cause as Error).message ?? 'network error'} (${code})`, true, error);
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return new DownloadFailure(`network error: ${message}`, true, error);
}

function httpFailure(status: number, statusText: string): DownloadFailure {
  const retryable = status >= 500 || status === 408 || status === 429;
  const hint = status === 403 ? ' (forbidden; the host may be blocked here)' : '';
  return new DownloadFailure(`HTTP ${status}${statusText ? ` ${statusText}` : ''}${hint}`, retryable);
}

async function sizeOf(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  return info?.isFile() ? info.size : 0;
}

/** Total size from `Content-Range: bytes a-b/total` or from Content-Length plus the offset. */
function totalOf(response: Response, offset: number): number | undefined {
  const range = /\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '');
  if (range) return Number(range[1]);
  const length = response.headers.get('content-length');
  return length === null ? undefined : offset + Number(length);
}

/** One attempt: appends to the partial file when the server honours the range, else starts over. */
async function fetchInto(url: string, partialPath: string, options: DownloadOptions): Promise<void> {
  let offset = await sizeOf(partialPath);
  const stallMs = options.stallTimeoutMs ?? 60_000;
  const controller = new AbortController();
  const stalled = (): void => controller.abort(new DownloadFailure(`no data for ${Math.round(stallMs / 1000)} s`, true));
  let timer = setTimeout(stalled, stallMs);
  try {
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const response = await fetch(url, { headers, redirect: 'follow', signal: controller.signal }).catch((error: unknown) => {
      throw networkFailure(controller.signal.aborted ? controller.signal.reason : error);
    });
    if (response.status === 416) {
      // The partial file does not fit the server's file (changed upstream, or too long): start over.
      await rm(partialPath, { force: true });
      throw new DownloadFailure('HTTP 416 Range Not Satisfiable', true);
    }
    if (!response.ok) throw httpFailure(response.status, response.statusText);
    if (response.body === null) throw new DownloadFailure('empty response', true);
    const contentStart = /^bytes\s+(\d+)-/.exec(response.headers.get('content-range') ?? '');
    const resumed = response.status === 206 && offset > 0 && contentStart !== null && Number(contentStart[1]) === offset;
    if (!resumed) offset = 0;
    const totalBytes = totalOf(response, offset);
    let receivedBytes = offset;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        receivedBytes += chunk.length;
        clearTimeout(timer);
        timer = setTimeout(stalled, stallMs);
        options.onProgress?.({ url, receivedBytes, totalBytes });
        done(null, chunk);
      },
    });
    const body = Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
    await pipeline(body, counter, createWriteStream(partialPath, { flags: resumed ? 'a' : 'w' })).catch((error: unknown) => {
      throw networkFailure(controller.signal.aborted ? controller.signal.reason : error);
    });
    if (totalBytes !== undefined && receivedBytes !== totalBytes) {
      throw new DownloadFailure(`connection closed after ${receivedBytes} of ${totalBytes} bytes`, true);
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Downloads `url` into `partialPath`, resuming from what is already there, and returns its size.
 * Throws the last DownloadFailure once the attempts are used up or the failure is not transient.
 */
export async function downloadResumable(url: string, partialPath: string, options: DownloadOptions = {}): Promise<number> {
  const attempts = Math.max(1, options.attempts ?? 4);
  const backoffMs = options.backoffMs ?? 1000;
  for (let attempt = 1; ; attempt++) {
    const have = await sizeOf(partialPath);
    if (options.expectedBytes !== undefined) {
      if (have === options.expectedBytes) return have;
      if (have > options.expectedBytes) await rm(partialPath, { force: true });
    }
    try {
      await fetchInto(url, partialPath, options);
      return await sizeOf(partialPath);
    } catch (error) {
      const failure = networkFailure(error);
      if (!failure.retryable || attempt >= attempts) throw failure;
      await sleep(backoffMs * 2 ** (attempt - 1));
    }
  }
}
