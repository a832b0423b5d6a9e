/**
 * The routes about the service itself: health (the one route without auth), readiness, metrics,
 * the consent statement, the caller's usage and the OpenAPI document.
 */

import { Type } from 'typebox';
import { DAILY_METRICS } from '../../node/service/types.js';
import type { ApiApp, ContextOf } from './app-type.js';
import { callerOf, type ApiContext } from './context.js';
import { ConsentStatement, Health, Ready, Usage, withErrors } from './schemas.js';

export function addSystemRoutes(app: ApiApp, context: ContextOf<ApiContext>, version: string): void {
  app.get(
    '/v1/health',
    {
      // Liveness answers even under back-pressure (a container's health check must not flap with load); /v1/ready tells readiness.
      config: { access: { scope: 'none' }, rateLimit: false, pressureHandler: () => undefined },
      schema: { tags: ['system'], summary: 'Is the process up (no auth).', security: [], response: { 200: Health } },
    },
    () => Promise.resolve({ status: 'ok' as const, version }),
  );

  app.get(
    '/v1/ready',
    {
      config: { access: { scope: 'any' } },
      schema: { tags: ['system'], summary: 'Are the stores, the queue and Redis reachable.', response: withErrors({ 200: Ready }) },
    },
    async (_request, reply) => {
      const { stores, queue, redis } = context();
      const checks: Record<string, { ok: boolean; message?: string }> = {};
      const check = async (name: string, probe: () => Promise<unknown>): Promise<void> => {
        try {
          await probe();
          checks[name] = { ok: true };
        } catch (error) {
          checks[name] = { ok: false, message: error instanceof Error ? error.message : String(error) };
        }
      };
      await Promise.all([
        check('tokens', () => stores.tokens.list()),
        check('quotas', () => stores.quotas.usage('ready-check')),
        check('identities', () => stores.identities.list('ready-check')),
        check('queue', () => queue.counts()),
        ...(redis ? [check('redis', () => redis.ping())] : []),
      ]);
      const ready = Object.values(checks).every((c) => c.ok);
      if (!ready) reply.header('Retry-After', '5');
      return reply.code(ready ? 200 : 503).send({ ready, checks });
    },
  );

  app.get(
    '/v1/metrics',
    {
      config: { access: { scope: 'metrics' } },
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics of this process.',
        produces: ['text/plain'],
        response: withErrors({ 200: { description: 'Prometheus text exposition', content: { 'text/plain': { schema: Type.String() } } } }),
      },
    },
    async (_request, reply) => {
      const { registry } = context().metrics;
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );

  app.get(
    '/v1/consent/statement',
    {
      config: { access: { scope: 'any' } },
      schema: { tags: ['consent'], summary: 'The consent statement to show before any upload.', response: withErrors({ 200: ConsentStatement }) },
    },
    () => Promise.resolve(context().stores.consent.statement()),
  );

  app.get(
    '/v1/usage',
    { config: { access: { scope: 'any' } }, schema: { tags: ['usage'], summary: "Today's counters against the token's quotas.", response: withErrors({ 200: Usage }) } },
    async (request) => {
      const token = callerOf(request);
      const { stores, queue } = context();
      const usage = await stores.quotas.usage(token.id);
      const used = Object.fromEntries(DAILY_METRICS.map((metric) => [metric, usage.used[metric] ?? 0])) as Record<(typeof DAILY_METRICS)[number], number>;
      return { tokenId: token.id, day: usage.day, resetsAt: usage.resetsAt, used, limits: token.quotas, activeJobs: await queue.activeCount(token.id) };
    },
  );
}
