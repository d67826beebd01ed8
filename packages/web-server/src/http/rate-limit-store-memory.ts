/** The in-memory HitCounter: fixed windows per key in this process, swept when over. */
import type { HitCounter, Hits } from './rate-limit-store.ts';

export interface MemoryHitCounterOptions {
  windowMs: number;
  now?: () => number;
}

export class MemoryHitCounter implements HitCounter {
  private readonly windows = new Map<string, { count: number; resetAtMs: number }>();
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: MemoryHitCounterOptions) {
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.sweep(), Math.max(1000, opts.windowMs));
    this.timer.unref();
  }

  async hit(key: string): Promise<Hits> {
    return this.hitNow(key);
  }

  /** The synchronous form (a fallback must not wait on anything). */
  hitNow(key: string): Hits {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || w.resetAtMs <= now) {
      w = { count: 0, resetAtMs: now + this.opts.windowMs };
      this.windows.set(key, w);
    }
    w.count++;
    return { count: w.count, resetAtMs: w.resetAtMs };
  }

  async unhit(key: string): Promise<void> {
    const w = this.windows.get(key);
    if (w && w.count > 0) w.count--;
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  sweep(): void {
    const now = this.now();
    for (const [key, w] of this.windows) if (w.resetAtMs <= now) this.windows.delete(key);
  }

  close(): void {
    clearInterval(this.timer);
    this.windows.clear();
  }
}
