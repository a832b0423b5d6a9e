/**
 * `liveswap serve`'s live sessions over WebRTC (WHIP): a client in Node (@roamhq/wrtc) redeems a
 * ticket by POSTing its offer to the session's WHIP path, sends camera-like video and gets the
 * swapped, labelled frames back on the same connection; a bad offer is 400 (the ticket still
 * works), a wrong or spent ticket 401, a second session beyond capacity 503, DELETE frees the slot,
 * a metered token's session ends with quota-exceeded when its live minutes run out (the minute
 * clock is the WebSocket's), and start and end are audited with the transport. The run goes into a
 * fresh network namespace with a veth pair as the other WebRTC tests do (root needed; skipped with
 * the reason otherwise); test/helpers/live-whip-client.ts does the work there.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { whipAvailable } from '../../src/server/ui-whip.js';
import { REPO_ROOT } from '../cli/run-cli.js';
import { homeWithModels, warmModels } from '../helpers/video-jobs.js';
import { namespaceSkipReason, runInNamespace } from '../helpers/netns.js';

const skip = (whipAvailable() ? undefined : '@roamhq/wrtc (an optional dependency) is not installed') ?? namespaceSkipReason();

describe('live sessions over WebRTC (POST /v1/live/sessions/:id/whip)', { skip }, () => {
  let dir: string;
  let home: string;

  before(async () => {
    await warmModels();
    dir = await mkdtemp(join(tmpdir(), 'liveswap-live-whip-'));
    home = await homeWithModels(join(dir, 'home'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('swaps the video sent and sends it back on the same connection, with the tickets, capacity, minutes and audit of the WebSocket sessions', () => {
    const helper = join(REPO_ROOT, 'test', 'helpers', 'live-whip-client.ts');
    const run = runInNamespace(helper, [home], 120_000);
    assert.equal(run.status, 0, `${run.error?.message ?? ''} ${run.signal ?? ''} ${run.stderr} ${run.stdout}`);
    const seen = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, never>;
    assert.equal(seen.error, undefined, JSON.stringify(seen));
    assert.equal(seen.badOffer, 400);
    assert.equal(seen.badTicket, 401);
    assert.equal(seen.status, 201, 'the bad offer left the ticket usable');
    assert.match(String(seen.location), /^\/v1\/live\/sessions\/[\w-]+\/whip\?ticket=/);
    assert.equal(seen.full, 503, 'one slot, in use');
    assert.ok(Number(seen.back) >= 8, `frames back: ${String(seen.back)}`);
    assert.deepEqual(seen.size, [640, 360]);
    assert.equal(seen.label, true, 'the frames coming back carry the label');
    assert.ok(Number(seen.faces) >= 1, 'a face was swapped');
    assert.equal(seen.reused, 401, 'a ticket works once');
    assert.equal(seen.deleted, 200);
    assert.equal(seen.afterDelete, 201, 'DELETE gave the slot back');
    const end = seen.meteredEnd as { reason: string; minutes: number } | null;
    assert.equal(end?.reason, 'quota-exceeded', JSON.stringify(seen.meteredEnd));
    assert.equal(end.minutes, 2);
    // A client that stamps its frames (stamp=1): the stamp is read through VP8 and taken off before
    // the swap (the label sits on the picture above it), and each answer has the stamp of the frame
    // it answers in 16 rows under it, the server's repeats too (so a client can set them aside);
    // each frame message names its picture's stamp.
    const stamped = seen.stamped as { sizes: string[]; stamps: (number | null)[]; messageStamps: (number | null)[]; label: boolean };
    assert.deepEqual(stamped.sizes, ['640x376']);
    assert.ok(stamped.stamps.length >= 4, `pictures back: ${stamped.stamps.length}`);
    assert.ok(!stamped.stamps.includes(null), `every stamp reads: ${JSON.stringify(stamped.stamps)}`);
    const answers = (stamped.stamps as number[]).filter((stamp, i, all) => i === 0 || stamp !== all[i - 1]);
    assert.ok(answers.length >= 3, JSON.stringify(stamped.stamps));
    // (The encoder may drop a frame now and then, so a step may be more than one.)
    answers.slice(1).forEach((stamp, i) => assert.ok((stamp - answers[i]! + 256) % 256 <= 4, `answers count up with the frames: ${JSON.stringify(stamped.stamps)}`));
    assert.ok(stamped.stamps.length > answers.length, `the server's repeats are there and carry their picture's stamp: ${JSON.stringify(stamped.stamps)}`);
    for (const stamp of answers) assert.ok(stamped.messageStamps.includes(stamp), `a frame message names stamp ${stamp}: ${JSON.stringify(stamped.messageStamps)}`);
    assert.equal(stamped.label, true, 'the picture above the stamp carries the label');
    assert.deepEqual(seen.meteredAudit, [{ transport: 'webrtc', minutes: 2, endReason: 'quota-exceeded', outcome: 'rejected-quota' }]);
    const first = seen.firstAudit as { event: string; transport: string; frames?: number; endReason?: string }[];
    assert.deepEqual(
      first.map((line) => [line.event, line.transport]),
      [
        ['start', 'webrtc'],
        ['end', 'webrtc'],
      ],
    );
    assert.equal(first[1]!.endReason, 'ended');
    assert.ok(Number(first[1]!.frames) >= 8);
  });
});
