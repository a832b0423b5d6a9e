/**
 * The live app processing on the server over WebRTC (WHIP), end to end in headless Chromium with a
 * fake camera: the camera goes up as video, the swapped, labelled and watermarked picture comes
 * back on the same connection; the route refuses a bad offer (400), an unknown asset id (403),
 * trickle ICE (405) and a session beyond capacity (503 with Retry-After), and DELETE frees the
 * slot; a first connection that does not open (its answer spoilt on the way) is given back and
 * made again. Chromium gathers no ICE candidates on a loopback-only host, so the server and the browser
 * run in a fresh network namespace with a veth pair (root and `unshare`/`ip` needed; skipped with
 * the reason otherwise); test/helpers/whip-page.ts does the work there and reports what it saw.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../cli/run-cli.js';
import { browserSkipReason, buildWebApp, fakeCameraClip } from '../helpers/browser.js';
import { freshHome } from '../helpers/live-home.js';
import { whipAvailable } from '../../src/server/ui-whip.js';
import { namespaceSkipReason, runInNamespace } from '../helpers/netns.js';

const skip = browserSkipReason() ?? (whipAvailable() ? undefined : '@roamhq/wrtc (an optional dependency) is not installed') ?? namespaceSkipReason();

describe('live app: processing on the server over WebRTC (WHIP), in Chromium', { skip }, () => {
  let dir: string;
  let home: string;
  let webRoot: string;
  let camera: string;

  before(async () => {
    webRoot = await buildWebApp();
    dir = await mkdtemp(join(tmpdir(), 'liveswap-e2e-whip-'));
    home = await freshHome(dir);
    camera = await fakeCameraClip(dir, 'astronaut.png', 640, 360, 2, 30);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sends the camera as video and shows the swapped, marked video coming back; refuses what it should; DELETE frees the slot', () => {
    const helper = join(REPO_ROOT, 'test', 'helpers', 'whip-page.ts');
    const run = runInNamespace(helper, [home, webRoot, camera, dir], 240_000);
    assert.equal(run.status, 0, `${run.error?.message ?? ''} ${run.signal ?? ''} ${run.stderr} ${run.stdout}`);
    const seen = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, never>;
    console.log(`steps (s): ${JSON.stringify(seen.steps)}`);
    assert.equal(seen.error, undefined, JSON.stringify(seen));
    assert.equal(seen.whipPosts, 2, 'the first connection (its answer spoilt) did not open, and the page connected again');
    assert.equal(seen.processOn, 'server-webrtc');
    assert.match(String(seen.engineStatus), /mesh engine · on the server \(cpu, WebRTC\)/);
    const stats = seen.stats as { text: string; frames: number; faces: number };
    assert.match(stats.text, /^round trip \d+ ms · \d+ fps$/);
    assert.ok(stats.frames >= 10, `frames shown: ${stats.frames}`);
    assert.ok(stats.faces >= 1, 'the server swapped a face on the last frame shown');
    // The picture that came back over WebRTC carries the label and the page's own watermark.
    const preview = seen.preview as { watermark: boolean; watermarkId: string; label: boolean; summary: string };
    assert.deepEqual(seen.previewSize, [640, 360], 'the frame stamp under each picture is cropped off');
    assert.equal(preview.watermark, true, preview.summary);
    assert.equal(preview.label, true, preview.summary);
    assert.ok(String(seen.pageWatermarkId).includes(preview.watermarkId), `the page names ${String(seen.pageWatermarkId)}, the frame carries ${preview.watermarkId}`);
    // The route's refusals and its capacity (two slots: the page's and one more).
    assert.equal(seen.badSdp, 400);
    assert.equal(seen.recvOnly, 400, 'a recvonly offer cannot send its camera');
    assert.equal(seen.notSdp, 415);
    assert.equal(seen.unknownAsset, 403);
    assert.deepEqual(seen.second, { status: 201, type: 'application/sdp', location: (seen.second as { location: string }).location, answer: true });
    assert.match((seen.second as { location: string }).location, /^\/api\/live\/whip\/[\w-]+$/);
    assert.deepEqual(seen.full, { status: 503, retryAfter: '5' });
    assert.equal(seen.patch, 405, 'no trickle ICE');
    assert.equal(seen.deleted, 200);
    assert.equal(seen.deletedAgain, 404);
    assert.equal(seen.afterDelete, 201, 'DELETE gave the slot back');
    // Both of the page's sessions are in the audit log: the one given back before it opened, and
    // the one that swapped, ended when the page left the server mode.
    const audit = seen.audit as { frames: number; endReason: string; processOn: string }[];
    assert.equal(audit.length, 2, JSON.stringify(audit));
    const [unopened, swapped] = audit.toSorted((a, b) => a.frames - b.frames) as [(typeof audit)[0], (typeof audit)[0]];
    assert.deepEqual(unopened, { frames: 0, endReason: 'ended', processOn: 'server' });
    assert.equal(swapped.endReason, 'ended');
    assert.equal(swapped.processOn, 'server');
    assert.ok(swapped.frames >= 10);
    assert.deepEqual(seen.pageErrors, []);
  });
});
