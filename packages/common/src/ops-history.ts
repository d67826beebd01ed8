/**
 * The numbers behind `GET /api/ops` that are not plain gauges: frames/s and delivery latency over
 * the last minutes, sampled from the service's own prom-client metrics (so the ops view and a
 * Prometheus scrape can never disagree), and the recent errors and closes.
 */
import type { Counter, Histogram } from 'prom-client';
import type { OpsEvent, OpsSample } from './protocol/ops.ts';

/**
 * A quantile from cumulative histogram buckets, the way Prometheus' histogram_quantile does it:
 * linear interpolation inside the bucket holding the rank; the +Inf bucket answers its lower
 * bound. Null without observations.
 */
export function quantileFromBuckets(q: number, buckets: ReadonlyArray<{ le: number; count: number }>): number | null {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (b.le === Number.POSITIVE_INFINITY) return lowerLe;
      const inBucket = b.count - lowerCount;
      return inBucket <= 0 ? b.le : lowerLe + (b.le - lowerLe) * ((rank - lowerCount) / inBucket);
    }
    lowerLe = b.le;
    lowerCount = b.count;
  }
  return lowerLe;
}

async function counterTotal(c: Counter<string>): Promise<number> {
  return (await c.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** Cumulative bucket counts summed over every other label. */
async function bucketTotals(h: Histogram<string>): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const v of (await h.get()).values) {
    if (!v.metricName?.endsWith('_bucket')) continue;
    const le = v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le);
    out.set(le, (out.get(le) ?? 0) + v.value);
  }
  return out;
}

export interface OpsHistorySources {
  framesIn: Counter<string>;
  framesOut: Counter<string>;
  /** broker: delivery latency; web: end-to-end latency. */
  latency?: Histogram<string>;
}

export class OpsHistory {
  readonly intervalMs: number;
  private readonly keep: number;
  private readonly samples: OpsSample[] = [];
  private prev: { t: number; in: number; out: number; buckets: Map<number, number> } | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly src: OpsHistorySources,
    opts: { intervalMs?: number; keep?: number; now?: () => number } = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 5000;
    this.keep = opts.keep ?? 120; // 10 minutes at 5 s
    this.now = opts.now ?? Date.now;
  }
  private readonly now: () => number;

  /** Take one sample: rates and quantiles over the time since the previous one. */
  async sample(): Promise<OpsSample> {
    const t = this.now();
    const cur = {
      t,
      in: await counterTotal(this.src.framesIn),
      out: await counterTotal(this.src.framesOut),
      buckets: this.src.latency ? await bucketTotals(this.src.latency) : new Map<number, number>(),
    };
    const prev = this.prev;
    this.prev = cur;
    const seconds = prev ? (t - prev.t) / 1000 : 0;
    const delta = [...cur.buckets].map(([le, count]) => ({ le, count: count - (prev?.buckets.get(le) ?? 0) }));
    const ms = (q: number) => {
      const s = prev ? quantileFromBuckets(q, delta) : null;
      return s === null ? null : s * 1000;
    };
    const sample: OpsSample = {
      t,
      framesInPerSec: prev && seconds > 0 ? Math.max(0, cur.in - prev.in) / seconds : null,
      framesOutPerSec: prev && seconds > 0 ? Math.max(0, cur.out - prev.out) / seconds : null,
      deliveryP50Ms: ms(0.5),
      deliveryP99Ms: ms(0.99),
    };
    if (prev) {
      this.samples.push(sample);
      if (this.samples.length > this.keep) this.samples.shift();
    }
    return sample;
  }

  history(): OpsSample[] {
    return [...this.samples];
  }

  latest(): OpsSample {
    return this.samples.at(-1) ?? { t: this.now(), framesInPerSec: null, framesOutPerSec: null, deliveryP50Ms: null, deliveryP99Ms: null };
  }

  start(): void {
    if (this.timer) return;
    void this.sample();
    // unref: sampling must never keep a draining process alive
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The last `limit` events, most recent first (recent errors, recent closes). */
export class EventRing {
  private readonly items: OpsEvent[] = [];
  constructor(private readonly limit = 50) {}
  push(event: OpsEvent): void {
    this.items.unshift(event);
    if (this.items.length > this.limit) this.items.pop();
  }
  list(): OpsEvent[] {
    return [...this.items];
  }
}
