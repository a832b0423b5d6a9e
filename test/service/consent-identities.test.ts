/**
 * Consent and identities: the statement's version and hash, records appended with hashes only and
 * read back by id; identities stored privately, listed per token, deleted with their photos while
 * the consent record stays; a damaged record is skipped and reported; ids never reach outside.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LiveswapError } from '../../src/core/errors.js';
import { CONSENT_STATEMENT, consentsFilePath, FileConsentStore } from '../../src/node/service/consent.js';
import { FileIdentityStore, identitiesDir, type DamagedIdentity } from '../../src/node/service/identities.js';
import { FIXTURES } from '../helpers/fixtures.js';

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

let home: string;
before(async () => {
  home = await mkdtemp(join(tmpdir(), 'liveswap-consent-'));
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('consent', () => {
  it('the statement names the person’s permission, the marks and the log, and separate consent where required', () => {
    assert.equal(CONSENT_STATEMENT.sha256, sha256(CONSENT_STATEMENT.text));
    assert.match(CONSENT_STATEMENT.version, /^\d{4}-\d{2}-\d{2}$/);
    for (const words of [/is you, or that person has given you permission/, /labelled/, /watermark/, /logged/, /separate, explicit consent of the person depicted/]) {
      assert.match(CONSENT_STATEMENT.text, words);
    }
  });

  it('records are appended (hashes only, mode 0600) and read back by id; a stale statement is refused', async () => {
    const store = await FileConsentStore.open(home);
    const photo = await readFile(join(FIXTURES, 'astronaut.png'));
    const fields = {
      tokenId: 'AAAAAAAAAAAA',
      tokenName: 'ci',
      ip: '127.0.0.1',
      statementVersion: CONSENT_STATEMENT.version,
      statementSha256: CONSENT_STATEMENT.sha256,
      subject: 'self' as const,
      attested: true as const,
      sourceSha256: [sha256(photo)],
    };
    const a = await store.record(fields);
    const b = await store.record({ ...fields, subject: 'other-with-permission', subjectName: 'my sister' });
    assert.match(a.consentId, /^c_[A-Za-z0-9_-]{22}$/);
    assert.notEqual(a.consentId, b.consentId);
    assert.deepEqual(await store.get(a.consentId), a);
    assert.deepEqual(await store.get(b.consentId), b);
    assert.equal(await store.get('c_missing'), undefined);
    const file = consentsFilePath(home);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const text = await readFile(file, 'utf8');
    assert.equal(text.split('\n').filter(Boolean).length, 2);
    assert.ok(!text.includes(photo.subarray(100, 132).toString('base64')), 'no photo bytes');
    await assert.rejects(
      store.record({ ...fields, statementVersion: '1999-01-01' }),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'usage' && /statement in force/.test(e.message),
    );
    await assert.rejects(store.record({ ...fields, subject: 'someone' as never }), (e: unknown) => e instanceof LiveswapError && e.kind === 'usage');
  });
});

describe('identities', () => {
  it('stored privately, listed per token, deleted with their photos while consent stays', async () => {
    const damaged: DamagedIdentity[] = [];
    const store = await FileIdentityStore.open(home, { onDamaged: (d) => damaged.push(d) });
    const consent = await FileConsentStore.open(home);
    const bytes = await readFile(join(FIXTURES, 'grace_hopper.jpg'));
    const record = await consent.record({
      tokenId: 'TOKENAAAAAAA',
      tokenName: 'a',
      ip: '127.0.0.1',
      statementVersion: CONSENT_STATEMENT.version,
      statementSha256: CONSENT_STATEMENT.sha256,
      subject: 'self',
      attested: true,
      sourceSha256: [sha256(bytes)],
    });
    const mine = await store.create({ tokenId: 'TOKENAAAAAAA', consentId: record.consentId, faces: [1], photos: [{ bytes, sha256: sha256(bytes), extension: '.jpg' }] });
    const theirs = await store.create({
      tokenId: 'TOKENBBBBBBB',
      consentId: record.consentId,
      faces: [1, 1],
      photos: [0, 1].map(() => ({ bytes, sha256: sha256(bytes), extension: 'jpg' })),
    });
    assert.match(mine.id, /^i_[A-Za-z0-9_-]{22}$/);
    assert.equal(await readFile(mine.photos[0]!, 'utf8').then(() => true), true);
    assert.deepEqual(await readFile(mine.photos[0]!), bytes);
    assert.equal((await stat(mine.photos[0]!)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dirname(mine.photos[0]!), 'record.json'))).mode & 0o777, 0o600);
    assert.deepEqual(await store.get(mine.id), mine);
    assert.deepEqual(
      (await store.list('TOKENAAAAAAA')).map((r) => r.id),
      [mine.id],
    );
    assert.equal((await store.list()).length, 2);
    assert.equal(theirs.photos.length, 2);

    assert.equal(await store.delete(mine.id), true);
    assert.equal(await store.get(mine.id), undefined);
    assert.equal(await store.delete(mine.id), false);
    assert.deepEqual(await readdir(identitiesDir(home)), [theirs.id], 'the photos are gone, nothing left behind');
    assert.deepEqual(await consent.get(record.consentId), record, 'the consent record stays');
    assert.deepEqual(damaged, []);
  });

  it('a damaged record is skipped and reported; ids outside the form never touch the disk', async () => {
    const damaged: DamagedIdentity[] = [];
    const store = await FileIdentityStore.open(home, { onDamaged: (d) => damaged.push(d) });
    const bytes = new Uint8Array([1, 2, 3]);
    const good = await store.create({ tokenId: 'TOKENCCCCCCC', consentId: 'c_x', faces: [1], photos: [{ bytes, sha256: sha256(bytes), extension: 'png' }] });
    const bad = await store.create({ tokenId: 'TOKENCCCCCCC', consentId: 'c_x', faces: [1], photos: [{ bytes, sha256: sha256(bytes), extension: 'png' }] });
    await writeFile(join(identitiesDir(home), bad.id, 'record.json'), '{"id": ');
    const scan = await store.scan('TOKENCCCCCCC');
    assert.deepEqual(
      scan.identities.map((r) => r.id),
      [good.id],
    );
    assert.equal(scan.damaged.length, 1);
    assert.match(scan.damaged[0]!.path, new RegExp(`${bad.id}/record\\.json$`));
    assert.equal(damaged.length, 1);
    assert.equal(await store.get(bad.id), undefined);
    for (const id of ['../service', '..', 'i_../../x', '']) {
      assert.equal(await store.get(id), undefined);
      assert.equal(await store.delete(id), false);
    }
    await assert.rejects(
      store.create({ tokenId: 't', consentId: 'c', faces: [1], photos: [{ bytes, sha256: sha256(bytes), extension: 'exe' }] }),
      (e: unknown) => e instanceof LiveswapError && e.kind === 'input-unsupported',
    );
  });
});
