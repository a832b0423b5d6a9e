/**
 * The SDK's generated schema stays in step with the API: src/client/openapi.json and schema.ts are
 * made again in memory from the route schemas (tools/openapi.ts) and must equal the committed
 * files, so CI fails when a route changes without `npm run openapi`. And the types bite: a wrong
 * field, state or option fails the TypeScript compiler (checked here with the compiler on a snippet,
 * and by `npm run typecheck` on the @ts-expect-error lines below).
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { Job, LiveswapClient, Usage } from '../../src/client/index.js';
import { generateClientSchema, OPENAPI_JSON, SCHEMA_TS } from '../../tools/openapi.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('the generated SDK schema', () => {
  it('matches a fresh generation from the routes (run npm run openapi when this fails)', async () => {
    const fresh = await generateClientSchema();
    for (const path of [OPENAPI_JSON, SCHEMA_TS]) {
      const committed = readFileSync(`${ROOT}${path}`, 'utf8');
      assert.ok(committed === fresh[path], `${path} is out of date with the API's routes: run npm run openapi and commit it`);
    }
    const document = JSON.parse(fresh[OPENAPI_JSON]!) as { paths: Record<string, unknown> };
    for (const route of ['/v1/health', '/v1/swaps/image', '/v1/jobs/video', '/v1/jobs/{id}/events', '/v1/uploads']) assert.ok(route in document.paths, route);
  });

  it('makes a wrong field access a compile error', () => {
    // A snippet compiled against the real SDK: each marked line must give exactly one error.
    const snippet = `
      import type { Job, LiveswapClient } from './index.js';
      export async function use(client: LiveswapClient, job: Job): Promise<void> {
        const fine: number = job.progress.frame + (job.resultUrl?.length ?? 0);
        void fine;
        void job.resultUrl.length; // ERROR: optional
        void job.progressPercent; // ERROR: no such field
        if (job.state === 'running') return; // ERROR: not a state
        await client.submitVideo({ identityId: 'a', uploadId: 'b', swap: { engine: 'fast' } }); // ERROR: not an engine
        await client.submitVideo({ identityId: 'a' }); // ERROR: uploadId missing
      }
    `;
    const file = `${ROOT}src/client/__type-check__.ts`;
    const options: ts.CompilerOptions = {
      strict: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      lib: ['lib.es2023.d.ts'],
    };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    const getSourceFile = host.getSourceFile.bind(host);
    host.readFile = (name) => (name === file ? snippet : readFile(name));
    host.fileExists = (name) => name === file || fileExists(name);
    host.getSourceFile = (name, language, ...rest) => (name === file ? ts.createSourceFile(name, snippet, language) : getSourceFile(name, language, ...rest));
    const program = ts.createProgram([file], options, host);
    const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === file);
    const lines = diagnostics.map((d) => d.file!.getLineAndCharacterOfPosition(d.start!).line);
    const expected = snippet
      .split('\n')
      .map((line, index) => (line.includes('// ERROR') ? index : -1))
      .filter((index) => index >= 0);
    const messages = diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n');
    assert.deepEqual(
      [...new Set(lines)].sort((a, b) => a - b),
      expected,
      messages,
    );
  });
});

/** Checked by `npm run typecheck` (tsc over test/): each line below must stay an error. */
export function typeErrorsStayErrors(client: LiveswapClient, job: Job, usage: Usage): void {
  // @ts-expect-error resultUrl is there only once the job is completed
  void job.resultUrl.length;
  // @ts-expect-error a job has no such state
  void (job.state === 'running');
  // @ts-expect-error usage has no such counter
  void usage.used.images;
  // @ts-expect-error the engine is one of auto, mesh, inswapper
  void client.swapImage(new Uint8Array(), 'id', { engine: 'fast' });
}
