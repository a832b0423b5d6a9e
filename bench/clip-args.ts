/**
 * Command-line arguments of the clip benchmarks (`ghosts`, `clip-expression`): one video, flags
 * with values, switches, and the source photo (the bundled grace_hopper photo when none is given).
 */

import { fileURLToPath } from 'node:url';

export interface ClipArgs {
  video: string;
  source: string;
  /** The value after `name`, when given. */
  option(name: string): string | undefined;
  /** Whether the switch `name` is given. */
  has(name: string): boolean;
}

/** Parses process.argv; prints `usage` and exits 2 when no video is named. `valued` lists the flags that take a value. */
export function clipArgs(usage: string, valued: readonly string[]): ClipArgs {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const video = args.find((a, i) => !a.startsWith('--') && !['--source', ...valued].includes(args[i - 1] ?? ''));
  if (!video) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  const source = option('--source') ?? fileURLToPath(new URL('../test/fixtures/faces/grace_hopper.jpg', import.meta.url));
  return { video, source, option, has: (name) => args.includes(name) };
}
