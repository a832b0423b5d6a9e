/** Runs the real `liveswap` command (from source, through tsx) as a child process. */

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TEST_HOME } from '../helpers/fixtures.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
/** Resolved here, so the command can run from any working folder. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** For tests that spawn the command themselves (to signal it while it runs). */
export { MAIN as MAIN_PATH, TSX as TSX_URL };

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `home` overrides the model cache; pointing it somewhere unusable shows whether a failure was
 * caught before the models were loaded. The first run converts the built-in models into the
 * cache, so the timeout allows minutes, not seconds.
 */
export function runCli(args: readonly string[], options: { cwd?: string; timeoutMs?: number; home?: string } = {}): CliResult {
  const result = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 300_000,
    input: '',
    env: { ...process.env, LIVESWAP_HOME: options.home ?? TEST_HOME, LIVESWAP_DEBUG: '', NO_COLOR: '1' },
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** For assertion messages: everything the command printed. */
export function show(result: CliResult): string {
  return `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}
