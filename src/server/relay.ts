/**
 * The output relay: the live app's worker publishes encoded frames (JPEG/WebP, one binary message
 * each) and every output page (OBS browser source) watching receives them. Nothing queues without
 * bound: a watcher still sending the previous frames skips frames until it catches up.
 */

import type { WebSocket } from '@fastify/websocket';

/** Largest frame accepted; over it the publisher is closed with 1009 (message too big). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** A watcher with more than this still unsent gets no new frame until it drains. */
export const MAX_WATCHER_BACKLOG = 2 * 1024 * 1024;

export class FrameRelay {
  private readonly publishers = new Set<WebSocket>();
  private readonly watchers = new Set<WebSocket>();
  /** The newest frame, handed to a watcher as soon as it connects; cleared when the last publisher leaves. */
  private latest: Buffer | undefined;

  get watcherCount(): number {
    return this.watchers.size;
  }

  addPublisher(socket: WebSocket): void {
    this.publishers.add(socket);
    socket.on('message', (data, isBinary) => {
      if (!isBinary) return; // the protocol has no text messages from publishers
      const frame = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (frame.length > MAX_FRAME_BYTES) {
        socket.close(1009, `A frame may be at most ${MAX_FRAME_BYTES} bytes.`);
        return;
      }
      this.broadcast(frame);
    });
    socket.on('close', () => {
      this.publishers.delete(socket);
      if (this.publishers.size === 0) this.latest = undefined;
    });
    this.tell(socket);
  }

  addWatcher(socket: WebSocket): void {
    this.watchers.add(socket);
    socket.on('close', () => {
      this.watchers.delete(socket);
      this.tellAll();
    });
    if (this.latest) socket.send(this.latest, { binary: true });
    this.tellAll();
  }

  /** Sends a frame made in this process (liveswap live's /output page) to every watcher, as a publisher's would be. */
  publish(frame: Buffer): void {
    this.broadcast(frame);
  }

  /** Drops every connection (server shutdown). */
  closeAll(): void {
    for (const socket of [...this.publishers, ...this.watchers]) socket.terminate();
    this.publishers.clear();
    this.watchers.clear();
    this.latest = undefined;
  }

  private broadcast(frame: Buffer): void {
    this.latest = frame;
    for (const watcher of this.watchers) {
      if (watcher.readyState === watcher.OPEN && watcher.bufferedAmount <= MAX_WATCHER_BACKLOG) watcher.send(frame, { binary: true });
    }
  }

  private tell(publisher: WebSocket): void {
    if (publisher.readyState === publisher.OPEN) publisher.send(JSON.stringify({ watchers: this.watchers.size }));
  }

  private tellAll(): void {
    for (const publisher of this.publishers) this.tell(publisher);
  }
}
