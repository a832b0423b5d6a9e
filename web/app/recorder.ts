/**
 * Recording the preview to a video file, and PNG snapshots of it. The frames already carry the
 * label and the watermark (the worker marks them); each saved file also gets an audit-log line.
 */

import type { LabelState, SourceDigest } from '../../src/browser/protocol.js';
import { errorText } from './dom.js';
import type { Messages } from './messages.js';
import { unloggedMessage, type LiveSessionInfo, type ProvenanceLog } from './provenance.js';

const MIME_TYPES = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm', 'video/mp4'];

export interface RecorderElements {
  preview: HTMLCanvasElement;
  record: HTMLButtonElement;
  recordState: HTMLElement;
  recordingLink: HTMLAnchorElement;
  snapshot: HTMLButtonElement;
  snapshotLink: HTMLAnchorElement;
}

/** What the audit line of a saved file needs from the rest of the page. */
export interface OutputFacts {
  log: ProvenanceLog;
  /** The label as it is now. */
  label(): LabelState;
  /** The source photos in use now. */
  sources(): Promise<SourceDigest[]>;
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
  /** The sessions whose frames the recording holds, and the label at its weakest while recording (off once means off). */
  private sessions: LiveSessionInfo[] = [];
  private recordedLabel: LabelState = { shown: true };

  constructor(
    private readonly el: RecorderElements,
    private readonly messages: Messages,
    private readonly facts: OutputFacts,
  ) {
    el.record.addEventListener('click', () => (this.recorder ? this.stop() : this.start()));
    el.snapshot.addEventListener('click', () => void this.snapshot());
    facts.log.onSession((session) => {
      if (this.recorder) this.sessions.push(session);
    });
    this.show();
  }

  /** The label settings changed: a recording in progress remembers if the label went off. */
  labelChanged(): void {
    if (!this.recorder) return;
    const now = this.facts.label();
    if (this.recordedLabel.shown) this.recordedLabel = now;
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
    const session = this.facts.log.session;
    this.sessions = session ? [session] : [];
    this.recordedLabel = this.facts.label();
    recorder.ondataavailable = (event) => {
      if (event.data.size > 0) this.chunks.push(event.data);
    };
    recorder.onstop = () => void this.finish(recorder, mimeType);
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

  private async finish(recorder: MediaRecorder, mimeType: string): Promise<void> {
    for (const track of recorder.stream.getTracks()) track.stop();
    const blob = new Blob(this.chunks, { type: mimeType.split(';')[0] });
    this.chunks = [];
    if (blob.size === 0) {
      this.messages.show('record', 'The recording is empty: no frame was shown while recording.', 'warning');
      return;
    }
    const link = this.el.recordingLink;
    link.dataset.audit = 'pending';
    link.dataset.audit = await this.logOutput('live-recording', blob, this.recordedLabel, this.sessions, 'The recording');
    if (this.recordingUrl) URL.revokeObjectURL(this.recordingUrl);
    this.recordingUrl = URL.createObjectURL(blob);
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

  private async snapshot(): Promise<void> {
    const { preview } = this.el;
    if (preview.width === 0 || preview.height === 0) {
      this.messages.show('snapshot', 'Nothing to save yet: the preview has no picture.', 'warning');
      return;
    }
    // Taken now: the label and the session are those of the picture on screen.
    const label = this.facts.label();
    const session = this.facts.log.session;
    const blob = await new Promise<Blob | null>((resolve) => preview.toBlob(resolve, 'image/png'));
    if (!blob) {
      this.messages.show('snapshot', 'The snapshot could not be made (the preview has no picture yet).', 'warning');
      return;
    }
    const link = this.el.snapshotLink;
    link.dataset.audit = 'pending';
    link.dataset.audit = await this.logOutput('live-snapshot', blob, label, session ? [session] : [], 'The snapshot');
    if (this.snapshotUrl) URL.revokeObjectURL(this.snapshotUrl);
    this.snapshotUrl = URL.createObjectURL(blob);
    link.href = this.snapshotUrl;
    link.download = `liveswap-${stamp()}.png`;
    link.textContent = `Download ${link.download}`;
    link.hidden = false;
    link.click();
  }

  /** Writes the file's audit line before the file is handed over; says so when it cannot (the file still goes out). */
  private async logOutput(kind: 'live-recording' | 'live-snapshot', blob: Blob, label: LabelState, sessions: LiveSessionInfo[], what: string): Promise<'logged' | 'failed'> {
    try {
      await this.facts.log.recordOutput(kind, blob, label, sessions, await this.facts.sources());
      this.messages.clear('provenance');
      return 'logged';
    } catch (error) {
      this.messages.show('provenance', unloggedMessage(what, error));
      return 'failed';
    }
  }
}
