/**
 * Signing: embeds liveswap's manifest in an output, written under a temporary name and renamed
 * into place, so a signed file is never half-written.
 */

import { stat } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { LiveswapError } from '../../../core/errors.js';
import { outputError, writeAtomically } from '../../files/output.js';
import { loadC2pa } from './load.js';
import { builderFor, CREDENTIAL_FORMATS, mimeTypeOf, type ProvenanceStatement } from './manifest.js';
import type { LoadedSigner } from './signer.js';

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
  // async so that a failure to sign is the rejection writeAtomically cleans up after.
  // eslint-disable-next-line @typescript-eslint/require-await
  await writeAtomically(output, async (temporary) => {
    try {
      const handle = c2pa.LocalSigner.newSigner(Buffer.from(signer.certificateChain), Buffer.from(signer.privateKey), signer.algorithm);
      builderFor(c2pa, statement, basename(output), mimeType).sign(handle, { path: input, mimeType }, { path: temporary });
    } catch (cause) {
      throw new LiveswapError('output', `Could not add content credentials to ${output}: ${(cause as Error).message} (signing ${input} as ${mimeType}).`, { file: output, cause });
    }
  });
}
