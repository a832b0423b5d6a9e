/**
 * The output-page relay: finished frames, JPEG-encoded, sent over a WebSocket to the server, which
 * hands them to every /output page. A frame is skipped, never queued, while two encodings are under
 * way or the socket still holds a megabyte unsent, and frames go out in the order they came. Runs in
 * a worker of its own where the browser can start one from the processing worker, so the encoding
 * takes another core than the swap (see relay-worker.ts); else inside the processing worker.
 */

/** A relay frame is skipped while this much is still unsent (a slow /output page never queues frames). */
const RELAY_BACKLOG = 1 << 20;
/** JPEG encodings of relay frames under way at once: a burst of frames is encoded, not skipped. */
const RELAY_ENCODES = 3;

/** What the relay tells its owner: how many /output pages watch, a frame that failed, the connection lost. */
export type RelayEvent = { type: 'watchers'; watchers: number } | { type: 'failed'; message: string } | { type: 'closed' };

/** Messages to a relay worker; it answers with {@link RelayEvent}s and `{ type: 'done' }` for each frame taken. */
export type ToRelay = { type: 'connect'; url: string | null } | { type: 'frame'; picture: ImageBitmap | VideoFrame };

export class Relay {
  private socket: WebSocket | undefined;
  private watchers = 0;
  private encoding = 0;
  private sent: Promise<void> = Promise.resolve();
  private readonly canvas = new OffscreenCanvas(1, 1);

  constructor(private readonly tell: (event: RelayEvent) => void) {}

  /** Connects to the relay's URL (null: disconnects). */
  connect(url: string | null): void {
    const old = this.socket;
    this.socket = undefined;
    old?.close();
    this.watchers = 0;
    if (!url) return;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== 'string') return;
      try {
        const { watchers } = JSON.parse(event.data) as { watchers?: number };
        if (typeof watchers === 'number' && this.socket === socket) {
          this.watchers = watchers;
          this.tell({ type: 'watchers', watchers });
        }
      } catch {
        // not a message of ours
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.watchers = 0;
      this.tell({ type: 'closed' });
    };
  }

  /** Whether a frame offered now would be sent (someone watches, the connection keeps up). */
  get wants(): boolean {
    const socket = this.socket;
    return !!socket && this.watchers > 0 && this.encoding < RELAY_ENCODES && socket.readyState === WebSocket.OPEN && socket.bufferedAmount <= RELAY_BACKLOG;
  }

  /** Encodes and sends a frame when {@link wants}; the picture is closed either way. */
  send(picture: ImageBitmap | VideoFrame): void {
    if (!this.wants) {
      picture.close();
      return;
    }
    const socket = this.socket!;
    const [width, height] = 'displayWidth' in picture ? [picture.displayWidth, picture.displayHeight] : [picture.width, picture.height];
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    this.canvas.getContext('2d')!.drawImage(picture, 0, 0);
    picture.close();
    this.encoding++;
    // The encoding takes the canvas as it is now; frames are sent in the order they were drawn.
    const blob = this.canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 });
    this.sent = this.sent
      .then(async () => {
        const bytes = await blob;
        if (socket.readyState === WebSocket.OPEN) socket.send(bytes);
      })
      .catch((error: unknown) => this.tell({ type: 'failed', message: error instanceof Error ? error.message : String(error) }))
      .finally(() => this.encoding--);
  }
}
