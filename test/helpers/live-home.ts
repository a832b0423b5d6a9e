/**
 * A fresh LIVESWAP_HOME for the live app's browser tests (its own watermark key and audit log)
 * sharing the test run's converted models, and the audit lines it holds.
 */

import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { builtinModel } from '../../src/node/models/model-cache.js';
import { auditLogPath, type AuditEntry } from '../../src/node/provenance/output-provenance.js';
import { TEST_HOME } from './fixtures.js';

/** A fresh LIVESWAP_HOME (its own watermark key and audit log) sharing the test run's converted models. */
export async function freshHome(parent: string): Promise<string> {
  await Promise.all((['blazeface', 'facemesh', 'faceres'] as const).map((id) => builtinModel(id, TEST_HOME)));
  const home = join(parent, 'liveswap-home');
  await mkdir(home, { recursive: true });
  await symlink(join(TEST_HOME, 'models'), join(home, 'models'));
  return home;
}

/** Every line of the home's audit log, oldest first (none when there is no log yet). */
export async function auditLog(home: string): Promise<AuditEntry[]> {
  const text = await readFile(auditLogPath(home), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as AuditEntry);
}
