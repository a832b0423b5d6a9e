/**
 * Resumable video uploads (tus 1.0, @tus/server with its file store) at /v1/uploads, behind the
 * same bearer-token auth as every route [uploads]. The uploading token is kept in the upload's
 * metadata; only that token may resume, inspect, delete or submit it.
 */

import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { FileStore } from '@tus/file-store';
import { Server as TusServer } from '@tus/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { TokenRecord } from '../../node/service/types.js';
import type { ApiApp, ContextOf } from './app-type.js';
import { callerOf, type ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { IdParams, withErrors } from './schemas.js';

export const UPLOADS_PATH = '/v1/uploads';
/** The header the API hands the authenticated token's id to tus in (any the client sends is dropped). */
const OWNER_HEADER = 'x-liveswap-token-id';

/** Where uploads live under LIVESWAP_HOME. */
export function uploadsFolder(home: string): string {
  return join(home, 'service', 'uploads');
}

/** The uploads of one process: the tus server and its store. */
export interface Uploads {
  store: FileStore;
  folder: string;
  /** The caller's upload, its file and size, or 404 (another token's upload is as good as missing); 409 while incomplete. */
  completed(token: TokenRecord, id: string): Promise<{ path: string; bytes: number }>;
}

export function createUploads(home: string, maxSize: number): { uploads: Uploads; tus: TusServer } {
  const folder = uploadsFolder(home);
  const store = new FileStore({ directory: folder });
  const tus = new TusServer({
    path: UPLOADS_PATH,
    datastore: store,
    maxSize,
    relativeLocation: true,
    respectForwardedHeaders: false,
    onUploadCreate: (req, upload) => {
      // Set by the route from the authenticated token; tus never sees a request without it.
      const owner = req.headers.get(OWNER_HEADER);
      if (!owner) return Promise.reject(new ApiError('unauthorized', 'No token.'));
      return Promise.resolve({ metadata: { ...(upload.metadata ?? {}), owner } });
    },
  });
  const owned = async (token: TokenRecord, id: string) => {
    const upload = await store.getUpload(id).catch(() => undefined);
    if (!upload || upload.metadata?.owner !== token.id) throw new ApiError('not-found', `No upload ${id}.`);
    return upload;
  };
  return {
    tus,
    uploads: {
      store,
      folder,
      completed: async (token, id) => {
        const upload = await owned(token, id);
        if (upload.size === undefined || upload.offset !== upload.size) {
          throw new ApiError('conflict', `Upload ${id} is not complete (${upload.offset} of ${upload.size ?? 'unknown'} bytes); finish it first.`);
        }
        return { path: join(folder, id), bytes: upload.size };
      },
    },
  };
}

/** Puts the token id in the header tus reads (parsed and raw forms both), replacing whatever the client sent there. */
function setOwnerHeader(raw: IncomingMessage, tokenId: string): void {
  const pairs: string[] = [];
  for (let i = 0; i + 1 < raw.rawHeaders.length; i += 2) {
    if (raw.rawHeaders[i]!.toLowerCase() !== OWNER_HEADER) pairs.push(raw.rawHeaders[i]!, raw.rawHeaders[i + 1]!);
  }
  pairs.push(OWNER_HEADER, tokenId);
  raw.rawHeaders.splice(0, raw.rawHeaders.length, ...pairs);
  raw.headers[OWNER_HEADER] = tokenId;
}

const TusHeaders = Type.Object({
  'tus-resumable': Type.Optional(Type.String({ description: 'Always 1.0.0' })),
  'upload-length': Type.Optional(Type.String({ description: 'Total size in bytes (POST)' })),
  'upload-metadata': Type.Optional(Type.String({ description: 'tus metadata (POST)' })),
  'upload-offset': Type.Optional(Type.String({ description: 'Where this chunk starts (PATCH)' })),
});
const Empty = (description: string) => ({ description, type: 'null' as const });

export function addUploadRoutes(app: ApiApp, context: ContextOf<ApiContext & { uploads: Uploads; tus: TusServer }>): void {
  void app.register((scope, _options, done) => {
    // tus reads the body itself, as a stream: Fastify must leave it unread (and unlimited; tus has maxSize).
    scope.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => done(null, undefined));
    const handle = async (request: FastifyRequest<{ Params: { id?: string } }>, reply: FastifyReply): Promise<void> => {
      const token = callerOf(request);
      const ctx = context();
      if (request.params.id !== undefined) {
        const upload = await ctx.uploads.store.getUpload(request.params.id).catch(() => undefined);
        if (!upload || upload.metadata?.owner !== token.id) throw new ApiError('not-found', `No upload ${request.params.id}.`);
      }
      setOwnerHeader(request.raw, token.id);
      reply.hijack();
      await ctx.tus.handle(request.raw, reply.raw);
    };
    const access = { access: { scope: 'uploads' as const, media: true } };
    scope.post(
      UPLOADS_PATH,
      {
        config: access,
        schema: {
          tags: ['uploads'],
          summary: 'Start a resumable upload (tus 1.0 creation); answers 201 with Location.',
          headers: TusHeaders,
          response: withErrors({ 201: Empty('Created; Location names the upload') }, [413]),
        },
      },
      handle,
    );
    for (const method of ['HEAD', 'PATCH', 'DELETE'] as const) {
      scope.route({
        method,
        url: `${UPLOADS_PATH}/:id`,
        // HEAD is tus's "where was I": documented like the rest.
        config: { ...access, ...(method === 'HEAD' ? { swagger: { exposeHeadRoute: true } } : {}) },
        schema: {
          tags: ['uploads'],
          summary: { HEAD: 'The offset of an upload (tus).', PATCH: 'Append bytes at Upload-Offset (tus).', DELETE: 'Remove an unfinished upload (tus termination).' }[method],
          params: IdParams,
          headers: TusHeaders,
          response: withErrors({ [method === 'HEAD' ? 200 : 204]: Empty(method === 'HEAD' ? 'Upload-Offset and Upload-Length headers' : 'Done') }, [404, 409, 413]),
        },
        handler: handle,
      });
    }
    done();
  });
}
