/**
 * The messages of a server-side live session over a WebSocket: what a client (the live app's page
 * in "process on the server" mode, `liveswap/client`'s helper, any program) and the server say to
 * each other. Frames are binary messages (a JPEG, PNG or WebP picture each); everything else is a
 * small JSON text message. Platform-free: the server, the browser and the tests read the same types.
 *
 * Client → server: a binary message is one camera frame, numbered 1, 2, 3… in the order sent (the
 * server never holds more than one waiting: a newer frame replaces it and the older one is dropped).
 * `source` announces that the next binary message is a source photo (sessions of `liveswap ui`
 * only; a `liveswap serve` session's identity is fixed by its ticket). `settings` changes the paint
 * options, `reset` says the picture changed (faces are looked for afresh), `end` finishes.
 *
 * Server → client: `ready` once, then for each frame processed a `frame` text message followed at
 * once by the swapped picture (a binary JPEG, labelled and watermarked), `source` answering a
 * source photo, `error` for a frame or a message that failed (the session goes on), and `end` with
 * the reason just before the server closes the socket with one of {@link LIVE_CLOSE_CODES}.
 */

import {
  FACE_ENHANCERS,
  FACE_PARSERS,
  FACE_REGIONS,
  OCCLUSION_MASKS,
  PIXEL_BOOSTS,
  type FaceEnhancerChoice,
  type FaceParserChoice,
  type FaceRegion,
  type OcclusionMaskChoice,
} from './options.js';

/** The paint options a client may change during a session. */
export interface LiveWireSettings {
  manyFaces: boolean;
  mouthMask: boolean;
  /** 0..1 */
  opacity: number;
  /** 0..5 */
  sharpness: number;
  colorMatch: boolean;
  /** The visible label; only a session of the user's own `liveswap ui` may turn it off (the watermark stays). */
  label: boolean;
  /** Swap only these regions (FaceFusion's names); null: the whole face. */
  maskRegions?: FaceRegion[] | null;
  /** Keep the target's own look in these regions; null: none. */
  keepRegions?: FaceRegion[] | null;
  /** 0..1: inside the masks, 0 leaves the picture, 1 the full swap. */
  maskStrength?: number;
  /** Where the regions come from; null: BiSeNet when installed (not for mesh), else the landmarks. */
  faceParser?: FaceParserChoice | null;
  /** XSeg's occlusion mask; null: none. */
  occlusionMask?: OcclusionMaskChoice | null;
  /** A face enhancer per swapped face; null: none. */
  faceEnhancer?: FaceEnhancerChoice | null;
  /** 0..100 */
  faceEnhancerBlend?: number;
  /** 0..1: CodeFormer's fidelity weight. */
  faceEnhancerWeight?: number;
  /** The swapper's crop side (a whole multiple of its own); null: its own size. A size the engine cannot tile is left out. */
  pixelBoost?: number | null;
}

export type LiveClientMessage = { type: 'source'; face?: number } | { type: 'settings'; settings: Partial<LiveWireSettings> } | { type: 'reset' } | { type: 'end' };

/** A face followed in a frame: its box in the frame's pixels. */
export interface LiveWireFace {
  box: [number, number, number, number];
}

/** Milliseconds of one frame on the server. */
export interface LiveWireTimings {
  /** Waiting for the frame before it (0 when the session was idle). */
  wait: number;
  decode: number;
  /** Finding, following, painting and marking the faces. */
  process: number;
  encode: number;
  /** From the frame's arrival to the swapped picture handed to the socket. */
  total: number;
}

/** Why a session ended, in `end` and as the close reason. */
export const LIVE_END_REASONS = ['ended', 'quota-exceeded', 'idle', 'server-closing', 'failed', 'protocol'] as const;
export type LiveEndReason = (typeof LIVE_END_REASONS)[number];

export type LiveServerMessage =
  | {
      type: 'ready';
      sessionId: string;
      engine: string;
      /** The asset id every frame's watermark carries (what `liveswap verify` prints). */
      watermarkId: string;
      label: { shown: boolean; text?: string };
      /** The largest frame (bytes) and picture (pixels) accepted. */
      maxFrameBytes: number;
      maxPixels: number;
      /** Whether `source` messages are taken (false: the identity is the ticket's). */
      sources: boolean;
      /** Live minutes left to this token today (counting the one started), or null when unlimited. */
      minutesLeft: number | null;
    }
  | {
      type: 'frame';
      seq: number;
      width: number;
      height: number;
      faces: LiveWireFace[];
      timings: LiveWireTimings;
      received: number;
      processed: number;
      dropped: number;
      /** Over WebRTC with `stamp=1`: the frame stamp under the picture this message describes (the number of the frame it answers) (pipeline/frame-stamp.ts). */
      stamp?: number;
    }
  | { type: 'source'; faces: { box: [number, number, number, number]; score: number }[]; face: number; error?: string }
  | { type: 'error'; kind: string; message: string; seq?: number }
  | { type: 'end'; reason: LiveEndReason; message: string; frames: number; seconds: number; minutes: number };

/** WebSocket close codes of a live session (4000–4999 are the application's). */
export const LIVE_CLOSE_CODES: Readonly<Record<LiveEndReason | 'ticket', number>> = {
  ended: 1000,
  'quota-exceeded': 4002,
  idle: 4003,
  'server-closing': 4004,
  failed: 1011,
  protocol: 4005,
  /** The ticket is unknown, used or expired (the socket is closed before any session starts). */
  ticket: 4001,
};

/** Settings a session starts with. */
export const DEFAULT_LIVE_WIRE_SETTINGS: Readonly<LiveWireSettings> = Object.freeze({
  manyFaces: false,
  mouthMask: true,
  opacity: 1,
  sharpness: 0,
  colorMatch: true,
  label: true,
});

/** Parses a client's text message; undefined when it is not one of ours. */
export function parseClientMessage(text: string): LiveClientMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as { type?: unknown; face?: unknown; settings?: unknown };
  switch (message.type) {
    case 'source':
      if (message.face !== undefined && !(Number.isInteger(message.face) && (message.face as number) >= 0)) return undefined;
      return message.face === undefined ? { type: 'source' } : { type: 'source', face: message.face as number };
    case 'settings':
      return typeof message.settings === 'object' && message.settings !== null
        ? { type: 'settings', settings: checkSettings(message.settings as Record<string, unknown>) }
        : undefined;
    case 'reset':
    case 'end':
      return { type: message.type };
    default:
      return undefined;
  }
}

/** The known, well-typed fields of a settings message (others are ignored). */
function checkSettings(raw: Record<string, unknown>): Partial<LiveWireSettings> {
  const settings: Partial<LiveWireSettings> = {};
  for (const key of ['manyFaces', 'mouthMask', 'colorMatch', 'label'] as const) if (typeof raw[key] === 'boolean') settings[key] = raw[key];
  if (typeof raw.opacity === 'number' && raw.opacity >= 0 && raw.opacity <= 1) settings.opacity = raw.opacity;
  if (typeof raw.sharpness === 'number' && raw.sharpness >= 0 && raw.sharpness <= 5) settings.sharpness = raw.sharpness;
  checkMaskSettings(raw, settings);
  return settings;
}

/** The masks', enhancer's and pixel boost's fields, each taken only when it is one of the allowed values (null clears it). */
function checkMaskSettings(raw: Record<string, unknown>, settings: Partial<LiveWireSettings>): void {
  const regions = (value: unknown): FaceRegion[] | null | undefined => {
    if (value === null) return null;
    if (!Array.isArray(value) || value.length === 0 || !value.every((r) => (FACE_REGIONS as readonly unknown[]).includes(r))) return undefined;
    return [...new Set(value as FaceRegion[])];
  };
  const oneOf = <T>(value: unknown, choices: readonly T[]): T | null | undefined => (value === null ? null : choices.includes(value as T) ? (value as T) : undefined);
  const inRange = (value: unknown, min: number, max: number): number | undefined =>
    typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max ? value : undefined;
  const fields: Partial<LiveWireSettings> = {
    maskRegions: regions(raw.maskRegions),
    keepRegions: regions(raw.keepRegions),
    maskStrength: inRange(raw.maskStrength, 0, 1),
    faceParser: oneOf(raw.faceParser, FACE_PARSERS),
    occlusionMask: oneOf(raw.occlusionMask, OCCLUSION_MASKS),
    faceEnhancer: oneOf(raw.faceEnhancer, FACE_ENHANCERS),
    faceEnhancerBlend: inRange(raw.faceEnhancerBlend, 0, 100),
    faceEnhancerWeight: inRange(raw.faceEnhancerWeight, 0, 1),
    pixelBoost: oneOf(raw.pixelBoost, PIXEL_BOOSTS),
  };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) (settings as Record<string, unknown>)[key] = value;
}

/** Where `liveswap ui` offers server-side processing to its own page. */
export const UI_LIVE_PATHS = { info: '/api/live/info', socket: '/api/live/socket', whip: '/api/live/whip' } as const;

/** `liveswap ui`'s answer at {@link UI_LIVE_PATHS}.info: what processing on the server would use. */
export interface UiLiveInfo {
  /** The WebSocket path (add `?engine=…&assetId=…`: the asset id the page's provenance session was given). */
  socket: string;
  /**
   * Where the page POSTs a WebRTC offer (WHIP, `application/sdp`, same query) to send its camera as
   * video and get the swapped video back on the same connection; absent on servers without it.
   */
  whip?: string;
  /** The execution provider the server's engines run on. */
  provider: string;
  /** Whether that is a GPU (the page then processes on the server when the browser has no WebGPU). */
  gpu: boolean;
  engines: { mesh: boolean; inswapper: boolean };
}
