/**
 * Latency histogram in microseconds with ~1 % relative precision (log buckets), so millions of
 * samples cost a fixed 16 KB and percentiles stay exact enough for p99 ratios. max and mean are
 * exact.
 */
const GROWTH = Math.log(1.01);
const BUCKETS = 2048; // 1.01^2048 µs ≈ 7e8 s: nothing overflows

export interface LatencySummary {
  count: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
}

export class Histogram {
  private counts = new Float64Array(BUCKETS);
  count = 0;
  private sum = 0;
  private max = 0;

  record(us: number): void {
    const v = Math.max(1, us);
    const i = Math.min(BUCKETS - 1, Math.floor(Math.log(v) / GROWTH));
    this.counts[i]! += 1;
    this.count += 1;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      // Report the bucket's upper bound, clamped to the true maximum.
      if (seen >= rank) return Math.min(this.max, Math.exp((i + 1) * GROWTH));
    }
    return this.max;
  }

  summary(): LatencySummary {
    const r = (n: number) => Math.round(n * 10) / 10;
    return {
      count: this.count,
      meanUs: r(this.count ? this.sum / this.count : 0),
      p50Us: r(this.percentile(50)),
      p90Us: r(this.percentile(90)),
      p99Us: r(this.percentile(99)),
      maxUs: r(this.max),
    };
  }
}

/** Microseconds on CLOCK_MONOTONIC: the same clock in every process of this machine. */
export function nowUs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e6 + ns / 1e3;
}
