/**
 * "Process on: this browser / the server / the server over WebRTC" for the live app: what the page
 * asks `liveswap ui` about server-side processing, which side it starts on, and the worker that
 * sends the frames to the server (server-worker.ts, or whip-transport.ts for WebRTC) in place of
 * the one that runs the models here.
 */

import { UI_LIVE_PATHS, type UiLiveInfo } from '../pipeline/live-wire.js';

/** In this browser, on the server with frames over a WebSocket, or on the server over WebRTC (WHIP). */
export const PROCESS_ON = ['browser', 'server', 'server-webrtc'] as const;
export type ProcessOn = (typeof PROCESS_ON)[number];

/** The server's offer, or null when it has none (an older server, or it did not answer). */
export async function fetchServerProcessing(fetchImpl: typeof fetch = fetch): Promise<UiLiveInfo | null> {
  try {
    const response = await fetchImpl(UI_LIVE_PATHS.info, { headers: { accept: 'application/json' } });
    if (!response.ok) return null;
    const body = (await response.json()) as UiLiveInfo;
    return typeof body === 'object' && body !== null && typeof body.socket === 'string' ? body : null;
  } catch {
    return null;
  }
}

/**
 * Where frames are processed unless the user chose: on the server when it offers a GPU and this
 * browser has no WebGPU (a GPU there beats wasm here), over WebRTC where both sides can (video
 * codecs beat a JPEG per frame), else in the browser.
 */
export function defaultProcessOn(server: UiLiveInfo | null, hasWebGpu: boolean, hasWebRtc = false): ProcessOn {
  if (!server?.gpu || hasWebGpu) return 'browser';
  return server.whip && hasWebRtc ? 'server-webrtc' : 'server';
}

/** Whether `processOn` sends the frames to the server. */
export function onServer(processOn: ProcessOn): boolean {
  return processOn !== 'browser';
}

export { createWhipWorker, whipSupported } from './whip-transport.js';

/** The worker for LiveClient's `createWorker` that processes on the server (frames over a WebSocket). */
export function createServerWorker(): Worker {
  // The emitted name: dist/browser/server-worker.js beside this file (Vite maps it back to the TypeScript source).
  return new Worker(new URL('./server-worker.js', import.meta.url), { type: 'module', name: 'liveswap-server' });
}
