/**
 * Files over HTTP: content types, ETags with conditional GET, single byte ranges (206/416) and a
 * path resolver that never leaves its root, however the request path is spelled or encoded.
 */

import { createReadStream, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, sep } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.onnx': 'application/octet-stream',
};

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Content-addressed files (hashed names) never change under their URL. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Files whose URL stays the same across builds: the browser revalidates with the ETag each time. */
export const REVALIDATE = 'no-cache';

/** A strong ETag from size and modification time: changes whenever the file is replaced. */
export function fileEtag(info: Stats): string {
  return `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
}

export interface ByteRange {
  start: number;
  /** Inclusive, as in Content-Range. */
  end: number;
}

/**
 * The one range of a `Range: bytes=…` header: a range, 'unsatisfiable', or undefined to send the
 * whole file (no header, another unit, several ranges or a malformed header, as RFC 9110 allows).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== '' && Number(match[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

export interface SendFileOptions {
  contentType?: string;
  cacheControl: string;
  /** Default: from size and modification time. */
  etag?: string;
  /** Answer `Range` requests (large model files, resumed or fetched in parts). */
  ranges?: boolean;
}

/** Streams a file with Content-Length and ETag; 304 for a matching If-None-Match; 404 when it is gone. */
export async function sendFile(request: FastifyRequest, reply: FastifyReply, path: string, options: SendFileOptions): Promise<FastifyReply> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return reply.code(404).send({ error: 'Not found.' });
  const etag = options.etag ?? fileEtag(info);
  reply.header('ETag', etag).header('Cache-Control', options.cacheControl);
  if (options.ranges) reply.header('Accept-Ranges', 'bytes');
  if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
  const ifRange = request.headers['if-range'];
  const range = options.ranges && (ifRange === undefined || ifRange === etag) ? parseRange(request.headers.range, info.size) : undefined;
  if (range === 'unsatisfiable') {
    return reply
      .code(416)
      .header('Content-Range', `bytes */${info.size}`)
      .send({ error: `The range is outside the file (${info.size} bytes).` });
  }
  reply.header('Content-Type', options.contentType ?? contentTypeOf(path));
  return sendBytes(reply, path, info.size, range);
}

/** The body of a file of `size` bytes: all of it, or one byte range (206 with Content-Range). */
export function sendBytes(reply: FastifyReply, path: string, size: number, range: { start: number; end: number } | undefined): FastifyReply {
  if (range) {
    reply
      .code(206)
      .header('Content-Range', `bytes ${range.start}-${range.end}/${size}`)
      .header('Content-Length', range.end - range.start + 1);
    return reply.send(createReadStream(path, { start: range.start, end: range.end }));
  }
  reply.header('Content-Length', size);
  return reply.send(createReadStream(path));
}

/**
 * The file under `root` that a request path names, or undefined. The raw path is decoded once;
 * `.`/`..` segments, dot files, backslashes, NUL and absolute names are refused, and the result
 * (symbolic links followed) must still lie inside the root.
 */
export async function resolveInside(root: string, rawPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath.split('?')[0] ?? '');
  } catch {
    return undefined;
  }
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.length === 0) return undefined;
  if (segments.some((s) => s.startsWith('.') || s.includes('\\') || s.includes('\0') || s.includes(':'))) return undefined;
  const candidate = join(root, ...segments);
  if (!inside(root, candidate)) return undefined;
  try {
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(candidate)]);
    return inside(realRoot, realFile) ? realFile : undefined;
  } catch {
    return undefined;
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}
