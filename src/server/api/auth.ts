/**
 * Bearer-token auth on every route but health: the token store checks the header (constant-time,
 * from memory), the route's config names the scope it needs. Missing, malformed, unknown, revoked
 * and expired tokens are 401 with `WWW-Authenticate: Bearer`; a token without the scope is 403.
 * Refusals on media routes are audited.
 */

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TokenRefusal, TokenStore } from '../../node/service/types.js';
import { auditRefusal, markStart } from './audit.js';
import { ApiError, sendError } from './errors.js';

const REFUSALS: Readonly<Record<TokenRefusal, string>> = {
  missing: 'This route needs a token: send `Authorization: Bearer lsw_…` (make one with `liveswap tokens create`).',
  malformed: 'The Authorization header is not `Bearer lsw_<id>_<secret>`.',
  unknown: 'The token is not known to this server.',
  revoked: 'The token has been revoked.',
  expired: 'The token has expired.',
};

/** Adds the auth hook; `home` is where refusals on media routes are audited. */
export function addAuth(app: FastifyInstance, tokens: () => TokenStore, home: string): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    markStart(request);
    const access = request.routeOptions.config.access ?? { scope: 'any' as const };
    if (access.scope === 'none') return undefined;
    const authentication = tokens().authenticate(request.headers.authorization);
    if (!authentication.ok) {
      const message = REFUSALS[authentication.refusal];
      if (access.media) await auditRefusal(home, request, 'rejected-auth', `token ${authentication.refusal}`);
      return sendError(reply, new ApiError('unauthorized', message));
    }
    request.token = authentication.token;
    if (access.scope !== 'any' && !authentication.token.scopes.includes(access.scope)) {
      if (access.media) await auditRefusal(home, request, 'rejected-auth', `scope ${access.scope} missing`);
      return sendError(reply, new ApiError('forbidden', `This token lacks the scope ${access.scope} that ${request.method} ${request.routeOptions.url} needs.`));
    }
    return undefined;
  });
}
