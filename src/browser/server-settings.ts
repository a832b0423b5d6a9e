/**
 * What the page's two ways of processing on the server (server-worker.ts over a WebSocket,
 * whip-transport.ts over WebRTC) send the server as settings: the page's own, as paint options.
 */

import type { LiveWireSettings } from '../pipeline/live-wire.js';
import type { FaceRegion } from '../pipeline/options.js';
import { REGION_PRESETS, type ProcessSettings } from './protocol.js';

/** The page's settings as the server's paint options: the same regions, masks, enhancer and pixel boost as in the browser. */
export function wireSettings(s: ProcessSettings): Partial<LiveWireSettings> {
  const regions: { maskRegions?: readonly FaceRegion[]; keepRegions?: readonly FaceRegion[] } = REGION_PRESETS[s.regions] ?? {};
  return {
    manyFaces: s.manyFaces,
    mouthMask: s.mouthMask,
    opacity: s.opacity,
    sharpness: s.sharpness,
    colorMatch: s.colorMatch,
    label: s.label,
    maskRegions: regions.maskRegions ? [...regions.maskRegions] : null,
    keepRegions: regions.keepRegions ? [...regions.keepRegions] : null,
    maskStrength: s.maskStrength,
    faceParser: s.faceParser === 'auto' ? null : s.faceParser,
    occlusionMask: s.occlusionMask === 'none' ? null : s.occlusionMask,
    faceEnhancer: s.faceEnhancer === 'none' ? null : s.faceEnhancer,
    faceEnhancerBlend: s.faceEnhancerBlend,
    faceEnhancerWeight: s.faceEnhancerWeight,
    pixelBoost: s.pixelBoost === 0 ? null : s.pixelBoost,
  };
}
