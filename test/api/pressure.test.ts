/**
 * Back-pressure: a process whose event loop is held up past the limit answers 503 overloaded with
 * Retry-After (in the one error shape) until it recovers; /v1/health answers throughout.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi } from './api-helpers.js';

describe('API back-pressure', () => {
  let api: TestApi<'one'>;
  before(async () => {
    api = await startTestApi({ one: { scopes: ['jobs:read'] } }, { pressure: { maxEventLoopDelay: 50, sampleIntervalMs: 20, retryAfterSeconds: 7 } });
  });
  after(async () => api?.stop());

  it('an event loop held up past the limit answers 503 overloaded with Retry-After', async () => {
    // The check samples the loop's delay every 20 ms: hold the loop, then ask at once (a few tries,
    // since a sample taken between the hold and the request may already read as recovered).
    let reply;
    for (let attempt = 0; attempt < 5 && reply?.statusCode !== 503; attempt++) {
      const until = performance.now() + 400;
      while (performance.now() < until) {
        // Hold the event loop, as a stuck request would.
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
      reply = await api.server.app.inject({ url: '/v1/usage', headers: api.auth('one') });
    }
    assert.equal(reply!.statusCode, 503, reply!.body);
    assert.equal(reply!.headers['retry-after'], '7');
    assert.equal(reply!.json<{ error: { kind: string } }>().error.kind, 'overloaded');
    // Liveness is not readiness: /v1/health still answers while the process refuses work.
    const health = await api.server.app.inject({ url: '/v1/health' });
    assert.equal(health.statusCode, 200, health.body);
    // And it recovers once the loop runs freely again.
    let recovered;
    for (let attempt = 0; attempt < 50 && recovered?.statusCode !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      recovered = await api.server.app.inject({ url: '/v1/usage', headers: api.auth('one') });
    }
    assert.equal(recovered!.statusCode, 200);
  });
});
