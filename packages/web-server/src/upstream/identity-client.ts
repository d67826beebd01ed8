/**
 * One job: the HTTP call that tells the broker a session proved (or dropped) a wallet address,
 * `POST /internal/clients/:clientId/identity` with PROXY_TOKEN (CONTRIBUTING.md, "Identity").
 * The SIWE routes go through LivePipeIdentity, which also updates this process's pipes.
 */
import { BrokerPath, type Logger } from '@agent-bridge/common';
import type { IdentityOutcome, IdentityUpdater } from '../siwe/deps.ts';
import { brokerHttpUrl } from './broker-url.ts';

export type { IdentityOutcome };

export interface BrokerIdentityClientOptions {
  /** The one broker (BROKER_URL), unless `brokersFor` is given. */
  brokerUrl?: string;
  /**
   * Several brokers: where to tell, best first (the broker the client's pipe is on, then the
   * ready brokers). An unreachable one is skipped for the next; any broker works in cluster mode,
   * where the session store is shared.
   */
  brokersFor?: (clientId: string) => string[];
  proxyToken: string;
  logger: Logger;
  /** A broker that does not answer within this is "unavailable". */
  timeoutMs?: number;
}

/** Brokers tried at most per update (each bounded by timeoutMs). */
const MAX_TRIES = 3;

export class BrokerIdentityClient implements IdentityUpdater {
  private readonly log: Logger;

  constructor(private readonly opts: BrokerIdentityClientOptions) {
    if (opts.brokerUrl === undefined && opts.brokersFor === undefined) throw new Error('BrokerIdentityClient needs brokerUrl or brokersFor');
    this.log = opts.logger.child({ module: 'identity-client' });
  }

  async setAddress(clientId: string, address: string | null): Promise<IdentityOutcome> {
    const urls = this.opts.brokersFor ? this.opts.brokersFor(clientId) : [this.opts.brokerUrl!];
    let outcome: IdentityOutcome = 'unavailable';
    for (const url of [...new Set(urls)].slice(0, MAX_TRIES)) {
      outcome = await this.tell(brokerHttpUrl(url), clientId, address);
      if (outcome !== 'unavailable') return outcome;
    }
    return outcome;
  }

  private async tell(base: string, clientId: string, address: string | null): Promise<IdentityOutcome> {
    let status: number;
    try {
      const res = await fetch(base + BrokerPath.identity(clientId), {
        method: 'POST',
        headers: { authorization: `Bearer ${this.opts.proxyToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ address }),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
      });
      status = res.status;
      // Drain the body so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      this.log.warn({ clientId, err: (err as Error).message }, 'broker identity update failed');
      return 'unavailable';
    }
    if (status === 204 || status === 200) return 'ok';
    if (status === 404) return 'unknown_client';
    this.log.error({ clientId, status }, 'broker refused an identity update');
    return 'unavailable';
  }
}
