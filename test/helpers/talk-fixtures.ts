/**
 * What the talk tests share: whether flite is there (a test is skipped, with the reason, only where
 * it is missing outside CI), a temporary folder with the mesh swapper that measures the output's
 * mouth, and an identity made from the bundled photo with the caller's own consent.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodeSwapper, type NodeSwapper } from '../../src/node/jobs/swapper.js';
import { multipart, type TestApi } from '../api/api-helpers.js';
import { FIXTURES, TEST_HOME } from './fixtures.js';

/** Why flite cannot be used here, or undefined when it can; in CI a missing flite is an error, not a skip. */
export function fliteMissing(): string | undefined {
  const probe = spawnSync('flite', ['-lv'], { encoding: 'utf8' });
  if (!probe.error && probe.status === 0) return undefined;
  const why = 'flite is not installed (apt-get install flite)';
  if (process.env.CI === 'true') throw new Error(`${why}; .ci/run should have installed it`);
  return why;
}

/** `describe`'s skip reason for tests that need flite, printed once with what is skipped. */
export function skipWithoutFlite(what: string): string | undefined {
  const skip = fliteMissing();
  if (skip) console.log(`# skipping ${what}: ${skip}`);
  return skip;
}

/** A temporary folder and the mesh swapper (FaceMesh on the test home) that reads a talk's mouth back. */
export interface TalkWorkspace {
  dir: string;
  swapper: NodeSwapper;
}

/** Makes a `prefix`-named temporary folder and opens the mesh swapper; undo with closeTalkWorkspace. */
export async function openTalkWorkspace(prefix: string): Promise<TalkWorkspace> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, swapper: await createNodeSwapper({ home: TEST_HOME, engine: 'mesh' }) };
}

/** Closes the swapper and removes the folder (either may be missing when `before` failed). */
export async function closeTalkWorkspace(workspace: Partial<TalkWorkspace> | undefined): Promise<void> {
  await workspace?.swapper?.close();
  if (workspace?.dir) rmSync(workspace.dir, { recursive: true, force: true });
}

/** The server's consent statement version, as a caller reads it before attesting. */
export async function consentStatementVersion<N extends string>(api: TestApi<N>, name: N): Promise<string> {
  const reply = await fetch(`${api.server.url}/v1/consent/statement`, { headers: api.auth(name) });
  return ((await reply.json()) as { version: string }).version;
}

/** Makes an identity of `name`'s from the bundled grace_hopper.jpg, consented as the subject; returns its id. */
export async function makeSelfIdentity<N extends string>(api: TestApi<N>, name: N, statementVersion: string): Promise<string> {
  const { body, contentType } = multipart([
    { name: 'consent', value: JSON.stringify({ subject: 'self', attested: true, statementVersion }) },
    { name: 'photo', filename: 'g.jpg', type: 'image/jpeg', bytes: await readFile(join(FIXTURES, 'grace_hopper.jpg')) },
  ]);
  const made = await fetch(`${api.server.url}/v1/identities`, { method: 'POST', headers: { ...api.auth(name), 'content-type': contentType }, body });
  assert.equal(made.status, 201, await made.clone().text());
  return ((await made.json()) as { id: string }).id;
}
