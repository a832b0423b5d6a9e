/**
 * The target: the camera, a video file or a still image. Live targets play in a hidden <video>
 * whose new frames are offered to the client; a still is processed once, and again on request.
 * Each new frame of the <video> is taken in a video-frame callback; those stop in a background tab
 * or a minimised window, so while the page is hidden the frames are read from the picture's track
 * instead where the browser has a MediaStreamTrackProcessor (Chromium), which keeps delivering.
 * The target's own frame rate (the camera's setting, or a video's, measured from the times of its
 * first frames) is told to the client: the quality controller holds it unless the settings say otherwise.
 */

import type { LiveClient } from '../../src/browser/live-client.js';
import { CAMERA_SIZES, type CameraSize } from '../../src/browser/protocol.js';
import { errorName, errorText, make } from './dom.js';
import type { Messages } from './messages.js';
import type { SettingsStore } from './settings.js';

export const TARGET_KINDS = ['camera', 'video', 'image'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export interface TargetElements {
  section: HTMLElement;
  kind: HTMLSelectElement;
  cameraGroup: HTMLElement;
  cameraSelect: HTMLSelectElement;
  cameraSize: HTMLSelectElement;
  videoGroup: HTMLElement;
  videoInput: HTMLInputElement;
  imageGroup: HTMLElement;
  imageInput: HTMLInputElement;
  start: HTMLButtonElement;
  stop: HTMLButtonElement;
  state: HTMLElement;
  video: HTMLVideoElement;
  /** The client draws here; it is sized to the target so the picture keeps its shape. */
  preview: HTMLCanvasElement;
}

type Running = 'stopped' | 'starting' | 'camera' | 'video' | 'image';

/** Chromium's reader of a video track's frames (not in TypeScript's DOM types yet). */
type TrackProcessor = new (init: { track: MediaStreamTrack }) => { readable: ReadableStream<VideoFrame> };

function trackProcessor(): TrackProcessor | undefined {
  return (globalThis as { MediaStreamTrackProcessor?: TrackProcessor }).MediaStreamTrackProcessor;
}

export class Target {
  private running: Running = 'stopped';
  private stream: MediaStream | null = null;
  private videoUrl: string | null = null;
  private videoName = '';
  private image: HTMLImageElement | null = null;
  private imageUrl: string | null = null;
  /** Bumped on every start/stop so a late callback of an older run does nothing. */
  private run = 0;
  private stillBusy = false;
  private stillAgain = false;
  /** Ends the reading of the current track's frames (see {@link readTrack}). */
  private endReading: (() => void) | undefined;
  /** The playing target's own frame rate, when known. */
  private sourceRate: number | null = null;

  constructor(
    private readonly el: TargetElements,
    private readonly settings: SettingsStore,
    private readonly messages: Messages,
    private readonly client: () => LiveClient | null,
  ) {
    for (const size of CAMERA_SIZES) el.cameraSize.append(new Option(size.replace('x', ' × '), size));
    el.cameraSize.value = settings.value.cameraSize;
    el.kind.addEventListener('change', () => this.changeKind());
    el.cameraSelect.addEventListener('change', () => {
      settings.update({ cameraId: el.cameraSelect.value });
      if (this.running === 'camera') void this.startCamera();
    });
    el.cameraSize.addEventListener('change', () => {
      settings.update({ cameraSize: el.cameraSize.value as CameraSize });
      if (this.running === 'camera') void this.startCamera();
    });
    el.start.addEventListener('click', () => void this.start());
    el.stop.addEventListener('click', () => this.stop());
    el.videoInput.addEventListener('change', () => void this.loadVideo());
    el.imageInput.addEventListener('change', () => void this.loadImage());
    // 'resize' also fires when a camera turns or changes resolution.
    el.video.addEventListener('resize', () => this.sizePreview(el.video.videoWidth, el.video.videoHeight));
    navigator.mediaDevices?.addEventListener('devicechange', () => void this.refreshCameras());
    void this.refreshCameras();
    this.changeKind();
  }

  get kind(): TargetKind {
    return this.el.kind.value as TargetKind;
  }

  async start(): Promise<void> {
    if (this.kind === 'camera') await this.startCamera();
    else if (this.kind === 'video') {
      if (this.videoUrl) await this.playVideo();
      else this.el.videoInput.click();
    } else if (this.image) this.processStill();
    else this.el.imageInput.click();
  }

  /**
   * Stops the camera or the video; the preview keeps its last frame. Whatever plays next is a new
   * target: the client drops every face it followed, so none is painted on the next picture.
   */
  stop(): void {
    this.run++;
    this.endReading?.();
    this.endReading = undefined;
    this.client()?.newTarget();
    if (this.stream) {
      for (const track of this.stream.getTracks()) {
        track.onended = null;
        track.stop();
      }
      this.stream = null;
    }
    this.el.video.pause();
    this.el.video.srcObject = null;
    this.el.video.removeAttribute('src');
    this.el.video.load();
    this.setRunning(this.image && this.kind === 'image' ? 'image' : 'stopped');
  }

  /** Processes the still target again (settings or sources changed); runs once more if asked while busy. */
  processStill(): void {
    if (this.kind !== 'image' || !this.image) return;
    if (this.stillBusy) {
      this.stillAgain = true;
      return;
    }
    const client = this.client();
    if (!client) return;
    this.stillBusy = true;
    this.setRunning('image');
    this.sizePreview(this.image.naturalWidth, this.image.naturalHeight);
    client
      .processStill(this.image)
      .catch((error: unknown) => this.messages.show('image', `The image could not be processed: ${errorText(error)}`))
      .finally(() => {
        this.stillBusy = false;
        if (this.stillAgain) {
          this.stillAgain = false;
          this.processStill();
        }
      });
  }

  /** A new client started: a live target keeps going on its own; a still is shown again. */
  clientChanged(): void {
    this.client()?.setSourceRate(this.sourceRate);
    this.stillBusy = false;
    this.stillAgain = false;
    this.processStill();
  }

  private changeKind(): void {
    const kind = this.kind;
    this.el.cameraGroup.hidden = kind !== 'camera';
    this.el.videoGroup.hidden = kind !== 'video';
    this.el.imageGroup.hidden = kind !== 'image';
    if (this.running !== 'stopped') this.stop();
    else this.client()?.newTarget();
    if (kind === 'image') this.processStill();
    this.setRunning(kind === 'image' && this.image ? 'image' : 'stopped');
  }

  /** The playing target's own frame rate (null: unknown), for the quality controller's default target. */
  private setSourceRate(fps: number | null): void {
    const rate = fps !== null && Number.isFinite(fps) && fps > 0 ? Math.round(fps * 100) / 100 : null;
    if (rate === this.sourceRate) return;
    this.sourceRate = rate;
    this.client()?.setSourceRate(rate);
  }

  private sizePreview(width: number, height: number): void {
    const preview = this.el.preview;
    if (width === 0 || height === 0 || (preview.width === width && preview.height === height)) return;
    preview.width = width;
    preview.height = height;
  }

  private setRunning(running: Running): void {
    this.running = running;
    this.el.section.dataset.state = running;
    const live = running === 'camera' || running === 'video' || running === 'starting';
    this.el.start.disabled = live;
    this.el.stop.disabled = !live;
    this.el.state.textContent = {
      stopped: 'Stopped',
      starting: 'Starting…',
      camera: 'Camera on',
      video: 'Playing video',
      image: 'Still image',
    }[running];
  }

  private async startCamera(): Promise<void> {
    this.stop();
    const run = this.run;
    if (!navigator.mediaDevices?.getUserMedia) {
      this.messages.show('camera', 'This page cannot use a camera here: the browser offers cameras only on https:// or localhost pages.');
      return;
    }
    this.setRunning('starting');
    const [width, height] = this.settings.value.cameraSize.split('x').map(Number);
    const cameraId = this.settings.value.cameraId;
    const known = [...this.el.cameraSelect.options].some((option) => option.value === cameraId && cameraId !== '');
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { ...(known ? { deviceId: { exact: cameraId } } : {}), width: { ideal: width }, height: { ideal: height } },
        audio: false,
      });
    } catch (error) {
      if (run === this.run) this.setRunning('stopped');
      await this.cameraFailed(error);
      return;
    }
    if (run !== this.run) {
      for (const track of stream.getTracks()) track.stop();
      return;
    }
    this.messages.clear('camera-denied');
    this.messages.clear('no-camera');
    this.messages.clear('camera-ended');
    this.stream = stream;
    const track = stream.getVideoTracks()[0];
    if (track) {
      track.onended = () => {
        if (this.stream !== stream) return;
        this.messages.show('camera-ended', 'The camera stopped (unplugged or taken by another app). Press Start to use it again.', 'warning');
        this.stop();
      };
      const { deviceId: used, frameRate } = track.getSettings();
      if (used) this.settings.update({ cameraId: used });
      this.setSourceRate(frameRate ?? null);
    }
    await this.refreshCameras();
    this.el.video.srcObject = stream;
    await this.play(run, 'camera');
  }

  private async cameraFailed(error: unknown): Promise<void> {
    const name = errorName(error);
    if (name === 'NotAllowedError' || name === 'SecurityError') {
      this.messages.show(
        'camera-denied',
        'Camera permission was denied. To allow it, click the camera or lock icon beside the address bar, set Camera to Allow, then press Start again.',
      );
      return;
    }
    if (name === 'NotFoundError' || name === 'OverconstrainedError') {
      const cameras = await this.cameras();
      if (cameras.length === 0) {
        this.messages.show('no-camera', 'No camera was found. Connect one and press Start, or choose a video or an image as the target.');
        return;
      }
    }
    this.messages.show('camera', `The camera could not be started: ${errorText(error) || name || 'unknown error'}`);
  }

  private async cameras(): Promise<MediaDeviceInfo[]> {
    try {
      return (await navigator.mediaDevices.enumerateDevices()).filter((device) => device.kind === 'videoinput');
    } catch {
      return [];
    }
  }

  /** Lists the cameras (names appear once permission is given). */
  private async refreshCameras(): Promise<void> {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    const cameras = await this.cameras();
    const select = this.el.cameraSelect;
    const options = [new Option('Default camera', '')];
    for (const [index, camera] of cameras.entries()) {
      if (camera.deviceId) options.push(new Option(camera.label || `Camera ${index + 1}`, camera.deviceId));
    }
    select.replaceChildren(...options);
    const wanted = this.settings.value.cameraId;
    select.value = options.some((option) => option.value === wanted) ? wanted : '';
  }

  private async loadVideo(): Promise<void> {
    const file = this.el.videoInput.files?.[0];
    if (!file) return;
    this.stop();
    if (this.videoUrl) URL.revokeObjectURL(this.videoUrl);
    this.videoUrl = URL.createObjectURL(file);
    this.videoName = file.name;
    await this.playVideo();
  }

  private async playVideo(): Promise<void> {
    if (!this.videoUrl) return;
    this.stop();
    const run = this.run;
    this.setRunning('starting');
    const video = this.el.video;
    video.src = this.videoUrl;
    await this.play(run, 'video');
  }

  /** Plays the <video> and, once it runs, offers each new frame to the client. */
  private async play(run: number, running: 'camera' | 'video'): Promise<void> {
    const video = this.el.video;
    try {
      await video.play();
    } catch (error) {
      if (run !== this.run) return; // stopped meanwhile: play() rejects with AbortError, which is expected
      this.stop();
      if (running === 'video') {
        this.messages.show('video', `${this.videoName || 'The video'} cannot be played in this browser (${errorText(error) || video.error?.message || 'unsupported format'}).`);
      } else this.messages.show('camera', `The camera picture could not be shown: ${errorText(error)}`);
      return;
    }
    if (run !== this.run) return;
    if (running === 'video') this.messages.clear('video');
    this.setRunning(running);
    this.loop(run);
  }

  /** Offers each new frame to the client: from the picture's track where the browser can read it, else from the <video>. */
  private loop(run: number): void {
    this.loopVideo(run);
    // Video-frame callbacks stop while the page is hidden: then the track's frames are read instead, until it shows again.
    const hidden = (): void => {
      if (run !== this.run) document.removeEventListener('visibilitychange', hidden);
      else if (document.visibilityState === 'hidden' && !this.endReading) this.readHidden(run);
      else if (document.visibilityState !== 'hidden') {
        this.endReading?.();
        this.endReading = undefined;
      }
    };
    document.addEventListener('visibilitychange', hidden);
    hidden();
  }

  /** Reads the picture's track while the page is hidden (see {@link readTrack}), where the browser can. */
  private readHidden(run: number): void {
    const track = this.frameTrack();
    if (track) void this.readTrack(run, track.track, track.own);
  }

  /** The camera's video track, or one captured from the playing video file (own: this side stops it). */
  private frameTrack(): { track: MediaStreamTrack; own: boolean } | undefined {
    if (!trackProcessor()) return undefined;
    const camera = this.stream?.getVideoTracks()[0];
    if (camera) return { track: camera, own: false };
    const video = this.el.video as HTMLVideoElement & { captureStream?: () => MediaStream };
    try {
      const captured = video.captureStream?.().getVideoTracks()[0];
      return captured ? { track: captured, own: true } : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Reads the track's frames as they arrive and offers each to the client, until the run ends.
   * The browser keeps a short queue of its own and drops from it when a frame is read too late.
   */
  private async readTrack(run: number, track: MediaStreamTrack, own: boolean): Promise<void> {
    const Processor = trackProcessor()!;
    const reader = new Processor({ track }).readable.getReader();
    const end = (): void => void reader.cancel().catch(() => undefined);
    this.endReading = end;
    try {
      for (;;) {
        const { value: frame, done } = await reader.read();
        if (done) break;
        try {
          const client = this.client();
          // offer() has made its own picture of the frame once it resolves (or given up on it).
          if (client && run === this.run) await client.offer(frame).catch(() => undefined);
        } finally {
          frame.close();
        }
        if (run !== this.run) break;
      }
    } catch {
      // The track ended or the reading was cancelled: nothing more to offer.
    } finally {
      reader.releaseLock();
      if (own) track.stop();
      if (this.endReading === end) this.endReading = undefined;
    }
  }

  private loopVideo(run: number): void {
    const video = this.el.video;
    const perFrame = typeof video.requestVideoFrameCallback === 'function';
    let lastTime = -1;
    // A video file's rate: the shortest step between the media times of its first frames (a frame skipped only lengthens a step).
    const measure = this.running === 'video' ? { last: -1, shortest: Number.POSITIVE_INFINITY, frames: 0 } : undefined;
    const step = (_now?: number, metadata?: VideoFrameCallbackMetadata): void => {
      if (run !== this.run) return;
      if (measure && metadata && measure.frames < 20) {
        const gap = metadata.mediaTime - measure.last;
        if (measure.last >= 0 && gap > 0.001) measure.shortest = Math.min(measure.shortest, gap);
        measure.last = metadata.mediaTime;
        if (++measure.frames === 20 && Number.isFinite(measure.shortest)) this.setSourceRate(1 / measure.shortest);
      }
      const client = this.client();
      // A paused or seeking video offers nothing new; with rAF, only a changed time is a new frame.
      if (client && video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && video.currentTime !== lastTime) {
        if (!perFrame) lastTime = video.currentTime;
        client.offer(video).catch(() => {
          // The video had no picture at that moment (between loops, while stopping): skip it.
        });
      }
      schedule();
    };
    const schedule = (): void => {
      if (perFrame) video.requestVideoFrameCallback(step);
      else requestAnimationFrame(step);
    };
    schedule();
  }

  private async loadImage(): Promise<void> {
    const file = this.el.imageInput.files?.[0];
    if (!file) return;
    const url = URL.createObjectURL(file);
    const image = make('img');
    image.src = url;
    try {
      await image.decode();
    } catch {
      URL.revokeObjectURL(url);
      this.messages.show('image', `${file.name} is not an image this browser can read (${file.type || 'unknown type'}).`);
      return;
    }
    this.messages.clear('image');
    if (this.imageUrl) URL.revokeObjectURL(this.imageUrl);
    this.imageUrl = url;
    this.image = image;
    this.stop();
    this.processStill();
  }
}
