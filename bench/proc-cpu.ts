/**
 * CPU time from Linux's /proc for the benchmarks that say how many cores a swap uses. Each is
 * undefined where /proc is not there. Fields are counted from after the command name in `stat`
 * (field 3 is index 0): utime and stime are fields 14 and 15, cutime and cstime 16 and 17.
 */

import { readFileSync } from 'node:fs';

function statFields(path: string): string[] | undefined {
  try {
    const stat = readFileSync(path, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds of the children this process has waited for (ffmpeg). */
export function childrenCpuSeconds(): number | undefined {
  const fields = statFields('/proc/self/stat');
  return fields && (Number(fields[13]) + Number(fields[14])) / 100;
}

/**
 * CPU seconds of this process's main thread (the swap's critical path: find, paint, and the marks
 * when they run in turn). Unlike wall time it hardly moves with the machine's load, so it says what
 * a quiet machine's main thread would spend.
 */
export function mainThreadCpuSeconds(): number | undefined {
  const fields = statFields(`/proc/self/task/${process.pid}/stat`);
  return fields && (Number(fields[11]) + Number(fields[12])) / 100;
}
