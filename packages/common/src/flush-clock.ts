/**
 * Latencies that end when a frame leaves the process. A frame handed to `ws.send` on a socket the
 * turn batcher holds (socket-batcher.ts) is written when the turn ends, not at the call; so the
 * end of "received → written" is read there, once per turn for every frame of it. That is both
 * nearer to what the histograms promise (the time a frame waits for the rest of its turn counts;
 * under load that is milliseconds) and cheaper: one clock read per turn instead of one per frame
 * (`performance.now()` / `Date.now()` are ~45 ns each, paid per delivered frame; issue 15 item 7).
 *
 * Every observation is still made (nothing sampled), only at the flush: a scrape between a send
 * and the end of its turn cannot happen (both run on the one thread), so nothing reads the
 * histogram without the turn's observations.
 */
import { type SocketBatcher, turnBatcher } from './socket-batcher.ts';

export interface LatencySink {
  observe(value: number): void;
}

export class FlushClock {
  private readonly sinks: LatencySink[] = [];
  private readonly starts: number[] = [];
  private readonly onFlush = (): void => this.flush();

  /**
   * `clock`: the clock the starts were read from; `unit`: what (end − start) is multiplied by
   * before it is observed (1/1000: milliseconds to seconds).
   */
  constructor(
    private readonly clock: () => number,
    private readonly unit: number,
    private readonly batcher: SocketBatcher = turnBatcher,
  ) {}

  /** Observe (the clock at this turn's flush − `start`) × unit into `sink` (negative: 0). */
  observe(sink: LatencySink, start: number): void {
    if (this.sinks.length === 0) this.batcher.beforeFlush(this.onFlush);
    this.sinks.push(sink);
    this.starts.push(start);
  }

  /** Observations waiting for the flush (tests). */
  get pending(): number {
    return this.sinks.length;
  }

  /** Run by the batcher at the end of the turn, just before the held sockets are written. */
  flush(): void {
    const n = this.sinks.length;
    if (n === 0) return;
    const end = this.clock();
    const { sinks, starts, unit } = this;
    try {
      for (let i = 0; i < n; i++) {
        const waited = end - starts[i]!;
        // Not Math.max(0, …): a start that is not a number must reach no histogram as NaN.
        sinks[i]!.observe(waited > 0 ? waited * unit : 0);
      }
    } finally {
      // Emptied whatever a sink did: the next observation schedules the next flush.
      sinks.length = 0;
      starts.length = 0;
    }
  }
}
