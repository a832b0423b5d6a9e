/**
 * The page's settings: read from localStorage (each field checked, junk ignored), written back on
 * every change, and told to whoever listens. The label's settings are not kept: every visit starts
 * with the label on, and turning it off is a choice made (and audited) per visit.
 */

import {
  BACKENDS,
  CAMERA_SIZES,
  DEFAULT_LIVE_SETTINGS,
  ENGINE_NAMES,
  LIVE_FACE_ENHANCERS,
  LIVE_FACE_PARSERS,
  LIVE_OCCLUSION_MASKS,
  LIVE_PIXEL_BOOSTS,
  REGION_PRESET_NAMES,
  type LiveSettings,
  type ProcessSettings,
} from '../../src/browser/protocol.js';
import { checkLabelText } from '../../src/provenance/label.js';

export const SETTINGS_KEY = 'liveswap.settings';

type Check<T> = (value: unknown) => value is T;

const isBoolean: Check<boolean> = (value): value is boolean => typeof value === 'boolean';
const inRange =
  (min: number, max: number, integer = false): Check<number> =>
  (value): value is number =>
    typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
const oneOf =
  <T extends string>(choices: readonly T[]): Check<T> =>
  (value): value is T =>
    typeof value === 'string' && (choices as readonly string[]).includes(value);
const isLabelText: Check<string> = (value): value is string => {
  if (typeof value !== 'string') return false;
  try {
    return checkLabelText(value) === value;
  } catch {
    return false;
  }
};
const isDeviceId: Check<string> = (value): value is string => typeof value === 'string' && value.length <= 512;

/** One check per field: a stored value that fails it is replaced by the default. */
const CHECKS: { [K in keyof LiveSettings]: Check<LiveSettings[K]> } = {
  engine: oneOf(ENGINE_NAMES),
  backend: oneOf(BACKENDS),
  cameraId: isDeviceId,
  cameraSize: oneOf(CAMERA_SIZES),
  showFps: isBoolean,
  showTimings: isBoolean,
  manyFaces: isBoolean,
  mouthMask: isBoolean,
  opacity: inRange(0, 1),
  sharpness: inRange(0, 5),
  colorMatch: isBoolean,
  regions: oneOf(REGION_PRESET_NAMES),
  maskStrength: inRange(0, 1),
  faceParser: oneOf(LIVE_FACE_PARSERS),
  occlusionMask: oneOf(LIVE_OCCLUSION_MASKS),
  faceEnhancer: oneOf(LIVE_FACE_ENHANCERS),
  faceEnhancerBlend: inRange(0, 100, true),
  faceEnhancerWeight: inRange(0, 1),
  pixelBoost: (value): value is number => (LIVE_PIXEL_BOOSTS as readonly unknown[]).includes(value),
  detectEvery: inRange(0, 30, true),
  smoothing: isBoolean,
  mirror: isBoolean,
  similarity: inRange(0, 1),
  label: isBoolean,
  labelText: isLabelText,
  targetFps: (value): value is number | 'source' => value === 'source' || inRange(0, 120, true)(value),
};

/** Never read from or written to storage (see the module comment). */
const NOT_STORED: readonly (keyof LiveSettings)[] = ['label', 'labelText'];

/** Settings from anything (parsed JSON, usually): the defaults with every valid field laid over. */
export function validateSettings(raw: unknown): LiveSettings {
  const settings: LiveSettings = { ...DEFAULT_LIVE_SETTINGS };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return settings;
  const record = raw as Record<string, unknown>;
  for (const key of Object.keys(CHECKS) as (keyof LiveSettings)[]) {
    if (NOT_STORED.includes(key)) continue;
    const value = record[key];
    if ((CHECKS[key] as Check<unknown>)(value)) (settings as Record<keyof LiveSettings, unknown>)[key] = value;
  }
  return settings;
}

/** Whether `value` is acceptable for `key` (the controls use it before storing user input). */
export function isValidSetting<K extends keyof LiveSettings>(key: K, value: unknown): value is LiveSettings[K] {
  return (CHECKS[key] as Check<unknown>)(value);
}

/** The part of the settings the worker uses. */
export function processSettings(settings: LiveSettings): ProcessSettings {
  const { manyFaces, mouthMask, opacity, sharpness, colorMatch, regions, maskStrength, detectEvery, smoothing, mirror, similarity, label, labelText, targetFps } = settings;
  const { faceParser, occlusionMask, faceEnhancer, faceEnhancerBlend, faceEnhancerWeight, pixelBoost } = settings;
  return {
    manyFaces,
    mouthMask,
    opacity,
    sharpness,
    colorMatch,
    regions,
    maskStrength,
    faceParser,
    occlusionMask,
    faceEnhancer,
    faceEnhancerBlend,
    faceEnhancerWeight,
    pixelBoost,
    detectEvery,
    smoothing,
    mirror,
    similarity,
    label,
    labelText,
    targetFps,
  };
}

export type SettingsListener = (settings: Readonly<LiveSettings>, changed: (keyof LiveSettings)[]) => void;

export class SettingsStore {
  private current: LiveSettings;
  private readonly listeners = new Set<SettingsListener>();

  /** `storage` is undefined where the browser refuses localStorage (then nothing persists). */
  constructor(private readonly storage: Storage | undefined) {
    this.current = validateSettings(readJson(storage));
  }

  get value(): Readonly<LiveSettings> {
    return this.current;
  }

  /** Applies the valid fields of `patch`, saves, and tells listeners what changed. */
  update(patch: Partial<LiveSettings>): void {
    const changed: (keyof LiveSettings)[] = [];
    const next: LiveSettings = { ...this.current };
    for (const key of Object.keys(patch) as (keyof LiveSettings)[]) {
      const value = patch[key];
      if (!isValidSetting(key, value) || next[key] === value) continue;
      (next as Record<keyof LiveSettings, unknown>)[key] = value;
      changed.push(key);
    }
    if (changed.length === 0) return;
    this.current = next;
    this.save();
    for (const listener of this.listeners) listener(this.current, changed);
  }

  onChange(listener: SettingsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private save(): void {
    try {
      const kept = Object.fromEntries(Object.entries(this.current).filter(([key]) => !NOT_STORED.includes(key as keyof LiveSettings)));
      this.storage?.setItem(SETTINGS_KEY, JSON.stringify(kept));
    } catch {
      // Storage full or disabled: the settings still apply for this visit.
    }
  }
}

function readJson(storage: Storage | undefined): unknown {
  try {
    const text = storage?.getItem(SETTINGS_KEY);
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** localStorage, or undefined where reading it throws (privacy modes, sandboxed frames). */
export function browserStorage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}
