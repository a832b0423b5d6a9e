/**
 * Streams one member out of a zip pack on disk into a file, without unpacking the rest: the
 * central directory is read, the member found, and only its data is inflated.
 */

import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (error, zip) => (error ? reject(error) : resolve(zip)));
  });
}

/** The entry named `member`, at the root or in a folder of the pack; undefined when absent. */
function findEntry(zip: yauzl.ZipFile, member: string): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const onEntry = (entry: yauzl.Entry): void => {
      if (entry.fileName === member || entry.fileName.endsWith(`/${member}`)) {
        cleanup();
        resolve(entry);
      } else {
        zip.readEntry();
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve(undefined);
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const cleanup = (): void => {
      zip.off('entry', onEntry).off('end', onEnd).off('error', onError);
    };
    zip.on('entry', onEntry).on('end', onEnd).on('error', onError);
    zip.readEntry();
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolve(stream)));
  });
}

/**
 * Writes the member `member` of the zip file `zipPath` to `destination`. Throws an Error whose
 * message says what went wrong (not a zip, member absent, corrupt data).
 */
export async function extractZipMember(zipPath: string, member: string, destination: string): Promise<void> {
  const zip = await openZip(zipPath);
  try {
    const entry = await findEntry(zip, member);
    if (!entry) throw new Error(`the pack has no member ${member}`);
    await pipeline(await openEntry(zip, entry), createWriteStream(destination));
  } finally {
    zip.close();
  }
}
