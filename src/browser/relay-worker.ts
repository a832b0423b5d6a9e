/**
 * The output-page relay in a worker of its own, started by the processing worker: it takes each
 * finished frame (a VideoFrame or a bitmap) and does the JPEG encoding and the sending (see relay.ts) on another
 * thread than the swap.
 */

import { Relay, type RelayEvent, type ToRelay } from './relay.js';

interface RelayScope {
  onmessage: ((event: MessageEvent<ToRelay>) => void) | null;
  postMessage(message: RelayEvent | { type: 'done' }): void;
}
const scope = self as unknown as RelayScope;

const relay = new Relay((event) => scope.postMessage(event));
scope.onmessage = ({ data }) => {
  if (data.type === 'connect') relay.connect(data.url);
  else {
    relay.send(data.picture);
    scope.postMessage({ type: 'done' });
  }
};
