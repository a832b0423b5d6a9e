/**
 * The benchmarks' command-line flags: `--name value` options and `--name` switches, read from
 * process.argv.
 */

const args = process.argv.slice(2);

/** The value after the flag `name`; `fallback` when the flag is not given or has no value. */
export function option(name: string): string | undefined;
export function option(name: string, fallback: string): string;
export function option(name: string, fallback?: string): string | undefined {
  const at = args.indexOf(name);
  const value = at >= 0 ? args[at + 1] : undefined;
  return value ? value : fallback;
}
