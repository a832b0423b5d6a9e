/**
 * What liveswap's content credentials say and where they can go: the provenance statement, the
 * C2PA manifest built from it, and the file formats that can embed one. Shared by the signer
 * (signer.ts, sign.ts) and the reader (read.ts).
 */

import { extname } from 'node:path';
import type * as C2pa from '@contentauth/c2pa-node';
import type { C2paModule } from './load.js';

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

/** The MIME type C2PA is told for an output, by its extension; undefined when it cannot carry a manifest. */
export function mimeTypeOf(path: string): string | undefined {
  const ext = extname(path).toLowerCase();
  return Object.hasOwn(CREDENTIAL_FORMATS, ext) ? CREDENTIAL_FORMATS[ext as keyof typeof CREDENTIAL_FORMATS] : undefined;
}

/** Whether an output with this path's extension can carry embedded content credentials. */
export function credentialsSupported(path: string): boolean {
  return mimeTypeOf(path) !== undefined;
}

/** No claim thumbnail: it would copy the output's pixels into the manifest (+135 KB, +50 ms per image). */
const BUILDER_SETTINGS = JSON.stringify({ builder: { thumbnail: { enabled: false } } });

/** A C2PA builder holding liveswap's manifest for one output: the created action and the statement as our assertion. */
export function builderFor(c2pa: C2paModule, statement: ProvenanceStatement, title: string, mimeType: string): C2pa.Builder {
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
