/**
 * The browser entry (`import { LiveClient } from 'liveswap/browser'`): the live client that runs the
 * pipeline in a module Worker and shows its frames on a canvas, the onnxruntime-web runtime, and the
 * page ↔ worker protocol with the live options it carries. Bundle it with a tool that follows
 * `new Worker(new URL(…, import.meta.url))` (Vite does), or pass `createWorker` to host the worker yourself.
 */

export { LiveClient } from './live-client.js';
export type { FrameReport, FrameSource, LiveClientEvents, LiveClientOptions, LiveErrorEvent } from './live-client.js';

export { createWebRuntime, fetchModel } from './web-runtime.js';
export type { WebRuntime, WebRuntimeOptions } from './web-runtime.js';

export * from './protocol.js';
