/**
 * `liveswap live --output output`: the run serves the web app's /output page itself, as an OBS
 * browser source would load it. A looped clip is swapped; headless Chromium opens the page and must
 * draw the frames; a scripted watcher on the relay gets JPEGs of the stream's size that carry the
 * label; the page answers loopback names only and changes nothing; Ctrl-C ends the run and closes
 * the page's port.
 */

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { runLiveCommand, type LiveFlags } from '../../src/cli/live-command.js';
import type { Terminal } from '../../src/cli/errors.js';
import { findLabel } from '../../src/provenance/label.js';
import { startOutputPage } from '../../src/server/output-page.js';
import { browserSkipReason, buildWebApp, launchChromium, newContext } from '../helpers/browser.js';
import { makeClip } from '../helpers/clips.js';
import { decodeRgb, FIXTURES } from '../helpers/fixtures.js';
import { homeWithModels, warmModels } from '../helpers/video-jobs.js';

const skip = browserSkipReason();

/** Status of a plain HTTP request with the given Host header (fetch cannot set one). */
function statusWithHost(url: string, host: string, method = 'GET'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The first `count` binary messages a watcher of the relay receives. */
function watchFrames(url: string, count: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const frames: Buffer[] = [];
    const socket = new WebSocket(url);
    socket.on('message', (data, isBinary) => {
      if (!isBinary) return;
      frames.push(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
      if (frames.length === count) {
        socket.close();
        resolve(frames);
      }
    });
    socket.on('error', reject);
  });
}

describe('liveswap live --output output', { skip }, () => {
  let dir: string;
  let home: string;
  let web: string;
  let clip: string;
  const savedHome = process.env.LIVESWAP_HOME;

  before(async () => {
    await warmModels();
    dir = await mkdtemp(join(tmpdir(), 'liveswap-live-page-'));
    home = await homeWithModels(join(dir, 'home'));
    web = await buildWebApp();
    clip = await makeClip({ dir, width: 320, height: 240, fps: 25, frames: 50, motion: 'zoom' });
    process.env.LIVESWAP_HOME = home;
  });
  after(async () => {
    if (savedHome === undefined) delete process.env.LIVESWAP_HOME;
    else process.env.LIVESWAP_HOME = savedHome;
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the page to a browser and a watcher, marked frames of the stream, and closes it at Ctrl-C', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const terminal: Terminal = { out: (text) => out.push(text), err: (text) => err.push(text) };
    const stop = new AbortController();
    const flags = { source: [join(FIXTURES, 'astronaut.png')], input: clip, loop: true, output: ['output:0'], engine: 'mesh', videoPreset: 'ultrafast', jsonStatus: true };
    const run = runLiveCommand(flags as unknown as LiveFlags, {
      terminal,
      signal: stop.signal,
      startPage: (options) => startOutputPage({ ...options, webRoot: web }),
    });
    let failed: unknown;
    run.catch((error: unknown) => (failed = error));
    const events = (): { event: string; url?: string; frames?: number; outputs?: { kind: string; frames: number; state: string }[] }[] =>
      out.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as never);
    let pageUrl: string | undefined;
    for (let i = 0; i < 600 && !pageUrl && failed === undefined; i++) {
      pageUrl = events().find((e) => e.event === 'output-page')?.url;
      if (!pageUrl) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(pageUrl, `no output page announced: ${String(failed)} ${err.join('\n')}`);
    assert.match(pageUrl, /^http:\/\/127\.0\.0\.1:\d+\/output$/);
    const origin = new URL(pageUrl).origin;

    try {
      // A scripted watcher: JPEGs of the stream's size, with the visible label.
      const frames = await watchFrames(`${origin.replace('http', 'ws')}/api/relay/watch`, 5);
      for (const jpeg of frames) assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff]);
      const images = await Promise.all(frames.map((jpeg) => decodeRgb(jpeg)));
      for (const image of images) assert.deepEqual([image.width, image.height], [320, 240]);
      assert.ok(
        images.some((image) => findLabel(image) !== undefined),
        'the relayed frames carry the label',
      );

      // The page in a browser, as OBS's browser source loads it, draws frames.
      const browser = await launchChromium({ camera: false, allowCamera: false });
      try {
        const page = await (await newContext(browser, false)).newPage();
        await page.goto(pageUrl);
        await page.waitForFunction(() => Number(document.body.dataset.frames) >= 10, undefined, { timeout: 30_000 });
        assert.equal(await page.locator('#waiting').isHidden(), true);
      } finally {
        await browser.close();
      }

      // Loopback names only (a re-pointed name is refused), and nothing changes state here.
      assert.equal(await statusWithHost(pageUrl, 'evil.example'), 403);
      assert.equal(await statusWithHost(pageUrl, new URL(pageUrl).host, 'POST'), 405);
      assert.equal((await fetch(`${origin}/nothing-here`)).status, 404);
    } finally {
      stop.abort();
      await run;
    }
    const done = events().find((e) => e.event === 'done');
    assert.ok(done, out.join('\n'));
    const page = done.outputs!.find((o) => o.kind === 'page')!;
    assert.equal(page.state, 'finished');
    assert.ok(page.frames >= 15, `the page got ${page.frames} frames`);
    await assert.rejects(fetch(pageUrl), 'the page is closed with the run');
  });
});
