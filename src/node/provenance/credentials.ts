/**
 * Signed C2PA content credentials for liveswap outputs: a manifest saying "made with a trained
 * algorithm from these source photos (by hash)", signed with the user's certificate or a local one
 * under LIVESWAP_HOME, and read back with its validation result. The C2PA library is a 48 MB
 * native module, so it is loaded only when a function here needs it.
 *
 * The parts are in credentials/: load.ts (the native library), manifest.ts (the statement, the
 * manifest and the formats), certificates.ts, signer.ts, sign.ts (the writer) and read.ts (the
 * reader); this module is their one import.
 */

export { credentialsAvailable } from './credentials/load.js';
export { CREDENTIAL_FORMATS, credentialsSupported, DIGITAL_SOURCE_TYPE, LIVESWAP_ASSERTION } from './credentials/manifest.js';
export type { ProvenanceStatement } from './credentials/manifest.js';
export { makeSigningCertificates } from './credentials/certificates.js';
export type { CertificateNames } from './credentials/certificates.js';
export { loadSigner, SIGNING_ALGORITHMS } from './credentials/signer.js';
export type { LoadedSigner, SignerFiles, SigningAlgorithm } from './credentials/signer.js';
export { signOutput } from './credentials/sign.js';
export { readCredentials } from './credentials/read.js';
export type { CredentialsReport } from './credentials/read.js';
