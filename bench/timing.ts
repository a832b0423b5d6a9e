/** Shared timing loop of the micro-benchmarks: warm-up runs, then the median and minimum of timed runs. */

export interface Timing {
  median: number;
  min: number;
}

/**
 * Times `run` (ms) over `iterations` runs after `warmup` untimed ones; `reset`, when given, runs
 * before each run and is not timed (to restore an input the run changes in place).
 */
export function timeRuns(run: () => void, options: { iterations?: number; warmup?: number; reset?: () => void } = {}): Timing {
  const { iterations = 30, warmup = 5, reset } = options;
  for (let i = 0; i < warmup; i++) {
    reset?.();
    run();
  }
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    reset?.();
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[times.length >> 1], min: times[0] };
}
