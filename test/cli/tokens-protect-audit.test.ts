/**
 * The real `liveswap` command: `tokens create|list|revoke` (the token printed once, alone on
 * stdout; never a secret in lists; unknown scopes a usage error listing the valid ones; also
 * against a real redis-server with --redis), `protect add|list|remove` with the fixture photos,
 * and `audit --verify` (exit 0 when intact, 4 naming the first bad line after an edit).
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { appendAudit, auditEntry, auditLogPath } from '../../src/node/provenance/output-provenance.js';
import { FileProtectedFaceStore } from '../../src/node/service/protected-faces.js';
import { FileTokenStore, parseToken } from '../../src/node/service/tokens.js';
import { FIXTURES, TEST_HOME } from '../helpers/fixtures.js';
import { redisUnavailable, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { runCli, show } from './run-cli.js';

let home: string;
before(async () => {
  home = await mkdtemp(join(tmpdir(), 'liveswap-cli-state-'));
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('liveswap tokens', () => {
  it('create prints the token once, alone on stdout; list never shows secrets; revoke', async () => {
    const made = runCli(
      [
        'tokens',
        'create',
        '--name',
        'ci bot',
        '--scopes',
        'swap:image,jobs:read',
        '--swaps-per-day',
        '20',
        '--max-active-jobs',
        '2',
        '--talk-seconds-per-day',
        '300',
        '--expires',
        '30d',
      ],
      {
        home,
      },
    );
    assert.equal(made.code, 0, show(made));
    const token = made.stdout.trim();
    assert.match(token, /^lsw_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/, show(made));
    assert.match(made.stderr, /only time it is shown/);
    const { id, secret } = parseToken(token)!;

    const store = await FileTokenStore.open(home);
    assert.equal(store.authenticate(`Bearer ${token}`).ok, true);

    const listed = runCli(['tokens', 'list', '--json'], { home });
    assert.equal(listed.code, 0, show(listed));
    const records = JSON.parse(listed.stdout) as Record<string, unknown>[];
    assert.equal(records.length, 1);
    assert.deepEqual(
      { id: records[0]!.id, name: records[0]!.name, scopes: records[0]!.scopes, quotas: records[0]!.quotas },
      { id, name: 'ci bot', scopes: ['swap:image', 'jobs:read'], quotas: { swapsPerDay: 20, maxActiveJobs: 2, talkSecondsPerDay: 300 } },
    );
    assert.ok(!('secretSha256' in records[0]!));
    assert.ok(!listed.stdout.includes(secret));
    const text = runCli(['tokens', 'list'], { home });
    assert.match(text.stdout, new RegExp(`${id}  ci bot`));
    assert.ok(!text.stdout.includes(secret));

    const revoked = runCli(['tokens', 'revoke', id], { home });
    assert.equal(revoked.code, 0, show(revoked));
    assert.deepEqual((await FileTokenStore.open(home)).authenticate(token), { ok: false, refusal: 'revoked' });
    assert.match(runCli(['tokens', 'list'], { home }).stdout, /revoked 20/);
  });

  it('unknown scopes, a bad quota or expiry, an unknown id: usage errors (exit 2)', () => {
    const scopes = runCli(['tokens', 'create', '--name', 'x', '--scopes', 'swap:image,superuser'], { home });
    assert.equal(scopes.code, 2, show(scopes));
    assert.match(scopes.stderr, /Unknown scope "superuser".*swap:image, swap:video, identities:read, identities:write, uploads, jobs:read, live, talk, metrics, admin/);
    assert.equal(scopes.stdout, '');
    assert.equal(runCli(['tokens', 'create', '--name', 'x', '--scopes', 'admin', '--swaps-per-day', 'many'], { home }).code, 2);
    assert.equal(runCli(['tokens', 'create', '--name', 'x', '--scopes', 'admin', '--expires', 'yesterday'], { home }).code, 2);
    const unknown = runCli(['tokens', 'revoke', 'AAAAAAAAAAAA'], { home });
    assert.equal(unknown.code, 2, show(unknown));
    assert.match(unknown.stderr, /no token "AAAAAAAAAAAA"/);
  });

  const skip = redisUnavailable();
  it('--redis keeps tokens in Redis', { skip }, async () => {
    const redis: RedisServer = await startRedis();
    try {
      const made = runCli(['tokens', 'create', '--name', 'queue', '--scopes', 'swap:video', '--redis', redis.url], { home });
      assert.equal(made.code, 0, show(made));
      const id = parseToken(made.stdout.trim())!.id;
      const listed = runCli(['tokens', 'list', '--json', '--redis', redis.url], { home });
      assert.deepEqual(
        (JSON.parse(listed.stdout) as { id: string }[]).map((r) => r.id),
        [id],
      );
      assert.equal(runCli(['tokens', 'revoke', id, '--redis', redis.url], { home }).code, 0);
      assert.ok((JSON.parse(runCli(['tokens', 'list', '--json', '--redis', redis.url], { home }).stdout) as { revokedAt?: string }[])[0]!.revokedAt);
    } finally {
      await redis.stop();
    }
  });
});

describe('liveswap protect', () => {
  it('add embeds the face of each photo (no photo kept), list shows them, remove drops one', async () => {
    // The models come from the shared test cache; the protected faces go to this test's home.
    const own = await mkdtemp(join(tmpdir(), 'liveswap-cli-protect-'));
    try {
      const { cp } = await import('node:fs/promises');
      await cp(join(TEST_HOME, 'models'), join(own, 'models'), { recursive: true }).catch(() => undefined);
      const added = runCli(['protect', 'add', join(FIXTURES, 'astronaut.png'), join(FIXTURES, 'grace_hopper.jpg'), '--label', 'test people'], { home: own });
      assert.equal(added.code, 0, show(added));
      const ids = added.stdout.trim().split('\n');
      assert.equal(ids.length, 2);
      const listed = runCli(['protect', 'list', '--json'], { home: own });
      const faces = JSON.parse(listed.stdout) as { id: string; label: string; photoSha256: string; embedding?: unknown }[];
      assert.deepEqual(
        faces.map((f) => f.id),
        ids,
      );
      assert.ok(faces.every((f) => f.label === 'test people' && /^[0-9a-f]{64}$/.test(f.photoSha256) && f.embedding === undefined));
      const stored = await (await FileProtectedFaceStore.open(own)).list();
      assert.equal(stored[0]!.embedding.length, 1024);
      const file = await readFile(join(own, 'service', 'protected.json'));
      const photo = await readFile(join(FIXTURES, 'astronaut.png'));
      assert.ok(file.length < photo.length, 'the photo is not stored');
      assert.equal(runCli(['protect', 'remove', ids[0]!], { home: own }).code, 0);
      assert.deepEqual(
        (JSON.parse(runCli(['protect', 'list', '--json'], { home: own }).stdout) as { id: string }[]).map((f) => f.id),
        [ids[1]],
      );
      const noLabel = runCli(['protect', 'add', join(FIXTURES, 'astronaut.png')], { home: own });
      assert.equal(noLabel.code, 2, show(noLabel));
      const missing = runCli(['protect', 'add', join(own, 'nope.jpg'), '--label', 'x'], { home: own });
      assert.equal(missing.code, 3, show(missing));
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});

describe('liveswap audit --verify', () => {
  it('exit 0 when intact; exit 4 naming the first bad line after an edit', async () => {
    const own = join(home, 'audit');
    for (let i = 0; i < 4; i++) {
      await appendAudit(
        own,
        auditEntry({
          kind: 'refusal',
          sources: [],
          watermarkId: '00000000',
          label: { shown: true },
          credentials: 'none',
          options: {},
          service: { outcome: 'rejected-auth', tokenName: 'bot', tokenId: 'AAAAAAAAAAAA', ip: '127.0.0.1', route: 'POST /v1/swaps/image', reason: 'revoked' },
        }),
      );
    }
    const intact = runCli(['audit', '--verify'], { home: own });
    assert.equal(intact.code, 0, show(intact));
    assert.match(intact.stderr, /intact: 4 line/);
    const listed = runCli(['audit'], { home: own });
    assert.match(listed.stdout, /refusal .*\n\s+service rejected-auth {2}token bot \(AAAAAAAAAAAA\) {2}ip 127\.0\.0\.1 {2}POST \/v1\/swaps\/image {2}reason: revoked/);

    const lines = (await readFile(auditLogPath(own), 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('127.0.0.1', '127.0.0.2');
    await writeFile(auditLogPath(own), lines.join('\n'));
    const tampered = runCli(['audit', '--verify'], { home: own });
    assert.equal(tampered.code, 4, show(tampered));
    assert.match(tampered.stdout, /^line 3: /);
    assert.match(tampered.stderr, /NOT intact: first at line 3/);
    const json = runCli(['audit', '--verify', '--json'], { home: own });
    assert.equal(json.code, 4);
    const result = JSON.parse(json.stdout) as { ok: boolean; lines: number; problems: { line: number }[] };
    assert.equal(result.ok, false);
    assert.equal(result.lines, 4);
    assert.equal(result.problems[0]!.line, 3);
  });
});
