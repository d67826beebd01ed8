/**
 * The web server's one identity updater (the SIWE routes use it): tells the broker (through
 * BrokerIdentityClient, the HTTP call), then the live pipes of that clientId, so a later upstream
 * redial announces the address the session has now — not the one its browser connected with (a
 * signed-out wallet must never be announced again).
 */
import type { IdentityOutcome, IdentityUpdater } from '../siwe/deps.ts';
import type { ClientPipe } from './client-pipe.ts';

export class LivePipeIdentity implements IdentityUpdater {
  constructor(
    private readonly broker: IdentityUpdater,
    private readonly pipes: ReadonlySet<ClientPipe>,
  ) {}

  async setAddress(clientId: string, address: string | null): Promise<IdentityOutcome> {
    const outcome = await this.broker.setAddress(clientId, address);
    // 'unknown_client' still updates pipes: one may be mid-redial, its session not yet re-made.
    if (outcome !== 'unavailable') {
      for (const pipe of this.pipes) if (pipe.clientId === clientId) pipe.setAddress(address);
    }
    return outcome;
  }
}
