/**
 * The choices that need model files on the server: the engine (mesh, inswapper, FaceFusion's
 * swappers), pixel boost, the face enhancer (blend, CodeFormer's fidelity), XSeg's occlusion mask
 * and the face parser of partial swaps. What the server has installed is offered; the rest is shown
 * greyed with the `liveswap models pull` command that installs it (as the option's tooltip, and in
 * the "Add models" list). A stored choice the server no longer has falls back to its default.
 */

import {
  DEFAULT_LIVE_SETTINGS,
  LIVE_FACE_ENHANCERS,
  LIVE_FACE_PARSERS,
  LIVE_OCCLUSION_MASKS,
  occluderIdsOf,
  pixelBoostsFor,
  type LiveSettings,
  type ModelChoice,
  type ModelChoices,
  type ServerInfo,
} from '../../src/browser/protocol.js';
import { HINTS } from './controls.js';
import { make } from './dom.js';
import type { SettingsStore } from './settings.js';

export interface ModelControlElements {
  engine: HTMLSelectElement;
  pixelBoost: HTMLSelectElement;
  enhancer: HTMLSelectElement;
  enhancerBlend: HTMLInputElement;
  enhancerBlendValue: HTMLOutputElement;
  enhancerWeight: HTMLInputElement;
  enhancerWeightValue: HTMLOutputElement;
  enhancerWeightField: HTMLElement;
  occlusion: HTMLSelectElement;
  parser: HTMLSelectElement;
  hint: HTMLDetailsElement;
  hintCount: HTMLElement;
  hintList: HTMLUListElement;
}

/** What an option of a model-backed select says, and whether it can be chosen. */
interface Offer {
  value: string;
  text: string;
  /** The command that installs it, when it cannot be chosen yet. */
  pull?: string;
  /** Why it cannot be chosen, when not for want of files. */
  why?: string;
}

const NOT_INSTALLED = 'not installed';

/** The settings these controls show. */
const MODEL_KEYS: readonly (keyof LiveSettings)[] = ['faceEnhancer', 'faceEnhancerBlend', 'faceEnhancerWeight', 'occlusionMask', 'faceParser'];

function option(offer: Offer): HTMLOptionElement {
  const element = new Option(offer.pull ? `${offer.text} — ${NOT_INSTALLED}` : offer.text, offer.value);
  if (offer.pull) {
    element.disabled = true;
    element.dataset.pull = offer.pull;
    element.title = `Not installed on the server. To add it, run \`${offer.pull}\`, then reload this page.`;
  } else if (offer.why) {
    element.disabled = true;
    element.title = offer.why;
  }
  return element;
}

function choiceOf(choices: readonly ModelChoice[] | undefined, id: string): ModelChoice | undefined {
  return choices?.find((c) => c.id === id);
}

/** An offer for an optional row: chosen freely when installed, else greyed with its command (an older server without `choices`: the CLI's command). */
function rowOffer(choices: readonly ModelChoice[] | undefined, id: string, text = id): Offer {
  const choice = choiceOf(choices, id);
  if (choice?.installed) return { value: id, text: choice.bytes ? `${text} (${megabytes(choice.bytes)})` : text };
  return { value: id, text, pull: choice?.pull ?? `liveswap models pull --for ${id}` };
}

function megabytes(bytes: number): string {
  return bytes >= 1e6 ? `${Math.round(bytes / 1e6)} MB` : `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

/** Whether `value` is an option of `select` that can be chosen. */
export function usable(select: HTMLSelectElement, value: string): boolean {
  return [...select.options].some((o) => o.value === value && !o.disabled);
}

/** The engine menu: mesh, inswapper, then FaceFusion's swappers; those the server cannot run are greyed. */
export function fillEngineChoices(select: HTMLSelectElement, info: ServerInfo | null): void {
  const mesh = option({ value: 'mesh', text: 'mesh (built in)', ...(info && !info.engines.mesh ? { why: 'Not offered by this server.' } : {}) });
  const inswapper = option(
    info && !info.engines.inswapper
      ? { value: 'inswapper', text: 'inswapper', pull: 'liveswap models pull --for inswapper' }
      : { value: 'inswapper', text: info?.models.inswapper ? `inswapper (${megabytes(info.models.inswapper.bytes)})` : 'inswapper' },
  );
  const group = document.createElement('optgroup');
  group.label = "FaceFusion's swappers";
  const swappers = info?.choices?.swappers ?? [];
  group.append(...swappers.map((choice) => option(rowOffer(swappers, choice.id))));
  select.replaceChildren(mesh, inswapper, ...(swappers.length > 0 ? [group] : []));
}

export class ModelControls {
  private info: ServerInfo | null = null;
  /** The optional models that did not load (by URL), and what was said about each. */
  private readonly turnedOff = new Map<string, string>();

  constructor(
    private readonly elements: ModelControlElements,
    private readonly store: SettingsStore,
  ) {
    const { enhancer, occlusion, parser, pixelBoost, enhancerBlend, enhancerWeight } = elements;
    this.fill();
    enhancer.addEventListener('change', () => store.update({ faceEnhancer: enhancer.value as LiveSettings['faceEnhancer'] }));
    occlusion.addEventListener('change', () => store.update({ occlusionMask: occlusion.value as LiveSettings['occlusionMask'] }));
    parser.addEventListener('change', () => store.update({ faceParser: parser.value as LiveSettings['faceParser'] }));
    pixelBoost.addEventListener('change', () => store.update({ pixelBoost: Number(pixelBoost.value) }));
    enhancerBlend.addEventListener('input', () => store.update({ faceEnhancerBlend: Number(enhancerBlend.value) }));
    enhancerWeight.addEventListener('input', () => store.update({ faceEnhancerWeight: Number(enhancerWeight.value) }));
    store.onChange((_settings, changed) => {
      if (changed.includes('engine')) this.fillPixelBoost();
      if (changed.some((key) => MODEL_KEYS.includes(key))) this.showValues();
    });
  }

  /** The server's offer arrived: every menu is filled again, and stored choices it cannot serve fall back to their defaults. */
  setInfo(info: ServerInfo): void {
    this.info = info;
    this.fill();
  }

  private fill(): void {
    const { enhancer, occlusion, parser } = this.elements;
    const choices: Partial<ModelChoices> = this.info?.choices ?? {};
    const known = this.info !== null;
    enhancer.replaceChildren(...LIVE_FACE_ENHANCERS.map((id) => option(id === 'none' ? { value: id, text: 'none' } : rowOffer(choices.enhancers, id))));
    occlusion.replaceChildren(
      ...LIVE_OCCLUSION_MASKS.map((id) => option(id === 'none' ? { value: id, text: 'none' } : rowOffer(choices.occluders, id, id === 'all' ? 'all three XSeg' : id))),
    );
    parser.replaceChildren(
      ...LIVE_FACE_PARSERS.map((id) => {
        if (id === 'auto') return option({ value: id, text: 'auto' });
        if (id === 'landmarks') return option({ value: id, text: 'landmarks' });
        return option(rowOffer(choices.parsers, id));
      }),
    );
    const settings = this.store.value;
    // Before the server answered nothing is known to be missing: the stored choice is kept.
    const fallback: Partial<LiveSettings> = {};
    if (known && !usable(enhancer, settings.faceEnhancer)) fallback.faceEnhancer = DEFAULT_LIVE_SETTINGS.faceEnhancer;
    if (known && !usable(occlusion, settings.occlusionMask)) fallback.occlusionMask = DEFAULT_LIVE_SETTINGS.occlusionMask;
    if (known && !usable(parser, settings.faceParser)) fallback.faceParser = DEFAULT_LIVE_SETTINGS.faceParser;
    this.store.update(fallback);
    this.fillPixelBoost();
    this.showValues();
    this.showHint();
  }

  /**
   * A model the worker could not load (its URL): when it is the enhancer, an occluder or a parser
   * the settings ask for, that choice is turned off (the engine goes on without it) and what was
   * turned off is said; undefined when the model is none of these (the engine's own).
   */
  turnOff(url: string): string | undefined {
    // Frames already on their way when the choice was turned off fail alike: said once more, nothing stops.
    const text = this.turnOffChoice(url) ?? this.turnedOff.get(url);
    if (text !== undefined) this.turnedOff.set(url, text);
    return text;
  }

  private turnOffChoice(url: string): string | undefined {
    const files = this.info?.models.files ?? {};
    const settings = this.store.value;
    const named = (id: string) => files[id] !== undefined && new URL(files[id]!, location.href).href === new URL(url, location.href).href;
    if (settings.faceEnhancer !== 'none' && named(settings.faceEnhancer)) {
      this.store.update({ faceEnhancer: 'none' });
      return `The face enhancer ${settings.faceEnhancer} did not load, so it is turned off and the swap goes on.`;
    }
    if (settings.occlusionMask !== 'none' && occluderIdsOf(settings.occlusionMask).some(named)) {
      this.store.update({ occlusionMask: 'none' });
      return `The occlusion model ${settings.occlusionMask} did not load, so the occlusion mask is turned off and the swap goes on.`;
    }
    const parser = this.info?.choices?.parsers.find((c) => named(c.id));
    if (parser) {
      this.store.update({ faceParser: 'landmarks' });
      return `The face parser ${parser.id} did not load, so the regions come from the landmarks and the swap goes on.`;
    }
    return undefined;
  }

  /** The boosts the chosen engine takes (whole multiples of its crop side); mesh paints at the face's own size. */
  private fillPixelBoost(): void {
    const select = this.elements.pixelBoost;
    // The engine menu's choice: a stored engine the server cannot run shows (and runs) as mesh.
    const engine = (usable(this.elements.engine, this.elements.engine.value) ? this.elements.engine.value : this.store.value.engine) as LiveSettings['engine'];
    const boosts = pixelBoostsFor(engine);
    const own = engine === 'mesh' ? 'off (mesh paints at the face size)' : 'off (the model size)';
    select.replaceChildren(option({ value: '0', text: own }), ...boosts.map((boost) => option({ value: String(boost), text: `${boost} px` })));
    select.disabled = boosts.length === 0;
    select.title = boosts.length === 0 ? 'Pixel boost is for the neural swappers (inswapper and FaceFusion’s); the mesh engine has no crop to enlarge.' : HINTS['pixel-boost']!;
    const stored = String(this.store.value.pixelBoost);
    // A boost this engine cannot tile shows as off; the setting is kept for an engine that can.
    select.value = usable(select, stored) ? stored : '0';
  }

  /** The menus and sliders show the stored settings; the blend is for an enhancer chosen, the fidelity for CodeFormer only. */
  private showValues(): void {
    const { enhancer, enhancerBlend, enhancerBlendValue, enhancerWeight, enhancerWeightValue, enhancerWeightField } = this.elements;
    const settings = this.store.value;
    enhancer.value = settings.faceEnhancer;
    this.elements.occlusion.value = settings.occlusionMask;
    this.elements.parser.value = settings.faceParser;
    const on = settings.faceEnhancer !== 'none';
    enhancerBlend.disabled = !on;
    enhancerBlend.value = String(settings.faceEnhancerBlend);
    enhancerBlendValue.textContent = `${settings.faceEnhancerBlend} %`;
    enhancerWeight.value = String(settings.faceEnhancerWeight);
    enhancerWeightValue.textContent = settings.faceEnhancerWeight.toFixed(2);
    enhancerWeightField.hidden = settings.faceEnhancer !== 'codeformer';
  }

  /** "Add models": each choice that is missing, with the command that installs it. */
  private showHint(): void {
    const { hint, hintCount, hintList } = this.elements;
    const choices = this.info?.choices;
    const missing: { id: string; pull: string }[] = [];
    if (this.info && !this.info.engines.inswapper) missing.push({ id: 'inswapper', pull: 'liveswap models pull --for inswapper' });
    for (const kind of ['swappers', 'enhancers', 'occluders', 'parsers'] as const) {
      for (const choice of choices?.[kind] ?? []) if (!choice.installed && choice.pull) missing.push({ id: choice.id, pull: choice.pull });
    }
    hint.hidden = missing.length === 0;
    hintCount.textContent = `(${missing.length} not installed)`;
    hintList.replaceChildren(
      ...missing.map(({ id, pull }) => {
        const item = make('li');
        item.dataset.model = id;
        item.append(make('span', 'model-id', id), make('code', undefined, pull));
        return item;
      }),
    );
  }
}
