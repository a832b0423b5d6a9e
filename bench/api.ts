/**
 * `npm run bench:api`: the HTTP API's control routes under load, on loopback. The real server runs
 * in a child process (so the load generator does not share its event loop) with a fresh
 * LIVESWAP_HOME and tokens made through the real token store; autocannon drives it, each run
 * bounded (≤ 10 s). Prints figures only; nothing here asserts a speed.
 *
 * 0. A yardstick: bare Fastify answering a small JSON object on the same machine at the same
 *    moment, so figures from a busy or a different machine can be compared.
 * 1. Capacity: GET /v1/usage and GET /v1/consent/statement with a bearer token at -c 50, the
 *    per-token rate limit set out of reach: req/s, p50/p99 latency, status counts.
 * 2. Twice capacity: a server whose per-token limit admits half of what (1) measured, offered the
 *    whole measured rate (2× what it admits), then an unpaced run at 4× the connections. Every
 *    answer that is not 2xx must be 429 or 503 with Retry-After; anything else is printed as a
 *    violation (and the exit code is 1).
 *
 *   npm run bench:api -- [--duration 8] [--connections 50] [--redis] [--json]
 *
 * --redis runs the server in queue mode on a private redis-server (unix socket): tokens, quotas
 * and the rate limiter in Redis.
 */

import { fork, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import fastify from 'fastify';
import { openServiceStores } from '../src/node/service/stores.js';
import type { ApiLimits } from '../src/server/api/context.js';
import { createApiServer } from '../src/server/api/server.js';
import { startRedis, type RedisServer } from '../test/helpers/redis-server.js';

const SELF = fileURLToPath(import.meta.url);

/** The child's side: one server, its URL sent to the parent, closed when the parent says so. */
async function serve(home: string, limitsJson: string, redisUrl: string | undefined): Promise<void> {
  const limits = JSON.parse(limitsJson) as Partial<ApiLimits>;
  const server = await createApiServer({ home, host: '127.0.0.1', port: 0, workers: 1, logger: false, limits, ...(redisUrl ? { redisUrl } : {}) });
  process.on('message', (message) => {
    if (message === 'close') void server.close().then(() => process.exit(0));
  });
  process.send?.({ url: server.url });
}

/** The yardstick: bare Fastify answering a small JSON object, no auth, no plugins. */
async function serveBare(): Promise<void> {
  const app = fastify({ logger: false });
  app.get('/v1/usage', () => ({ status: 'ok', used: { swaps: 0 } }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.on('message', (message) => {
    if (message === 'close') void app.close().then(() => process.exit(0));
  });
  process.send?.({ url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` });
}

if (process.argv[2] === '--serve') {
  await serve(process.argv[3]!, process.argv[4]!, process.argv[5] || undefined);
} else if (process.argv[2] === '--serve-bare') {
  await serveBare();
} else {
  process.exitCode = await main();
}

interface Child {
  url: string;
  close(): Promise<void>;
}

/** The API (or, with `bare`, the Fastify yardstick) in a child process. */
function startServer(home: string, limits: Partial<ApiLimits>, redisUrl: string | undefined, bare = false): Promise<Child> {
  const args = bare ? ['--serve-bare'] : ['--serve', home, JSON.stringify(limits), redisUrl ?? ''];
  const child: ChildProcess = fork(SELF, args, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the API server exited (${code}) before it listened`)));
    child.once('message', (message: { url: string }) => {
      child.removeAllListeners('exit');
      resolve({
        url: message.url,
        close: () =>
          new Promise<void>((done) => {
            const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
            child.once('exit', () => {
              clearTimeout(timer);
              done();
            });
            child.send('close');
          }),
      });
    });
  });
}

interface RunFigures {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  total: number;
  statusCounts: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Non-2xx answers looked at one by one (checkRefusals). */
  refusalsChecked: number;
  /** Answers that are not 2xx and not 429/503 with Retry-After, by description. */
  violations: Record<string, number>;
}

interface RunSpec {
  name: string;
  url: string;
  paths: string[];
  token: string;
  connections: number;
  duration: number;
  overallRate?: number;
  /** Look at every answer: non-2xx must be 429 or 503 with Retry-After. */
  checkRefusals?: boolean;
}

async function run(spec: RunSpec): Promise<RunFigures> {
  const violations: Record<string, number> = {};
  let refusalsChecked = 0;
  const onResponse = (status: number, _body: string, _context: object, headers: autocannon.Request['headers']): void => {
    if (status < 300) return;
    refusalsChecked++;
    const retryAfter = headers?.['retry-after'] ?? headers?.['Retry-After'];
    if (status !== 429 && status !== 503) violations[`${status}`] = (violations[`${status}`] ?? 0) + 1;
    else if (retryAfter === undefined || String(retryAfter).trim() === '') violations[`${status} without Retry-After`] = (violations[`${status} without Retry-After`] ?? 0) + 1;
  };
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.duration,
    ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
    headers: { authorization: `Bearer ${spec.token}` },
    requests: spec.paths.map((path) => ({ method: 'GET' as const, path, ...(spec.checkRefusals ? { onResponse } : {}) })),
  });
  const statusCounts: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats as Record<string, { count: number }>)) statusCounts[status] = Number(count);
  return {
    name: spec.name,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    statusCounts,
    errors: result.errors,
    timeouts: result.timeouts,
    refusalsChecked,
    violations,
  };
}

function show(figures: RunFigures): void {
  const counts = Object.entries(figures.statusCounts)
    .map(([status, count]) => `${count} × ${status}`)
    .join(', ');
  const violations = Object.entries(figures.violations);
  console.log(`${figures.name}`);
  console.log(
    `  ${Math.round(figures.requestsPerSecond).toLocaleString('en')} req/s, p50 ${figures.p50} ms, p99 ${figures.p99} ms; ${figures.total.toLocaleString('en')} requests: ${counts || 'none'}` +
      (figures.errors || figures.timeouts ? `; ${figures.errors} connection errors, ${figures.timeouts} timeouts` : ''),
  );
  if (figures.refusalsChecked > 0) console.log(`  ${figures.refusalsChecked.toLocaleString('en')} refusals checked one by one for status and Retry-After`);
  if (violations.length > 0) console.log(`  VIOLATIONS (not 429/503 with Retry-After): ${violations.map(([what, n]) => `${n} × ${what}`).join(', ')}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '8' },
      connections: { type: 'string', default: '50' },
      redis: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const duration = Math.min(10, Math.max(1, Number(values.duration)));
  const connections = Math.max(1, Number(values.connections));
  const json = values.json;
  const log = (text: string): void => {
    if (!json) console.log(text);
  };

  const cpu = cpus();
  log(
    `bench:api on ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  log(`server in a child process, autocannon in this one (they share the machine's cores); ${values.redis ? 'queue mode (Redis on a unix socket)' : 'single-process mode'}`);

  const home = await mkdtemp(join(tmpdir(), 'liveswap-bench-api-'));
  let redis: RedisServer | undefined;
  const children: Child[] = [];
  try {
    if (values.redis) redis = await startRedis();
    const stores = await openServiceStores({ home, ...(redis ? { redisUrl: redis.url } : {}) });
    let token: string;
    // A token of its own for the limited run: in queue mode the limiter's counts live in Redis across servers.
    let limitedToken: string;
    try {
      token = (await stores.tokens.create({ name: 'bench', scopes: ['jobs:read'] })).token;
      limitedToken = (await stores.tokens.create({ name: 'bench-limited', scopes: ['jobs:read'] })).token;
    } finally {
      await stores.close();
    }
    const results: RunFigures[] = [];
    const record = (figures: RunFigures): void => {
      results.push(figures);
      if (!json) show(figures);
    };

    // 0. The yardstick: what bare Fastify does on this machine right now, to compare figures across machines.
    const bare = await startServer(home, {}, undefined, true);
    children.push(bare);
    await run({ name: 'warm-up', url: bare.url, paths: ['/v1/usage'], token, connections, duration: 1 });
    const yardstick = await run({ name: `yardstick: bare Fastify, no auth, -c ${connections}, ${duration} s`, url: bare.url, paths: ['/v1/usage'], token, connections, duration });
    if (!json) show(yardstick);
    await bare.close();
    children.pop();

    // 1. Capacity, the rate limit out of reach (the limiter still counts every request).
    const open = await startServer(home, { rateLimitMax: 1_000_000_000, rateLimitWindowMs: 60_000 }, redis?.url);
    children.push(open);
    await run({ name: 'warm-up', url: open.url, paths: ['/v1/usage'], token, connections, duration: 1 });
    record(await run({ name: `1× GET /v1/usage, -c ${connections}, ${duration} s`, url: open.url, paths: ['/v1/usage'], token, connections, duration }));
    record(await run({ name: `1× GET /v1/consent/statement, -c ${connections}, ${duration} s`, url: open.url, paths: ['/v1/consent/statement'], token, connections, duration }));
    const capacity = Math.max(2, Math.round(Math.min(...results.map((r) => r.requestsPerSecond))));
    // Unpaced at 4× the connections: whatever the server cannot take must be refused properly.
    record(
      await run({
        name: `overload: GET /v1/usage, -c ${connections * 4}, unpaced, ${duration} s`,
        url: open.url,
        paths: ['/v1/usage'],
        token,
        connections: connections * 4,
        duration,
        checkRefusals: true,
      }),
    );
    await open.close();
    children.pop();

    // 2. Twice capacity: the token is admitted half the measured rate and offered all of it.
    const admitted = Math.max(1, Math.floor(capacity / 2));
    const limited = await startServer(home, { rateLimitMax: admitted, rateLimitWindowMs: 1000 }, redis?.url);
    children.push(limited);
    record(
      await run({
        name: `2×: GET /v1/usage at ${capacity.toLocaleString('en')} req/s offered, the token's limit ${admitted.toLocaleString('en')} per second, -c ${connections}, ${duration} s`,
        url: limited.url,
        paths: ['/v1/usage'],
        token: limitedToken,
        connections,
        duration,
        overallRate: capacity,
        checkRefusals: true,
      }),
    );
    await limited.close();
    children.pop();

    const violations = results.reduce((sum, r) => sum + Object.values(r.violations).reduce((a, b) => a + b, 0), 0);
    if (json) console.log(JSON.stringify({ cpus: cpu.length, node: process.version, mode: values.redis ? 'redis' : 'single', yardstick, capacity, admitted, results }, null, 2));
    else log(violations === 0 ? 'every refusal under load was 429 or 503 with Retry-After' : `${violations} answers were neither 2xx nor 429/503 with Retry-After`);
    return violations === 0 ? 0 : 1;
  } finally {
    for (const child of children) await child.close();
    await redis?.stop();
    await rm(home, { recursive: true, force: true });
  }
}
