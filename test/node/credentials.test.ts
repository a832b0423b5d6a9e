/** C2PA content credentials: local and user signers, signing each format, reading back, tampering. */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { LiveswapError } from '../../src/core/errors.js';
import {
  CREDENTIAL_FORMATS,
  DIGITAL_SOURCE_TYPE,
  credentialsAvailable,
  credentialsSupported,
  loadSigner,
  makeSigningCertificates,
  readCredentials,
  signOutput,
  type LoadedSigner,
  type ProvenanceStatement,
} from '../../src/node/provenance/credentials.js';
import { ffmpegPath } from '../../src/node/media/ffmpeg-binary.js';
import { FIXTURES } from '../helpers/fixtures.js';

const run = promisify(execFile);

const STATEMENT: ProvenanceStatement = {
  tool: 'liveswap',
  version: '0.1.0',
  created: '2025-01-02T03:04:05.000Z',
  sourceSha256: [createHash('sha256').update('source photo').digest('hex')],
  watermarkId: '0a1b2c3d',
  label: { shown: true, text: 'AI-generated' },
  engine: 'inswapper',
};

let root: string;
let home: string;
let work: string;
let signer: LoadedSigner;

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

function isError(kind: string, message: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof LiveswapError, `expected a LiveswapError, got ${String(error)}`);
    assert.equal(error.kind, kind);
    assert.match(error.message, message);
    return true;
  };
}

/** Unsigned inputs, one per format, from a fixture photo or the ffmpeg test pattern. */
async function makeInput(ext: string): Promise<string> {
  const path = join(work, `input${ext}`);
  const photo = sharp(join(FIXTURES, 'grace_hopper.jpg')).resize(160);
  if (ext === '.jpg' || ext === '.jpeg') await photo.jpeg().toFile(path);
  else if (ext === '.png') await photo.png().toFile(path);
  else if (ext === '.webp') await photo.webp().toFile(path);
  else if (ext === '.gif') await photo.gif().toFile(path);
  else if (ext === '.tif' || ext === '.tiff') await photo.tiff().toFile(path);
  else if (ext === '.avif') await photo.avif().toFile(path);
  else {
    const codec = ext === '.webm' ? ['-c:v', 'libvpx'] : ['-c:v', 'libx264'];
    await run(ffmpegPath(), ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '1', '-pix_fmt', 'yuv420p', ...codec, path]);
  }
  return path;
}

/** Offset of the first byte of compressed picture data, found by each container's markers. */
function pictureDataOffset(bytes: Buffer, ext: string): number {
  const find = (marker: string | Buffer, skip: number): number => {
    const at = bytes.lastIndexOf(marker);
    assert.ok(at > 0, `no ${String(marker)} in the ${ext} file`);
    return at + skip;
  };
  if (ext === '.jpg') return find(Buffer.from([0xff, 0xda]), 20); // start of scan
  if (ext === '.png') return find('IDAT', 8);
  if (ext === '.webp') return find('VP8', 16);
  if (ext === '.mp4') return find('mdat', 16);
  throw new Error(`no tamper rule for ${ext}`);
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'liveswap-credentials-'));
  home = join(root, 'home');
  work = join(root, 'work');
  await mkdir(work, { recursive: true });
  signer = await loadSigner(home);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('local signer', () => {
  test('first use creates a CA and a signing certificate it issued, with a private key only the user can read', async () => {
    const folder = join(home, 'provenance', 'signer');
    assert.deepEqual((await readdir(folder)).sort(), ['ca.pem', 'signer.key', 'signer.pem']);
    assert.equal((await stat(join(folder, 'signer.key'))).mode & 0o777, 0o600);
    assert.equal(signer.local, true);
    assert.equal(signer.algorithm, 'es256');
    assert.equal(signer.subject, 'CN=liveswap local signer (self-signed), O=liveswap');
    assert.equal(signer.issuer, 'CN=liveswap local CA (self-signed), O=liveswap');

    const ca = new X509Certificate(await readFile(join(folder, 'ca.pem')));
    const chain = (await readFile(join(folder, 'signer.pem'), 'utf8')).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    assert.equal(chain.length, 2);
    const leaf = new X509Certificate(chain[0]!);
    assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey), 'the leaf is issued and signed by the CA');
    assert.ok(new X509Certificate(chain[1]!).raw.equals(ca.raw), 'the chain ends with the CA');
    assert.ok(ca.ca && !leaf.ca);
    assert.ok(leaf.keyUsage?.includes('1.3.6.1.5.5.7.3.4'), 'emailProtection extended key usage');
    const years = (cert: X509Certificate) => (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / (365.25 * 24 * 3600 * 1000);
    assert.ok(Math.abs(years(ca) - 10) < 0.01 && Math.abs(years(leaf) - 5) < 0.01, `${years(ca)} and ${years(leaf)} years`);
    assert.equal(signer.trustAnchor, ca.toString().trim());
  });

  test('second use reuses the same certificate and key', async () => {
    const again = await loadSigner(home);
    assert.equal(again.certificateChain, signer.certificateChain);
    assert.equal(again.privateKey, signer.privateKey);
  });

  test('concurrent first use ends with one complete signer, used by every caller', async () => {
    const fresh = join(root, 'concurrent-home');
    const signers = await Promise.all(Array.from({ length: 6 }, () => loadSigner(fresh)));
    assert.equal(new Set(signers.map((s) => s.certificateChain)).size, 1);
    assert.equal(new Set(signers.map((s) => s.privateKey)).size, 1);
    assert.deepEqual(await readdir(join(fresh, 'provenance')), ['signer'], 'no temporary folders left');
    const onDisk = await loadSigner(fresh);
    assert.equal(onDisk.certificateChain, signers[0]!.certificateChain);
  });

  test('concurrent first use from separate processes agrees on one signer too', async () => {
    const fresh = join(root, 'process-home');
    const module = fileURLToPath(new URL('../../src/node/provenance/credentials.ts', import.meta.url));
    const script = `const m = await import(${JSON.stringify(module)}); const s = await m.loadSigner(${JSON.stringify(fresh)}); console.log(JSON.stringify(s.certificateChain));`;
    const outputs = await Promise.all(Array.from({ length: 3 }, () => run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script])));
    const chains = outputs.map(({ stdout }) => JSON.parse(stdout) as string);
    assert.equal(new Set(chains).size, 1);
    assert.equal((await loadSigner(fresh)).certificateChain, chains[0]);
    assert.deepEqual(await readdir(join(fresh, 'provenance')), ['signer']);
  });

  test('a damaged local signer is an output error that names the folder and the fix', async () => {
    const damaged = join(root, 'damaged-home');
    await loadSigner(damaged);
    await writeFile(join(damaged, 'provenance', 'signer', 'signer.key'), 'not a key');
    await assert.rejects(loadSigner(damaged), isError('output', /local content-credentials signer in .*signer is damaged: .*not a readable PEM private key.*Delete that folder/));
  });
});

describe('signing and reading back', () => {
  const formats = ['.jpg', '.png', '.webp', '.gif', '.tiff', '.avif', '.mp4', '.mov', '.m4v'];
  for (const ext of formats) {
    test(`${ext}: signed, valid, trusted only with the local CA as anchor, statement round-trips`, async () => {
      const input = await makeInput(ext);
      const before = await sha256(input);
      const output = join(work, `signed${ext}`);
      await signOutput(input, output, STATEMENT, signer);
      assert.equal(await sha256(input), before, 'input unchanged');

      const trusted = await readCredentials(output, { trustAnchors: [signer.trustAnchor!] });
      assert.equal(trusted.error, undefined);
      assert.deepEqual([trusted.present, trusted.valid, trusted.trusted, trusted.state], [true, true, true, 'Trusted']);
      assert.deepEqual(trusted.problems, []);
      assert.deepEqual(trusted.statement, STATEMENT);
      assert.equal(trusted.digitalSourceType, DIGITAL_SOURCE_TYPE);
      assert.deepEqual(trusted.signer, { subject: 'liveswap local signer (self-signed)', organization: 'liveswap' });

      const untrusted = await readCredentials(output);
      assert.deepEqual([untrusted.present, untrusted.valid, untrusted.trusted, untrusted.state], [true, true, false, 'Valid']);
      assert.deepEqual(untrusted.problems, [], 'the untrusted-credential note is not a problem when valid');
      assert.deepEqual(untrusted.statement, STATEMENT);
    });
  }

  test('a statement without optional fields round-trips without them; the label can be off', async () => {
    const input = await makeInput('.png');
    const output = join(work, 'minimal.png');
    const minimal: ProvenanceStatement = { tool: 'liveswap', version: '0.1.0', created: STATEMENT.created, sourceSha256: [], label: { shown: false } };
    await signOutput(input, output, minimal, signer);
    assert.deepEqual((await readCredentials(output)).statement, minimal);
  });

  test('signing in place replaces the file atomically with the signed one', async () => {
    const path = await makeInput('.jpg');
    await signOutput(path, path, STATEMENT, signer);
    const report = await readCredentials(path);
    assert.ok(report.present && report.valid);
  });

  test('an unsigned file has no credentials and no error', async () => {
    for (const ext of ['.jpg', '.png', '.mp4']) {
      const report = await readCredentials(await makeInput(ext));
      assert.deepEqual(report, { present: false, valid: false, trusted: false, problems: [] });
    }
  });

  for (const ext of ['.jpg', '.png', '.webp', '.mp4']) {
    test(`${ext}: flipping bytes of the picture data makes it invalid, with the hash mismatch reported`, async () => {
      const signed = join(work, `tamper-source${ext}`);
      await signOutput(await makeInput(ext), signed, STATEMENT, signer);
      const bytes = await readFile(signed);
      const at = pictureDataOffset(bytes, ext);
      for (let i = 0; i < 4; i++) bytes[at + i]! ^= 0xff;
      const tampered = join(work, `tampered${ext}`);
      await writeFile(tampered, bytes);
      const report = await readCredentials(tampered, { trustAnchors: [signer.trustAnchor!] });
      assert.equal(report.present, true);
      assert.equal(report.valid, false);
      assert.equal(report.trusted, false);
      assert.equal(report.state, 'Invalid');
      const codes = report.problems.map((p) => p.code);
      assert.ok(
        codes.some((c) => /^assertion\.(dataHash|bmffHash)\.mismatch$/.test(c)),
        `codes: ${codes.join(', ')}`,
      );
      assert.deepEqual(report.statement, STATEMENT, 'what it claims is still shown, flagged invalid');
    });
  }

  test('truncated, garbage, empty and missing files report an error instead of throwing', async () => {
    const signed = join(work, 'whole.jpg');
    await signOutput(await makeInput('.jpg'), signed, STATEMENT, signer);
    const bytes = await readFile(signed);
    const cases: [string, Buffer | undefined][] = [
      ['truncated.jpg', bytes.subarray(0, bytes.length >> 1)],
      ['garbage.png', Buffer.from('this is not an image at all')],
      ['empty.mp4', Buffer.alloc(0)],
      ['missing.jpg', undefined],
    ];
    for (const [name, content] of cases) {
      const path = join(work, name);
      if (content) await writeFile(path, content);
      const report = await readCredentials(path);
      assert.equal(report.present, false, name);
      assert.equal(report.valid, false, name);
      assert.match(report.error ?? '', new RegExp(`^Cannot read content credentials.*${name.replace('.', '\\.')}`), name);
    }
  });
});

describe("the user's own signer", () => {
  let files: { certificate: string; privateKey: string };
  let ownCa: string;

  before(async () => {
    const made = await makeSigningCertificates({ signer: 'Ada Studio signing', ca: 'Ada Studio CA', organization: 'Ada Studio' });
    ownCa = made.caPem;
    files = { certificate: join(work, 'own-chain.pem'), privateKey: join(work, 'own.key') };
    await writeFile(files.certificate, made.chainPem);
    await writeFile(files.privateKey, made.keyPem);
  });

  test('signs with the given certificate; trusted with its CA, not with the local one', async () => {
    const own = await loadSigner(home, files);
    assert.equal(own.local, false);
    assert.equal(own.subject, 'CN=Ada Studio signing, O=Ada Studio');
    assert.equal(own.trustAnchor, ownCa.trim(), 'the self-signed root at the end of the chain');
    const output = join(work, 'own.jpg');
    await signOutput(await makeInput('.jpg'), output, STATEMENT, own);
    const withOwnCa = await readCredentials(output, { trustAnchors: [ownCa] });
    assert.deepEqual([withOwnCa.valid, withOwnCa.trusted], [true, true]);
    assert.deepEqual(withOwnCa.signer, { subject: 'Ada Studio signing', organization: 'Ada Studio' });
    const withLocalCa = await readCredentials(output, { trustAnchors: [signer.trustAnchor!] });
    assert.deepEqual([withLocalCa.valid, withLocalCa.trusted, withLocalCa.state], [true, false, 'Valid']);
  });

  test('trust anchors: text around the PEM blocks is ignored, anything without a certificate is a usage error', async () => {
    const output = join(work, 'anchors.png');
    await signOutput(await makeInput('.png'), output, STATEMENT, signer);
    const chatty = `subject=CN=liveswap local CA\nissuer=CN=liveswap local CA\n${signer.trustAnchor!}\n`;
    assert.equal((await readCredentials(output, { trustAnchors: [ownCa, chatty] })).trusted, true);
    await assert.rejects(readCredentials(output, { trustAnchors: [ownCa, 'not a certificate'] }), isError('usage', /^Trust anchor 2 is not a PEM certificate/));
  });

  test('a chain of only the signing certificate works, with no trust anchor to offer', async () => {
    const leafOnly = join(work, 'leaf-only.pem');
    await writeFile(leafOnly, ((await readFile(files.certificate, 'utf8')).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/) ?? [''])[0]);
    const own = await loadSigner(home, { certificate: leafOnly, privateKey: files.privateKey });
    assert.equal(own.trustAnchor, undefined);
    const output = join(work, 'leaf-only.png');
    await signOutput(await makeInput('.png'), output, STATEMENT, own);
    assert.deepEqual((await readCredentials(output, { trustAnchors: [ownCa] })).trusted, true, 'the reader finds the root among the anchors');
  });

  test('missing, non-PEM, mismatched and C2PA-refused files are usage errors that say what is wrong', async () => {
    const other = await makeSigningCertificates({ signer: 'Other', ca: 'Other CA', organization: 'Other' });
    const otherKey = join(work, 'other.key');
    await writeFile(otherKey, other.keyPem);
    const notPem = join(work, 'not-pem.txt');
    await writeFile(notPem, 'hello');
    const caOnly = join(work, 'ca-only.pem');
    await writeFile(caOnly, ownCa);
    await assert.rejects(loadSigner(home, { ...files, certificate: join(work, 'nope.pem') }), isError('usage', /cannot read the certificate chain .*nope\.pem \(file not found\)/));
    await assert.rejects(loadSigner(home, { ...files, privateKey: join(work, 'nope.key') }), isError('usage', /cannot read the private key .*nope\.key \(file not found\)/));
    await assert.rejects(loadSigner(home, { ...files, certificate: notPem }), isError('usage', /not-pem\.txt is not a PEM certificate chain/));
    await assert.rejects(loadSigner(home, { ...files, privateKey: notPem }), isError('usage', /not-pem\.txt is not a readable PEM private key/));
    await assert.rejects(
      loadSigner(home, { ...files, privateKey: otherKey }),
      isError('usage', /other\.key does not belong to the first certificate in .*own-chain\.pem \(CN=Ada Studio signing, O=Ada Studio\)/),
    );
    await assert.rejects(loadSigner(home, { certificate: caOnly, privateKey: files.privateKey }), isError('usage', /does not belong to the first certificate/));
  });
});

describe('failures and formats', () => {
  test('credentialsSupported matches the formats signed above, and refuses the ones C2PA cannot embed in', () => {
    for (const ext of Object.keys(CREDENTIAL_FORMATS)) assert.equal(credentialsSupported(`a/out${ext.toUpperCase()}`), true, ext);
    for (const path of ['out.webm', 'out.mkv', 'out.bmp', 'out.y4m', 'out', 'jpg']) assert.equal(credentialsSupported(path), false, path);
  });

  test('C2PA itself refuses .webm and .mkv, so they are truthfully unsupported', async () => {
    const c2pa = await import('@contentauth/c2pa-node');
    for (const ext of ['.webm', '.mkv']) {
      const input = await makeInput(ext);
      const handle = c2pa.LocalSigner.newSigner(Buffer.from(signer.certificateChain), Buffer.from(signer.privateKey), 'es256');
      const builder = c2pa.Builder.withJson({ claim_generator_info: [{ name: 'liveswap', version: '0' }], title: 't', assertions: [] } as never);
      assert.throws(() => builder.sign(handle, { path: input }, { buffer: null }), /type is unsupported/);
    }
  });

  async function assertNothingWritten(output: string): Promise<void> {
    await assert.rejects(stat(output), { code: 'ENOENT' });
    assert.deepEqual(
      (await readdir(work)).filter((name) => name.includes('.partial-')),
      [],
      'no temporary files left',
    );
  }

  test('an unsupported output format is an output error; nothing is written and the input is unchanged', async () => {
    const input = await makeInput('.webm');
    const before = await sha256(input);
    const output = join(work, 'out.webm');
    await assert.rejects(
      signOutput(input, output, STATEMENT, signer),
      isError('output', /Cannot add content credentials to .*out\.webm: C2PA cannot embed a manifest in \.webm files\. Supported: \.jpg .*\.mp4/),
    );
    await assertNothingWritten(output);
    assert.equal(await sha256(input), before);
  });

  test('an input C2PA cannot parse fails cleanly: nothing at the output, input unchanged, earlier output kept', async () => {
    const input = join(work, 'broken.jpg');
    await writeFile(input, Buffer.from('not really a jpeg'));
    const output = join(work, 'broken-out.jpg');
    await assert.rejects(
      signOutput(input, output, STATEMENT, signer),
      isError('output', /Could not add content credentials to .*broken-out\.jpg: .*signing .*broken\.jpg as image\/jpeg/),
    );
    await assertNothingWritten(output);
    assert.equal(await readFile(input, 'utf8'), 'not really a jpeg');

    const existing = join(work, 'kept.jpg');
    await writeFile(existing, 'earlier output');
    await assert.rejects(signOutput(input, existing, STATEMENT, signer), isError('output', /Could not add content credentials/));
    assert.equal(await readFile(existing, 'utf8'), 'earlier output');
  });

  test('missing input, missing output folder, format change and a bad statement are refused before writing', async () => {
    const input = await makeInput('.png');
    await assert.rejects(signOutput(join(work, 'absent.png'), join(work, 'x.png'), STATEMENT, signer), isError('output', /the file to sign, .*absent\.png, does not exist/));
    await assert.rejects(signOutput(input, join(work, 'no-such-dir', 'x.png'), STATEMENT, signer), isError('output', /the folder .*no-such-dir does not exist/));
    await assert.rejects(signOutput(input, join(work, 'x.jpg'), STATEMENT, signer), isError('output', /does not convert formats \(image\/png to image\/jpeg\)/));
    await assert.rejects(signOutput(input, join(work, 'x.png'), { ...STATEMENT, sourceSha256: ['photo bytes'] }, signer), isError('internal', /sourceSha256/));
    await assert.rejects(signOutput(input, join(work, 'x.png'), { ...STATEMENT, watermarkId: 'xyz' }, signer), isError('internal', /watermarkId/));
    await assertNothingWritten(join(work, 'x.png'));
  });

  test('available here; without the native binary it says why, reading reports it and signing throws', async () => {
    assert.deepEqual(await credentialsAvailable(), { ok: true });
    const module = fileURLToPath(new URL('../../src/node/provenance/credentials.ts', import.meta.url));
    const script = `
      const m = await import(${JSON.stringify(module)});
      const available = await m.credentialsAvailable();
      const read = await m.readCredentials(${JSON.stringify(join(FIXTURES, 'grace_hopper.jpg'))});
      const sign = await m.signOutput('in.jpg', 'out.jpg', ${JSON.stringify(STATEMENT)}, {}).then(() => 'signed', (e) => e.kind + ': ' + e.message);
      console.log(JSON.stringify({ available, read, sign }));`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, C2PA_LIBRARY_PATH: join(root, 'no-such-binary.node') },
    });
    const result = JSON.parse(stdout) as { available: { ok: boolean; reason: string }; read: { present: boolean; error: string }; sign: string };
    assert.equal(result.available.ok, false);
    assert.match(result.available.reason, /content credentials are unavailable on this platform \(\w+-\w+\): .*no-such-binary\.node.*C2PA_LIBRARY_PATH/);
    assert.equal(result.read.present, false);
    assert.match(result.read.error, /^Cannot read content credentials: content credentials are unavailable on this platform/);
    assert.match(result.sign, /^output: Cannot add content credentials to out\.jpg: content credentials are unavailable on this platform/);
  });
});
