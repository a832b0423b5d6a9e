/** The processing controls: each input shows a setting and writes it back to the store. */

import type { LiveSettings } from '../../src/browser/protocol.js';
import { checkLabelText } from '../../src/provenance/label.js';
import { byId, errorText } from './dom.js';
import type { Messages } from './messages.js';
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

/** Said whenever the label is off, so turning it off is never a quiet choice. */
export const LABEL_OFF_MESSAGE =
  'The visible label is off. This choice is recorded in the audit log with this session and with every recording and snapshot you save; the invisible watermark stays in every frame.';

/** The visible label: on/off and its text, checked as the CLI checks --label-text. */
export function bindLabel(store: SettingsStore, messages: Messages): void {
  const box = byId('label', HTMLInputElement);
  const text = byId('label-text', HTMLInputElement);
  const show = (settings: Readonly<LiveSettings>): void => {
    box.checked = settings.label;
    text.disabled = !settings.label;
    if (document.activeElement !== text) text.value = settings.labelText;
    if (settings.label) messages.clear('label');
    else messages.show('label', LABEL_OFF_MESSAGE, 'warning');
  };
  show(store.value);
  box.addEventListener('change', () => store.update({ label: box.checked }));
  text.addEventListener('change', () => {
    let checked: string;
    try {
      checked = checkLabelText(text.value);
    } catch (error) {
      text.setCustomValidity(errorText(error));
      messages.show('label-text', errorText(error));
      return;
    }
    text.setCustomValidity('');
    messages.clear('label-text');
    text.value = checked;
    store.update({ labelText: checked });
  });
  store.onChange((settings, changed) => {
    if (changed.includes('label') || changed.includes('labelText')) show(settings);
  });
}
