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
/** A frame being decoded; newer frames that arrive meanwhile replace each other, so none pile up. */
let decoding = false;
let nextFrame: Blob | null = null;

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

async function draw(blob: Blob): Promise<void> {
  if (decoding) {
    nextFrame = blob;
    return;
  }
  decoding = true;
  try {
    const bitmap = await createImageBitmap(blob);
    if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
    }
    context?.drawImage(bitmap, 0, 0);
    bitmap.close();
    frames++;
    document.body.dataset.frames = String(frames);
    waiting.hidden = true;
  } catch {
    // A frame that does not decode is skipped; the next one replaces it.
  } finally {
    decoding = false;
  }
  const next = nextFrame;
  nextFrame = null;
  if (next) await draw(next);
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
    if (event.data instanceof Blob) void draw(new Blob([event.data], { type: 'image/jpeg' }));
  };
  socket.onclose = () => {
    waiting.hidden = false;
    const delay = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)] ?? 5000;
    failures++;
    window.setTimeout(() => connect(path), delay);
  };
}

void watchPath().then(connect);
