/**
 * The message strip: one message per kind (a newer one replaces the older), each dismissable, none
 * blocking the page.
 */

import { make } from './dom.js';

export type MessageKind =
  | 'server'
  | 'model'
  | 'engine'
  | 'not-image'
  | 'no-face'
  | 'source'
  | 'camera-denied'
  | 'no-camera'
  | 'camera'
  | 'camera-ended'
  | 'video'
  | 'image'
  | 'frame'
  | 'relay'
  | 'record'
  | 'snapshot'
  | 'label'
  | 'label-text'
  | 'provenance';

export type MessageLevel = 'error' | 'warning' | 'info';

export class Messages {
  constructor(private readonly list: HTMLElement) {}

  show(kind: MessageKind, text: string, level: MessageLevel = 'error'): void {
    this.clear(kind);
    const item = make('li', `message ${level}`);
    item.dataset.kind = kind;
    item.setAttribute('role', level === 'error' ? 'alert' : 'status');
    const body = make('span', 'message-text', text);
    const close = make('button', 'message-close', '×');
    close.type = 'button';
    close.title = 'Dismiss';
    close.setAttribute('aria-label', 'Dismiss message');
    close.addEventListener('click', () => item.remove());
    item.append(body, close);
    this.list.append(item);
  }

  clear(kind: MessageKind): void {
    for (const item of this.list.querySelectorAll<HTMLElement>(`.message[data-kind="${kind}"]`)) item.remove();
  }

  has(kind: MessageKind): boolean {
    return this.list.querySelector(`.message[data-kind="${kind}"]`) !== null;
  }
}
