/** Recording the preview to a video file, and PNG snapshots of it. */

import { errorText } from './dom.js';
import type { Messages } from './messages.js';

const MIME_TYPES = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm', 'video/mp4'];

export interface RecorderElements {
  preview: HTMLCanvasElement;
  record: HTMLButtonElement;
  recordState: HTMLElement;
  recordingLink: HTMLAnchorElement;
  snapshot: HTMLButtonElement;
  snapshotLink: HTMLAnchorElement;
}

/** A file name stamp like 2026-05-04-153012 (local time). */
function stamp(date = new Date()): string {
  const two = (value: number): string => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}-${two(date.getHours())}${two(date.getMinutes())}${two(date.getSeconds())}`;
}

export class Recorder {
  private recorder: MediaRecorder | null = null;
  private chunks: Blob[] = [];
  private startedAt = 0;
  private clock: number | undefined;
  private recordingUrl: string | null = null;
  private snapshotUrl: string | null = null;

  constructor(
    private readonly el: RecorderElements,
    private readonly messages: Messages,
  ) {
    el.record.addEventListener('click', () => (this.recorder ? this.stop() : this.start()));
    el.snapshot.addEventListener('click', () => this.snapshot());
    this.show();
  }

  private start(): void {
    const mimeType = typeof MediaRecorder === 'undefined' ? undefined : MIME_TYPES.find((type) => MediaRecorder.isTypeSupported(type));
    if (!mimeType || typeof this.el.preview.captureStream !== 'function') {
      this.messages.show('record', 'This browser cannot record the preview (no MediaRecorder with WebM or MP4).');
      return;
    }
    let recorder: MediaRecorder;
    try {
      recorder = new MediaRecorder(this.el.preview.captureStream(30), { mimeType });
    } catch (error) {
      this.messages.show('record', `Recording could not start: ${errorText(error)}`);
      return;
    }
    this.chunks = [];
    recorder.ondataavailable = (event) => {
      if (event.data.size > 0) this.chunks.push(event.data);
    };
    recorder.onstop = () => this.finish(recorder, mimeType);
    recorder.onerror = () => {
      this.messages.show('record', 'Recording stopped because of an error.');
      this.stop();
    };
    recorder.start(1000);
    this.recorder = recorder;
    this.startedAt = performance.now();
    this.clock = window.setInterval(() => this.show(), 500);
    this.messages.clear('record');
    this.show();
  }

  private stop(): void {
    const recorder = this.recorder;
    this.recorder = null;
    window.clearInterval(this.clock);
    if (recorder && recorder.state !== 'inactive') recorder.stop();
    for (const track of recorder?.stream.getTracks() ?? []) track.stop();
    this.show();
  }

  private finish(recorder: MediaRecorder, mimeType: string): void {
    for (const track of recorder.stream.getTracks()) track.stop();
    const blob = new Blob(this.chunks, { type: mimeType.split(';')[0] });
    this.chunks = [];
    if (blob.size === 0) {
      this.messages.show('record', 'The recording is empty: no frame was shown while recording.', 'warning');
      return;
    }
    if (this.recordingUrl) URL.revokeObjectURL(this.recordingUrl);
    this.recordingUrl = URL.createObjectURL(blob);
    const link = this.el.recordingLink;
    link.href = this.recordingUrl;
    link.download = `liveswap-${stamp()}.${mimeType.startsWith('video/mp4') ? 'mp4' : 'webm'}`;
    link.textContent = `Download ${link.download} (${(blob.size / 1e6).toFixed(1)} MB)`;
    link.hidden = false;
  }

  private show(): void {
    const recording = this.recorder !== null;
    this.el.record.textContent = recording ? 'Stop recording' : 'Record';
    this.el.record.setAttribute('aria-pressed', String(recording));
    this.el.record.classList.toggle('recording', recording);
    const seconds = Math.floor((performance.now() - this.startedAt) / 1000);
    this.el.recordState.textContent = recording ? `● Recording ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}` : '';
    this.el.recordState.dataset.recording = String(recording);
  }

  private snapshot(): void {
    const { preview } = this.el;
    if (preview.width === 0 || preview.height === 0) {
      this.messages.show('snapshot', 'Nothing to save yet: the preview has no picture.', 'warning');
      return;
    }
    preview.toBlob((blob) => {
      if (!blob) {
        this.messages.show('snapshot', 'The snapshot could not be made (the preview has no picture yet).', 'warning');
        return;
      }
      if (this.snapshotUrl) URL.revokeObjectURL(this.snapshotUrl);
      this.snapshotUrl = URL.createObjectURL(blob);
      const link = this.el.snapshotLink;
      link.href = this.snapshotUrl;
      link.download = `liveswap-${stamp()}.png`;
      link.textContent = `Download ${link.download}`;
      link.hidden = false;
      link.click();
    }, 'image/png');
  }
}
