/**
 * This process's sockets, and only them: client connections by clientId (one per session at a
 * time) and agent connections by agentId. Everything that must outlive a socket or be seen by
 * another broker is in the stores (store/); the hub is what a broker cannot share.
 */
import type { AgentConnection } from './agent-connection.ts';
import type { ClientConnection } from './client-connection.ts';

export interface LocalHub {
  client(clientId: string): ClientConnection | undefined;
  /** The session's socket is now `conn` (a previous one must have been detached). */
  setClient(conn: ClientConnection): void;
  /** `conn` is no longer its session's socket (no-op when another one already took over). */
  removeClient(conn: ClientConnection): boolean;
  clients(): Iterable<ClientConnection>;
  readonly clientCount: number;
  agent(agentId: string): AgentConnection | undefined;
  addAgent(conn: AgentConnection): void;
  removeAgent(conn: AgentConnection): void;
  agents(): AgentConnection[];
  readonly agentCount: number;
  /** Open agent connections per name (metrics). */
  agentCounts(): Map<string, number>;
}

export class MemoryLocalHub implements LocalHub {
  private readonly clientConns = new Map<string, ClientConnection>();
  private readonly agentConns = new Map<string, AgentConnection>();

  client(clientId: string): ClientConnection | undefined {
    return this.clientConns.get(clientId);
  }

  setClient(conn: ClientConnection): void {
    this.clientConns.set(conn.clientId, conn);
  }

  removeClient(conn: ClientConnection): boolean {
    if (this.clientConns.get(conn.clientId) !== conn) return false;
    this.clientConns.delete(conn.clientId);
    return true;
  }

  clients(): Iterable<ClientConnection> {
    return this.clientConns.values();
  }

  get clientCount(): number {
    return this.clientConns.size;
  }

  agent(agentId: string): AgentConnection | undefined {
    return this.agentConns.get(agentId);
  }

  addAgent(conn: AgentConnection): void {
    this.agentConns.set(conn.agentId, conn);
  }

  removeAgent(conn: AgentConnection): void {
    this.agentConns.delete(conn.agentId);
  }

  agents(): AgentConnection[] {
    return [...this.agentConns.values()];
  }

  get agentCount(): number {
    return this.agentConns.size;
  }

  agentCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const c of this.agentConns.values()) counts.set(c.name, (counts.get(c.name) ?? 0) + 1);
    return counts;
  }
}
