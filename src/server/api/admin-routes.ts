/** Token administration over HTTP [admin]: the same store as `liveswap tokens create|list|revoke`. */

import type { TokenRecord } from '../../node/service/types.js';
import type { ApiApp, ContextOf } from './app-type.js';
import type { ApiContext } from './context.js';
import { ApiError } from './errors.js';
import { IdParams, TokenCreate, TokenCreated, TokenInfo, TokenList, withErrors } from './schemas.js';

/** A token record as shown (never the secret's hash). */
export function tokenView(record: TokenRecord): {
  id: string;
  name: string;
  scopes: TokenRecord['scopes'];
  quotas: TokenRecord['quotas'];
  createdAt: string;
  expiresAt?: string;
  revokedAt?: string;
} {
  return {
    id: record.id,
    name: record.name,
    scopes: record.scopes,
    quotas: record.quotas,
    createdAt: record.createdAt,
    ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}),
    ...(record.revokedAt ? { revokedAt: record.revokedAt } : {}),
  };
}

export function addAdminRoutes(app: ApiApp, context: ContextOf<ApiContext>): void {
  const access = { access: { scope: 'admin' as const } };
  app.post(
    '/v1/admin/tokens',
    {
      config: access,
      schema: { tags: ['admin'], summary: 'Make a token; the whole token is in this answer only.', body: TokenCreate, response: withErrors({ 201: TokenCreated }) },
    },
    async (request, reply) => {
      const { body } = request;
      const created = await context().stores.tokens.create({
        name: body.name,
        scopes: body.scopes,
        ...(body.quotas ? { quotas: body.quotas } : {}),
        ...(body.expiresAt ? { expiresAt: body.expiresAt } : {}),
      });
      return reply
        .code(201)
        .header('Cache-Control', 'no-store')
        .send({ token: created.token, record: tokenView(created.record) });
    },
  );
  app.get('/v1/admin/tokens', { config: access, schema: { tags: ['admin'], summary: 'Every token (no secrets).', response: withErrors({ 200: TokenList }) } }, async () => ({
    tokens: (await context().stores.tokens.list()).map(tokenView),
  }));
  app.delete(
    '/v1/admin/tokens/:id',
    { config: access, schema: { tags: ['admin'], summary: 'Revoke a token (kept, marked revoked).', params: IdParams, response: withErrors({ 200: TokenInfo }, [404]) } },
    async (request) => {
      const { tokens } = context().stores;
      if (!(await tokens.revoke(request.params.id))) throw new ApiError('not-found', `No token ${request.params.id}.`);
      const record = await tokens.get(request.params.id);
      if (!record) throw new ApiError('not-found', `No token ${request.params.id}.`);
      return tokenView(record);
    },
  );
}
