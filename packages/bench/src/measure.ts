/**
 * CPU time and peak RSS of every process of a topology over one measurement window: CPU from
 * each process's own process.cpuUsage() (via the probe), peak RSS from /proc.
 */
import type { Child } from './child.ts';
import type { ProbeStats } from './probe.ts';
import { RssSampler } from './proc-stats.ts';

export interface ProcessMetrics {
  cpuUs?: number;
  /** CPU µs per operation (round trip, delivery, client) in the window. */
  cpuUsPerOp?: number;
  peakRssBytes?: number;
  [k: string]: number | undefined;
}

export class Window {
  private before = new Map<Child, ProbeStats>();
  private sampler: RssSampler;
  private startedAt = 0;
  elapsedMs = 0;

  constructor(private children: Child[]) {
    this.sampler = new RssSampler(() => this.children.map((c) => c.pid).filter((p): p is number => p !== undefined));
  }

  async start(): Promise<void> {
    this.sampler.start();
    await Promise.all(this.children.map(async (c) => this.before.set(c, await c.stats())));
    this.startedAt = performance.now();
  }

  /** End the window; `ops` is what CPU time is divided by (0: no per-op figure). */
  async stop(ops: number): Promise<Record<string, ProcessMetrics>> {
    this.elapsedMs = performance.now() - this.startedAt;
    const after = new Map<Child, ProbeStats | undefined>();
    await Promise.all(this.children.map(async (c) => after.set(c, await c.stats().catch(() => undefined))));
    const peaks = this.sampler.stop();
    const out: Record<string, ProcessMetrics> = {};
    for (const c of this.children) {
      const a = after.get(c);
      const b = this.before.get(c);
      const m: ProcessMetrics = {};
      // A process restarted inside the window (new pid) has no comparable CPU figure.
      if (a && b && a.pid === b.pid) {
        m.cpuUs = a.cpuUserUs + a.cpuSystemUs - (b.cpuUserUs + b.cpuSystemUs);
        if (ops > 0) m.cpuUsPerOp = round(m.cpuUs / ops, 2);
      }
      const peak = c.pid !== undefined ? peaks.get(c.pid) : undefined;
      if (peak !== undefined) m.peakRssBytes = peak;
      out[c.spec.name] = m;
    }
    return out;
  }
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
