/**
 * The multi-face panel: the people in the stream, each with a number, a thumbnail and the photo
 * that goes on them; the same numbers drawn over the preview; and the map of people kept across
 * frames. A person in the map keeps their number across cuts (the worker recognises them by their
 * face); anyone else gets the lowest free number, so one person alone stays "1". The list is
 * redrawn at most a few times a second, the overlay with every frame.
 */

import type { LiveClient } from '../../src/browser/live-client.js';
import type { MapEntry, TrackedFaceInfo } from '../../src/browser/protocol.js';
import { make } from './dom.js';
import type { UsableSource } from './sources.js';

const REDRAW_MS = 250;
/** How long a person who left the view stays listed (dimmed), so a cut does not rebuild their row. */
const GONE_MS = 1500;
const MAIN = 'main';
const NOBODY = 'nobody';
const THUMB = 48;
/** Room around the face box in a thumbnail, as a share of the box's larger side. */
const THUMB_PADDING = 0.25;

/** The picture's place inside a box it is fitted into whole (object-fit: contain). */
export interface Letterbox {
  left: number;
  top: number;
  scale: number;
}

/** Where a width×height picture lands when fitted whole into boxWidth×boxHeight, centred with bars. */
export function letterbox(width: number, height: number, boxWidth: number, boxHeight: number): Letterbox {
  if (width <= 0 || height <= 0) return { left: 0, top: 0, scale: 1 };
  const scale = Math.min(boxWidth / width, boxHeight / height);
  return { left: (boxWidth - width * scale) / 2, top: (boxHeight - height * scale) / 2, scale };
}

/**
 * Numbers people, not tracks. A map entry (a person recognised by their face) keeps the number of
 * the face it was taken from for as long as the map holds it; a face outside the map keeps its
 * number while its track lasts and otherwise takes the lowest number nobody in view or in the map has.
 */
export class PersonNumbers {
  private readonly byTrack = new Map<number, number>();
  private byEntry: number[] = [];

  /** The map changed: new entries take the number their face had; a cleared map frees its numbers. */
  setMap(entries: readonly MapEntry[]): void {
    this.byEntry = entries.map((entry, index) => this.byEntry[index] ?? this.byTrack.get(entry.trackId) ?? this.free(new Set(this.byEntry)));
  }

  /** The number of each face of a frame, in the frame's order; tracks gone from view are forgotten. */
  number(faces: readonly TrackedFaceInfo[]): number[] {
    const used = new Set(this.byEntry);
    const taken = new Set<number>();
    const numbers: (number | undefined)[] = faces.map((face) => {
      // Only the map says which face an entry was taken from: a frame may name an entry before the map
      // arrives (the frame the person is added on is planned before they are), so it never sets the number.
      const entry = face.mapEntry === null ? undefined : this.byEntry[face.mapEntry];
      const known = entry ?? this.byTrack.get(face.trackId);
      if (known === undefined || taken.has(known)) return undefined; // two faces never share a number
      taken.add(known);
      used.add(known);
      return known;
    });
    const inView = new Set(faces.map((face) => face.trackId));
    for (const trackId of [...this.byTrack.keys()]) if (!inView.has(trackId)) this.byTrack.delete(trackId);
    return faces.map((face, index) => {
      let number = numbers[index];
      if (number === undefined) {
        number = this.free(used);
        used.add(number);
      }
      this.byTrack.set(face.trackId, number);
      return number;
    });
  }

  /** The number of map entry `index`, if it has one. */
  entryNumber(index: number): number | undefined {
    return this.byEntry[index];
  }

  reset(): void {
    this.byTrack.clear();
    this.byEntry = [];
  }

  private free(used: ReadonlySet<number>): number {
    let number = 1;
    while (used.has(number)) number++;
    return number;
  }
}

interface Row {
  item: HTMLElement;
  select: HTMLSelectElement;
  thumb: HTMLCanvasElement;
  optionsKey: string;
  /** The track the worker knows this person by: the map entry's for someone in the map, else the face's own. */
  trackId: number;
  /** When the person left the view (performance.now()), or undefined while in view. */
  goneAt: number | undefined;
}

export interface FacesElements {
  list: HTMLElement;
  mapList: HTMLElement;
  clear: HTMLButtonElement;
  /** The preview the worker draws on: thumbnails are cut from it. */
  preview: HTMLCanvasElement;
  /** A canvas laid over the preview for the face boxes and numbers. */
  overlay: HTMLCanvasElement;
}

export class FacesPanel {
  private faces: TrackedFaceInfo[] = [];
  private numbers: number[] = [];
  private entries: MapEntry[] = [];
  private sources: UsableSource[] = [];
  private drawnAt = 0;
  private timer: number | undefined;
  private goneTimer: number | undefined;
  private readonly people = new PersonNumbers();
  private readonly rows = new Map<number, Row>();

  constructor(
    private readonly el: FacesElements,
    private readonly client: () => LiveClient | null,
  ) {
    el.clear.addEventListener('click', () => this.client()?.clearMap());
    new ResizeObserver(() => this.drawOverlay()).observe(el.overlay);
    this.drawMap();
    this.draw();
  }

  /** The faces of the frame just shown on the preview. */
  setFaces(faces: TrackedFaceInfo[]): void {
    this.faces = faces;
    this.numbers = this.people.number(faces);
    this.drawOverlay();
    this.schedule();
  }

  setMap(entries: MapEntry[]): void {
    this.entries = entries;
    this.people.setMap(entries);
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
    this.numbers = [];
    this.entries = [];
    this.people.reset();
    for (const row of this.rows.values()) row.item.remove();
    this.rows.clear();
    this.drawMap();
    this.drawOverlay();
    this.draw();
  }

  private schedule(): void {
    const now = performance.now();
    if (now - this.drawnAt >= REDRAW_MS) this.draw();
    else this.timer ??= window.setTimeout(() => this.draw(), REDRAW_MS - (now - this.drawnAt));
  }

  private sourceName(id: number | null): string {
    if (id === null) return 'nobody (left as is)';
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
    // Rows are kept per person so an open menu is not rebuilt under the user's pointer and a
    // thumbnail stays where it was when the person comes back after a cut.
    this.faces.forEach((face, index) => {
      const number = this.numbers[index]!;
      seen.add(number);
      let row = this.rows.get(number);
      if (!row) {
        row = this.makeRow(number);
        this.rows.set(number, row);
      }
      const entry = face.mapEntry === null ? undefined : this.entries[face.mapEntry];
      row.trackId = entry?.trackId ?? face.trackId;
      row.item.dataset.track = String(face.trackId);
      row.item.dataset.box = face.box.join(',');
      if (row.optionsKey !== optionsKey) {
        row.select.replaceChildren(
          new Option('main photo', MAIN),
          new Option('nobody (leave as is)', NOBODY),
          ...this.sources.map((source) => new Option(source.name, String(source.id))),
        );
        row.optionsKey = optionsKey;
      }
      if (document.activeElement !== row.select) row.select.value = this.choiceOf(face);
      row.item.classList.toggle('swapped', face.sourceId !== null);
      row.item.classList.toggle('mapped', face.mapEntry !== null);
      this.drawThumb(face.box, row.thumb);
      this.el.list.append(row.item); // keeps the order of the worker's list
    });
    for (const [number, row] of this.rows) {
      if (seen.has(number)) {
        row.goneAt = undefined;
        row.item.classList.replace('gone', 'tracked-face');
        continue;
      }
      // Kept a moment, dimmed and out of the tracked list, then dropped.
      row.goneAt ??= this.drawnAt;
      row.item.classList.replace('tracked-face', 'gone');
      if (this.drawnAt - row.goneAt < GONE_MS) {
        this.el.list.append(row.item);
        window.clearTimeout(this.goneTimer);
        this.goneTimer = window.setTimeout(() => this.draw(), GONE_MS);
        continue;
      }
      row.item.remove();
      this.rows.delete(number);
    }
    this.el.list.querySelector('.empty')?.remove();
    if (this.faces.length === 0) this.el.list.append(make('li', 'empty', 'No face in view.'));
  }

  private makeRow(number: number): Row {
    const item = make('li', 'face-row tracked-face');
    item.dataset.person = String(number);
    const id = `assign-${number}`;
    const thumb = make('canvas', 'face-thumb');
    thumb.width = THUMB;
    thumb.height = THUMB;
    thumb.setAttribute('aria-hidden', 'true');
    const label = make('label', 'face-number', `Person ${number}`);
    label.htmlFor = id;
    const select = make('select', 'assign');
    select.id = id;
    select.title = `The photo that goes on person ${number}. A person given a photo (or "nobody") is recognised by their face and keeps it when they come back.`;
    const row: Row = { item, select, thumb, optionsKey: '', trackId: -1, goneAt: undefined };
    select.addEventListener('change', () => {
      const client = this.client();
      if (!client || select.value === MAIN) return; // unmapped faces get the main source already
      client.assign(row.trackId, select.value === NOBODY ? null : Number(select.value));
    });
    item.append(thumb, label, make('span', 'face-arrow', '→'), select);
    return row;
  }

  /** A padded square around the face, cut from the frame on the preview (the one the boxes belong to). */
  private drawThumb(box: [number, number, number, number], thumb: HTMLCanvasElement): void {
    const context = thumb.getContext('2d');
    const preview = this.el.preview;
    if (!context || preview.width === 0 || preview.height === 0) return;
    const [x, y, width, height] = box;
    const side = Math.max(width, height) * (1 + 2 * THUMB_PADDING);
    context.fillStyle = '#000';
    context.fillRect(0, 0, THUMB, THUMB);
    context.drawImage(preview, x + width / 2 - side / 2, y + height / 2 - side / 2, side, side, 0, 0, THUMB, THUMB);
  }

  /** Each face's box and number over the preview, placed where the letterboxed picture is. */
  private drawOverlay(): void {
    const overlay = this.el.overlay;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(overlay.clientWidth * ratio);
    const height = Math.round(overlay.clientHeight * ratio);
    if (overlay.width !== width || overlay.height !== height) {
      overlay.width = width;
      overlay.height = height;
    }
    const context = overlay.getContext('2d');
    if (!context) return;
    context.clearRect(0, 0, width, height);
    const fit = letterbox(this.el.preview.width, this.el.preview.height, width, height);
    const font = Math.round(13 * ratio);
    context.font = `600 ${font}px system-ui, sans-serif`;
    context.lineWidth = Math.max(1, Math.round(1.5 * ratio));
    this.faces.forEach((face, index) => {
      const [x, y, w, h] = face.box;
      const left = fit.left + x * fit.scale;
      const top = fit.top + y * fit.scale;
      const colour = face.sourceId !== null ? '#4ade80' : '#e5e7eb';
      context.strokeStyle = colour;
      context.strokeRect(left, top, w * fit.scale, h * fit.scale);
      const text = String(this.numbers[index] ?? '');
      const pad = Math.round(4 * ratio);
      const tagWidth = context.measureText(text).width + 2 * pad;
      const tagTop = Math.max(0, top - font - 2 * pad);
      context.fillStyle = colour;
      context.fillRect(left, tagTop, tagWidth, font + 2 * pad);
      context.fillStyle = '#000';
      context.textBaseline = 'top';
      context.fillText(text, left + pad, tagTop + pad);
    });
  }

  private drawMap(): void {
    const items = this.entries.map((entry, index) => {
      const number = this.people.entryNumber(index);
      const item = make('li', 'map-entry', `Person ${number ?? '?'} → ${this.sourceName(entry.sourceId)}`);
      item.dataset.track = String(entry.trackId);
      if (number !== undefined) item.dataset.person = String(number);
      return item;
    });
    this.el.mapList.replaceChildren(...items);
    if (items.length === 0) this.el.mapList.append(make('li', 'empty', 'Nobody mapped yet: choose a photo for a person above.'));
  }
}
