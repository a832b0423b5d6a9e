/** Content digests of files, streamed so a multi-gigabyte model or video never sits in memory. */

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Streaming SHA-256 of a file, as lowercase hex; `onBytes` hears the running byte count. */
export async function sha256File(path: string, onBytes?: (bytes: number) => void): Promise<string> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    onBytes?.(bytes);
  }
  return hash.digest('hex');
}
