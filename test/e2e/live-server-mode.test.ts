/**
 * The live app processing on the server, in headless Chromium with a fake camera: the page asked
 * for "process on: the server" (?process=server), the source photo's face comes back from the
 * server's engine, the camera's frames go over the WebSocket and come back swapped, labelled and
 * watermarked with the page's own session id, the page shows the round trip and the frame rate,
 * /output gets the frames, and the server's session end is in the audit log.
 */

import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loadWatermarkKey } from '../../src/node/provenance/output-provenance.js';
import { verifyFile } from '../../src/node/provenance/verify.js';
import { createUiServer, type UiServer } from '../../src/server/ui-server.js';
import { browserSkipReason, buildWebApp, fakeCameraClip, launchChromium, newContext } from '../helpers/browser.js';
import { closeE2e, collectPageErrors } from '../helpers/e2e-page.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { auditLog, freshHome } from '../helpers/live-home.js';

const skip = browserSkipReason();

describe('live app: processing on the server, in Chromium', { skip }, () => {
  let server: UiServer;
  let dir: string;
  let home: string;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    const webRoot = await buildWebApp();
    dir = await mkdtemp(join(tmpdir(), 'liveswap-e2e-server-mode-'));
    home = await freshHome(dir);
    server = await createUiServer({ home, port: 0, webRoot });
    browser = await launchChromium({ camera: await fakeCameraClip(dir, 'astronaut.png', 640, 360, 2, 30), allowCamera: true });
    page = await (await newContext(browser, true)).newPage();
    collectPageErrors(page, errors);
  });

  after(() => closeE2e({ browser, server, dir }));

  it('sends the camera to the server and shows the swapped, marked frames with the round trip and fps', async () => {
    await page.goto(`${server.url}?process=server`);
    await page.waitForFunction(() => document.body.dataset.engine === 'ready', undefined, { timeout: 60_000 });
    assert.equal(await page.locator('#process-on').inputValue(), 'server');
    assert.match((await page.textContent('#engine-status')) ?? '', /mesh engine · on the server \(cpu\)/);
    assert.equal(await page.locator('#backend').isDisabled(), true);

    await page.setInputFiles('#source-input', join(FIXTURES, 'grace_hopper.jpg'));
    // The face picker's faces were found by the server's engine.
    await page.locator('#sources .source-face').first().waitFor({ timeout: 60_000 });
    await page.selectOption('#target-kind', 'camera');
    await page.click('#start');
    await page
      .waitForFunction(() => Number(document.querySelector('#server-stats')?.getAttribute('data-frames') ?? 0) >= 10, undefined, { timeout: 60_000 })
      .catch(async (error: Error) => {
        throw new Error(`${error.message}; the page shows: ${(await page.textContent('#messages'))?.trim() || 'no message'}`);
      });
    const stats = page.locator('#server-stats');
    assert.match((await stats.textContent()) ?? '', /^round trip \d+ ms · \d+ fps$/);
    assert.ok(Number(await stats.getAttribute('data-rtt')) > 0);
    // The server swapped a face on the last frame shown.
    assert.ok(Number(await stats.getAttribute('data-faces')) >= 1);

    // The preview carries the label and the watermark of the page's own session.
    const png = await page.evaluate(() => (document.querySelector('#preview') as HTMLCanvasElement).toDataURL('image/png'));
    const file = join(dir, 'preview.png');
    await writeFile(file, Buffer.from(png.slice(png.indexOf(',') + 1), 'base64'));
    const report = await verifyFile(file, { key: await loadWatermarkKey(home) });
    assert.equal(report.watermark.found, true, report.summary);
    assert.equal(report.label.found, true, report.summary);
    const watermarkId = ((await page.textContent('#watermark-id')) ?? '').trim();
    assert.ok(watermarkId.includes(report.watermark.watermarkId!), `the page names ${watermarkId}, the frame carries ${report.watermark.watermarkId}`);

    // The /output page gets the server's frames as in the browser mode.
    const output = await page.context().newPage();
    await output.goto(server.outputUrl);
    await output.waitForFunction(() => Number(document.body.dataset.frames ?? 0) >= 3, undefined, { timeout: 30_000 });
    await output.close();

    await page.close();
    let end;
    for (let i = 0; i < 100 && !end; i++) {
      end = (await auditLog(home)).find((line) => line.kind === 'live-session' && line.options.processOn === 'server');
      if (!end) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(end, 'the server session is in the audit log');
    assert.equal(end.watermarkId, report.watermark.watermarkId);
    assert.ok((end.options.frames as number) >= 10);
    assert.deepEqual(errors, []);
  });
});
