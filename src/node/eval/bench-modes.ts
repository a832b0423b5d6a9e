/**
 * What `liveswap bench` times: still images, a video file and a simulated live camera. Apart from
 * the runner so the CLI can list them in help without loading sharp, ffmpeg or the models.
 */

export const BENCH_MODES = ['image', 'video', 'live'] as const;
export type BenchMode = (typeof BENCH_MODES)[number];
