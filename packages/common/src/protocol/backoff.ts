/**
 * Redial schedule shared by every dialing side (agent SDK, web server upstream, browser client):
 * 1 s, 2 s, 4 s … capped at 60 s, each ±20 % jitter so a fleet that lost the same server does not
 * come back in lock-step.
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 1000;
    this.maxMs = opts.maxMs ?? 60_000;
    this.jitter = opts.jitter ?? 0.2;
    this.random = opts.random ?? Math.random;
  }

  /** Delay before the next attempt; each call moves one step up the schedule. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const spread = base * this.jitter;
    return Math.max(0, Math.round(base - spread + this.random() * 2 * spread));
  }

  /** Back to the first step: call once a connection has stayed up for a while. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

/** How long a connection must stay up before the schedule starts again from 1 s. */
export const BACKOFF_RESET_AFTER_MS = 10_000;
