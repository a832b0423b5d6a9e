/** The processing controls: each input shows a setting and writes it back to the store. */

import type { LiveSettings } from '../../src/browser/protocol.js';
import { byId } from './dom.js';
import type { SettingsStore } from './settings.js';

type BooleanKey = { [K in keyof LiveSettings]: LiveSettings[K] extends boolean ? K : never }[keyof LiveSettings];
type NumberKey = { [K in keyof LiveSettings]: LiveSettings[K] extends number ? K : never }[keyof LiveSettings];

const CHECKBOXES: [id: string, key: BooleanKey][] = [
  ['many-faces', 'manyFaces'],
  ['mouth-mask', 'mouthMask'],
  ['color-match', 'colorMatch'],
  ['smoothing', 'smoothing'],
  ['mirror', 'mirror'],
  ['show-fps', 'showFps'],
  ['show-timings', 'showTimings'],
];

/** Ranges, with how their value reads next to them. */
const RANGES: [id: string, key: NumberKey, show: (value: number) => string][] = [
  ['opacity', 'opacity', (value) => `${Math.round(value * 100)} %`],
  ['sharpness', 'sharpness', (value) => value.toFixed(1)],
  ['detect-every', 'detectEvery', (value) => (value === 0 ? 'auto' : `every ${value}`)],
  ['similarity', 'similarity', (value) => value.toFixed(2)],
];

export function bindControls(store: SettingsStore): void {
  for (const [id, key] of CHECKBOXES) {
    const input = byId(id, HTMLInputElement);
    input.checked = store.value[key];
    input.addEventListener('change', () => store.update({ [key]: input.checked }));
  }
  for (const [id, key, show] of RANGES) {
    const input = byId(id, HTMLInputElement);
    const output = document.getElementById(`${id}-value`);
    input.value = String(store.value[key]);
    const shown = (): void => {
      if (output) output.textContent = show(Number(input.value));
    };
    shown();
    input.addEventListener('input', () => {
      shown();
      store.update({ [key]: Number(input.value) });
    });
  }
}
