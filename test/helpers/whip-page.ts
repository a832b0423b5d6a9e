/**
 * Run inside a network namespace with a veth pair (see test/e2e/whip.test.ts; Chromium gathers no
 * ICE candidates on a loopback-only host): `liveswap ui`'s server, and the live app in headless
 * Chromium with a fake camera processing on the server over WebRTC (?process=server-webrtc). The
 * page's camera goes up as video and the swapped picture comes back on the same connection; then
 * the WHIP route's refusals and its capacity are tried from Node, and the page's session is ended.
 * Prints one JSON line with what was seen, for the test to judge.
 * Arguments: HOME WEB_ROOT CAMERA_Y4M DIR
 */

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadWatermarkKey } from '../../src/node/provenance/output-provenance.js';
import { verifyFile } from '../../src/node/provenance/verify.js';
import { UI_LIVE_PATHS } from '../../src/pipeline/live-wire.js';
import { createUiServer, type UiServer } from '../../src/server/ui-server.js';
import { launchChromium, newContext } from './browser.js';
import { collectPageErrors } from './e2e-page.js';
import { FIXTURES } from './fixtures.js';
import { auditLog } from './live-home.js';

const [home, webRoot, camera, dir] = process.argv.slice(2) as [string, string, string, string];
const result: Record<string, unknown> = {};
const errors: string[] = [];
const steps: Record<string, number> = {};
const started = Date.now();
const step = (name: string): void => void (steps[name] = Math.round((Date.now() - started) / 100) / 10);
let server: UiServer | undefined;
const browser = await launchChromium({ camera, allowCamera: true });
try {
  server = await createUiServer({ home, port: 0, webRoot });
  const base = server.url.replace(/\/$/, '');
  const page = await (await newContext(browser, true)).newPage();
  collectPageErrors(page, errors);
  // The first offer's answer is spoilt (a wrong ICE password, so the page's checks are never
  // answered): the page must give that session back and connect again with a fresh offer.
  let whipPosts = 0;
  await page.route(
    (url) => url.pathname === UI_LIVE_PATHS.whip,
    async (route) => {
      whipPosts++;
      if (whipPosts > 1) return route.continue();
      const response = await route.fetch();
      const body = (await response.text()).replace(/^a=ice-pwd:.*$/gm, `a=ice-pwd:${'0'.repeat(24)}`);
      return route.fulfill({ response, body });
    },
  );
  await page.goto(`${server.url}?process=server-webrtc`);
  await page.waitForFunction("document.body.dataset.engine === 'ready' || document.body.dataset.engine === 'failed'", undefined, { timeout: 60_000 });
  step('ready');
  result.whipPosts = whipPosts;
  if ((await page.evaluate('document.body.dataset.engine')) === 'failed') throw new Error(`the engine failed: ${(await page.textContent('#messages'))?.trim() || 'no message'}`);
  result.processOn = await page.locator('#process-on').inputValue();
  result.engineStatus = await page.textContent('#engine-status');
  await page.setInputFiles('#source-input', join(FIXTURES, 'grace_hopper.jpg'));
  await page.locator('#sources .source-face').first().waitFor({ timeout: 30_000 });
  step('source');
  await page.selectOption('#target-kind', 'camera');
  await page.click('#start');
  await page
    .waitForFunction("Number(document.querySelector('#server-stats')?.getAttribute('data-frames') ?? 0) >= 10", undefined, { timeout: 40_000 })
    .catch(async (error: Error) => {
      throw new Error(`${error.message}; the page shows: ${(await page.textContent('#messages'))?.trim() || 'no message'}`);
    });
  step('frames');
  const stats = page.locator('#server-stats');
  result.stats = { text: await stats.textContent(), frames: Number(await stats.getAttribute('data-frames')), faces: Number(await stats.getAttribute('data-faces')) };
  // The first frames of a WebRTC stream are coded at a low bitrate while the encoder ramps up; the
  // picture is judged once one of five, half a second apart, is clear enough to read.
  const file = join(dir, 'preview.png');
  let report: Awaited<ReturnType<typeof verifyFile>> | undefined;
  for (let attempt = 1; attempt <= 5 && !report?.watermark.found; attempt++) {
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 500));
    const png = (await page.evaluate("document.querySelector('#preview').toDataURL('image/png')")) as string;
    await writeFile(file, Buffer.from(png.slice(png.indexOf(',') + 1), 'base64'));
    report = await verifyFile(file, { key: await loadWatermarkKey(home) });
    result.previewAttempts = attempt;
  }
  // The picture shown is the server's without its frame stamp's rows (the canvas takes the picture's size).
  const png = await readFile(file);
  result.previewSize = [png.readUInt32BE(16), png.readUInt32BE(20)];
  result.preview = { watermark: report!.watermark.found, watermarkId: report!.watermark.watermarkId, label: report!.label.found, summary: report!.summary };
  result.pageWatermarkId = ((await page.textContent('#watermark-id')) ?? '').trim();

  // The route itself, from Node: an asset id of this server, and a real sendrecv offer made by Chromium.
  const session = await fetch(`${base}/api/provenance/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ engine: 'mesh', label: { shown: true }, sources: [] }),
  });
  const { assetId } = (await session.json()) as { assetId: number };
  const offer = (await page.evaluate(`(async () => {
    const peer = new RTCPeerConnection();
    peer.addTransceiver(document.createElement('canvas').captureStream(0).getVideoTracks()[0], { direction: 'sendrecv' });
    await peer.setLocalDescription(await peer.createOffer());
    const sdp = peer.localDescription.sdp;
    peer.close();
    return sdp;
  })()`)) as string;
  const whip = `${base}${UI_LIVE_PATHS.whip}?engine=mesh&assetId=${assetId}`;
  const post = (body: string, url = whip, type = 'application/sdp'): Promise<Response> => fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
  result.badSdp = (await post('v=0\r\n')).status;
  result.recvOnly = (await post(offer.replace(/a=sendrecv/g, 'a=recvonly'))).status;
  result.notSdp = (await post(offer, whip, 'text/plain')).status;
  result.unknownAsset = (await post(offer, `${base}${UI_LIVE_PATHS.whip}?engine=mesh&assetId=${(assetId + 1) % 2 ** 32}`)).status;
  // Two slots: the page holds one, this takes the other, and the next is refused until it is given back.
  const second = await post(offer);
  result.second = { status: second.status, type: second.headers.get('content-type'), location: second.headers.get('location'), answer: /^v=0/.test(await second.text()) };
  const full = await post(offer);
  result.full = { status: full.status, retryAfter: full.headers.get('retry-after') };
  await full.text();
  result.patch = (await fetch(`${base}${second.headers.get('location')}`, { method: 'PATCH' })).status;
  result.deleted = (await fetch(`${base}${second.headers.get('location')}`, { method: 'DELETE' })).status;
  result.deletedAgain = (await fetch(`${base}${second.headers.get('location')}`, { method: 'DELETE' })).status;
  const again = await post(offer);
  result.afterDelete = again.status;
  await again.text();
  if (again.status === 201) await fetch(`${base}${again.headers.get('location')}`, { method: 'DELETE' });
  step('route');

  // The page goes back to processing in the browser: its WebRTC session is ended (DELETE) and audited.
  await page.selectOption('#process-on', 'browser');
  // Two sessions of the page's asset end in the log: the one that never opened, and the one that swapped.
  let ends: Awaited<ReturnType<typeof auditLog>> = [];
  for (let i = 0; i < 100 && ends.length < 2; i++) {
    ends = (await auditLog(home)).filter((line) => line.kind === 'live-session' && line.options.transport === 'webrtc' && line.watermarkId === report!.watermark.watermarkId);
    if (ends.length < 2) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  result.audit = ends.map((end) => ({ frames: end.options.frames, endReason: end.options.endReason, processOn: end.options.processOn }));
  step('ended');
} catch (error) {
  result.error = error instanceof Error ? error.message : String(error);
} finally {
  await browser.close();
  await server?.close();
}
result.pageErrors = errors;
result.steps = steps;
console.log(JSON.stringify(result));
// libwebrtc's bindings crash while Node tears down by itself (the CLI leaves the same way).
process.exit(0);
