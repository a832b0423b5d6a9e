/**
 * Starts bench:stream's RTMP viewer (stamp-puller-thread.ts) on a thread of its own: it pulls a
 * stream with ffmpeg and notes each stamped picture's number and arrival time. Run from the
 * TypeScript sources, the thread loads through tsx's loader.
 */

import { Worker } from 'node:worker_threads';

/** What the thread is started with. */
export interface PullerData {
  ffmpeg: string;
  url: string;
}

export type ToPuller = { type: 'reset' } | { type: 'stop' };

export type FromPuller =
  | { type: 'first' }
  | {
      type: 'done';
      /** [number read, arrival (ms since the epoch)] of every readable picture, in order. */
      seen: [number, number][];
      unreadable: number;
      stderr: string;
      code: number | null;
    };

/** A running viewer. */
export interface StampPuller {
  /** Resolves when the first picture came. */
  first: Promise<void>;
  /** Forgets what was seen so far (the warm-up). */
  reset(): void;
  /** Stops ffmpeg; what was seen since the last reset. */
  stop(): Promise<Extract<FromPuller, { type: 'done' }>>;
}

export function startStampPuller(data: PullerData): StampPuller {
  const entry = JSON.stringify(new URL('./stamp-puller-thread.ts', import.meta.url).href);
  const loader = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const worker = new Worker(`import(${loader}).then(({ register }) => { register(); return import(${entry}); });`, { eval: true, workerData: data, name: 'rtmp viewer' });
  let done!: (message: Extract<FromPuller, { type: 'done' }>) => void;
  let failed!: (error: Error) => void;
  const finished = new Promise<Extract<FromPuller, { type: 'done' }>>((resolve, reject) => {
    done = resolve;
    failed = reject;
  });
  finished.catch(() => undefined);
  let firstCame!: () => void;
  const first = new Promise<void>((resolve) => (firstCame = resolve));
  worker.on('message', (message: FromPuller) => {
    if (message.type === 'first') firstCame();
    else done(message);
  });
  worker.on('error', failed);
  return {
    first: Promise.race([first, finished.then((m) => Promise.reject(new Error(`the RTMP viewer ended before any picture (ffmpeg ${m.code}): ${m.stderr}`)))]),
    reset: () => worker.postMessage({ type: 'reset' } satisfies ToPuller),
    async stop() {
      worker.postMessage({ type: 'stop' } satisfies ToPuller);
      const message = await finished;
      await worker.terminate();
      return message;
    },
  };
}
