/**
 * The fuzz targets of the `liveswap ui` server's request parsing: the provenance routes' JSON
 * bodies, the Range header of file requests, and the --host value with the Host and Origin headers.
 */

import fc from 'fast-check';
import { parseRange } from '../../src/server/http-files.js';
import { hostPolicy, isLoopbackHost } from '../../src/server/origin.js';
import { BadRequest, parseOutputRequest, parseSessionRequest } from '../../src/server/provenance-routes.js';
import { checkRange } from './checks.js';
import { OUTPUT_BODY, SESSION_BODY } from './corpus.js';
import { expectOutcome, mutatedJson, neverThrows, type FuzzTarget } from './harness.js';

/** Bodies as the JSON text the server receives (deep nesting stays a string until the target parses it). */
export const body: FuzzTarget<{ route: 'session' | 'output'; text: string }> = {
  name: 'server-provenance-body',
  about: 'parseSessionRequest / parseOutputRequest: the JSON bodies of the provenance routes',
  arbitrary: async () => {
    const route = fc.constantFrom('session' as const, 'output' as const);
    const json = (seed: unknown) => fc.oneof(mutatedJson([seed]), fc.jsonValue({ maxDepth: 4 })).map((v) => JSON.stringify(v) ?? 'null');
    return fc.oneof(
      fc.record({ route: fc.constant('session' as const), text: json(SESSION_BODY) }),
      fc.record({ route: fc.constant('output' as const), text: json(OUTPUT_BODY) }),
      // As deep as a 64 kB body can nest.
      fc.record({ route, text: fc.integer({ min: 1, max: 32_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`) }),
    );
  },
  run: ({ route, text }) =>
    expectOutcome(
      () => {
        const value = JSON.parse(text) as unknown;
        return route === 'session' ? parseSessionRequest(value, 'AI-generated') : parseOutputRequest(value, 'AI-generated');
      },
      () => undefined,
      (error) => error instanceof BadRequest && (error.statusCode === 400 || error.statusCode === 415),
    ),
};

export const range: FuzzTarget<{ header: string; size: number }> = {
  name: 'server-range',
  about: 'parseRange: the Range header of a file request',
  arbitrary: async () =>
    fc.record({
      header: fc.oneof(
        fc.string({ maxLength: 40 }),
        fc
          .tuple(
            fc.oneof(fc.nat().map(String), fc.constant(''), fc.stringMatching(/^\d{1,400}$/)),
            fc.oneof(fc.nat().map(String), fc.constant(''), fc.stringMatching(/^\d{1,400}$/)),
          )
          .map(([a, b]) => `bytes=${a}-${b}`),
      ),
      size: fc.oneof(fc.nat(), fc.constantFrom(0, 1, 2 ** 53 - 1)),
    }),
  run: ({ header, size }) =>
    expectOutcome(
      () => parseRange(header, size),
      (r) => checkRange(r, size),
      neverThrows,
    ),
};

export const origin: FuzzTarget<{ host: string; port: number; header: string; origin: string }> = {
  name: 'server-origin',
  about: 'isLoopbackHost / hostPolicy: the --host value, Host and Origin headers',
  arbitrary: async () => {
    const host = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0', 'fe80::1%eth0', '::ffff:127.0.0.1', 'a.localhost'),
      fc.ipV6(),
      fc.ipV4(),
      fc.tuple(fc.ipV6(), fc.string({ maxLength: 8 })).map(([ip, zone]) => `${ip}%${zone}`),
    );
    return fc.record({
      host,
      port: fc.integer({ min: 0, max: 65535 }),
      header: fc.oneof(host, fc.string()),
      origin: fc.oneof(
        host.map((h) => `http://${h}`),
        fc.string(),
      ),
    });
  },
  run: ({ host, port, header, origin: from }) =>
    expectOutcome(
      () => {
        const policy = hostPolicy(host, port);
        return [isLoopbackHost(host), policy.hostAllowed(header), policy.originAllowed(from, header), policy.originAllowed(from, undefined)];
      },
      (answers) => (answers.every((a) => typeof a === 'boolean') ? undefined : `answers ${JSON.stringify(answers)}`),
      neverThrows,
    ),
};
