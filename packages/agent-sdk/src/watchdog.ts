/**
 * Declares a connection dead after `timeoutMs` without a sign of life (a frame, a ping or a pong).
 * Call `touch()` on each; `onDead` runs once unless `stop()` came first.
 *
 * touch() runs for every inbound frame, so it only records the time: the one timer, when it
 * fires, re-arms itself for the rest of the window if there was a sign of life meanwhile
 * (instead of a clearTimeout + setTimeout per frame). A monotonic clock, so a wall-clock jump
 * can neither fire it early nor postpone it.
 */
import { performance } from 'node:perf_hooks';

export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private lastSeen = 0;

  constructor(
    private readonly timeoutMs: number,
    private readonly onDead: () => void,
  ) {}

  touch(): void {
    this.lastSeen = performance.now();
    if (!this.timer) this.arm(this.timeoutMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      const silentMs = performance.now() - this.lastSeen;
      if (silentMs < this.timeoutMs) return this.arm(this.timeoutMs - silentMs);
      this.timer = undefined;
      this.onDead();
    }, ms);
    // A watchdog alone must not keep the process alive.
    this.timer.unref();
  }
}
