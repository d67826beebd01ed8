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
  brokerUrl: string;
  proxyToken: string;
  logger: Logger;
  /** A broker that does not answer within this is "unavailable". */
  timeoutMs?: number;
}

export class BrokerIdentityClient implements IdentityUpdater {
  private readonly base: string;
  private readonly log: Logger;

  constructor(private readonly opts: BrokerIdentityClientOptions) {
    this.base = brokerHttpUrl(opts.brokerUrl);
    this.log = opts.logger.child({ module: 'identity-client' });
  }

  async setAddress(clientId: string, address: string | null): Promise<IdentityOutcome> {
    let status: number;
    try {
      const res = await fetch(this.base + BrokerPath.identity(clientId), {
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
