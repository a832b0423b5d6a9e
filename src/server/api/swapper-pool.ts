/**
 * The image work of one API process: a fixed number of slots (one per core by default), each with
 * its engines kept warm after first use. A request takes a free slot or is refused at once (503
 * with Retry-After): waiting in line would only pile requests up behind a busy CPU.
 */

import { createNodeSwapper, type NodeSwapper } from '../../node/jobs/swapper.js';
import type { OpenSwapper } from '../../node/jobs/image-job.js';
import type { EngineChoice } from '../../pipeline/options.js';

/** A slot held by one request; `open` hands out its warm engine (closing that releases nothing). */
export interface SwapperLease {
  open: OpenSwapper;
  release(): void;
}

export class SwapperPool {
  private readonly free: Map<EngineChoice, NodeSwapper>[] = [];
  private readonly all: Map<EngineChoice, NodeSwapper>[] = [];
  private closed = false;

  constructor(
    readonly slots: number,
    private readonly home: string,
    private readonly onChange: (busy: number) => void = () => undefined,
  ) {
    for (let i = 0; i < slots; i++) {
      const engines = new Map<EngineChoice, NodeSwapper>();
      this.free.push(engines);
      this.all.push(engines);
    }
  }

  get busy(): number {
    return this.slots - this.free.length;
  }

  /** A free slot, or undefined when all are busy (or the pool is closed). */
  tryAcquire(): SwapperLease | undefined {
    if (this.closed) return undefined;
    const engines = this.free.pop();
    if (!engines) return undefined;
    this.onChange(this.busy);
    let released = false;
    return {
      open: async (runtime) => {
        let swapper = engines.get(runtime.engine);
        if (!swapper) {
          swapper = await createNodeSwapper({ home: this.home, engine: runtime.engine, provider: runtime.provider, threads: runtime.threads });
          engines.set(runtime.engine, swapper);
        }
        const warm = swapper;
        return { ...warm, close: () => Promise.resolve() };
      },
      release: () => {
        if (released) return;
        released = true;
        this.free.push(engines);
        this.onChange(this.busy);
      },
    };
  }

  /** Closes every engine; called once the server takes no more requests. */
  async close(): Promise<void> {
    this.closed = true;
    const swappers = this.all.flatMap((engines) => [...engines.values()]);
    for (const engines of this.all) engines.clear();
    await Promise.all(swappers.map((swapper) => swapper.close().catch(() => undefined)));
  }
}
