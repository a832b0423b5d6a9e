/** The processing controls: each input shows a setting and writes it back to the store. */

import type { LiveSettings } from '../../src/browser/protocol.js';
import { checkLabelText } from '../../src/provenance/label.js';
import { byId, errorText } from './dom.js';
import type { Messages } from './messages.js';
import { isValidSetting, type SettingsStore } from './settings.js';

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
  ['mask-strength', 'maskStrength', (value) => `${Math.round(value * 100)} %`],
  ['detect-every', 'detectEvery', (value) => (value === 0 ? 'auto' : `every ${value}`)],
  ['similarity', 'similarity', (value) => value.toFixed(2)],
];

/**
 * What each control does, in a streamer's words: shown as the tooltip of the control and its label
 * (the inputs are found by id; a label is the one `for` the id, or the one wrapping the input).
 */
export const HINTS: Readonly<Record<string, string>> = {
  engine:
    "mesh: built in, fast, works on any machine. inswapper and FaceFusion's swappers (hyperswap, simswap, ghost, …): a closer likeness; each needs its models installed on the server (liveswap models pull --for NAME) and a fast machine.",
  backend: 'Where the models run: WebGPU uses the graphics card when the browser offers one; wasm runs on the processor and works everywhere.',
  mirror: 'Flip the picture left to right, as a mirror shows you.',
  'many-faces': 'Put the main photo on every face in view, not only on the main face (the largest).',
  'mouth-mask': 'Keep your own mouth (teeth, tongue) over the swapped face, so talking looks natural.',
  'color-match': "Match the swapped face's colour and lighting to the picture.",
  smoothing: "Steady the face's position from frame to frame, so it does not jitter.",
  opacity: "How much of the photo's face shows over the face in the picture: 100 % is the photo's face only.",
  sharpness: 'Sharpen the swapped face; 0 leaves it as painted.',
  regions:
    'Swap only part of the face (the nose, the eyes and brows, the skin), or keep your own mouth or eyes. Drawn from the face landmarks (nothing to download) or a face parser: see Parser.',
  'face-parser':
    'Where the regions above come from: the face landmarks (built in, nothing to download), or a BiSeNet face parser installed on the server. Auto: BiSeNet for inswapper and FaceFusion’s swappers when installed, else the landmarks.',
  'occlusion-mask': 'Keep what covers the face (a hand, a microphone, hair) in front of the swapped face, found by an XSeg model installed on the server.',
  'face-enhancer': 'Restore detail in each swapped face with a face enhancer (GFPGAN, GPEN, CodeFormer, …) installed on the server. Costs time on every frame.',
  'face-enhancer-blend': 'How much of the enhanced face shows over the swapped one: 100 % is the enhancer’s face only.',
  'face-enhancer-weight': 'CodeFormer’s fidelity: higher keeps closer to the swapped face, lower restores more.',
  'pixel-boost': 'Swap the face at a larger size, in tiles of the model’s own: sharper faces on large pictures, one model run per tile. For inswapper and FaceFusion’s swappers.',
  'mask-strength': 'How far the chosen part goes towards the photo: 100 % is the full swap, 50 % halfway, 0 % leaves the picture.',
  'detect-every':
    'How often faces are looked for afresh, in frames; in between they are followed, which is faster. Auto: every 5th frame (mesh) or every frame (inswapper). Lower finds new faces sooner; higher is faster.',
  similarity:
    'How alike a face must be to a person you gave a photo (in Faces in view) to count as them; higher is stricter. Raise it if the wrong person gets a photo, lower it if someone loses theirs.',
  label: 'Show this text on the picture so viewers know it is AI-generated. The invisible watermark is always there.',
  'show-fps': 'Show frames per second under the preview.',
  'show-timings': 'Show the milliseconds each step of a frame takes (read, detect, track, warp, colour, blend, mark, draw), to see what slows it down.',
  relay: 'Send the swapped picture to the /output page, for OBS (as a Browser Source) or a second screen.',
  'clear-map': 'Forget who gets which photo: everyone gets the main photo again.',
};

/** Puts each hint on its control and the control's label. */
export function bindHints(): void {
  for (const [id, hint] of Object.entries(HINTS)) {
    const control = document.getElementById(id);
    if (!control) continue;
    control.title = hint;
    const label = document.querySelector<HTMLLabelElement>(`label[for="${id}"]`) ?? control.closest('label');
    if (label) label.title = hint;
  }
}

export function bindControls(store: SettingsStore): void {
  for (const [id, key] of CHECKBOXES) {
    const input = byId(id, HTMLInputElement);
    input.checked = store.value[key];
    input.addEventListener('change', () => store.update({ [key]: input.checked }));
  }
  const regions = byId('regions', HTMLSelectElement);
  regions.value = store.value.regions;
  regions.addEventListener('change', () => {
    if (isValidSetting('regions', regions.value)) store.update({ regions: regions.value });
  });
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
