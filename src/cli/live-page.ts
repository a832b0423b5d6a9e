/**
 * The `output` output of `liveswap live`: the output page (`/output`) of the live app's server, for
 * an OBS browser source. The swapped frames are JPEG-encoded and published to the server's relay
 * over a loopback WebSocket, as the live app's worker does.
 */

import { LiveswapError } from '../core/errors.js';
import type { LiveSink } from '../node/live/live-output.js';

export interface OutputPageOptions {
  port?: string;
  host?: string;
  labelText?: string;
}

export interface StartedOutputPage {
  url: string;
  sink: LiveSink;
  close(): Promise<void>;
}

export function startOutputPage(options: OutputPageOptions): Promise<StartedOutputPage> {
  void options;
  return Promise.reject(new LiveswapError('usage', 'The output page is not available from `liveswap live` yet; use an rtmp:// output and an OBS media source.'));
}
