/**
 * Signed C2PA content credentials for liveswap outputs: a manifest saying "made with a trained
 * algorithm from these source photos (by hash)", signed with the user's certificate or a local one
 * under LIVESWAP_HOME, and read back with its validation result. The C2PA library is a 48 MB
 * native module, so it is loaded only when a function here needs it.
 */

import { X509Certificate, createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type * as C2pa from '@contentauth/c2pa-node';
import { LiveswapError } from '../../core/errors.js';
import { outputError, writeAtomically } from '../files/output.js';

export const DIGITAL_SOURCE_TYPE = 'http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia';
export const LIVESWAP_ASSERTION = 'org.liveswap.provenance';

export interface ProvenanceStatement {
  /** 'liveswap' */
  tool: string;
  /** The liveswap package version. */
  version: string;
  /** ISO 8601 time the output was made. */
  created: string;
  /** SHA-256 (hex) of each source photo; never the photo itself. */
  sourceSha256: string[];
  /** 8 hex digits, when the output carries an invisible watermark. */
  watermarkId?: string;
  /** The visible label: off only by the user's explicit --no-label. */
  label: { shown: boolean; text?: string };
  engine?: string;
}

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

/**
 * Formats C2PA 0.7.0 (c2pa-rs 0.90) embeds a manifest in, by extension, each signed and validated
 * by the tests. Not supported (signing says "type is unsupported"): .webm and .mkv.
 */
export const CREDENTIAL_FORMATS = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.avif': 'image/avif',
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.m4v': 'video/x-m4v',
} as const satisfies Record<string, string>;

function mimeTypeOf(path: string): string | undefined {
  const ext = extname(path).toLowerCase();
  return Object.hasOwn(CREDENTIAL_FORMATS, ext) ? CREDENTIAL_FORMATS[ext as keyof typeof CREDENTIAL_FORMATS] : undefined;
}

/** Whether an output with this path's extension can carry embedded content credentials. */
export function credentialsSupported(path: string): boolean {
  return mimeTypeOf(path) !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Loading the native library

type C2paModule = typeof C2pa;
let c2paModule: Promise<C2paModule> | undefined;

/** Loads c2pa-node once per process; its binary is only required on first native call, so make one. */
function loadC2pa(): Promise<C2paModule> {
  c2paModule ??= (async () => {
    try {
      const module = await import('@contentauth/c2pa-node');
      module.Builder.new();
      return module;
    } catch (cause) {
      c2paModule = undefined;
      // The first line: require() appends a multi-line "Require stack".
      const detail = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0];
      throw new Error(
        `content credentials are unavailable on this platform (${process.platform}-${process.arch}): the C2PA library @contentauth/c2pa-node could not load its native binary (${detail}). It ships a Linux x64 build; elsewhere set C2PA_LIBRARY_PATH to a c2pa-node binary built for this platform.`,
        { cause },
      );
    }
  })();
  return c2paModule;
}

/** Whether content credentials can be signed and read here; `reason` says why not. */
export async function credentialsAvailable(): Promise<{ ok: boolean; reason?: string }> {
  try {
    await loadC2pa();
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

// ---------------------------------------------------------------------------------------------
// Signers

const LOCAL_SIGNER_SUBJECT = 'liveswap local signer (self-signed)';
const LOCAL_CA_SUBJECT = 'liveswap local CA (self-signed)';
const DAY_MS = 24 * 60 * 60 * 1000;

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
    return new LiveswapError('output', `The local content-credentials signer in ${folder} is damaged: ${problem}. Delete that folder and liveswap makes a new one (earlier outputs then no longer verify as trusted against the new local CA).`, {
      file,
      cause,
    });
  }
  return new LiveswapError('usage', `Cannot use the signing credentials: ${problem}.`, { file, cause });
}

async function readText(path: string, what: string, local: boolean): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'it is a folder' : (cause as Error).message;
    throw signerError(local, path, `cannot read the ${what} ${path} (${why})`, cause);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

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
    throw signerError(local, files.certificate, `${files.certificate} is not a PEM certificate chain (expected "-----BEGIN CERTIFICATE-----" blocks, the signing certificate first)`);
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
    throw new LiveswapError('output', `Could not create the local content-credentials signer in ${folder}: ${detail} Set LIVESWAP_HOME to a writable folder.`, { file: folder, cause });
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

/** Names and lifetimes of a CA + signing certificate pair made by {@link makeSigningCertificates}. */
export interface CertificateNames {
  /** Common name of the signing (leaf) certificate. */
  signer: string;
  /** Common name of the CA that issues it. */
  ca: string;
  organization: string;
  /** Lifetimes in days; default 10 years for the CA and 5 for the signer. */
  caDays?: number;
  signerDays?: number;
}

/**
 * An ES256 CA and a leaf it issues, with the extensions the C2PA certificate profile asks for
 * (C2PA refuses self-signed signing certificates): PEMs of the CA, the chain (leaf first) and the
 * leaf's PKCS#8 key. The CA's key is dropped; it issues nothing else.
 */
export async function makeSigningCertificates(names: CertificateNames): Promise<{ caPem: string; chainPem: string; keyPem: string }> {
  const x509 = await loadX509();
  type WebKeyPair = { publicKey: Parameters<typeof webCrypto.subtle.exportKey>[1]; privateKey: Parameters<typeof webCrypto.subtle.exportKey>[1] };
  const webCrypto = globalThis.crypto; // typed as the global Crypto, which x509 names in both node and DOM type settings
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const notBefore = new Date(Date.now() - DAY_MS); // a day of slack for clocks that run behind
  const caKeys = (await webCrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as WebKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: [{ CN: [names.ca] }, { O: [names.organization] }],
      keys: caKeys,
      notBefore,
      notAfter: new Date(notBefore.getTime() + (names.caDays ?? 3652) * DAY_MS),
      signingAlgorithm: algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, webCrypto),
      ],
    },
    webCrypto,
  );
  const leafKeys = (await webCrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as WebKeyPair;
  const leaf = await x509.X509CertificateGenerator.create(
    {
      subject: [{ CN: [names.signer] }, { O: [names.organization] }],
      issuer: ca.subjectName,
      publicKey: leafKeys.publicKey,
      signingKey: caKeys.privateKey,
      notBefore,
      notAfter: new Date(notBefore.getTime() + (names.signerDays ?? 1826) * DAY_MS),
      signingAlgorithm: algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.emailProtection]),
        await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey, false, webCrypto),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, webCrypto),
      ],
    },
    webCrypto,
  );
  const pkcs8 = await webCrypto.subtle.exportKey('pkcs8', leafKeys.privateKey);
  const caPem = `${ca.toString('pem')}\n`;
  return { caPem, chainPem: `${leaf.toString('pem')}\n${caPem}`, keyPem: `${x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')}\n` };
}

/**
 * @peculiar/x509 registers its algorithms through tsyringe, which insists on a Reflect metadata
 * API at import time; its classes carry no design-time metadata, so a minimal store is enough.
 * Installed only when no polyfill (reflect-metadata) is present.
 */
async function loadX509(): Promise<typeof import('@peculiar/x509')> {
  const reflect = Reflect as unknown as Record<string, unknown>;
  if (typeof reflect.getMetadata !== 'function') {
    const store = new WeakMap<object, Map<unknown, unknown>>();
    const own = (key: unknown, target: object): unknown => store.get(target)?.get(key);
    reflect.getOwnMetadata = own;
    reflect.getMetadata = (key: unknown, target: object): unknown => {
      for (let o: object | null = target; o !== null; o = Object.getPrototypeOf(o) as object | null) {
        const value = own(key, o);
        if (value !== undefined) return value;
      }
      return undefined;
    };
    reflect.defineMetadata = (key: unknown, value: unknown, target: object): void => {
      const map = store.get(target) ?? new Map<unknown, unknown>();
      map.set(key, value);
      store.set(target, map);
    };
  }
  return import('@peculiar/x509');
}

// ---------------------------------------------------------------------------------------------
// Signing

/** No claim thumbnail: it would copy the output's pixels into the manifest (+135 KB, +50 ms per image). */
const BUILDER_SETTINGS = JSON.stringify({ builder: { thumbnail: { enabled: false } } });

function builderFor(c2pa: C2paModule, statement: ProvenanceStatement, title: string, mimeType: string): C2pa.Builder {
  const manifest = {
    claim_generator_info: [{ name: statement.tool, version: statement.version }],
    title,
    format: mimeType,
    assertions: [
      { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: DIGITAL_SOURCE_TYPE }] } },
      // JSON round trip drops undefined optional fields, which CBOR would otherwise carry as undefined.
      { label: LIVESWAP_ASSERTION, data: JSON.parse(JSON.stringify(statement)) as unknown },
    ],
  };
  return c2pa.Builder.withJson(manifest as Parameters<C2paModule['Builder']['withJson']>[0], BUILDER_SETTINGS);
}

function checkStatement(statement: ProvenanceStatement): void {
  const bad = (what: string): never => {
    throw new LiveswapError('internal', `Invalid provenance statement: ${what}`);
  };
  if (!statement.sourceSha256.every((h) => /^[0-9a-f]{64}$/.test(h))) bad('sourceSha256 must hold lowercase SHA-256 hex digests');
  if (statement.watermarkId !== undefined && !/^[0-9a-f]{8}$/i.test(statement.watermarkId)) bad(`watermarkId must be 8 hex digits, not ${JSON.stringify(statement.watermarkId)}`);
  if (Number.isNaN(Date.parse(statement.created))) bad(`created must be an ISO time, not ${JSON.stringify(statement.created)}`);
}

/**
 * Signs `input` into `output` with an embedded manifest. The output is written under a temporary
 * name and renamed into place, so it is never half-written; `input` is only read (signing a file
 * in place, input === output, replaces it atomically). Failures are `output` errors.
 */
export async function signOutput(input: string, output: string, statement: ProvenanceStatement, signer: LoadedSigner): Promise<void> {
  checkStatement(statement);
  const mimeType = mimeTypeOf(output);
  const supportedList = Object.keys(CREDENTIAL_FORMATS).join(' ');
  if (mimeType === undefined) {
    const ext = extname(output) || 'a file without an extension';
    throw new LiveswapError('output', `Cannot add content credentials to ${output}: C2PA cannot embed a manifest in ${ext} files. Supported: ${supportedList}.`, { file: output });
  }
  const inputType = mimeTypeOf(input);
  if (inputType !== undefined && inputType !== mimeType) {
    throw new LiveswapError('output', `Cannot sign ${input} into ${output}: signing does not convert formats (${inputType} to ${mimeType}).`, { file: output });
  }
  const c2pa = await loadC2pa().catch((cause: unknown) => {
    throw new LiveswapError('output', `Cannot add content credentials to ${output}: ${(cause as Error).message}`, { file: output, cause });
  });
  const inputStat = await stat(input).catch(() => undefined);
  if (!inputStat?.isFile()) throw new LiveswapError('output', `Cannot sign ${output}: the file to sign, ${input}, does not exist.`, { file: output });
  await stat(dirname(resolve(output))).catch((cause: unknown) => {
    throw outputError(output, cause);
  });
  await writeAtomically(output, async (temporary) => {
    try {
      const handle = c2pa.LocalSigner.newSigner(Buffer.from(signer.certificateChain), Buffer.from(signer.privateKey), signer.algorithm);
      builderFor(c2pa, statement, basename(output), mimeType).sign(handle, { path: input, mimeType }, { path: temporary });
    } catch (cause) {
      throw new LiveswapError('output', `Could not add content credentials to ${output}: ${(cause as Error).message} (signing ${input} as ${mimeType}).`, { file: output, cause });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface CredentialsReport {
  /** The file carries a C2PA manifest. */
  present: boolean;
  /** Integrity: signature and hashes check out (an untrusted signer alone does not make it invalid). */
  valid: boolean;
  /** The signer chains to one of the given trust anchors. */
  trusted: boolean;
  /** The reader's validation_state: "Invalid", "Valid" or "Trusted". */
  state?: string;
  /** Validation failures; the untrusted-credential note is left out when `valid`. */
  problems: { code: string; explanation?: string }[];
  /** The signing certificate: `subject` is its common name, `organization` its O; C2PA does not report the issuer's name. */
  signer?: { subject?: string; organization?: string; issuer?: string };
  statement?: Partial<ProvenanceStatement>;
  digitalSourceType?: string;
  /** Why the file could not be read at all. */
  error?: string;
}

const UNTRUSTED = 'signingCredential.untrusted';

/** Only the certificate blocks of each anchor (openssl exports carry text around them); none is a usage error. */
function readerSettings(trustAnchors: readonly string[]): string {
  const certificates = trustAnchors.flatMap((anchor, index) => {
    const blocks = anchor.match(PEM_CERTIFICATE);
    if (!blocks) throw new LiveswapError('usage', `Trust anchor ${index + 1} is not a PEM certificate (expected a "-----BEGIN CERTIFICATE-----" block).`);
    return blocks;
  });
  // Never fetch anything over the network while checking a local file.
  const settings: Record<string, unknown> = { verify: { remote_manifest_fetch: false, ocsp_fetch: false } };
  if (certificates.length > 0) settings.trust = { verify_trust_list: true, user_anchors: certificates.join('\n') };
  return JSON.stringify(settings);
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Picks the statement fields with the right types from untrusted manifest data. */
function statementFrom(data: Record<string, unknown> | undefined, generator: Record<string, unknown> | undefined): Partial<ProvenanceStatement> {
  const out: Partial<ProvenanceStatement> = {};
  const tool = text(data?.tool) ?? text(generator?.name);
  const version = text(data?.version) ?? text(generator?.version);
  if (tool !== undefined) out.tool = tool;
  if (version !== undefined) out.version = version;
  if (text(data?.created) !== undefined) out.created = text(data?.created);
  if (Array.isArray(data?.sourceSha256)) out.sourceSha256 = data.sourceSha256.filter((h): h is string => typeof h === 'string');
  if (text(data?.watermarkId) !== undefined) out.watermarkId = text(data?.watermarkId);
  if (text(data?.engine) !== undefined) out.engine = text(data?.engine);
  const label = record(data?.label);
  if (label && typeof label.shown === 'boolean') out.label = text(label.text) === undefined ? { shown: label.shown } : { shown: label.shown, text: text(label.text)! };
  return out;
}

/**
 * Reads and validates the manifest of a file. A file without one gives `present: false`; a file
 * that cannot be read gives `error`. Throws (a `usage` error) only for trust anchors that hold no
 * PEM certificate.
 */
export async function readCredentials(path: string, options: { trustAnchors?: string[] } = {}): Promise<CredentialsReport> {
  const settings = readerSettings(options.trustAnchors ?? []);
  const none = (error?: string): CredentialsReport => ({ present: false, valid: false, trusted: false, problems: [], ...(error === undefined ? {} : { error }) });
  let c2pa: C2paModule;
  try {
    c2pa = await loadC2pa();
  } catch (error) {
    return none(`Cannot read content credentials: ${(error as Error).message}`);
  }
  const fileStat = await stat(path).catch(() => undefined);
  if (!fileStat?.isFile()) return none(`Cannot read content credentials: ${path} does not exist or is not a file.`);
  const mimeType = mimeTypeOf(path);
  let reader: C2pa.Reader | null;
  try {
    reader = await c2pa.Reader.fromAsset(mimeType === undefined ? { path } : { path, mimeType }, settings);
  } catch (error) {
    return none(`Cannot read content credentials from ${path}: ${(error as Error).message}`);
  }
  if (reader === null) return none();

  const store = record(reader.json() as unknown) ?? {};
  const active = record(reader.getActive() as unknown) ?? {};
  const state = text(store.validation_state);
  const statuses = (Array.isArray(store.validation_status) ? store.validation_status : [])
    .map(record)
    .filter((s): s is Record<string, unknown> => s !== undefined && typeof s.code === 'string')
    .map((s) => (text(s.explanation) === undefined ? { code: s.code as string } : { code: s.code as string, explanation: text(s.explanation)! }));
  const integrityProblems = statuses.filter((s) => s.code !== UNTRUSTED);
  const valid = state === 'Valid' || state === 'Trusted' || (state !== undefined && integrityProblems.length === 0);

  const assertions = (Array.isArray(active.assertions) ? active.assertions : []).map(record).filter((a) => a !== undefined);
  const ours = assertions.find((a) => a.label === LIVESWAP_ASSERTION);
  const actions = assertions.filter((a) => a.label === 'c2pa.actions' || a.label === 'c2pa.actions.v2').flatMap((a) => {
    const list = record(a.data)?.actions;
    return Array.isArray(list) ? list.map(record) : [];
  });
  const digitalSourceType = text(actions.find((a) => a?.action === 'c2pa.created')?.digitalSourceType);
  const generator = Array.isArray(active.claim_generator_info) ? record(active.claim_generator_info[0]) : undefined;
  const signature = record(active.signature_info);

  const report: CredentialsReport = {
    present: true,
    valid,
    trusted: state === 'Trusted',
    problems: valid ? integrityProblems : statuses,
    statement: statementFrom(record(ours?.data), generator),
  };
  if (state !== undefined) report.state = state;
  if (signature) {
    report.signer = {};
    if (text(signature.common_name) !== undefined) report.signer.subject = text(signature.common_name);
    // c2pa-rs calls the signing certificate's organization "issuer".
    if (text(signature.issuer) !== undefined) report.signer.organization = text(signature.issuer);
  }
  if (digitalSourceType !== undefined) report.digitalSourceType = digitalSourceType;
  return report;
}
