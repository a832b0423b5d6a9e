/**
 * How the page shows what the worker reported failing, by its phase and kind: a model that did not
 * load stops the engine and is named; a failed frame is counted and the stream goes on; a photo,
 * a control message or the relay gets its own message. Plain functions of the event, so tests
 * need no page.
 */

import { LiveswapError } from '../../src/core/errors.js';
import type { LiveErrorEvent } from '../../src/browser/live-client.js';
import { sentence } from './dom.js';
import type { MessageKind, MessageLevel } from './messages.js';

/** Where a failure goes in the message strip, what it says, and whether the engine stops. */
export interface ErrorPresentation {
  slot: MessageKind;
  level: MessageLevel;
  text: string;
  stop: boolean;
}

/** A model's file name from its URL (`/models/builtin/facemesh-1a2b.onnx` → `facemesh-1a2b.onnx`). */
export function modelName(url: string): string {
  const path = url.split(/[?#]/, 1)[0] ?? url;
  return path.slice(path.lastIndexOf('/') + 1) || url;
}

/** The message for an engine that did not start (LiveClient.start rejected with `error`). */
export function startFailureText(engine: string, backend: string, error: unknown): string {
  const reason = sentence(error instanceof Error ? error.message : String(error));
  if (error instanceof LiveswapError && error.kind === 'model' && error.file !== undefined) {
    return `The ${engine} engine could not start on ${backend}: the model ${modelName(error.file)} did not load. ${reason} Try another engine or backend.`;
  }
  return `The ${engine} engine could not start on ${backend}: ${reason} Try another engine or backend.`;
}

/** How one failure reported after the start is shown. */
export function presentWorkerError(event: LiveErrorEvent, engine: string): ErrorPresentation {
  if (event.kind === 'model') {
    const which = event.model === undefined ? 'a model' : `the model ${modelName(event.model)}`;
    return { slot: 'model', level: 'error', stop: true, text: `The ${engine} engine stopped: ${which} did not load. ${sentence(event.message)} Pick the engine again to retry.` };
  }
  switch (event.phase) {
    case 'frame': {
      const count = event.failedFrames === 1 ? '1 frame has failed' : `${event.failedFrames} frames have failed`;
      return { slot: 'frame', level: 'warning', stop: false, text: `${sentence(event.message)} ${count} so far; the stream goes on.` };
    }
    case 'source':
      return { slot: 'source', level: 'error', stop: false, text: sentence(event.message) };
    case 'relay':
      return { slot: 'relay', level: 'warning', stop: false, text: sentence(event.message) };
    case 'control':
      return { slot: 'engine', level: 'error', stop: false, text: `The engine could not apply a change: ${sentence(event.message)}` };
    case 'start':
      return { slot: 'model', level: 'error', stop: true, text: `The ${engine} engine stopped: ${sentence(event.message)} Pick the engine again to retry.` };
  }
}
