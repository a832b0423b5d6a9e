/**
 * The /output page: shows the frames the app relays through the server (one JPEG per WebSocket
 * message), full window, for a second screen or OBS. Reconnects with backoff when the socket drops.
 */

import { byId } from './dom.js';

const FALLBACK_WATCH = '/api/relay/watch';
const BACKOFF_MS = [500, 1000, 2000, 5000];

const canvas = byId('output', HTMLCanvasElement);
const waiting = byId('waiting', HTMLElement);
const context = canvas.getContext('2d');
let frames = 0;
let failures = 0;
/** Frames decoded at once (decoding runs off the page's thread); a frame that arrives while this many are under way is skipped, so none pile up. */
const MAX_DECODING = 3;
let decoding = 0;
/** Frames are drawn in the order they arrived, each once it is decoded. */
let drawn: Promise<void> = Promise.resolve();

async function watchPath(): Promise<string> {
  try {
    const response = await fetch('/api/info', { headers: { accept: 'application/json' } });
    if (!response.ok) return FALLBACK_WATCH;
    const info = (await response.json()) as { relay?: { watch?: unknown } };
    return typeof info.relay?.watch === 'string' ? info.relay.watch : FALLBACK_WATCH;
  } catch {
    return FALLBACK_WATCH;
  }
}

function draw(blob: Blob): void {
  if (decoding >= MAX_DECODING) return;
  decoding++;
  const decoded = createImageBitmap(blob).catch(() => null); // a frame that does not decode is skipped
  drawn = drawn
    .then(async () => {
      const bitmap = await decoded;
      decoding--;
      if (!bitmap) return;
      if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
      }
      context?.drawImage(bitmap, 0, 0);
      bitmap.close();
      frames++;
      document.body.dataset.frames = String(frames);
      waiting.hidden = true;
    })
    .catch(() => undefined); // a frame that cannot be drawn is skipped; the next ones still are
}

function connect(path: string): void {
  const url = new URL(path, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(url);
  socket.binaryType = 'blob';
  socket.onopen = () => {
    failures = 0;
  };
  socket.onmessage = (event: MessageEvent<unknown>) => {
    if (event.data instanceof Blob) draw(new Blob([event.data], { type: 'image/jpeg' }));
  };
  socket.onclose = () => {
    waiting.hidden = false;
    const delay = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)] ?? 5000;
    failures++;
    window.setTimeout(() => connect(path), delay);
  };
}

void watchPath().then(connect);
