/**
 * `liveswap serve`: the HTTP API until Ctrl-C or SIGTERM (the normal way to end it: exit 0). One
 * process runs the API and its video jobs; with --redis (or LIVESWAP_REDIS_URL) tokens, quotas and
 * the job queue live in Redis and `liveswap worker` processes run the jobs.
 */

import { Command } from 'commander';
import { invalidOption } from '../core/errors.js';
import type { ApiServer, ApiServerOptions } from '../server/api/server.js';
import type { Terminal } from './errors.js';
import { addFlags, type FlagsOf } from './option-table.js';
import { parsePort } from './ui-command.js';
import { stopped } from './until-stopped.js';

export type ServeFlags = FlagsOf<'serve'>;

export interface ServeDeps {
  /** Starts the server (default: createApiServer, loaded on demand). */
  start?: (options: ApiServerOptions) => Promise<ApiServer>;
  /** Ends serving when aborted (default: SIGINT or SIGTERM). */
  signal?: AbortSignal;
  /** The environment LIVESWAP_REDIS_URL is read from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export function createServeCommand(run: (flags: ServeFlags) => Promise<void>): Command {
  return addFlags(new Command('serve'), 'serve')
    .description('Serve the HTTP API (tokens, quotas, consent, audit; image swaps and video jobs) until stopped.')
    .action(async (flags: ServeFlags) => run(flags));
}

function parseHost(raw: string | undefined, fallback: string): string {
  if (raw === undefined) return fallback;
  const host = raw.trim();
  if (host === '' || /[\s/]/.test(host)) throw invalidOption('--host', 'an IP address or host name such as 127.0.0.1 or 0.0.0.0', raw);
  return host;
}

function parseWorkers(raw: string | undefined): number {
  if (raw === undefined) return 1;
  const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1 || value > 256) throw invalidOption('--workers', 'a whole number from 1 to 256', raw);
  return value;
}

function parseLiveCapacity(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1 || value > 1024) throw invalidOption('--live-capacity', 'a whole number from 1 to 1024', raw);
  return value;
}

export async function runServe(flags: ServeFlags, terminal: Terminal, deps: ServeDeps = {}): Promise<void> {
  const { DEFAULT_API_HOST, DEFAULT_API_PORT } = await import('../server/api/server.js');
  const port = flags.port === undefined ? DEFAULT_API_PORT : parsePort(flags.port);
  const host = parseHost(flags.host, DEFAULT_API_HOST);
  const workers = parseWorkers(flags.workers);
  const liveCapacity = parseLiveCapacity(flags.liveCapacity);
  const live = { ...(liveCapacity !== undefined ? { capacity: liveCapacity } : {}), ...(flags.liveProvider !== undefined ? { provider: flags.liveProvider } : {}) };
  const { REDIS_URL_VARIABLE, redisOptions } = await import('../node/service/redis.js');
  const env = deps.env ?? process.env;
  const redisUrl = flags.redis ?? (env[REDIS_URL_VARIABLE] || undefined);
  if (redisUrl !== undefined) redisOptions(redisUrl); // a bad URL is a usage error before anything starts
  const { defaultHome } = await import('../node/models/model-cache.js');
  const home = flags.home ?? defaultHome();
  const start = deps.start ?? (await import('../server/api/server.js')).createApiServer;
  const server = await start({ home, host, port, workers, live, ...(redisUrl !== undefined ? { redisUrl } : {}) });
  try {
    terminal.out(`liveswap serve: ${server.url}/v1 (OpenAPI document at ${server.url}/v1/openapi.json)`);
    terminal.out(
      redisUrl !== undefined
        ? `Queue mode: tokens, quotas and jobs in Redis; run \`liveswap worker --redis …\` to process video jobs.`
        : `Single process: ${workers} video job${workers === 1 ? '' : 's'} at a time; state under ${home}.`,
    );
    const { isLoopbackHost } = await import('../server/origin.js');
    if (!isLoopbackHost(host)) {
      terminal.err(
        `liveswap: warning: listening on ${host}: the API is reachable from the network on port ${new URL(server.url).port}; every route but /v1/health needs a token. Use --host 127.0.0.1 to keep it on this machine.`,
      );
    }
    if (!(await hasTokens(home, redisUrl))) {
      terminal.out(
        `No API token exists yet. Make one with: liveswap tokens create --name me --scopes swap:image,identities:write,identities:read${redisUrl !== undefined ? ' --redis URL' : ''}`,
      );
    }
    terminal.out('Press Ctrl-C to stop.');
    await stopped(deps.signal);
  } finally {
    await server.close();
  }
}

/** Whether any token exists (read through the same stores the server uses). */
async function hasTokens(home: string, redisUrl: string | undefined): Promise<boolean> {
  const { openServiceStores } = await import('../node/service/stores.js');
  const stores = await openServiceStores({ home, ...(redisUrl !== undefined ? { redisUrl } : {}) });
  try {
    return (await stores.tokens.list()).length > 0;
  } finally {
    await stores.close();
  }
}
