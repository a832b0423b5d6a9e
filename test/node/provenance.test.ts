/**
 * The Node side of provenance: the watermark key under LIVESWAP_HOME (made once, shared by
 * concurrent first uses, the user's own accepted or refused clearly) and the audit log.
 */

import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import {
  appendAudit,
  auditEntry,
  auditLogPath,
  existingWatermarkKey,
  loadWatermarkKey,
  readAudit,
  startProvenance,
  watermarkKeyPath,
} from '../../src/node/provenance/output-provenance.js';

let home: string;
before(async () => {
  home = await mkdtemp(join(tmpdir(), 'liveswap-provenance-'));
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

function isKind(kind: string, pattern: RegExp) {
  return (error: unknown) => error instanceof LiveswapError && error.kind === kind && pattern.test(error.message);
}

describe('watermark key', () => {
  it('is made on first use (0600, 64 hex digits) and reused after', async () => {
    const fresh = join(home, 'first');
    assert.equal(await existingWatermarkKey(fresh), undefined, 'looking never makes a key');
    const made = await loadWatermarkKey(fresh);
    assert.equal(made.created, true);
    assert.equal(made.key.length, 32);
    const text = await readFile(watermarkKeyPath(fresh), 'utf8');
    assert.match(text, /^[0-9a-f]{64}\n$/);
    assert.equal((await stat(watermarkKeyPath(fresh))).mode & 0o777, 0o600);
    const again = await loadWatermarkKey(fresh);
    assert.equal(again.created, false);
    assert.deepEqual(again.key, made.key);
  });

  it('concurrent first uses agree on one key', async () => {
    const fresh = join(home, 'race');
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadWatermarkKey(fresh)));
    for (const k of keys) assert.deepEqual(k.key, keys[0]!.key);
  });

  it("accepts the user's own key as hex or 32 raw bytes and refuses anything else", async () => {
    const hex = join(home, 'own.hex');
    await writeFile(hex, `  ${'ab'.repeat(32)}\n`);
    assert.deepEqual((await loadWatermarkKey(home, hex)).key, new Uint8Array(32).fill(0xab));
    const raw = join(home, 'own.bin');
    await writeFile(raw, Buffer.alloc(32, 7));
    assert.deepEqual((await loadWatermarkKey(home, raw)).key, new Uint8Array(32).fill(7));
    const bad = join(home, 'bad.key');
    await writeFile(bad, 'not a key');
    await assert.rejects(loadWatermarkKey(home, bad), isKind('usage', /bad\.key is not a key: it must hold 64 hex digits/));
    await assert.rejects(loadWatermarkKey(home, join(home, 'missing.key')), isKind('input-missing', /missing\.key/));
  });
});

describe('audit log', () => {
  it('appends one JSON line per entry and reads them back, skipping damaged lines', async () => {
    const logHome = join(home, 'audit');
    const entry = (kind: 'image' | 'video', id: string) =>
      auditEntry({
        kind,
        sources: [{ file: '/photos/me.jpg', sha256: 'a'.repeat(64) }],
        output: { file: `/out/${id}.jpg`, sha256: 'b'.repeat(64) },
        watermarkId: id,
        label: { shown: true, text: 'AI-generated' },
        credentials: 'embedded',
        options: { engine: 'mesh' },
      });
    await appendAudit(logHome, entry('image', '00000001'));
    await appendAudit(logHome, entry('video', '00000002'));
    await appendFile(auditLogPath(logHome), '{"time": "2026-11-24T00:00:00Z", "kind": "image", "trunc\n');
    await appendAudit(logHome, entry('image', '00000003'));
    const { entries, damaged } = await readAudit(logHome);
    assert.deepEqual(
      entries.map((e) => e.watermarkId),
      ['00000001', '00000002', '00000003'],
    );
    assert.equal(damaged, 1);
    const first = entries[0]!;
    assert.equal(first.tool, 'liveswap');
    assert.match(first.version, /^\d+\.\d+\.\d+/);
    assert.ok(first.user.length > 0);
    assert.ok(Number.isFinite(Date.parse(first.time)));
    assert.equal((await stat(auditLogPath(logHome))).mode & 0o777, 0o600);
  });

  it('an empty or missing log reads as no entries; an unwritable home is an output error', async () => {
    assert.deepEqual((await readAudit(join(home, 'none'))).entries, []);
    const file = join(home, 'a-file');
    await writeFile(file, '');
    await assert.rejects(
      appendAudit(join(file, 'home'), auditEntry({ kind: 'image', sources: [], watermarkId: '00000000', label: { shown: true }, credentials: 'none', options: {} })),
      isKind('output', /audit log/),
    );
  });
});

describe('startProvenance', () => {
  it('refuses bad label text and corners before any work, and gives each output its own id', async () => {
    await assert.rejects(startProvenance(home, { label: true, labelText: '' }, 'still'), isKind('usage', /label/i));
    await assert.rejects(startProvenance(home, { label: true, labelCorner: 'middle' }, 'still'), isKind('usage', /--label-corner/));
    const a = await startProvenance(home, { label: true }, 'still');
    const b = await startProvenance(home, { label: false }, 'video');
    assert.match(a.watermarkId, /^[0-9a-f]{8}$/);
    assert.notEqual(a.watermarkId, b.watermarkId);
    assert.deepEqual(a.label, { shown: true, text: 'AI-generated' });
    assert.deepEqual(b.label, { shown: false });
  });
});
