import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { GATHER_MAX_MS, GATHER_MS, candidatesGathered, hasCandidate } from '../../src/pipeline/ice-gathering.js';

const CANDIDATE = 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=candidate:1 1 udp 2122260223 10.77.0.1 50000 typ host\r\n';

/** A peer whose gathering the test drives. */
function fakePeer(): { peer: { iceGatheringState: string; localDescription: { sdp: string } | null }; listen: (l: () => void) => void; fire: () => void } {
  const peer = { iceGatheringState: 'gathering', localDescription: { sdp: 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n' } as { sdp: string } | null };
  let listener = (): void => undefined;
  return { peer, listen: (l) => (listener = l), fire: () => listener() };
}

/** Whether the promise has settled once the timers have moved by `ms`. */
async function settledAfter(promise: Promise<void>, ms: number): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  mock.timers.tick(ms);
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('waiting for ICE candidates', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setInterval', 'Date'] }));
  afterEach(() => mock.timers.reset());

  it('tells an SDP with a candidate from one without', () => {
    assert.equal(hasCandidate(CANDIDATE), true);
    assert.equal(hasCandidate('v=0\r\na=ice-ufrag:x\r\n'), false);
    assert.equal(hasCandidate(undefined), false);
  });

  it('resolves at once when gathering is complete, and when it completes', async () => {
    const { peer, listen, fire } = fakePeer();
    peer.iceGatheringState = 'complete';
    assert.equal(await settledAfter(candidatesGathered(peer, listen), 0), true);
    peer.iceGatheringState = 'gathering';
    const waiting = candidatesGathered(peer, listen);
    assert.equal(await settledAfter(waiting, 100), false);
    peer.iceGatheringState = 'complete';
    fire();
    assert.equal(await settledAfter(waiting, 0), true);
  });

  it('sends what it has after the short wait when it holds a candidate', async () => {
    const { peer, listen } = fakePeer();
    peer.localDescription = { sdp: CANDIDATE };
    const waiting = candidatesGathered(peer, listen);
    assert.equal(await settledAfter(waiting, GATHER_MS - 100), false);
    assert.equal(await settledAfter(waiting, 200), true);
  });

  it('waits on while it holds none, until the first arrives or the long wait ends', async () => {
    const { peer, listen } = fakePeer();
    const first = candidatesGathered(peer, listen);
    assert.equal(await settledAfter(first, GATHER_MS + 500), false, 'no candidate yet: an answer now could never connect');
    peer.localDescription = { sdp: CANDIDATE };
    assert.equal(await settledAfter(first, 100), true);

    peer.localDescription = null;
    const none = candidatesGathered(peer, listen);
    assert.equal(await settledAfter(none, GATHER_MAX_MS - 100), false);
    assert.equal(await settledAfter(none, 200), true);
  });
});
