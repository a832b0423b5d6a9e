/**
 * The RTMP viewer of bench:stream, run as a worker thread so that the time each picture arrives is
 * noted at once, whatever the main thread (the swap) is doing: an ffmpeg pulls the stream with no
 * buffering of its own and writes the stamped corner of every decoded picture, grey, to a pipe
 * flushed per picture; each is read back (frame-stamp.ts) and noted with its arrival time (ms since
 * the epoch, the clock the main thread's frame times use).
 */

import { spawn } from 'node:child_process';
import { parentPort, workerData } from 'node:worker_threads';
import { readStamp, STAMP_SIZE } from './frame-stamp.js';
import type { FromPuller, PullerData, ToPuller } from './stamp-puller.js';

const port = parentPort!;
const { ffmpeg, url } = workerData as PullerData;
const FRAME = STAMP_SIZE * STAMP_SIZE;

const child = spawn(
  ffmpeg,
  [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-fflags', 'nobuffer', '-flags', 'low_delay', '-i', url],
    ...['-map', '0:v:0', '-vf', `crop=${STAMP_SIZE}:${STAMP_SIZE}:0:0,format=gray`, '-vsync', 'passthrough', '-f', 'rawvideo', '-flush_packets', '1', 'pipe:1'],
  ],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
let seen: [number, number][] = [];
let unreadable = 0;
let stderr = '';
let pending: Buffer = Buffer.alloc(0);
child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
child.stdout.on('data', (chunk: Buffer) => {
  const at = performance.timeOrigin + performance.now();
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  while (pending.length >= FRAME) {
    const frame = pending.subarray(0, FRAME);
    const n = readStamp((x, y) => frame[y * STAMP_SIZE + x]!);
    if (n === undefined) unreadable++;
    else seen.push([n, at]);
    if (seen.length + unreadable === 1) port.postMessage({ type: 'first' } satisfies FromPuller);
    pending = pending.subarray(FRAME);
  }
});
// Stopped or ended by itself (the stream failed), the thread sends what it saw and ends.
child.once('close', (code) => {
  port.postMessage({ type: 'done', seen, unreadable, stderr, code } satisfies FromPuller);
  port.close();
});

port.on('message', (message: ToPuller) => {
  if (message.type === 'reset') {
    seen = [];
    unreadable = 0;
  } else child.kill('SIGKILL');
});
