/**
 * The pipe thread (see ffmpeg-pipes.ts), run as a worker thread: it starts ffmpeg children and
 * moves their raw frames, reading stdout into whole frames ahead of the main thread and writing the
 * frames queued for stdin, so that ffmpeg decodes and encodes while the main thread is busy
 * swapping (a pipe nobody serves stops ffmpeg at 64 KiB). One thread serves every child of the
 * process, each by its id; nothing here computes.
 */

import { spawn, type ChildProcess, type IOType } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { pipeRgbFrames } from './ffmpeg-frames.js';
import type { FromPipeThread, PipeChildSpec, ToPipeThread } from './ffmpeg-pipes.js';

const port = parentPort!;

/** One ffmpeg child and the state of its pipes. */
class PipeChild {
  private readonly child: ChildProcess;
  /** Frames sent and not yet taken by the main thread (it takes them in order). */
  private outstanding = 0;
  private stopped = false;
  private wake: (() => void) | undefined;
  /** With `latest`: the newest frame, held back while none may be sent. */
  private held: { frame: Uint8ClampedArray; index: number } | undefined;
  private readonly spare: Uint8ClampedArray[] = [];
  private dropped = 0;

  constructor(
    private readonly id: number,
    private readonly spec: PipeChildSpec,
  ) {
    const fd3: IOType = spec.audio || spec.audioIn ? 'pipe' : 'ignore';
    const extra: IOType[] = spec.progress ? [fd3, 'pipe'] : fd3 === 'pipe' ? [fd3] : [];
    const stdio: IOType[] = [spec.write ? 'pipe' : 'ignore', spec.read ? 'pipe' : 'ignore', 'pipe', ...extra];
    const child: ChildProcess = spawn(spec.binary, spec.args, { stdio, detached: spec.detached });
    this.child = child;
    // With `latest` the main thread asks for each frame: none is sent before it does.
    if (spec.read?.latest) this.outstanding = spec.read.ahead;
    child.once('spawn', () => this.post({ type: 'spawned', pid: child.pid! }));
    child.once('error', (error) => this.post({ type: 'spawn-error', message: error.message }));
    child.stderr!.on('data', (chunk: Buffer) => this.post({ type: 'stderr', chunk }));
    if (spec.audio) {
      const pcm = child.stdio[3] as Readable;
      pcm.on('data', (chunk: Buffer) => this.post({ type: 'audio', chunk }));
      pcm.on('error', () => undefined);
      pcm.on('end', () => this.post({ type: 'audio-end' }));
    }
    if (spec.audioIn) (child.stdio[3] as Writable).on('error', () => undefined);
    if (spec.progress) {
      const progress = child.stdio[4] as Readable;
      progress.setEncoding('utf8');
      progress.on('data', (text: string) => this.post({ type: 'progress', text }));
      progress.on('error', () => undefined);
    }
    // EPIPE when ffmpeg dies mid-frame: the write callbacks and the exit status report it.
    child.stdin?.on('error', () => undefined);
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
    const reading = spec.read ? this.read() : Promise.resolve();
    // The end of stdout is sent before the exit, so the main thread has every frame when it sees it.
    void Promise.all([closed, reading]).then(([status]) => {
      this.post({ type: 'exit', ...status });
      children.delete(this.id);
    });
  }

  private post(message: FromPipeThread, transfer?: ArrayBuffer[]): void {
    port.postMessage({ id: this.id, message }, transfer);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  handle(message: ToPipeThread): void {
    switch (message.type) {
      case 'taken':
        this.outstanding--;
        this.sendHeld();
        this.notify();
        break;
      case 'write': {
        const { frameBytes, shared } = this.spec.write!;
        const bytes = Buffer.from(shared, message.slot * frameBytes, frameBytes);
        // Repeats first without a callback: the last write's callback frees the slot once every copy is in the pipe.
        for (let i = 1; i < (message.times ?? 1); i++) this.child.stdin!.write(bytes);
        this.child.stdin!.write(bytes, (error) => this.post({ type: 'written', slot: message.slot, ok: !error }));
        break;
      }
      case 'end-input':
        this.child.stdin?.end();
        break;
      case 'audio-in':
        if (this.spec.audioIn) (this.child.stdio[3] as Writable).write(message.chunk);
        break;
      case 'end-audio-in':
        if (this.spec.audioIn) (this.child.stdio[3] as Writable).end();
        break;
      case 'recycle':
        // Up to the frames that may be out at once and one being read: more would only sit here.
        if (this.spec.read && this.spare.length <= this.spec.read.ahead && message.data.byteLength === this.spec.read.frameBytes)
          this.spare.push(new Uint8ClampedArray(message.data));
        break;
      case 'kill':
        this.stopped = true;
        this.child.kill(message.signal);
        this.notify();
        break;
    }
  }

  private send(frame: Uint8ClampedArray, index: number): void {
    this.outstanding++;
    const buffer = frame.buffer as ArrayBuffer;
    this.post({ type: 'frame', data: buffer, index, dropped: this.dropped, at: performance.timeOrigin + performance.now() }, [buffer]);
  }

  private sendHeld(): void {
    const held = this.held;
    if (held && this.outstanding < this.spec.read!.ahead && !this.stopped) {
      this.held = undefined;
      this.send(held.frame, held.index);
    }
  }

  /**
   * Reads stdout into frames and sends each (its buffer moved, not copied) while fewer than `ahead`
   * wait on the main thread. With `latest` a frame that comes while none may be sent replaces the
   * one held back (counted as dropped, its buffer reused), so ffmpeg is never held up; otherwise
   * reading pauses, and the pipe holds ffmpeg back.
   */
  private async read(): Promise<void> {
    const { frameBytes, ahead, latest, planar } = this.spec.read!;
    const tail = { bytes: 0 };
    let index = 0;
    try {
      const allocate = (): Uint8ClampedArray => this.spare.pop() ?? new Uint8ClampedArray(frameBytes);
      for await (const frame of pipeRgbFrames(this.child.stdout as AsyncIterable<Buffer>, frameBytes, allocate, tail, planar)) {
        if (this.stopped) break;
        const at = index++;
        if (latest) {
          if (this.held) {
            this.dropped++;
            this.spare.push(this.held.frame);
          }
          this.held = { frame, index: at };
          this.sendHeld();
          continue;
        }
        while (this.outstanding >= ahead && !this.stopped) await new Promise<void>((resolve) => (this.wake = resolve));
        if (this.stopped) break;
        this.send(frame, at);
      }
    } catch {
      // The pipe broke: the exit status says why.
    }
    // A frame held back at the end still goes, once there is room.
    while (this.held && !this.stopped) {
      this.sendHeld();
      if (this.held) await new Promise<void>((resolve) => (this.wake = resolve));
    }
    this.post({ type: 'end', tail: tail.bytes });
  }
}

const children = new Map<number, PipeChild>();

port.on('message', ({ id, message }: { id: number; message: ToPipeThread | { type: 'start'; spec: PipeChildSpec } }) => {
  if (message.type === 'start') children.set(id, new PipeChild(id, message.spec));
  else children.get(id)?.handle(message);
});
