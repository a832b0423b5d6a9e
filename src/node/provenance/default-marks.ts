/**
 * The marks a library call gets when its caller chose none: the default label and the user's
 * watermark key (made on first use under LIVESWAP_HOME), with a fresh asset id per output.
 */

import { randomBytes } from 'node:crypto';
import { FrameMarker } from '../../provenance/marks.js';
import { randomAssetId, WATERMARK_VERSION } from '../../provenance/payload.js';
import { defaultHome } from '../models/model-cache.js';
import { loadWatermarkKey } from './output-provenance.js';

/** A marker with the default label and the key under `home` (default: LIVESWAP_HOME or the user's cache). */
export async function defaultMarker(media: 'still' | 'video', home: string = defaultHome()): Promise<FrameMarker> {
  const key = await loadWatermarkKey(home);
  const assetId = randomAssetId((bytes) => bytes.set(randomBytes(bytes.length)));
  return new FrameMarker({ label: {}, watermark: { key: key.key, payload: { assetId, version: WATERMARK_VERSION } }, media });
}
