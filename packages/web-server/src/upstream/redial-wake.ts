/**
 * Early redials once a broker is known to be back (docs/protocol.md, "Redial").
 *
 * Every upstream that lost its broker waits for its own step of the backoff (1 s, 2 s, 4 s … ±20 %,
 * PROTOCOL §5). After a broker restart (SIGTERM and a snapshot, a deploy) that makes each client
 * wait for the step it happens to be on when the broker is back: a broker back after 2.1 s left
 * clients on the 2-s step until 3.6 s, one back after 8 s (a loaded machine) left them on the 8-s
 * step until 15–17 s. The first proof that the broker accepts again — one upstream's welcome, or
 * a `/readyz` 200 of the pool's background probe — is news for every upstream waiting on it, so
 * this registry wakes them: each redials within a spread proportional to how many wait
 * (`ratePerSec` upgrades per second per web server, at most `maxSpreadMs`), at a random point of
 * it, so the broker is not hit by all of them in one instant.
 *
 * Only proof gathered by an attempt that *started after* an upstream was lost wakes it: a probe
 * answered by the broker that was about to go (or a welcome from before the loss) wakes nobody.
 * A dial that still fails goes on with the next step of its schedule, so §5 holds for every
 * dial that keeps failing; a woken upstream waits again, and only newer proof wakes it again.
 */
export interface RedialWakeOptions {
  /** Upgrades per second one wake round aims at: the spread is waiting ÷ this (default 5000). */
  ratePerSec?: number;
  /** The longest spread of one round (default 1000 ms). */
  maxSpreadMs?: number;
  /** Uniform in [0, 1): where in the spread each upstream redials (tests may fix it). */
  random?: () => number;
  /** One line per wake round (how many woken, over how long), not per upstream. */
  onRound?: (round: { broker: string; woken: number; spreadMs: number }) => void;
}

export interface WaitingUpstream {
  /** When it was lost (`performance.now()`): only proof gathered by an attempt started later wakes it. */
  since: number;
  /** Redial within `delayMs` at the latest (sooner if its own step is sooner). Called at most once. */
  wake(delayMs: number): void;
}

export const WAKE_RATE_PER_SEC = 5000;
export const WAKE_MAX_SPREAD_MS = 1000;

export class RedialWake {
  private readonly byBroker = new Map<string, Map<unknown, WaitingUpstream>>();
  private readonly ratePerSec: number;
  private readonly maxSpreadMs: number;
  private readonly random: () => number;

  constructor(private readonly opts: RedialWakeOptions = {}) {
    this.ratePerSec = opts.ratePerSec ?? WAKE_RATE_PER_SEC;
    this.maxSpreadMs = opts.maxSpreadMs ?? WAKE_MAX_SPREAD_MS;
    this.random = opts.random ?? Math.random;
  }

  /** `key` (one per upstream) lost `broker` and waits for its next step. */
  wait(broker: string, key: unknown, upstream: WaitingUpstream): void {
    let waiting = this.byBroker.get(broker);
    if (!waiting) this.byBroker.set(broker, (waiting = new Map()));
    waiting.set(key, upstream);
  }

  /** `key` no longer waits (it is dialling, or its browser is gone). */
  done(broker: string | undefined, key: unknown): void {
    if (broker === undefined) return;
    const waiting = this.byBroker.get(broker);
    if (!waiting?.delete(key)) return;
    if (waiting.size === 0) this.byBroker.delete(broker);
  }

  /**
   * `broker` accepted an attempt that started at `startedAt` (`performance.now()`): an upstream's
   * welcome (its dial's start) or a `/readyz` 200 (the probe's start). Wakes every upstream of that
   * broker lost before then; returns how many.
   */
  back(broker: string, startedAt: number): number {
    const waiting = this.byBroker.get(broker);
    if (!waiting) return 0;
    const woken: WaitingUpstream[] = [];
    for (const [key, w] of waiting) {
      if (w.since >= startedAt) continue;
      waiting.delete(key);
      woken.push(w);
    }
    if (waiting.size === 0) this.byBroker.delete(broker);
    if (woken.length === 0) return 0;
    const spreadMs = Math.min(this.maxSpreadMs, Math.ceil((woken.length * 1000) / this.ratePerSec));
    for (const w of woken) w.wake(Math.floor(this.random() * spreadMs));
    this.opts.onRound?.({ broker, woken: woken.length, spreadMs });
    return woken.length;
  }

  /** Upstreams waiting, over every broker. */
  get size(): number {
    let n = 0;
    for (const w of this.byBroker.values()) n += w.size;
    return n;
  }
}
