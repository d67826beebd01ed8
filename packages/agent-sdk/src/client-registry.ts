import type { AgentClientsFrame, AgentWelcomeFrame, ClientMessageToAgentFrame, ClientInfo } from '@agent-bridge/common/protocol';
import type { ClientEvent } from './client-events.ts';

/** What the agent knows about one client session. */
export interface KnownClient {
  clientId: string;
  /** EIP-55 wallet address once the client signed in with Ethereum, else null. */
  address: string | null;
  /** Whether the client's socket is up right now (a known client may be away, resumable). */
  connected: boolean;
}

/**
 * The agent's view of the clients the bridge knows, from the welcome list and lifecycle events.
 * A client is known from its first connection until `client.expired`.
 */
export class ClientRegistry {
  readonly map = new Map<string, KnownClient>();

  /**
   * The welcome is the bridge's full view at (re)connect: replace whatever we had. With
   * `more:true` it is only the first page; `addPage` adds the `clients` frames that follow.
   */
  reset(welcome: AgentWelcomeFrame): void {
    this.map.clear();
    this.addPage(welcome);
  }

  /** One page of the list (the welcome's or a `clients` frame's), added to what we know. */
  addPage(page: AgentWelcomeFrame | AgentClientsFrame): void {
    // `connected` is our broker's optional extension; without it a listed client counts as up.
    for (const c of page.clients) this.map.set(c.clientId, { clientId: c.clientId, address: c.address, connected: c.connected ?? true });
  }

  /** The list as a welcome frame carries it (for the `welcome` event once every page arrived). */
  list(): ClientInfo[] {
    return [...this.map.values()].map((c) => ({ clientId: c.clientId, address: c.address }));
  }

  apply(e: ClientEvent): void {
    const prev = this.map.get(e.clientId);
    switch (e.event) {
      case 'client.connected':
        this.map.set(e.clientId, { clientId: e.clientId, address: e.address, connected: true });
        break;
      case 'client.disconnected':
        this.map.set(e.clientId, { clientId: e.clientId, address: prev?.address ?? null, connected: false });
        break;
      case 'client.expired':
        this.map.delete(e.clientId);
        break;
      case 'client.authenticated':
        this.map.set(e.clientId, { clientId: e.clientId, address: e.address, connected: prev?.connected ?? true });
        break;
      case 'client.signed_out':
        this.map.set(e.clientId, { clientId: e.clientId, address: null, connected: prev?.connected ?? true });
        break;
    }
  }

  /**
   * A message carries the client's current address. It does not prove the socket is up (messages
   * queued while no agent was connected arrive later), so `connected` is left alone when known.
   */
  seen(msg: ClientMessageToAgentFrame): void {
    const prev = this.map.get(msg.clientId);
    this.map.set(msg.clientId, { clientId: msg.clientId, address: msg.address, connected: prev?.connected ?? true });
  }
}
