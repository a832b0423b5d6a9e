/**
 * The source photos: picked, dropped or pasted files, their faces as thumbnails, which face and
 * which photo is used. The page keeps the files so a restarted engine gets them again.
 */

import type { LiveClient } from '../../src/browser/live-client.js';
import type { SourceDigest, SourceState } from '../../src/browser/protocol.js';
import { errorText, make } from './dom.js';
import type { Messages } from './messages.js';
import { sha256Hex } from './provenance.js';

/** A photo as the page keeps it; `id` is the current client's id for it (null before it has one). */
interface PageSource {
  key: number;
  file: File;
  name: string;
  url: string;
  id: number | null;
  state: SourceState | undefined;
  /** The picked face, kept so a restarted engine gets the same one. */
  face: number;
  image: Promise<HTMLImageElement | null> | undefined;
  /** SHA-256 of the file's bytes, started when the photo is added (the audit log names photos by it). */
  sha256: Promise<string>;
}

export interface UsableSource {
  id: number;
  name: string;
}

const THUMB = 64;
/** Room around the face box in a thumbnail, as a share of the box's larger side. */
const THUMB_PADDING = 0.3;

export class SourcesPanel {
  private entries: PageSource[] = [];
  private nextKey = 1;
  private mainKey: number | null = null;
  private client: LiveClient | null = null;
  /** Set while a new client gets the photos again; its early 'sources' events must not reset the main photo. */
  private attaching = false;
  private readonly reported = new Set<number>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly list: HTMLElement,
    input: HTMLInputElement,
    drop: HTMLElement,
    private readonly messages: Messages,
  ) {
    input.addEventListener('change', () => {
      const files = [...(input.files ?? [])];
      input.value = '';
      void this.addFiles(files);
    });
    drop.addEventListener('dragover', (event) => {
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
      drop.classList.add('dragging');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
    drop.addEventListener('drop', (event) => {
      event.preventDefault();
      drop.classList.remove('dragging');
      void this.addFiles([...(event.dataTransfer?.files ?? [])]);
    });
    // A file dropped beside the zone must not navigate away from the app.
    window.addEventListener('dragover', (event) => event.preventDefault());
    window.addEventListener('drop', (event) => event.preventDefault());
    document.addEventListener('paste', (event) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (files.length === 0) return;
      event.preventDefault();
      void this.addFiles(files);
    });
    this.render();
  }

  /** Called after the sources change (the still target is processed again, the faces panel relabels). */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Photos the worker accepted, for the multi-face panel's choices. */
  usable(): UsableSource[] {
    return this.entries.flatMap((entry) => (entry.id !== null && entry.state && !entry.state.error ? [{ id: entry.id, name: entry.name }] : []));
  }

  /** Names and hashes of the photos in use (those the worker turned down are left out). */
  async digests(): Promise<SourceDigest[]> {
    const used = this.entries.filter((entry) => !entry.state?.error);
    // eslint-disable-next-line no-control-regex -- control characters are what it replaces
    return Promise.all(used.map(async (entry) => ({ name: entry.name.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 255), sha256: await entry.sha256 })));
  }

  nameOf(id: number): string | undefined {
    return this.entries.find((entry) => entry.id === id)?.name;
  }

  async addFiles(files: File[]): Promise<void> {
    for (const file of files) {
      const name = file.name || 'pasted image';
      const client = this.client;
      let id: number | null = null;
      try {
        if (client) id = await client.addSource(file, name);
        else (await createImageBitmap(file)).close();
      } catch (error) {
        const text = client ? errorText(error) : `${name} is not an image this browser can read (${file.type || 'unknown type'}).`;
        this.messages.show('not-image', text);
        continue;
      }
      const sha256 = sha256Hex(file);
      sha256.catch(() => undefined); // reported when the digests are asked for
      const entry: PageSource = { key: this.nextKey++, file, name, url: URL.createObjectURL(file), id, state: undefined, face: 0, image: undefined, sha256 };
      this.entries.push(entry);
      // The engine restarted while the file was read: give the photo to the new one too.
      if (client !== this.client) entry.id = this.client ? await this.client.addSource(file, name).catch(() => null) : null;
    }
    this.render();
    this.changed();
  }

  /** Gives every photo to a newly started client, with the face and main photo chosen before. */
  async attach(client: LiveClient): Promise<void> {
    this.client = client;
    this.reported.clear();
    this.attaching = true;
    for (const entry of this.entries) {
      entry.id = null;
      entry.state = undefined;
    }
    try {
      for (const entry of [...this.entries]) {
        const id = await client.addSource(entry.file, entry.name);
        if (this.client !== client) return;
        entry.id = id;
        if (entry.face !== 0) client.pickFace(id, entry.face);
        if (entry.key === this.mainKey) client.setMainSource(id);
      }
    } catch (error) {
      this.messages.show('source', errorText(error));
    } finally {
      if (this.client === client) this.attaching = false;
    }
    this.render();
  }

  /** The client stopped: photos wait for the next one. */
  detach(): void {
    this.client = null;
    this.attaching = false;
    for (const entry of this.entries) {
      entry.id = null;
      entry.state = undefined;
    }
    this.render();
    this.changed();
  }

  /** The worker's view of the photos (from the client's 'sources' event). */
  update(sources: SourceState[], mainSource: number | null): void {
    for (const state of sources) {
      const entry = this.entries.find((candidate) => candidate.id === state.id);
      if (!entry) continue;
      entry.state = state;
      entry.face = state.face;
      if (state.error && !this.reported.has(state.id)) {
        this.reported.add(state.id);
        this.messages.show('no-face', `${entry.name}: ${state.error}`);
      }
    }
    if (!this.attaching) this.mainKey = this.entries.find((entry) => entry.id !== null && entry.id === mainSource)?.key ?? null;
    this.render();
    this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  private remove(entry: PageSource): void {
    if (entry.id !== null) this.client?.removeSource(entry.id);
    this.entries = this.entries.filter((candidate) => candidate !== entry);
    URL.revokeObjectURL(entry.url);
    if (this.mainKey === entry.key) this.mainKey = null;
    this.render();
    this.changed();
  }

  private render(): void {
    // Rebuilt whole (photos change rarely); keyboard focus is put back on the same control.
    const focused = document.activeElement instanceof HTMLElement && this.list.contains(document.activeElement) ? focusKey(document.activeElement) : undefined;
    this.list.replaceChildren(...this.entries.map((entry) => this.renderEntry(entry)));
    if (this.entries.length === 0) this.list.append(make('li', 'empty', 'No source photo yet.'));
    if (focused) this.list.querySelector<HTMLElement>(focused)?.focus();
  }

  private renderEntry(entry: PageSource): HTMLElement {
    const item = make('li', 'source');
    item.dataset.key = String(entry.key);
    if (entry.id !== null) item.dataset.id = String(entry.id);
    const state = entry.state;
    const usable = entry.id !== null && state !== undefined && !state.error;
    if (entry.key === this.mainKey && usable) item.classList.add('main');
    if (!state) item.classList.add('pending');

    const head = make('div', 'source-head');
    const mainLabel = make('label', 'source-main-label');
    const main = make('input', 'source-main');
    main.type = 'radio';
    main.name = 'main-source';
    main.checked = item.classList.contains('main');
    main.disabled = !usable;
    main.setAttribute('aria-label', `Use ${entry.name} as the main source`);
    main.addEventListener('change', () => {
      if (!main.checked || entry.id === null) return;
      this.mainKey = entry.key;
      this.client?.setMainSource(entry.id);
    });
    // Only the main photo says "main"; the others offer to become it.
    mainLabel.append(main, make('span', undefined, main.checked ? 'main photo' : 'make main'));
    mainLabel.title = main.checked
      ? 'The main photo goes on the main face (or on every face with "Many faces"), and on anyone not given another photo.'
      : 'Use this photo as the main photo.';
    const name = make('span', 'source-name', entry.name);
    name.title = entry.name;
    const remove = make('button', 'source-remove', '×');
    remove.type = 'button';
    remove.title = `Remove ${entry.name}`;
    remove.setAttribute('aria-label', `Remove ${entry.name}`);
    remove.addEventListener('click', () => this.remove(entry));
    head.append(mainLabel, name, remove);
    item.append(head);

    const faces = make('div', 'source-faces');
    for (const [index, face] of (state?.faces ?? []).entries()) {
      const button = make('button', 'source-face');
      button.type = 'button';
      button.dataset.face = String(index);
      const picked = index === state?.face;
      button.classList.toggle('picked', picked);
      button.setAttribute('aria-pressed', String(picked));
      button.setAttribute('aria-label', `Face ${index + 1} of ${entry.name}`);
      const canvas = make('canvas');
      canvas.width = THUMB;
      canvas.height = THUMB;
      button.append(canvas);
      button.addEventListener('click', () => {
        if (entry.id === null) return;
        entry.face = index;
        this.client?.pickFace(entry.id, index);
      });
      void this.drawThumb(entry, face.box, canvas);
      faces.append(button);
    }
    item.append(faces);

    if (state?.error) item.append(make('p', 'source-error', state.error));
    else if (!state) item.append(make('p', 'source-note', this.client ? 'Looking for faces…' : 'Waiting for the engine…'));
    return item;
  }

  private async drawThumb(entry: PageSource, box: [number, number, number, number], canvas: HTMLCanvasElement): Promise<void> {
    entry.image ??= loadImage(entry.url);
    const image = await entry.image;
    const context = canvas.getContext('2d');
    if (!image || !context) return;
    // The box is [x, y, width, height] in the photo's pixels; the thumbnail is a padded square around it.
    const [x, y, width, height] = box;
    const side = Math.max(width, height) * (1 + 2 * THUMB_PADDING);
    const left = x + width / 2 - side / 2;
    const top = y + height / 2 - side / 2;
    context.fillStyle = '#000';
    context.fillRect(0, 0, THUMB, THUMB);
    context.drawImage(image, left, top, side, side, 0, 0, THUMB, THUMB);
  }
}

function loadImage(url: string): Promise<HTMLImageElement | null> {
  const image = new Image();
  image.src = url;
  return image.decode().then(
    () => image,
    () => null,
  );
}

/** A selector that finds the same control after the list is rebuilt. */
function focusKey(element: HTMLElement): string | undefined {
  const item = element.closest<HTMLElement>('.source');
  if (!item?.dataset.key) return undefined;
  const base = `.source[data-key="${item.dataset.key}"]`;
  if (element.classList.contains('source-face')) return `${base} .source-face[data-face="${element.dataset.face ?? ''}"]`;
  if (element.classList.contains('source-main')) return `${base} .source-main`;
  if (element.classList.contains('source-remove')) return `${base} .source-remove`;
  return undefined;
}
