/**
 * A real API server for the tests: a fresh LIVESWAP_HOME, tokens made through the same store
 * `liveswap tokens create` uses before the server starts, and small request helpers.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openServiceStores } from '../../src/node/service/stores.js';
import type { Scope, TokenQuotas } from '../../src/node/service/types.js';
import { createApiServer, type ApiServer, type ApiServerOptions } from '../../src/server/api/server.js';

export interface TokenSpec {
  scopes: readonly Scope[];
  quotas?: TokenQuotas;
  expiresAt?: string;
}

export interface TestApi<N extends string> {
  server: ApiServer;
  home: string;
  /** The bearer tokens, by the names given. */
  tokens: Record<N, string>;
  /** Token ids, by name. */
  ids: Record<N, string>;
  auth(name: N): { authorization: string };
  stop(): Promise<void>;
}

export async function startTestApi<N extends string>(specs: Record<N, TokenSpec>, options: ApiServerOptions = {}): Promise<TestApi<N>> {
  const home = options.home ?? (await mkdtemp(join(tmpdir(), 'liveswap-api-')));
  const stores = await openServiceStores({ home });
  const tokens = {} as Record<N, string>;
  const ids = {} as Record<N, string>;
  try {
    for (const [name, spec] of Object.entries(specs) as [N, TokenSpec][]) {
      const made = await stores.tokens.create({
        name,
        scopes: spec.scopes,
        ...(spec.quotas ? { quotas: spec.quotas } : {}),
        ...(spec.expiresAt ? { expiresAt: spec.expiresAt } : {}),
      });
      tokens[name] = made.token;
      ids[name] = made.record.id;
    }
  } finally {
    await stores.close();
  }
  // The tests share two cores with module loading, model loads and ffmpeg: a sampling second with
  // the loop blocked throughout reads as infinite delay to under-pressure, and a real server's limit
  // would refuse test requests now and then. Off here; back-pressure has a test of its own.
  const server = await createApiServer({ port: 0, logger: false, pressure: { maxEventLoopDelay: 0 }, ...options, home });
  return {
    server,
    home,
    tokens,
    ids,
    auth: (name) => ({ authorization: `Bearer ${tokens[name]}` }),
    stop: async () => {
      await server.close();
      if (options.home === undefined) await rm(home, { recursive: true, force: true });
    },
  };
}

/** A multipart body built by hand (files and fields), with its content type. */
export function multipart(parts: readonly ({ name: string; value: string } | { name: string; filename: string; type: string; bytes: Uint8Array })[]): {
  body: Buffer;
  contentType: string;
} {
  const boundary = `----liveswap${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('value' in part) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
    } else {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\nContent-Type: ${part.type}\r\n\r\n`));
      chunks.push(Buffer.from(part.bytes));
      chunks.push(Buffer.from('\r\n'));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}
