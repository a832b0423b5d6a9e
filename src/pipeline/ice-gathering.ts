/**
 * Waiting for a WebRTC peer's ICE candidates before its offer or answer goes out. liveswap's
 * WHIP and WHEP signalling is non-trickle (the SDP carries every candidate), so a description sent
 * before the peer has any candidate cannot connect at all; one sent after gathering stalls on an
 * address that never answers waits for nothing. Platform-free: the server (libwebrtc through
 * @roamhq/wrtc) and the page (the browser's RTCPeerConnection) use the same rule.
 */

/** How long a description waits for gathering to complete when it already holds a candidate. */
export const GATHER_MS = 2000;
/** How long it waits while it holds none (a busy machine can be slow to gather the first). */
export const GATHER_MAX_MS = 10_000;

/** The parts of a peer connection the wait reads. */
export interface GatheringPeer {
  readonly iceGatheringState: string;
  readonly localDescription: { readonly sdp: string } | null;
}

/** Whether an SDP holds at least one ICE candidate. */
export function hasCandidate(sdp: string | undefined): boolean {
  return /^a=candidate:/m.test(sdp ?? '');
}

/**
 * Resolves once the peer has gathered its candidates; or, if gathering goes on, after
 * {@link GATHER_MS} with the candidates it has, or after {@link GATHER_MAX_MS} while it has none
 * (the caller's connection then fails with its own message). `listen` hooks the peer's
 * gathering-state changes; `poll` is how often the description is looked at.
 */
export function candidatesGathered(peer: GatheringPeer, listen: (listener: () => void) => void, poll = 50): Promise<void> {
  if (peer.iceGatheringState === 'complete') return Promise.resolve();
  const started = Date.now();
  return new Promise((resolve) => {
    const done = (): void => {
      clearInterval(timer);
      resolve();
    };
    const timer = setInterval(() => {
      const waited = Date.now() - started;
      if (waited >= GATHER_MAX_MS || (waited >= GATHER_MS && hasCandidate(peer.localDescription?.sdp))) done();
    }, poll);
    listen(() => {
      if (peer.iceGatheringState === 'complete') done();
    });
  });
}
