/**
 * WebRTC between processes on one machine: Chromium gathers no ICE candidates on loopback alone,
 * so the WebRTC tests and benches run their peers in a fresh network namespace that holds a veth
 * pair with two addresses (root, `unshare`, and `ip` from iproute2, which `.ci/run` installs).
 */

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { REPO_ROOT, TSX_URL } from '../cli/run-cli.js';

/** Inside the new namespace: loopback up, and a veth pair whose two ends have addresses. */
const VETH_SETUP =
  'ip link set lo up && ip link add v0 type veth peer name v1 && ip addr add 10.77.0.1/24 dev v0 && ip addr add 10.77.0.2/24 dev v1 && ip link set v0 up && ip link set v1 up';

/** `unshare`'s arguments that set the namespace up and then run `command` in it. */
function inNamespace(command: readonly string[]): string[] {
  return ['-n', 'sh', '-c', `${VETH_SETUP} && exec "$@"`, 'sh', ...command];
}

/** Why a network namespace with a veth pair cannot be made here, or undefined when it can. */
export function namespaceSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'a network namespace needs root';
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link add v0 type veth peer name v1'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return `no network namespace with a veth pair here (${probe.error?.message ?? probe.stderr.trim()})`;
  return undefined;
}

/** Runs a TypeScript file (through tsx) with its arguments in a new namespace, and gives back what it printed. */
export function runInNamespace(file: string, args: readonly string[], timeoutMs: number): SpawnSyncReturns<string> {
  return spawnSync('unshare', inNamespace([process.execPath, '--import', TSX_URL, file, ...args]), { cwd: REPO_ROOT, encoding: 'utf8', timeout: timeoutMs });
}

/**
 * For a bench run as root: unless already inside one, runs this script again in a new namespace
 * (its output shown as it comes) and exits with its status.
 */
export function enterNamespace(): void {
  if (process.env.LIVESWAP_BENCH_NETNS === '1') return;
  const run = spawnSync('unshare', inNamespace([process.execPath, '--import', TSX_URL, ...process.argv.slice(1)]), {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: { ...process.env, LIVESWAP_BENCH_NETNS: '1' },
  });
  process.exit(run.status ?? 1);
}
