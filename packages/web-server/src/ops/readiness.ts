/**
 * The web server's `/readyz` (PROTOCOL §11): ready while it is not draining and its broker is
 * reachable. Reachability is the broker's own `/readyz` answering 200 (a draining broker counts
 * as unreachable: new browsers should go where they can be served), probed when asked and
 * remembered for `cacheMs`, so a load balancer polling us often costs the broker at most one
 * probe per `cacheMs`. A live upstream whose welcome just arrived also proves it.
 */
import { BrokerPath } from '@agent-bridge/common';
import { brokerHttpUrl } from '../upstream/broker-url.ts';

export interface ReadinessState {
  ready: boolean;
  /** Why not (empty when ready): `draining`, `broker_unreachable`. */
  reasons: string[];
}

export interface WebReadinessOptions {
  brokerUrl: string;
  /** A probe that takes longer is a failure. */
  timeoutMs?: number;
  /** How long one probe's answer stands. */
  cacheMs?: number;
  now?: () => number;
}

export class WebReadiness {
  private draining = false;
  private reachable = false;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private probing: Promise<void> | undefined;
  private readonly url: string;
  private readonly now: () => number;

  constructor(private readonly opts: WebReadinessOptions) {
    this.url = brokerHttpUrl(opts.brokerUrl) + BrokerPath.readyz;
    this.now = opts.now ?? Date.now;
  }

  /** SIGTERM: from now on /readyz is 503, before anything closes. */
  drain(): void {
    this.draining = true;
  }

  /** An upstream got its welcome: the broker is reachable (no probe needed for a while). */
  brokerSeen(): void {
    this.reachable = true;
    this.checkedAt = this.now();
  }

  /** The last known state, without probing (for the `ready` gauge's fast path and logs). */
  get last(): ReadinessState {
    return this.state();
  }

  async check(): Promise<ReadinessState> {
    if (!this.draining && this.now() - this.checkedAt > (this.opts.cacheMs ?? 1000)) {
      this.probing ??= this.probe().finally(() => {
        this.probing = undefined;
      });
      await this.probing;
    }
    return this.state();
  }

  private state(): ReadinessState {
    const reasons: string[] = [];
    if (this.draining) reasons.push('draining');
    if (!this.reachable) reasons.push('broker_unreachable');
    return { ready: reasons.length === 0, reasons };
  }

  private async probe(): Promise<void> {
    let ok = false;
    try {
      const res = await fetch(this.url, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 2000) });
      ok = res.status === 200;
      await res.arrayBuffer().catch(() => undefined);
    } catch {
      ok = false;
    }
    this.reachable = ok;
    this.checkedAt = this.now();
  }
}
