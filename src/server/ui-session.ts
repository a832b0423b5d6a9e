/**
 * What the two transports of `liveswap ui`'s server-side processing share (the WebSocket of
 * ui-live.ts and the WebRTC of ui-whip.ts): the context, a session opened on a slot's engine with
 * the page's marks, and the audit line at its end.
 */

import type { NodeSwapper } from '../node/jobs/swapper.js';
import { FrameSession, type FrameSessionOptions, type FrameSessionStats } from '../node/live/frame-session.js';
import { appendAudit, auditEntry, OutputProvenance, type LoadedKey } from '../node/provenance/output-provenance.js';
import { STILL_DEFAULTS, type EngineName, type ExecutionProvider } from '../pipeline/options.js';
import type { SwapperLease, SwapperPool } from './api/swapper-pool.js';

/** What server-side processing needs from `liveswap ui`. */
export interface UiLiveContext {
  home: string;
  key: LoadedKey;
  labelText: string;
  /** Whether the page's provenance session gave out this asset id. */
  allotted(assetId: number): boolean;
  /** Whether inswapper's models are installed. */
  inswapper(): Promise<boolean>;
  /** The provider of the engines; default the first GPU provider installed, else cpu. */
  provider?: ExecutionProvider;
}

/** What the WebSocket and WHIP transports share: the engines' slots, their provider, the server's closing. */
export interface UiLiveShared {
  context: UiLiveContext;
  pool: SwapperPool;
  provider: ExecutionProvider;
  closing: AbortSignal;
}

/** A slot's engine, the page's session's marks (its asset id) and a frame session on them; the caller releases the slot. */
export async function openUiSession(
  shared: UiLiveShared,
  lease: SwapperLease,
  assetId: number,
  engine: EngineName,
  output: Pick<FrameSessionOptions, 'send' | 'sendVideo'>,
): Promise<{ swapper: NodeSwapper; provenance: OutputProvenance; session: FrameSession; maxPixels: number }> {
  const { context, provider } = shared;
  const swapper = await lease.open({ provider, threads: 1, engine });
  const provenance = new OutputProvenance(context.home, context.key, assetId, { label: true, labelText: context.labelText }, 'video');
  const maxPixels = STILL_DEFAULTS.paint.maxPixels;
  const session = new FrameSession({ swapper, acceptSources: true, labelOptional: true, provenance, maxPixels, ...output });
  return { swapper, provenance, session, maxPixels };
}

/** The audit line at the end of a server session of the page (its start is the page's own session line). */
export async function auditUiSessionEnd(
  context: UiLiveContext,
  end: {
    provenance: OutputProvenance;
    session: FrameSession;
    engine: string;
    provider: ExecutionProvider;
    transport: 'websocket' | 'webrtc';
    reason: string;
  } & FrameSessionStats & {
      seconds: number;
    },
): Promise<void> {
  await appendAudit(
    context.home,
    auditEntry({
      kind: 'live-session',
      sources: [],
      watermarkId: end.provenance.watermarkId,
      label: end.session.marks.label,
      credentials: 'none',
      options: {
        event: 'end',
        processOn: 'server',
        transport: end.transport,
        engine: end.engine,
        provider: end.provider,
        frames: end.processed,
        dropped: end.dropped,
        seconds: end.seconds,
        endReason: end.reason,
      },
    }),
  ).catch(() => undefined);
}
