/**
 * The multi-face panel: the faces followed in the stream, who goes on each, and the map of
 * people kept across frames. Redrawn at most a few times a second, never per frame.
 */

import type { LiveClient } from '../../src/browser/live-client.js';
import type { MapEntry, TrackedFaceInfo } from '../../src/browser/protocol.js';
import { make } from './dom.js';
import type { UsableSource } from './sources.js';

const REDRAW_MS = 250;
const MAIN = 'main';
const NOBODY = 'nobody';

export class FacesPanel {
  private faces: TrackedFaceInfo[] = [];
  private entries: MapEntry[] = [];
  private sources: UsableSource[] = [];
  private drawnAt = 0;
  private timer: number | undefined;
  private readonly rows = new Map<number, { item: HTMLElement; select: HTMLSelectElement; optionsKey: string }>();

  constructor(
    private readonly list: HTMLElement,
    private readonly mapList: HTMLElement,
    clear: HTMLButtonElement,
    private readonly client: () => LiveClient | null,
  ) {
    clear.addEventListener('click', () => this.client()?.clearMap());
    this.drawMap();
    this.draw();
  }

  setFaces(faces: TrackedFaceInfo[]): void {
    this.faces = faces;
    this.schedule();
  }

  setMap(entries: MapEntry[]): void {
    this.entries = entries;
    this.drawMap();
    this.schedule();
  }

  setSources(sources: UsableSource[]): void {
    this.sources = sources;
    this.drawMap();
    this.schedule();
  }

  reset(): void {
    this.faces = [];
    this.entries = [];
    this.drawMap();
    this.draw();
  }

  private schedule(): void {
    const now = performance.now();
    if (now - this.drawnAt >= REDRAW_MS) this.draw();
    else this.timer ??= window.setTimeout(() => this.draw(), REDRAW_MS - (now - this.drawnAt));
  }

  private sourceName(id: number | null): string {
    if (id === null) return 'nobody';
    return this.sources.find((source) => source.id === id)?.name ?? `photo ${id}`;
  }

  /** What a face's menu shows: its map entry's choice (`mapEntry` indexes the map), else the main source. */
  private choiceOf(face: TrackedFaceInfo): string {
    const entry = face.mapEntry === null ? undefined : this.entries[face.mapEntry];
    if (!entry) return MAIN;
    return entry.sourceId === null ? NOBODY : String(entry.sourceId);
  }

  private draw(): void {
    window.clearTimeout(this.timer);
    this.timer = undefined;
    this.drawnAt = performance.now();
    const optionsKey = this.sources.map((source) => `${source.id}:${source.name}`).join('|');
    const seen = new Set<number>();
    // Rows are kept per track so an open menu is not rebuilt under the user's pointer.
    for (const face of this.faces) {
      seen.add(face.trackId);
      let row = this.rows.get(face.trackId);
      if (!row) {
        row = this.makeRow(face.trackId);
        this.rows.set(face.trackId, row);
      }
      if (row.optionsKey !== optionsKey) {
        row.select.replaceChildren(new Option('main source', MAIN), new Option('nobody', NOBODY), ...this.sources.map((source) => new Option(source.name, String(source.id))));
        row.optionsKey = optionsKey;
      }
      if (document.activeElement !== row.select) row.select.value = this.choiceOf(face);
      row.item.classList.toggle('swapped', face.sourceId !== null);
      this.list.append(row.item); // keeps the order of the worker's list
    }
    for (const [trackId, row] of this.rows) {
      if (seen.has(trackId)) continue;
      row.item.remove();
      this.rows.delete(trackId);
    }
    this.list.querySelector('.empty')?.remove();
    if (this.faces.length === 0) this.list.append(make('li', 'empty', 'No face in view.'));
  }

  private makeRow(trackId: number): { item: HTMLElement; select: HTMLSelectElement; optionsKey: string } {
    const item = make('li', 'tracked-face');
    item.dataset.track = String(trackId);
    const id = `assign-${trackId}`;
    const label = make('label', undefined, `Face ${trackId}`);
    label.htmlFor = id;
    const select = make('select', 'assign');
    select.id = id;
    select.addEventListener('change', () => {
      const client = this.client();
      if (!client || select.value === MAIN) return; // unmapped faces get the main source already
      client.assign(trackId, select.value === NOBODY ? null : Number(select.value));
    });
    item.append(label, select);
    return { item, select, optionsKey: '' };
  }

  private drawMap(): void {
    const items = this.entries.map((entry) => {
      const item = make('li', 'map-entry', `Face ${entry.trackId} → ${this.sourceName(entry.sourceId)}`);
      item.dataset.track = String(entry.trackId);
      return item;
    });
    this.mapList.replaceChildren(...items);
    if (items.length === 0) this.mapList.append(make('li', 'empty', 'Nobody mapped yet: choose a photo for a face above.'));
  }
}
