/**
 * A tus 1.0 upload client on fetch, for the API's resumable video uploads (`POST /v1/uploads`,
 * `PATCH`/`HEAD /v1/uploads/{id}`): creates the upload with its length and metadata, sends the
 * bytes in chunks at the server's offset, and after an interruption (a failed chunk, or a new call
 * with `resume`) asks the server how much it has (HEAD) and goes on from there.
 */

import { apiErrorFromResponse, isAbort, LiveswapApiError, networkError } from './errors.js';

const TUS_VERSION = '1.0.0';
/** 8 MiB: few requests for a typical clip, small enough to lose little on an interruption. */
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;
const DEFAULT_RETRIES = 3;

/** What to upload: bytes in memory or a Blob (a browser File is one). */
export type UploadBody = Blob | Uint8Array;

export interface UploadOptions {
  /** Bytes per PATCH request. Default 8 MiB. */
  chunkSize?: number;
  /** Called after each chunk the server accepted (and once at the start when resuming). */
  onProgress?: (sent: number, total: number) => void;
  /** Stops the upload; what the server has is kept, so it can be resumed with `resume`. */
  signal?: AbortSignal;
  /** The id of an upload begun earlier with the same bytes: asks the server where it stopped and sends the rest. */
  resume?: string;
  /** Called once the server has made the upload, with its id: keep it to resume after an abort or a restart. */
  onCreated?: (id: string) => void;
  /** Sent as tus metadata (`filename`, `filetype`). */
  filename?: string;
  contentType?: string;
  /** How often one chunk is tried again after a network failure or an offset conflict, each time from the server's offset. Default 3. */
  retries?: number;
}

/** A finished upload; pass `id` as `uploadId` to submit a video job. */
export interface UploadedVideo {
  id: string;
  /** The upload's URL (for HEAD). */
  url: string;
  size: number;
}

/** How the upload client reaches the server; the main client supplies these. */
export interface TusTransport {
  /** The base URL of the API (origin and any path prefix before /v1). */
  baseUrl: string;
  fetch: typeof fetch;
  /** Headers sent with every request (Authorization). */
  headers: () => Record<string, string>;
}

/** Uploads `body` with tus 1.0 and returns the finished upload. */
export async function tusUpload(transport: TusTransport, body: UploadBody, options: UploadOptions = {}): Promise<UploadedVideo> {
  const size = body instanceof Uint8Array ? body.byteLength : body.size;
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive whole number of bytes, got ${chunkSize}`);
  const signal = options.signal;
  signal?.throwIfAborted();

  let url: string;
  let offset: number;
  if (options.resume !== undefined) {
    url = uploadUrl(transport.baseUrl, options.resume);
    offset = await serverOffset(transport, url, size, signal);
    options.onProgress?.(offset, size);
  } else {
    url = await create(transport, size, options);
    offset = 0;
    options.onCreated?.(uploadIdOf(url));
  }

  let failures = 0;
  while (offset < size) {
    signal?.throwIfAborted();
    const end = Math.min(size, offset + chunkSize);
    try {
      offset = await patch(transport, url, offset, slice(body, offset, end), signal);
      failures = 0;
      options.onProgress?.(offset, size);
    } catch (error) {
      if (isAbort(error, signal)) throw signal?.reason ?? error;
      const retryable = error instanceof LiveswapApiError && (error.kind === 'network' || error.status === 409);
      if (!retryable || failures >= (options.retries ?? DEFAULT_RETRIES)) throw error;
      failures++;
      // The server may have kept part of the chunk: go on from what it has.
      offset = await serverOffset(transport, url, size, signal);
    }
  }
  return { id: uploadIdOf(url), url, size };
}

/** The URL of an upload by id. */
export function uploadUrl(baseUrl: string, id: string): string {
  return new URL(`v1/uploads/${encodeURIComponent(id)}`, withSlash(baseUrl)).href;
}

/** The id of an upload from its URL (the last path segment). */
export function uploadIdOf(url: string): string {
  const path = new URL(url).pathname.replace(/\/+$/, '');
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
}

function withSlash(baseUrl: string): string {
  return baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
}

function slice(body: UploadBody, start: number, end: number): Blob | Uint8Array {
  return body instanceof Uint8Array ? body.subarray(start, end) : body.slice(start, end);
}

/** tus metadata: comma-separated `key base64(value)` pairs. */
function metadata(options: UploadOptions): string {
  const pairs: string[] = [];
  if (options.filename !== undefined) pairs.push(`filename ${base64(options.filename)}`);
  if (options.contentType !== undefined) pairs.push(`filetype ${base64(options.contentType)}`);
  return pairs.join(',');
}

function base64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

async function send(transport: TusTransport, url: string, init: RequestInit, what: string, signal: AbortSignal | undefined): Promise<Response> {
  try {
    return await transport.fetch(url, {
      ...init,
      headers: { ...transport.headers(), 'Tus-Resumable': TUS_VERSION, ...(init.headers as Record<string, string>) },
      signal: signal ?? null,
    });
  } catch (error) {
    throw networkError(error, what, signal);
  }
}

async function create(transport: TusTransport, size: number, options: UploadOptions): Promise<string> {
  const endpoint = new URL('v1/uploads', withSlash(transport.baseUrl)).href;
  const meta = metadata(options);
  const response = await send(
    transport,
    endpoint,
    { method: 'POST', headers: { 'Upload-Length': String(size), ...(meta ? { 'Upload-Metadata': meta } : {}) } },
    'Creating the upload',
    options.signal,
  );
  if (response.status !== 201) throw await apiErrorFromResponse(response, 'Creating the upload');
  await response.body?.cancel();
  const location = response.headers.get('location');
  if (!location) throw new LiveswapApiError(response.status, 'http', 'The server made the upload but sent no Location for it.');
  return new URL(location, endpoint).href;
}

/** Sends one chunk at `offset`; returns the server's new offset. */
async function patch(transport: TusTransport, url: string, offset: number, chunk: Blob | Uint8Array, signal: AbortSignal | undefined): Promise<number> {
  const response = await send(
    transport,
    url,
    { method: 'PATCH', headers: { 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' }, body: chunk as RequestInit['body'] },
    'Sending part of the upload',
    signal,
  );
  if (response.status !== 204 && response.status !== 200) throw await apiErrorFromResponse(response, 'Sending part of the upload');
  await response.body?.cancel();
  return offsetHeader(response, 'PATCH');
}

/** Asks the server how many bytes of the upload it has (HEAD). */
async function serverOffset(transport: TusTransport, url: string, size: number, signal: AbortSignal | undefined): Promise<number> {
  const response = await send(transport, url, { method: 'HEAD' }, 'Asking where the upload stopped', signal);
  if (response.status === 404 || response.status === 410) {
    throw new LiveswapApiError(response.status, 'not-found', `The upload ${uploadIdOf(url)} is gone from the server; upload the video again.`);
  }
  if (response.status !== 200 && response.status !== 204) throw await apiErrorFromResponse(response, 'Asking where the upload stopped');
  const length = response.headers.get('upload-length');
  if (length !== null && Number(length) !== size) {
    throw new LiveswapApiError(409, 'conflict', `The upload ${uploadIdOf(url)} is ${length} bytes long on the server, but these bytes are ${size}: not the same video.`);
  }
  return offsetHeader(response, 'HEAD');
}

function offsetHeader(response: Response, what: string): number {
  const offset = Number(response.headers.get('upload-offset'));
  if (response.headers.get('upload-offset') === null || !Number.isSafeInteger(offset) || offset < 0) {
    throw new LiveswapApiError(response.status, 'http', `The server answered the upload's ${what} without a valid Upload-Offset.`);
  }
  return offset;
}
