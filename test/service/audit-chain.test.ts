/**
 * The audit log's hash chain: each line carries the SHA-256 of the one before, the head file the
 * count and last hash; verifyAudit finds an edited, deleted (middle or last), inserted or
 * reordered line and damaged JSON, counts lines from before the chain as unchained, and appends
 * from several processes at once keep one intact chain.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { withLockFile } from '../../src/node/files/lock-file.js';
import { appendAudit, auditEntry, auditHeadPath, auditLogPath, readAudit, verifyAudit, type AuditEntry } from '../../src/node/provenance/output-provenance.js';
import { TSX_URL } from '../cli/run-cli.js';

function entry(n: number): AuditEntry {
  return auditEntry({
    kind: 'refusal',
    sources: [{ sha256: createHash('sha256').update(String(n)).digest('hex') }],
    watermarkId: '00000000',
    label: { shown: true },
    credentials: 'none',
    options: {},
    service: { outcome: 'rejected-quota', tokenId: 'AAAAAAAAAAAA', tokenName: 'test', ip: '127.0.0.1', requestId: `req-${n}` },
  });
}

let root: string;
let count = 0;

/** A fresh home with `lines` chained lines. */
async function logWith(lines: number): Promise<{ home: string; path: string; text: () => Promise<string[]>; write: (l: string[]) => Promise<void> }> {
  const home = join(root, `h${count++}`);
  for (let i = 1; i <= lines; i++) await appendAudit(home, entry(i));
  const path = auditLogPath(home);
  return {
    home,
    path,
    text: async () => (await readFile(path, 'utf8')).split('\n').slice(0, -1),
    write: (l) => writeFile(path, l.map((x) => `${x}\n`).join('')),
  };
}

const firstProblem = async (home: string) => (await verifyAudit(home)).problems[0];

describe('audit hash chain', () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'liveswap-audit-chain-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('each line names the hash of the one before; an untouched log verifies', async () => {
    const log = await logWith(5);
    const lines = await log.text();
    assert.equal((JSON.parse(lines[0]!) as AuditEntry).prev, '');
    for (let i = 1; i < lines.length; i++)
      assert.equal(
        (JSON.parse(lines[i]!) as AuditEntry).prev,
        createHash('sha256')
          .update(lines[i - 1]!)
          .digest('hex'),
      );
    assert.deepEqual(await verifyAudit(log.home), { ok: true, path: log.path, lines: 5, unchained: 0, problems: [] });
    const head = JSON.parse(await readFile(auditHeadPath(log.home), 'utf8')) as { lines: number; sha256: string };
    assert.equal(head.lines, 5);
    assert.equal(head.sha256, createHash('sha256').update(lines[4]!).digest('hex'));
    assert.equal((await readAudit(log.home)).entries.length, 5);
  });

  it('an edited line: the next line no longer links to it', async () => {
    const log = await logWith(5);
    const lines = await log.text();
    lines[2] = lines[2]!.replace('"127.0.0.1"', '"10.0.0.1"');
    await log.write(lines);
    const result = await verifyAudit(log.home);
    assert.equal(result.ok, false);
    assert.equal(result.problems[0]!.line, 4);
    assert.match(result.problems[0]!.reason, /line 3 was edited/);
  });

  it('an edited last line: the head no longer matches', async () => {
    const log = await logWith(4);
    const lines = await log.text();
    lines[3] = lines[3]!.replace('rejected-quota', 'ok');
    await log.write(lines);
    assert.deepEqual(await firstProblem(log.home), { line: 4, reason: 'the last line does not match the hash in the head: it was edited or replaced' });
  });

  it('a deleted line in the middle', async () => {
    const log = await logWith(5);
    const lines = await log.text();
    lines.splice(1, 1);
    await log.write(lines);
    const problem = await firstProblem(log.home);
    assert.equal(problem?.line, 2);
    assert.match(problem!.reason, /prev does not match line 1/);
  });

  it('a deleted last line, also after more lines were appended', async () => {
    const log = await logWith(5);
    const lines = await log.text();
    await log.write(lines.slice(0, 4));
    assert.deepEqual(await firstProblem(log.home), { line: 5, reason: 'the head says 5 lines but the log has 4: lines were deleted from the end' });
    await appendAudit(log.home, entry(6));
    const after = await verifyAudit(log.home);
    assert.equal(after.ok, false, 'appending does not hide the deletion');
    assert.equal(after.problems[0]!.line, 5);
    assert.match(after.problems[0]!.reason, /did not match its head: expected 5 lines/);
  });

  it('an inserted line', async () => {
    const log = await logWith(4);
    const lines = await log.text();
    const forged = JSON.stringify({ ...entry(99), prev: createHash('sha256').update(lines[1]!).digest('hex') });
    lines.splice(2, 0, forged);
    await log.write(lines);
    const problem = await firstProblem(log.home);
    assert.equal(problem?.line, 4);
    assert.match(problem!.reason, /names line 2, not line 3: line\(s\) 3–3 were inserted/);
    // A line without prev among chained ones is found where it is.
    const other = await logWith(3);
    const plain = await other.text();
    plain.splice(1, 0, JSON.stringify(entry(7)));
    await other.write(plain);
    assert.equal((await firstProblem(other.home))?.line, 2);
  });

  it('reordered lines', async () => {
    const log = await logWith(5);
    const lines = await log.text();
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    await log.write(lines);
    const result = await verifyAudit(log.home);
    assert.equal(result.problems[0]!.line, 2);
    assert.match(result.problems[0]!.reason, /names line 3, which comes after it: lines were reordered/);
  });

  it('damaged JSON is a problem; a crash mid-line is ended before the next append', async () => {
    const log = await logWith(2);
    await appendFile(log.path, '{"time": "2026-12-06T00:00:00Z", "kind": "image", "trunc');
    const torn = await verifyAudit(log.home);
    assert.deepEqual(
      torn.problems.map((p) => p.line),
      [3, 3],
    );
    assert.match(torn.problems[0]!.reason, /incomplete/);
    await appendAudit(log.home, entry(4));
    const lines = await log.text();
    assert.equal(lines.length, 4, 'the torn line was ended with a newline');
    assert.equal((JSON.parse(lines[3]!) as AuditEntry).prev, createHash('sha256').update(lines[2]!).digest('hex'));
    const result = await verifyAudit(log.home);
    assert.equal(result.problems[0]!.line, 3);
    assert.match(result.problems[0]!.reason, /damaged JSON|did not match its head/);
  });

  it('lines from before the chain are unchained, not tampering', async () => {
    const home = join(root, 'legacy');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(home, { recursive: true });
    const old = [entry(1), entry(2)].map((e) => JSON.stringify(e));
    await writeFile(auditLogPath(home), old.map((l) => `${l}\n`).join(''));
    await appendAudit(home, entry(3));
    await appendAudit(home, entry(4));
    const result = await verifyAudit(home);
    assert.deepEqual({ ok: result.ok, lines: result.lines, unchained: result.unchained, problems: result.problems }, { ok: true, lines: 4, unchained: 2, problems: [] });
    const lines = (await readFile(auditLogPath(home), 'utf8')).split('\n');
    assert.equal((JSON.parse(lines[2]!) as AuditEntry).prev, createHash('sha256').update(lines[1]!).digest('hex'));
  });

  it('a lock left by a dead process is taken over; a held one makes the writer wait, within bounds', async () => {
    const log = await logWith(1);
    const lock = `${log.path}.lock`;
    await writeFile(lock, '999999 long ago\n');
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    await appendAudit(log.home, entry(2));
    assert.equal((await verifyAudit(log.home)).lines, 2);
    await assert.rejects(stat(lock), 'the lock is gone after the append');
    await writeFile(lock, `${process.pid} now\n`);
    await assert.rejects(
      withLockFile(lock, () => Promise.resolve(), { timeoutMs: 200, what: 'the audit log' }),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'output' && /Gave up waiting .*audit\.jsonl\.lock \(the audit log\)/.test(e.message),
    );
    const waiting = appendAudit(log.home, entry(3));
    await rm(lock);
    await waiting;
    assert.deepEqual(await verifyAudit(log.home), { ok: true, path: log.path, lines: 3, unchained: 0, problems: [] });
  });

  it('appends from several processes at once keep one intact chain', async () => {
    const home = join(root, 'processes');
    const module = new URL('../../src/node/provenance/output-provenance.ts', import.meta.url).href;
    const script = `
      const { appendAudit, auditEntry } = await import(${JSON.stringify(module)});
      const e = (i) => auditEntry({ kind: 'job', sources: [], watermarkId: '00000000', label: { shown: true }, credentials: 'none', options: { i, pid: process.pid } });
      for (let i = 0; i < 10; i++) await Promise.all([appendAudit(process.argv[1], e(i * 2)), appendAudit(process.argv[1], e(i * 2 + 1))]);
    `;
    const runs = Array.from(
      { length: 4 },
      () =>
        new Promise<number | null>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', TSX_URL, '--input-type=module', '-e', script, home], { stdio: ['ignore', 'ignore', 'inherit'] });
          child.on('error', reject);
          child.on('exit', resolve);
        }),
    );
    assert.deepEqual(await Promise.all(runs), [0, 0, 0, 0]);
    const result = await verifyAudit(home);
    assert.deepEqual({ ok: result.ok, lines: result.lines, problems: result.problems }, { ok: true, lines: 80, problems: [] });
  });
});
