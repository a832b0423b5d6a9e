/**
 * Certificates: the ES256 CA + signing certificate pair that liveswap makes for its local signer,
 * with the extensions the C2PA certificate profile asks for, and the PEM block pattern the signer
 * and the reader both look for.
 */

/** One PEM certificate block (openssl exports carry text around them). */
export const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

const DAY_MS = 24 * 60 * 60 * 1000;

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
