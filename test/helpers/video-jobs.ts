/**
 * What the queue tests share: a video job request on a tiny clip (mesh engine, which needs no
 * download), the built-in models converted once and linked into a fresh service home (so worker
 * processes do not convert them again), and the audit lines of a job.
 */

import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createNodeSwapper } from '../../src/node/jobs/swapper.js';
import { readAudit, type AuditEntry } from '../../src/node/provenance/output-provenance.js';
import type { VideoJobRequest } from '../../src/node/service/types.js';
import { FIXTURES, loadFixture, TEST_HOME } from './fixtures.js';

/** A request as the API would make it, for `clip`. */
export function videoRequest(clip: string, over: Partial<VideoJobRequest> = {}): VideoJobRequest {
  return {
    tokenId: 'tok000000001',
    tokenName: 'tests',
    identityId: 'identity-1',
    consentId: 'consent-1',
    input: clip,
    sources: [join(FIXTURES, 'astronaut.png')],
    paint: { engine: 'mesh' },
    encoding: { audio: false, preset: 'ultrafast' },
    videoSeconds: 1,
    reservedAt: new Date().toISOString(),
    requestId: 'req-1',
    ip: '127.0.0.1',
    userAgent: 'liveswap-tests',
    ...over,
  };
}

/** Converts the mesh engine's models into the shared test cache once. */
export async function warmModels(): Promise<void> {
  const swapper = await createNodeSwapper({ provider: 'cpu', threads: 1, engine: 'mesh', home: TEST_HOME });
  try {
    await swapper.analyze(await loadFixture('astronaut.png'));
  } finally {
    await swapper.close();
  }
}

/** A service home whose model cache is the shared test cache (a link), after {@link warmModels}. */
export async function homeWithModels(home: string): Promise<string> {
  await mkdir(home, { recursive: true });
  await symlink(join(TEST_HOME, 'models'), join(home, 'models'), 'dir');
  return home;
}

/** The audit lines about job `id`. */
export async function jobAudit(home: string, id: string): Promise<AuditEntry[]> {
  return (await readAudit(home)).entries.filter((e) => e.service?.jobId === id);
}
