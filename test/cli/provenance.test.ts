/**
 * Provenance end to end through the real command: every swap output carries the label, the
 * watermark, signed content credentials and an audit line; `verify` reports them with its exit
 * codes (0 marked, 10 unmarked, 11 tampered); `audit` lists and filters the log.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { EXIT_CODES } from '../../src/core/errors.js';
import { VERIFY_EXIT } from '../../src/cli/verify-command.js';
import type { SwapSummary } from '../../src/cli/summary.js';
import type { AuditEntry } from '../../src/node/provenance/output-provenance.js';
import type { VerifyReport } from '../../src/node/provenance/verify.js';
import { sha256File } from '../../src/node/files/hash.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { makeClip } from '../helpers/clips.js';
import { runCli, show } from './run-cli.js';

const SOURCE = join(FIXTURES, 'astronaut.png');
const TARGET = join(FIXTURES, 'grace_hopper.jpg');
let dir: string;
let home: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liveswap-provenance-cli-'));
  // Its own home: the key, the signer and the audit log are this test's alone.
  home = join(dir, 'home');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function verify(files: string[], extra: string[] = []): { code: number | null; reports: VerifyReport[]; text: string } {
  const result = runCli(['verify', ...files, '--json', ...extra], { home });
  return {
    code: result.code,
    reports: result.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as VerifyReport),
    text: show(result),
  };
}

function audit(args: string[] = []): AuditEntry[] {
  const result = runCli(['audit', '--json', ...args], { home });
  assert.equal(result.code, 0, show(result));
  return result.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEntry);
}

describe('provenance through the CLI', () => {
  let marked: string;
  let summary: SwapSummary;

  it('a swapped image carries label, watermark and credentials, and verify says so (exit 0)', async () => {
    marked = join(dir, 'swapped.jpg');
    const result = runCli(['swap', '-s', SOURCE, '-t', TARGET, '-o', marked, '--json'], { home });
    assert.equal(result.code, 0, show(result));
    summary = JSON.parse(result.stdout) as SwapSummary;
    assert.match(summary.provenance.watermarkId, /^[0-9a-f]{8}$/);
    assert.deepEqual(summary.provenance.label, { shown: true, text: 'AI-generated' });
    assert.equal(summary.provenance.credentials, 'embedded');

    const v = verify([marked]);
    assert.equal(v.code, VERIFY_EXIT.marked, v.text);
    const r = v.reports[0]!;
    assert.equal(r.verdict, 'marked');
    assert.equal(r.manifest.present, true);
    assert.equal(r.manifest.valid, true);
    assert.equal(r.manifest.trusted, true, 'the local signer is trusted by its own CA');
    assert.match(r.manifest.digitalSourceType ?? '', /compositeWithTrainedAlgorithmicMedia$/);
    assert.equal(r.manifest.statement?.watermarkId, summary.provenance.watermarkId);
    assert.deepEqual(r.manifest.statement?.sourceSha256, [await sha256File(SOURCE)]);
    assert.equal(r.watermark.found, true);
    assert.equal(r.watermark.watermarkId, summary.provenance.watermarkId);
    assert.ok(r.watermark.pValue <= 1e-6, `p = ${r.watermark.pValue}`);
    assert.equal(r.agree, true);
    assert.equal(r.label.found, true);
    assert.equal(r.label.text, 'AI-generated');

    const human = runCli(['verify', marked], { home });
    assert.equal(human.code, 0, show(human));
    assert.match(human.stdout, /MARKED/);
    assert.match(human.stdout, /watermark +found: [0-9a-f]{8}/);
  });

  it('the audit log has the swap, with hashes of source, target and output', async () => {
    const entries = audit(['--watermark', summary.provenance.watermarkId]);
    assert.equal(entries.length, 1);
    const e = entries[0]!;
    assert.equal(e.kind, 'image');
    assert.equal(e.sources[0]!.sha256, await sha256File(SOURCE));
    assert.equal(e.target?.sha256, await sha256File(TARGET));
    assert.equal(e.output?.sha256, await sha256File(marked));
    assert.equal(e.credentials, 'embedded');
    assert.deepEqual(
      audit(['--file', marked]).map((x) => x.watermarkId),
      [e.watermarkId],
    );
    assert.deepEqual(
      audit(['--sha256', e.output!.sha256.slice(0, 10)]).map((x) => x.watermarkId),
      [e.watermarkId],
    );
    assert.deepEqual(audit(['--kind', 'video']), []);
    assert.deepEqual(audit(['--since', '2999-01-01']), []);
    const bad = runCli(['audit', '--since', 'yesterday-ish'], { home });
    assert.equal(bad.code, EXIT_CODES.usage, show(bad));
  });

  it('a copy re-encoded (JPEG q75, half size) loses the credentials but keeps the watermark', async () => {
    const copy = join(dir, 'reshared.jpg');
    const meta = await sharp(marked).metadata();
    await sharp(marked)
      .resize(Math.round(meta.width! / 2))
      .jpeg({ quality: 75 })
      .toFile(copy);
    const v = verify([copy]);
    assert.equal(v.code, VERIFY_EXIT.marked, v.text);
    const r = v.reports[0]!;
    assert.equal(r.manifest.present, false);
    assert.equal(r.watermark.watermarkId, summary.provenance.watermarkId);
  });

  it('a file changed after signing is reported as tampered (exit 11)', async () => {
    const bytes = await readFile(marked);
    // Flip bytes deep in the entropy-coded data, far past the manifest at the start.
    for (let i = Math.floor(bytes.length * 0.7); i < Math.floor(bytes.length * 0.7) + 16; i++) bytes[i] = bytes[i]! ^ 0x55;
    const tampered = join(dir, 'tampered.jpg');
    await writeFile(tampered, bytes);
    const v = verify([tampered]);
    assert.equal(v.code, VERIFY_EXIT.tampered, v.text);
    assert.equal(v.reports[0]!.verdict, 'tampered');
    assert.ok(v.reports[0]!.manifest.problems.length > 0);
  });

  it('unmarked media never verify (exit 10), and one unmarked file among marked ones says so', () => {
    const v = verify([TARGET, SOURCE]);
    assert.equal(v.code, VERIFY_EXIT.unmarked, v.text);
    for (const r of v.reports) {
      assert.equal(r.verdict, 'unmarked');
      assert.equal(r.watermark.found, false);
      assert.equal(r.label.found, false);
    }
    assert.equal(verify([marked, TARGET]).code, VERIFY_EXIT.unmarked);
  });

  it('--no-label is recorded in the credentials and the audit log; --label-text changes the text', async () => {
    const plain = join(dir, 'no-label.png');
    const result = runCli(['swap', '-s', SOURCE, '-t', TARGET, '-o', plain, '--no-label', '--json'], { home });
    assert.equal(result.code, 0, show(result));
    const r = verify([plain]).reports[0]!;
    assert.equal(r.verdict, 'marked');
    assert.deepEqual(r.manifest.statement?.label, { shown: false });
    assert.equal(r.label.found, false);
    assert.equal(r.watermark.found, true);
    const id = (JSON.parse(result.stdout) as SwapSummary).provenance.watermarkId;
    assert.deepEqual(audit(['--watermark', id])[0]!.label, { shown: false });

    const custom = join(dir, 'custom.png');
    const c = runCli(['swap', '-s', SOURCE, '-t', TARGET, '-o', custom, '--label-text', 'Synthetic media', '--label-corner', 'top-left'], { home });
    assert.equal(c.code, 0, show(c));
    assert.match(c.stdout, /label "Synthetic media"/);
    const cr = verify([custom]).reports[0]!;
    assert.equal(cr.label.text, 'Synthetic media');
    assert.equal(cr.label.corner, 'top-left');
  });

  it('bad provenance flags are usage errors before any work, and nothing is written', () => {
    const out = join(dir, 'never.jpg');
    const cases: [string[], RegExp][] = [
      [['--sign-cert', join(dir, 'c.pem')], /--sign-cert and --sign-key go together/],
      [['--no-label', '--label-text', 'x'], /--label-text/],
      [['--label-text', 'ünïcode'], /label/i],
      [['--label-corner', 'centre'], /label-corner/],
    ];
    for (const [flags, message] of cases) {
      const result = runCli(['swap', '-s', SOURCE, '-t', TARGET, '-o', out, ...flags], { home });
      assert.equal(result.code, EXIT_CODES.usage, show(result));
      assert.match(result.stderr, message);
    }
    const missingKey = runCli(['swap', '-s', SOURCE, '-t', TARGET, '-o', out, '--watermark-key', join(dir, 'no.key')], { home });
    assert.equal(missingKey.code, EXIT_CODES['input-missing'], show(missingKey));
  });

  it('another key finds no watermark; --watermark-key finds the one made with it', async () => {
    const key = join(dir, 'team.key');
    await writeFile(key, `${'5a'.repeat(32)}\n`);
    const out = join(dir, 'team.png');
    const result = runCli(['swap', '-s', SOURCE, '-t', TARGET, '-o', out, '--watermark-key', key], { home });
    assert.equal(result.code, 0, show(result));
    const withLocal = verify([out]).reports[0]!;
    assert.equal(withLocal.watermark.found, false, "the local key does not find the team key's mark");
    assert.equal(withLocal.verdict, 'marked', 'the credentials still mark it');
    const withTeam = verify([out], ['--watermark-key', key]).reports[0]!;
    assert.equal(withTeam.watermark.found, true);
    assert.equal(withTeam.agree, true);
  });

  it('a swapped video carries the watermark in its frames and signed credentials', async () => {
    const clip = await makeClip({ dir, name: 'input', width: 640, height: 360, frames: 40, fps: 20, motion: 'zoom' });
    const out = join(dir, 'swapped.mp4');
    const result = runCli(['swap', '-s', SOURCE, '-t', clip, '-o', out, '--json'], { home });
    assert.equal(result.code, 0, show(result));
    const done = JSON.parse(result.stdout.trim().split('\n').pop()!) as { provenance: SwapSummary['provenance'] };
    const v = verify([out]);
    assert.equal(v.code, VERIFY_EXIT.marked, v.text);
    const r = v.reports[0]!;
    assert.equal(r.media, 'video');
    assert.equal(r.manifest.valid, true);
    assert.equal(r.watermark.watermarkId, done.provenance.watermarkId);
    assert.equal(r.label.text, 'AI-generated');
    assert.equal(audit(['--kind', 'video']).length, 1);
    assert.equal(verify([clip]).code, VERIFY_EXIT.unmarked);
  });
});
