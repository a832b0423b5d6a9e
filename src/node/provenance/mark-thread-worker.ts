/**
 * The marks thread of a run (see mark-thread.ts), run as a worker thread: it draws the label and
 * embeds the watermark on each frame it is sent, in the order sent, with one FrameMarker made from
 * the run's mark settings, and sends the frame back (its buffer moved, never copied). A frame it
 * cannot mark comes back as an error, never unmarked.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { FrameMarker, type MarkSettings } from '../../provenance/marks.js';
import type { FromMarkThread, ToMarkThread } from './mark-thread.js';

const port = parentPort!;
const marker = new FrameMarker((workerData as { settings: MarkSettings }).settings);

port.on('message', (message: ToMarkThread) => {
  const { id, width, height, channels, buffer } = message;
  const started = performance.now();
  try {
    marker.mark({ width, height, channels, data: new Uint8ClampedArray(buffer) });
    const reply: FromMarkThread = { id, buffer, ms: performance.now() - started };
    port.postMessage(reply, [buffer]);
  } catch (error) {
    const reply: FromMarkThread = { id, error: error instanceof Error ? error.message : String(error) };
    port.postMessage(reply);
  }
});
