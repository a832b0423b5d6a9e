/**
 * The talk routes in the SDK: the request of `POST /v1/talks` (JSON, or a form with the face, audio
 * and phone track as files) and a client for the `/v1/talks/live` WebSocket, where text chunks (or
 * the caller's PCM with phones) go in as a language model produces them and audio and marked JPEG
 * frames come back in real time; the face is a photo, or a video (an upload) played in a loop with
 * its own motion and its mouth replaced. Browser and Node alike: the global WebSocket (Node 22 and
 * browsers), or any constructor with the same interface (the `ws` package on Node 20).
 */

import { LiveswapApiError } from './errors.js';
import type { paths } from './schema.js';

/** POST /v1/talks as JSON: the face (an identity, or an upload with consent), text or an audio upload, and options. */
export type TalkRequest = paths['/v1/talks']['post']['requestBody']['content']['application/json'];

/** Files sent with a talk instead of upload ids (multipart): a face photo or short video, the caller's audio, its phone track. */
export interface TalkFiles {
  face?: Blob | Uint8Array;
  audio?: Blob | Uint8Array;
  /** "phone end_seconds" per line, or JSON [{"phone","end"}]. */
  phonemes?: string;
}

/** The first message of a live talk: the face (an identity, an upload, or a photo with consent), and how to render. */
export interface TalkLiveStart {
  faceIdentityId?: string;
  /** A finished upload (with `consent`): a photo, or a video of the face, which plays in a loop keeping its own motion. */
  faceUploadId?: string;
  /** A JPEG, PNG or WebP photo of the face; needs `consent`. */
  facePhoto?: Uint8Array;
  consent?: { subject: 'self' | 'other-with-permission'; attested: true; subjectName?: string; statementVersion: string };
  /** The face gets this identity (swapped once, before it talks). */
  sourceIdentityId?: string;
  /** A flite voice on the server (`flite -lv`). */
  voice?: string;
  /** Frames per second, 5–30 (default 25). */
  fps?: number;
  /** The longest side of the frames (default 512). */
  size?: number;
  /** JPEG quality, 30–95 (default 80). */
  quality?: number;
  /** A video face: its face tracked on `every` frame (default), or on every other frame with the ones between interpolated (`alternate`, cheaper). */
  tracking?: 'every' | 'alternate';
}

/** What the server says once the face is ready. */
export interface TalkLiveReady {
  /** What talks: a photo (idle sway and blinks), or a video in a loop. */
  face: 'photo' | 'video';
  fps: number;
  width: number;
  height: number;
  /** The audio's format: mono signed 16-bit little-endian PCM. */
  audio: { format: 's16le'; sampleRate: number; channels: 1 };
  /** How far ahead of real time the server may send (seconds): a player's buffer should hold at least this. */
  leadSeconds: number;
  /** Whether the server can speak text (flite installed); without it, send audio. */
  speaks: boolean;
  watermarkId: string;
  label: { shown: boolean; text?: string };
}

/** Where a chunk of speech was placed on the stream's clock. */
export interface TalkLiveSpeech {
  chunk: number;
  start: number;
  duration: number;
  drivenBy: 'flite' | 'phone track' | 'audio envelope';
}

/** The summary the server sends at the end. */
export interface TalkLiveSummary {
  /** Frames sent. */
  frames: number;
  /** Frames the server rendered too late to send (their audio was sent). */
  skipped: number;
  /** Frames dropped because the one before had not reached this client yet (the freshest frame wins). */
  dropped: number;
  face: 'photo' | 'video';
  /** A video face: frames whose face was tracked, detected, known from an earlier pass, interpolated, or not found. */
  tracking?: { mode: 'every' | 'alternate'; tracked: number; detected: number; cached: number; interpolated: number; withoutFace: number };
  seconds: number;
  audioSeconds: number;
  chunks: number;
  speechSeconds: number;
  width: number;
  height: number;
  fps: number;
  watermarkId: string;
}

export interface TalkLiveHandlers {
  /** One frame's audio at `t` seconds on the stream's clock. */
  onAudio?: (t: number, pcm: Int16Array) => void;
  /** A frame at `t` seconds: a JPEG, labelled and watermarked. */
  onFrame?: (t: number, jpeg: Uint8Array) => void;
  onSpeech?: (speech: TalkLiveSpeech) => void;
  /** An error about one message (the talk goes on) or the whole talk (it then ends). */
  onError?: (error: LiveswapApiError) => void;
}

/** A live talk in progress. */
export interface TalkLiveSession {
  /** Resolves when the face is ready (the stream of frames has begun). */
  readonly ready: Promise<TalkLiveReady>;
  /** Resolves with the summary once everything said has been spoken; rejects when the talk fails. */
  readonly done: Promise<TalkLiveSummary>;
  /** Speaks `text` (a sentence or a part of one, as the model wrote it) after what is already queued. */
  say(text: string): void;
  /** Queues the caller's speech: mono s16le PCM at `sampleRate` (16000, 22050, 24000, 44100 or 48000), with phones timed from its start. */
  sendAudio(pcm: Int16Array | Uint8Array, sampleRate: number, phonemes?: readonly { phone: string; end: number }[]): void;
  /** Nothing more to say: the talk ends once what is queued has been spoken. */
  end(): void;
  /** Closes at once. */
  close(): void;
}

/** The subset of the WebSocket interface the live talk uses (browsers' and the `ws` package's alike). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Binary messages: byte 0 the kind, bytes 4–11 the time (float64 LE), then the payload. */
const AUDIO = 1;
const VIDEO = 2;
const HEADER = 12;

/** Base64 of bytes without Node's Buffer. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The multipart form of POST /v1/talks. */
export function talkForm(request: TalkRequest, files: TalkFiles): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(request)) {
    if (value === undefined) continue;
    form.append(name, typeof value === 'string' ? value : typeof value === 'number' ? String(value) : JSON.stringify(value));
  }
  const blob = (input: Blob | Uint8Array): Blob => (input instanceof Uint8Array ? new Blob([input.slice()]) : input);
  if (files.face) form.append('face', blob(files.face), 'face');
  if (files.audio) form.append('audio', blob(files.audio), 'audio');
  if (files.phonemes !== undefined) form.append('phonemes', files.phonemes);
  return form;
}

/**
 * Opens a live talk on `baseUrl` (http(s) or ws(s)) with `token` (sent as `access_token` in the
 * query: a browser's WebSocket cannot send headers; the server keeps it out of its logs).
 */
export function connectTalkLive(
  options: { baseUrl: string; token: string; WebSocket?: WebSocketConstructor },
  start: TalkLiveStart,
  handlers: TalkLiveHandlers = {},
): TalkLiveSession {
  const Socket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Socket) throw new LiveswapApiError(0, 'network', 'No WebSocket here: on Node 20 pass one, e.g. `WebSocket` from the ws package.');
  const url = `${options.baseUrl.replace(/^http/, 'ws').replace(/\/+$/, '')}/v1/talks/live?access_token=${encodeURIComponent(options.token)}`;
  const socket = new Socket(url);
  socket.binaryType = 'arraybuffer';
  const pending: string[] = [];
  const sendJson = (message: Record<string, unknown>): void => {
    const text = JSON.stringify(message);
    if (socket.readyState === 1) socket.send(text);
    else pending.push(text);
  };
  let resolveReady!: (ready: TalkLiveReady) => void;
  let rejectReady!: (error: unknown) => void;
  let resolveDone!: (summary: TalkLiveSummary) => void;
  let rejectDone!: (error: unknown) => void;
  const ready = new Promise<TalkLiveReady>((resolve, reject) => ((resolveReady = resolve), (rejectReady = reject)));
  const done = new Promise<TalkLiveSummary>((resolve, reject) => ((resolveDone = resolve), (rejectDone = reject)));
  // Whoever awaits only one of them must not see the other's rejection as unhandled.
  ready.catch(() => undefined);
  done.catch(() => undefined);
  let failure: LiveswapApiError | undefined;
  const { facePhoto, ...fields } = start;
  sendJson({ type: 'start', ...fields, ...(facePhoto ? { facePhoto: toBase64(facePhoto) } : {}) });

  socket.onopen = () => {
    for (const text of pending.splice(0)) socket.send(text);
  };
  socket.onmessage = (event) => {
    if (typeof event.data !== 'string') {
      const bytes = new Uint8Array(event.data as ArrayBuffer);
      const t = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(4, true);
      const payload = bytes.subarray(HEADER);
      if (bytes[0] === AUDIO) handlers.onAudio?.(t, new Int16Array(payload.slice().buffer));
      else if (bytes[0] === VIDEO) handlers.onFrame?.(t, payload);
      return;
    }
    const message = JSON.parse(event.data) as { type: string; kind?: string; status?: number; message?: string } & Record<string, unknown>;
    if (message.type === 'ready') resolveReady(message as unknown as TalkLiveReady);
    else if (message.type === 'speech') handlers.onSpeech?.(message as unknown as TalkLiveSpeech);
    else if (message.type === 'end') resolveDone(message as unknown as TalkLiveSummary);
    else if (message.type === 'error') {
      // The status is the one the same refusal gets on the HTTP routes.
      const error = new LiveswapApiError(message.status ?? 0, message.kind ?? 'internal', message.message ?? 'The live talk failed.');
      failure = error;
      handlers.onError?.(error);
    }
  };
  socket.onclose = (event) => {
    const error = failure ?? new LiveswapApiError(0, 'network', `The live talk closed (${event.code}${event.reason ? ` ${event.reason}` : ''}) before it ended.`);
    rejectReady(error);
    rejectDone(error);
  };
  socket.onerror = () => {
    // The close that follows says why.
  };
  return {
    ready,
    done,
    say: (text) => sendJson({ type: 'text', text }),
    sendAudio: (pcm, sampleRate, phonemes) => {
      const bytes = pcm instanceof Uint8Array ? pcm : new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
      sendJson({ type: 'audio', pcm: toBase64(bytes), sampleRate, ...(phonemes ? { phonemes } : {}) });
    },
    end: () => sendJson({ type: 'end' }),
    close: () => socket.close(1000, 'closed by the client'),
  };
}
