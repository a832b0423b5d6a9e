/**
 * "Process on: this browser / the server" for the live app: what the page asks `liveswap ui`
 * about server-side processing, which side it starts on, and the worker that sends the frames to
 * the server (server-worker.ts) in place of the one that runs the models here.
 */

import { UI_LIVE_PATHS, type UiLiveInfo } from '../pipeline/live-wire.js';

export const PROCESS_ON = ['browser', 'server'] as const;
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
 * browser has no WebGPU (a GPU there beats wasm here), else in the browser.
 */
export function defaultProcessOn(server: UiLiveInfo | null, hasWebGpu: boolean): ProcessOn {
  return server?.gpu && !hasWebGpu ? 'server' : 'browser';
}

/** The worker for LiveClient's `createWorker` that processes on the server. */
export function createServerWorker(): Worker {
  // The emitted name: dist/browser/server-worker.js beside this file (Vite maps it back to the TypeScript source).
  return new Worker(new URL('./server-worker.js', import.meta.url), { type: 'module', name: 'liveswap-server' });
}
