/**
 * Signers: the user's own certificate chain and key, checked to load, to match and to be accepted
 * by C2PA, or liveswap's local signer under LIVESWAP_HOME, created on first use.
 */

import { X509Certificate, createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LiveswapError } from '../../../core/errors.js';
import { formatBytes, MIB, readInputFile } from '../../files/input-file.js';
import { outputError } from '../../files/output.js';
import { makeSigningCertificates, PEM_CERTIFICATE } from './certificates.js';
import { loadC2pa } from './load.js';
import { builderFor, type ProvenanceStatement } from './manifest.js';

/** PEM paths of the user's own signer: the certificate chain (leaf first) and its private key. */
export interface SignerFiles {
  certificate: string;
  privateKey: string;
}

/** Signature algorithms C2PA allows, as c2pa-node names them; picked from the key's type. */
export const SIGNING_ALGORITHMS = ['es256', 'es384', 'es512', 'ps256', 'ed25519'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export interface LoadedSigner {
  /** True for liveswap's local signer under `${home}/provenance/signer/`, false for the user's own. */
  local: boolean;
  /** PEM certificate chain handed to C2PA, leaf first. */
  certificateChain: string;
  /** PKCS#8 PEM of the leaf's private key. */
  privateKey: string;
  algorithm: SigningAlgorithm;
  /** The root certificate (PEM) to pass as a trust anchor when reading outputs signed with this signer: the local CA, or the self-signed root at the end of the user's chain; undefined when the chain stops below its root. */
  trustAnchor: string | undefined;
  /** Distinguished names of the leaf certificate, e.g. "CN=liveswap local signer (self-signed), O=liveswap". */
  subject: string;
  issuer: string;
  /** When the leaf certificate expires. */
  notAfter: Date;
  /** Where the PEM files were read from. */
  files: { certificate: string; privateKey: string; ca?: string };
}

const LOCAL_SIGNER_SUBJECT = 'liveswap local signer (self-signed)';
const LOCAL_CA_SUBJECT = 'liveswap local CA (self-signed)';

/**
 * The signer to use: the user's own when `own` is given (checked to load and to be accepted by
 * C2PA, else a `usage` error), otherwise the local signer under `${home}/provenance/signer/`,
 * created on first use. The local CA's private key is not kept: it only ever issues the one leaf.
 */
export async function loadSigner(home: string, own?: SignerFiles): Promise<LoadedSigner> {
  if (own) {
    const signer = await readSigner(own, false);
    await trialSign(signer);
    return signer;
  }
  const folder = join(home, 'provenance', 'signer');
  const exists = await stat(folder).then(
    () => true,
    () => false,
  );
  if (!exists) await createLocalSigner(folder);
  return readSigner({ certificate: join(folder, 'signer.pem'), privateKey: join(folder, 'signer.key') }, true, join(folder, 'ca.pem'));
}

/** Message-stable failure for a signer that cannot be used; the local one says how to start over. */
function signerError(local: boolean, file: string, problem: string, cause?: unknown): LiveswapError {
  if (local) {
    const folder = dirname(file);
    return new LiveswapError(
      'output',
      `The local content-credentials signer in ${folder} is damaged: ${problem}. Delete that folder and liveswap makes a new one (earlier outputs then no longer verify as trusted against the new local CA).`,
      {
        file,
        cause,
      },
    );
  }
  return new LiveswapError('usage', `Cannot use the signing credentials: ${problem}.`, { file, cause });
}

/** A PEM chain or key larger than this is not one; it is refused before it is read. */
const PEM_MAX_BYTES = MIB;

/** Reads a PEM file with the checks of every user file: a FIFO or a device is refused, not opened, and the read is bounded. */
async function readText(path: string, what: string, local: boolean): Promise<string> {
  try {
    return (await readInputFile(path, what, { maxBytes: PEM_MAX_BYTES, allowEmpty: true })).toString('utf8');
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    const prefix = `Cannot read the ${what} ${path}: `;
    const why =
      cause instanceof LiveswapError && cause.kind === 'input-missing'
        ? 'file not found'
        : cause instanceof LiveswapError && cause.kind === 'input-too-large'
          ? `it is over ${formatBytes(PEM_MAX_BYTES)}: not a PEM file`
          : message.startsWith(prefix)
            ? message.slice(prefix.length).replace(/\.$/, '').split('. ')[0]!
            : message;
    throw signerError(local, path, `cannot read the ${what} ${path} (${why})`, cause);
  }
}

function dn(text: string): string {
  return text.split('\n').filter(Boolean).join(', ');
}

function algorithmOf(key: KeyObject): SigningAlgorithm | undefined {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'ed25519';
  if (type === 'rsa' || type === 'rsa-pss') return 'ps256';
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'es256';
    if (curve === 'secp384r1') return 'es384';
    if (curve === 'secp521r1') return 'es512';
  }
  return undefined;
}

/** Reads and checks a chain and key: PEM, the key matches the leaf, a C2PA algorithm, in date. */
async function readSigner(files: SignerFiles, local: boolean, caPath?: string): Promise<LoadedSigner> {
  const chainText = await readText(files.certificate, 'certificate chain', local);
  const keyText = await readText(files.privateKey, 'private key', local);
  const pems = chainText.match(PEM_CERTIFICATE) ?? [];
  if (pems.length === 0) {
    throw signerError(
      local,
      files.certificate,
      `${files.certificate} is not a PEM certificate chain (expected "-----BEGIN CERTIFICATE-----" blocks, the signing certificate first)`,
    );
  }
  let chain: X509Certificate[];
  try {
    chain = pems.map((pem) => new X509Certificate(pem));
  } catch (cause) {
    throw signerError(local, files.certificate, `${files.certificate} holds a certificate that cannot be parsed (${(cause as Error).message})`, cause);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyText);
  } catch (cause) {
    const encrypted = /ENCRYPTED/.test(keyText);
    const why = encrypted ? 'it is encrypted; give an unencrypted PKCS#8 key' : 'expected "-----BEGIN PRIVATE KEY-----"';
    throw signerError(local, files.privateKey, `${files.privateKey} is not a readable PEM private key (${why})`, cause);
  }
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(key)) {
    throw signerError(local, files.privateKey, `the private key ${files.privateKey} does not belong to the first certificate in ${files.certificate} (${dn(leaf.subject)})`);
  }
  const algorithm = algorithmOf(key);
  if (algorithm === undefined) {
    const type = key.asymmetricKeyType === 'ec' ? `EC ${key.asymmetricKeyDetails?.namedCurve}` : key.asymmetricKeyType;
    throw signerError(local, files.privateKey, `the key in ${files.privateKey} is ${type}, which C2PA does not allow (use EC P-256/P-384/P-521, RSA or Ed25519)`);
  }
  const notAfter = new Date(leaf.validTo);
  if (notAfter.getTime() <= Date.now()) {
    throw signerError(local, files.certificate, `the certificate ${dn(leaf.subject)} in ${files.certificate} expired on ${notAfter.toISOString()}`);
  }
  const last = chain[chain.length - 1]!;
  let trustAnchor = last !== leaf && last.checkIssued(last) ? last.toString().trim() : undefined;
  if (caPath !== undefined) trustAnchor = (await readText(caPath, 'CA certificate', local)).trim();
  return {
    local,
    certificateChain: chain.map((c) => c.toString().trim()).join('\n') + '\n',
    privateKey: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    algorithm,
    trustAnchor,
    subject: dn(leaf.subject),
    issuer: dn(leaf.issuer),
    notAfter,
    files: caPath === undefined ? { ...files } : { ...files, ca: caPath },
  };
}

/** A 1×1 PNG, signed in memory to find certificates C2PA refuses before any real work. */
const TINY_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

async function trialSign(signer: LoadedSigner): Promise<void> {
  const c2pa = await loadC2pa().catch((cause: unknown) => {
    throw new LiveswapError('output', `Cannot sign outputs: ${(cause as Error).message}`, { cause });
  });
  try {
    const handle = c2pa.LocalSigner.newSigner(Buffer.from(signer.certificateChain), Buffer.from(signer.privateKey), signer.algorithm);
    builderFor(c2pa, trialStatement(), 'trial.png', 'image/png').sign(handle, { buffer: TINY_PNG, mimeType: 'image/png' }, { buffer: null });
  } catch (cause) {
    throw signerError(
      false,
      signer.files.certificate,
      `C2PA refuses the certificate ${signer.subject} in ${signer.files.certificate} (${(cause as Error).message}). It needs a certificate issued by a CA (not self-signed), with the digitalSignature key usage, not a CA itself, and an extended key usage such as emailProtection or documentSigning`,
      cause,
    );
  }
}

function trialStatement(): ProvenanceStatement {
  return { tool: 'liveswap', version: '0', created: new Date(0).toISOString(), sourceSha256: [], label: { shown: true } };
}

/** Makes CA + leaf in a private folder and renames it into place; if another process won, keeps theirs. */
async function createLocalSigner(folder: string): Promise<void> {
  const temporary = `${folder}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(temporary, { recursive: true, mode: 0o700 });
    const { caPem, chainPem, keyPem } = await makeSigningCertificates({ signer: LOCAL_SIGNER_SUBJECT, ca: LOCAL_CA_SUBJECT, organization: 'liveswap' });
    await writeNew(join(temporary, 'ca.pem'), caPem, 0o644);
    await writeNew(join(temporary, 'signer.pem'), chainPem, 0o644);
    await writeNew(join(temporary, 'signer.key'), keyPem, 0o600);
    await rename(temporary, folder);
  } catch (cause) {
    await rm(temporary, { recursive: true, force: true }).catch(() => undefined);
    const someoneElseWon = await stat(join(folder, 'signer.key')).then(
      () => true,
      () => false,
    );
    if (someoneElseWon) return;
    const detail = outputError(join(folder, 'signer.key'), cause).message;
    throw new LiveswapError('output', `Could not create the local content-credentials signer in ${folder}: ${detail} Set LIVESWAP_HOME to a writable folder.`, {
      file: folder,
      cause,
    });
  }
}

async function writeNew(path: string, text: string, mode: number): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(text);
    await handle.chmod(mode); // the umask may have narrowed or the platform widened it
    await handle.sync();
  } finally {
    await handle.close();
  }
}
