/**
 * The web server's `/readyz` (PROTOCOL §10, §11): ready while it is not draining, at least one of
 * its brokers is ready and, in cluster mode, Redis is reachable. A broker is ready when its own
 * `/readyz` answers 200 (a draining broker counts as not ready: new browsers should go where they
 * can be served); the BrokerPool probes every broker in the background and on demand, remembering
 * an answer for its cacheMs, so a load balancer polling us often costs each broker at most one
 * probe per cacheMs. A live upstream whose welcome just arrived also proves its broker.
 */
import type { BrokerPool } from '../upstream/broker-pool.ts';

export interface ReadinessState {
  ready: boolean;
  /** Why not (empty when ready): `draining`, `broker_unreachable`, `redis`. */
  reasons: string[];
}

export interface WebReadinessOptions {
  brokers: BrokerPool;
  /** Cluster mode: is Redis reachable now? (unset: no Redis) */
  redisUp?: () => boolean;
}

export class WebReadiness {
  private draining = false;

  constructor(private readonly opts: WebReadinessOptions) {}

  /** SIGTERM: from now on /readyz is 503, before anything closes. */
  drain(): void {
    this.draining = true;
  }

  /** The last known state, without probing (for the `ready` gauge's fast path and logs). */
  get last(): ReadinessState {
    return this.state();
  }

  async check(): Promise<ReadinessState> {
    if (!this.draining) await this.opts.brokers.refresh();
    return this.state();
  }

  private state(): ReadinessState {
    const reasons: string[] = [];
    if (this.draining) reasons.push('draining');
    if (this.opts.brokers.readyUrls().length === 0) reasons.push('broker_unreachable');
    if (this.opts.redisUp && !this.opts.redisUp()) reasons.push('redis');
    return { ready: reasons.length === 0, reasons };
  }
}
