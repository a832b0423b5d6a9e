/**
 * Daily quotas as the API applies them: reserve before the work, refund when it fails, and a
 * refusal as 429 with `Retry-After` (seconds to the day's reset) and `X-Quota-Limit`,
 * `X-Quota-Used`, `X-Quota-Reset` headers. Each refusal is audited.
 */

import type { FastifyRequest } from 'fastify';
import { DAILY_LIMIT_OF, type DailyMetric, type QuotaLedger, type TokenRecord } from '../../node/service/types.js';
import { auditRefusal } from './audit.js';
import { ApiError } from './errors.js';

/** A reservation made; `refund` gives it back once (later calls do nothing). */
export interface Reserved {
  at: Date;
  refund(): Promise<void>;
}

/** Reserves `amount` of `metric` for the caller, or throws 429 quota-exceeded (audited). */
export async function reserveQuota(home: string, quotas: QuotaLedger, request: FastifyRequest, token: TokenRecord, metric: DailyMetric, amount: number): Promise<Reserved> {
  const at = new Date();
  const limit = token.quotas[DAILY_LIMIT_OF[metric]];
  const reservation = await quotas.reserve(token.id, metric, amount, limit, at);
  if (!reservation.ok) {
    const resetAt = new Date(at.getTime() + reservation.retryAfterSeconds * 1000);
    const message = `The daily quota of ${DAILY_LIMIT_OF[metric]} (${reservation.limit}) would be passed: ${reservation.used} used, ${amount} more asked. It resets at ${resetAt.toISOString()}.`;
    await auditRefusal(home, request, 'rejected-quota', message);
    throw new ApiError('quota-exceeded', message, {
      'Retry-After': String(Math.max(1, Math.ceil(reservation.retryAfterSeconds))),
      'X-Quota-Limit': String(reservation.limit),
      'X-Quota-Used': String(reservation.used),
      'X-Quota-Reset': resetAt.toISOString(),
    });
  }
  let refunded = false;
  return {
    at,
    refund: async () => {
      if (refunded || amount === 0) return;
      refunded = true;
      await quotas.refund(token.id, metric, amount, at);
    },
  };
}

/** Refuses when the token already has `maxActiveJobs` jobs queued or running (429, audited). */
export async function checkActiveJobs(home: string, request: FastifyRequest, token: TokenRecord, active: number, adding: number): Promise<void> {
  const limit = token.quotas.maxActiveJobs;
  if (limit === undefined || active + adding <= limit) return;
  const message = `This token may have ${limit} video job${limit === 1 ? '' : 's'} queued or running at once; ${active} ${active === 1 ? 'is' : 'are'} (${adding} more asked). Wait for one to finish.`;
  await auditRefusal(home, request, 'rejected-quota', message);
  throw new ApiError('quota-exceeded', message, { 'Retry-After': '30', 'X-Quota-Limit': String(limit), 'X-Quota-Used': String(active) });
}
