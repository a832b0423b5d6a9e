/**
 * Recording the preview to a video file, and PNG snapshots of it. The frames already carry the
 * label and the watermark (the worker marks them). A recording is MP4 where the browser records
 * it, else WebM, with the video target's sound or a microphone; the server finishes it (a WebM
 * gets its duration, an MP4 its content credentials) and logs it, and the page saves what comes
 * back. Each saved file gets an audit-log line; both download at once when they are ready.
 */

import type { LabelState, SourceDigest } from '../../src/browser/protocol.js';
import { errorText, make } from './dom.js';
import type { Messages } from './messages.js';
import { finishRecording, unloggedMessage, type LiveSessionInfo, type ProvenanceLog } from './provenance.js';

/**
 * Best first: MP4 with H.264 (and AAC, or Opus where the browser has no AAC encoder, as Chromium
 * builds without proprietary codecs), then WebM. VP8 before VP9: it costs the encoder far less CPU,
 * which the swap needs.
 */
const MIME_TYPES = [
  'video/mp4;codecs=avc1.42E01F,mp4a.40.2',
  'video/mp4;codecs=avc1,mp4a.40.2',
  'video/mp4;codecs=avc1,opus',
  'video/mp4',
  'video/webm;codecs=vp8,opus',
  'video/webm;codecs=vp9,opus',
  'video/webm',
];

/** The sound choices besides each microphone's device id. */
const NO_SOUND = 'none';
const TARGET_SOUND = 'target';

export interface RecorderElements {
  preview: HTMLCanvasElement;
  /** The target's <video>: its sound can go into the recording. */
  video: HTMLVideoElement;
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
  /** Where the recording's sound comes from: none, the target's <video>, or a microphone's device id. */
  readonly sound: HTMLSelectElement;

  constructor(
    private readonly el: RecorderElements,
    private readonly messages: Messages,
    private readonly facts: OutputFacts,
  ) {
    this.sound = make('select', 'record-sound');
    this.sound.id = 'record-sound';
    this.sound.title = "The sound recorded with the picture: none, the video target's own sound, or a microphone.";
    this.sound.setAttribute('aria-label', 'Sound of the recording');
    el.record.after(this.sound);
    el.record.addEventListener('click', () => void (this.recorder ? this.stop() : this.start()));
    el.snapshot.addEventListener('click', () => void this.snapshot());
    facts.log.onSession((session) => {
      if (this.recorder) this.sessions.push(session);
    });
    navigator.mediaDevices?.addEventListener('devicechange', () => void this.listSounds());
    void this.listSounds();
    this.show();
  }

  /** The label settings changed: a recording in progress remembers if the label went off. */
  labelChanged(): void {
    if (!this.recorder) return;
    const now = this.facts.label();
    if (this.recordedLabel.shown) this.recordedLabel = now;
  }

  /** Lists the sound choices: none, the video target's sound, each microphone (named once permission is given). */
  private async listSounds(): Promise<void> {
    const chosen = this.sound.value || TARGET_SOUND;
    const options = [new Option('No sound', NO_SOUND), new Option("The video's sound", TARGET_SOUND)];
    const devices = await navigator.mediaDevices?.enumerateDevices().catch(() => []);
    for (const [index, device] of (devices ?? []).filter((d) => d.kind === 'audioinput').entries()) {
      if (device.deviceId) options.push(new Option(device.label || `Microphone ${index + 1}`, `mic:${device.deviceId}`));
    }
    this.sound.replaceChildren(...options);
    this.sound.value = options.some((option) => option.value === chosen) ? chosen : TARGET_SOUND;
  }

  /** The sound tracks for the recording; a microphone that cannot be opened is said, and the recording goes on without it. */
  private async soundTracks(): Promise<MediaStreamTrack[]> {
    const choice = this.sound.value;
    if (choice === TARGET_SOUND) {
      const video = this.el.video as HTMLVideoElement & { captureStream?: () => MediaStream; mozCaptureStream?: () => MediaStream };
      // A camera target has no sound; a muted <video> still hands its sound to captureStream.
      const capture = video.captureStream?.bind(video) ?? video.mozCaptureStream?.bind(video);
      if (!capture || video.readyState === HTMLMediaElement.HAVE_NOTHING) return [];
      try {
        return capture().getAudioTracks();
      } catch {
        return [];
      }
    }
    if (choice.startsWith('mic:')) {
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ audio: { deviceId: { exact: choice.slice(4) } }, video: false });
        return stream.getAudioTracks();
      } catch (error) {
        this.messages.show('record', `The microphone could not be opened (${errorText(error)}); recording without sound.`, 'warning');
      }
    }
    return [];
  }

  private async start(): Promise<void> {
    const mimeType = typeof MediaRecorder === 'undefined' ? undefined : MIME_TYPES.find((type) => MediaRecorder.isTypeSupported(type));
    if (!mimeType || typeof this.el.preview.captureStream !== 'function') {
      this.messages.show('record', 'This browser cannot record the preview (no MediaRecorder with WebM or MP4).');
      return;
    }
    this.el.record.disabled = true;
    this.messages.clear('record');
    const sound = await this.soundTracks();
    this.el.record.disabled = false;
    let recorder: MediaRecorder;
    try {
      // No frame rate: a frame goes in each time the preview shows a new one, at the preview's own rate.
      const stream = new MediaStream([...this.el.preview.captureStream().getVideoTracks(), ...sound]);
      recorder = new MediaRecorder(stream, { mimeType });
    } catch (error) {
      for (const track of sound) track.stop();
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
    this.show();
  }

  private stop(): void {
    const recorder = this.recorder;
    this.recorder = null;
    window.clearInterval(this.clock);
    if (recorder && recorder.state !== 'inactive') recorder.stop();
    this.show();
  }

  private async finish(recorder: MediaRecorder, mimeType: string): Promise<void> {
    // Captured sound tracks are the page's own copies: stopping them leaves the <video> playing.
    for (const track of recorder.stream.getTracks()) track.stop();
    const recorded = new Blob(this.chunks, { type: mimeType.split(';')[0] });
    this.chunks = [];
    if (recorded.size === 0) {
      this.messages.show('record', 'The recording is empty: no frame was shown while recording.', 'warning');
      return;
    }
    const link = this.el.recordingLink;
    link.dataset.audit = 'pending';
    this.el.recordState.textContent = 'Finishing the recording…';
    let blob = recorded;
    try {
      if (this.sessions.length === 0) throw new Error('No engine session was running, so there is no watermark id to log it under');
      const finished = await finishRecording(recorded, this.recordedLabel, this.sessions, await this.facts.sources());
      blob = finished.blob;
      link.dataset.audit = 'logged';
      link.dataset.credentials = finished.credentials;
      this.messages.clear('provenance');
    } catch (error) {
      // The server could not finish or log it: the browser's own file is saved (no duration in a WebM, no credentials).
      link.dataset.audit = 'failed';
      this.messages.show('provenance', unloggedMessage('The recording', error));
    }
    this.el.recordState.textContent = '';
    if (this.recordingUrl) URL.revokeObjectURL(this.recordingUrl);
    this.recordingUrl = URL.createObjectURL(blob);
    link.href = this.recordingUrl;
    link.download = `liveswap-${stamp()}.${blob.type === 'video/mp4' ? 'mp4' : 'webm'}`;
    link.textContent = `Download ${link.download} (${(blob.size / 1e6).toFixed(1)} MB)`;
    link.hidden = false;
    link.click();
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
