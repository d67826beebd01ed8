/**
 * The brokers one web server may use (BROKER_URL, comma-separated; PROTOCOL §10) and what it
 * knows of each: ready or not, from its own `/readyz` (polled) and from the upstreams (a welcome
 * proves a broker, a failed dial or a dropped upstream makes it suspect until the next probe).
 *
 * Placement is rendezvous hashing of clientId over the broker URLs: a client's ranking is fixed,
 * so a browser that reconnects goes back to the broker it was on while that one is ready, and when
 * one broker goes only its clients move (each to the next ready broker of its own ranking).
 */
import { createHash } from 'node:crypto';
import { BrokerPath } from '@agent-bridge/common';
import { brokerHttpUrl } from './broker-url.ts';

export interface BrokerPoolOptions {
  urls: readonly string[];
  /** A probe that takes longer is a failure. */
  timeoutMs?: number;
  /** How long one probe round's answers stand when asked on demand. */
  cacheMs?: number;
  /** Background probe interval (0: only on demand). */
  pollMs?: number;
  now?: () => number;
  /** A probe answered 200; `startedAt` (`performance.now()`) is when it was sent (redial-wake.ts). */
  onReady?: (url: string, startedAt: number) => void;
}

interface BrokerState {
  url: string;
  readyzUrl: string;
  /** undefined: not probed yet. */
  ready: boolean | undefined;
}

export function rendezvousScore(clientId: string, url: string): number {
  return createHash('sha256').update(clientId).update('\0').update(url).digest().readUIntBE(0, 6);
}

export class BrokerPool {
  private readonly brokers: BrokerState[];
  private readonly now: () => number;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private probing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: BrokerPoolOptions) {
    if (opts.urls.length === 0) throw new Error('BrokerPool needs at least one broker URL');
    this.brokers = [...new Set(opts.urls)].map((url) => ({ url, readyzUrl: brokerHttpUrl(url) + BrokerPath.readyz, ready: undefined }));
    this.now = opts.now ?? Date.now;
  }

  get urls(): string[] {
    return this.brokers.map((b) => b.url);
  }

  get size(): number {
    return this.brokers.length;
  }

  /** Starts the background probes (unref'd); the first round runs at once. */
  start(): Promise<void> {
    const first = this.refresh(true);
    if (this.opts.pollMs && this.opts.pollMs > 0 && !this.timer) {
      this.timer = setInterval(() => void this.refresh(true), this.opts.pollMs);
      this.timer.unref();
    }
    return first;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Probe every broker unless the last round is younger than cacheMs (or `force`). */
  refresh(force = false): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!force && this.now() - this.checkedAt <= (this.opts.cacheMs ?? 1000)) return Promise.resolve();
    this.probing ??= Promise.all(this.brokers.map((b) => this.probe(b))).then(
      () => {
        this.checkedAt = this.now();
        this.probing = undefined;
      },
      () => {
        this.probing = undefined;
      },
    );
    return this.probing;
  }

  /** At least one broker is ready (one never probed counts as ready until its first probe). */
  get anyReady(): boolean {
    return this.brokers.some((b) => b.ready !== false);
  }

  /** Known ready (probed 200 or an upstream welcomed). */
  isReady(url: string): boolean {
    return this.state(url)?.ready === true;
  }

  readyUrls(): string[] {
    return this.brokers.filter((b) => b.ready === true).map((b) => b.url);
  }

  /** A welcome arrived from this broker. */
  markUp(url: string): void {
    const b = this.state(url);
    if (b) b.ready = true;
  }

  /** An upstream to this broker failed: do not send new clients there until a probe says otherwise. */
  markDown(url: string): void {
    const b = this.state(url);
    if (b && this.brokers.length > 1) b.ready = false;
  }

  /** Every broker URL, best first for this client: rendezvous order (highest score first). */
  ranking(clientId: string): string[] {
    return this.brokers
      .map((b) => ({ url: b.url, score: rendezvousScore(clientId, b.url) }))
      .sort((a, b) => b.score - a.score || (a.url < b.url ? -1 : 1))
      .map((e) => e.url);
  }

  /**
   * Where this client should dial: the first broker of its ranking that is not known to be down,
   * after `failed` when given (the broker it just lost: the next in its ranking, wrapping around).
   * With none ready, simply the next in the ranking, so redials still walk every broker.
   */
  pick(clientId: string, failed?: string): string {
    const ranking = this.ranking(clientId);
    const start = failed === undefined ? 0 : (ranking.indexOf(failed) + 1) % ranking.length;
    const ordered = [...ranking.slice(start), ...ranking.slice(0, start)];
    // A broker that just failed this client comes last, even if a stale probe still says ready.
    const candidates = failed === undefined || ordered.length === 1 ? ordered : ordered.filter((u) => u !== failed);
    return candidates.find((u) => this.state(u)?.ready !== false) ?? candidates[0]!;
  }

  private state(url: string): BrokerState | undefined {
    return this.brokers.find((b) => b.url === url);
  }

  private async probe(b: BrokerState): Promise<void> {
    let ok = false;
    const startedAt = performance.now();
    try {
      const res = await fetch(b.readyzUrl, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 2000) });
      ok = res.status === 200;
      await res.arrayBuffer().catch(() => undefined);
    } catch {
      ok = false;
    }
    b.ready = ok;
    if (ok && !this.closed) this.opts.onReady?.(b.url, startedAt);
  }
}
