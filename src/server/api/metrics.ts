/**
 * Prometheus metrics of one API process (prom-client, a registry of its own so several servers
 * can live in one process): requests by route and status, their durations, the video jobs by
 * state and the image swaps running now.
 */

import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { JOB_STATES, type JobQueue } from '../../node/service/types.js';

export interface ApiMetrics {
  registry: Registry;
  /** Image swaps running now. */
  imageSwapsActive: Gauge;
}

export function createMetrics(queue: () => JobQueue | undefined): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'liveswap_' });
  const imageSwapsActive = new Gauge({ name: 'liveswap_image_swaps_active', help: 'Image swaps running now in this process.', registers: [registry] });
  new Gauge({
    name: 'liveswap_jobs',
    help: 'Video jobs by state.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const current = queue();
      if (!current) return;
      const counts = await current.counts();
      for (const state of JOB_STATES) this.set({ state }, counts[state]);
    },
  });
  return { registry, imageSwapsActive };
}

/** Counts and times every answer by method, route pattern and status. */
export function addRequestMetrics(app: FastifyInstance, metrics: ApiMetrics): void {
  const requests = new Counter({ name: 'liveswap_http_requests_total', help: 'HTTP requests answered.', labelNames: ['method', 'route', 'status'], registers: [metrics.registry] });
  const durations = new Histogram({
    name: 'liveswap_http_request_duration_seconds',
    help: 'Time to answer an HTTP request.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [metrics.registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    requests.inc(labels);
    durations.observe(labels, reply.elapsedTime / 1000);
  });
}
