/**
 * Run inside a network namespace with a veth pair (see test/live/whep.test.ts; Chromium gathers no
 * ICE candidates on a loopback-only host): `liveswap live -o whep:0` on a looped synthetic clip,
 * headless Chromium plays it through the endpoint's own player page (WebRTC), and the endpoint's
 * refusals are tried. Prints one JSON line with what was seen, for the test to judge.
 * Arguments: HOME CLIP [WEB_ROOT]
 */

import { runLiveCommand, type LiveFlags } from '../../src/cli/live-command.js';
import type { Terminal } from '../../src/cli/errors.js';
import { findLabel } from '../../src/provenance/label.js';
import { launchChromium, newContext } from './browser.js';
import { decodeRgb, FIXTURES } from './fixtures.js';

const [home, clip] = process.argv.slice(2);
process.env.LIVESWAP_HOME = home;
const out: string[] = [];
const errors: string[] = [];
const terminal: Terminal = { out: (text) => out.push(text), err: (text) => errors.push(text) };
const stop = new AbortController();
const flags = { source: [`${FIXTURES}/astronaut.png`], input: clip, loop: true, output: ['whep:0'], engine: 'mesh', videoPreset: 'ultrafast', jsonStatus: true };
const run = runLiveCommand(flags as unknown as LiveFlags, { terminal, signal: stop.signal });
let failure: unknown;
run.catch((error: unknown) => (failure = error));
const events = (): { event: string; url?: string; player?: string; outputs?: { kind: string; frames: number; state: string }[] }[] =>
  out.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as never);

const result: Record<string, unknown> = {};
/** The page's inbound audio statistics: packets, samples played out, their energy, samples concealed, and the jitter buffer's delay summed over the samples it emitted. */
const AUDIO_STATS = `(async () => {
  for (const report of (await globalThis.whepPeer.getStats()).values()) {
    if (report.type === 'inbound-rtp' && report.kind === 'audio') {
      return { packets: report.packetsReceived, samples: report.totalSamplesReceived, energy: report.totalAudioEnergy, concealed: report.concealedSamples, jbd: report.jitterBufferDelay, emitted: report.jitterBufferEmittedCount };
    }
  }
  return null;
})()`;
try {
  let announced: { url?: string; player?: string } | undefined;
  for (let i = 0; i < 600 && !announced && failure === undefined; i++) {
    announced = events().find((e) => e.event === 'whep');
    if (!announced) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!announced?.url || !announced.player) throw new Error(`no WHEP endpoint announced: ${String(failure)} ${errors.join(' ')}`);
  result.url = announced.url;
  // Refusals: not SDP, a page of another origin, trickle ICE, an unknown viewer.
  result.notSdp = (await fetch(announced.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'v=0' })).status;
  result.foreign = (await fetch(announced.url, { method: 'POST', headers: { 'content-type': 'application/sdp', origin: 'http://evil.example' }, body: 'v=0' })).status;
  result.badOffer = (await fetch(announced.url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' })).status;
  result.patch = (await fetch(`${announced.url}/x`, { method: 'PATCH' })).status;
  result.deleteUnknown = (await fetch(`${announced.url}/nobody`, { method: 'DELETE' })).status;

  const browser = await launchChromium({ camera: false, allowCamera: false });
  try {
    const page = await (await newContext(browser, false)).newPage();
    const started = Date.now();
    await page.goto(announced.player);
    await page.waitForFunction('Number(document.body.dataset.frames) >= 30', undefined, { timeout: 40_000 });
    result.secondsTo30Frames = (Date.now() - started) / 1000;
    const before = Number(await page.evaluate('document.body.dataset.frames'));
    result.audioBefore = await page.evaluate(AUDIO_STATS);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    result.framesIn2s = Number(await page.evaluate('document.body.dataset.frames')) - before;
    const png = (await page.evaluate(`(() => {
      const video = document.getElementById('video');
      const canvas = document.createElement('canvas');
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext('2d').drawImage(video, 0, 0);
      return canvas.toDataURL('image/png');
    })()`)) as string;
    const image = await decodeRgb(Buffer.from(png.slice(png.indexOf(',') + 1), 'base64'));
    result.size = [image.width, image.height];
    result.label = findLabel(image) !== undefined;
    // The clip's tone, received over the same connection; a page that may not play sound unasked
    // offers a button, which a viewer clicks.
    result.sound = await page.evaluate('document.body.dataset.sound');
    if (result.sound === 'muted') {
      await page.click('#unmute');
      await page.waitForFunction("document.body.dataset.sound === 'on'", undefined, { timeout: 5000 });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      result.soundAfterClick = await page.evaluate('document.body.dataset.sound');
    }
    result.audio = await page.evaluate(AUDIO_STATS);
    await page.close();
    // A player that asks for pictures only (?audio=0) gets no sound.
    const quiet = await (await newContext(browser, false)).newPage();
    await quiet.goto(`${announced.player}?audio=0`);
    await quiet.waitForFunction('Number(document.body.dataset.frames) >= 10', undefined, { timeout: 40_000 });
    result.quiet = { audio: await quiet.evaluate(AUDIO_STATS), sound: await quiet.evaluate('document.body.dataset.sound') };
  } finally {
    await browser.close();
  }
} catch (error) {
  result.error = error instanceof Error ? error.message : String(error);
} finally {
  stop.abort();
  await run.catch(() => undefined);
}
const done = events().find((e) => e.event === 'done');
result.output = done?.outputs?.find((o) => o.kind === 'whep');
console.log(JSON.stringify(result));
// libwebrtc's bindings crash while Node tears down by itself (the CLI leaves the same way).
process.exit(0);
