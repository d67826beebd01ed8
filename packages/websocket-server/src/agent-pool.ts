/**
 * Agent connections by name. Within a pool each client is pinned to one connection chosen by
 * rendezvous hashing (highest hash of clientId + agentId) and keeps it until that connection goes,
 * even when new connections join: a conversation never hops between agent processes needlessly.
 */
import { createHash } from 'node:crypto';
import type { AgentConnection } from './agent-connection.ts';

export function rendezvousScore(clientId: string, agentId: string): number {
  return createHash('sha256').update(clientId).update('\0').update(agentId).digest().readUIntBE(0, 6);
}

export class AgentPool {
  private readonly conns = new Map<string, AgentConnection>();
  private readonly pins = new Map<string, AgentConnection>();

  constructor(readonly name: string) {}

  get size(): number {
    return this.conns.size;
  }

  connections(): AgentConnection[] {
    return [...this.conns.values()];
  }

  add(conn: AgentConnection): void {
    this.conns.set(conn.agentId, conn);
  }

  remove(conn: AgentConnection): void {
    this.conns.delete(conn.agentId);
    for (const [clientId, c] of this.pins) if (c === conn) this.pins.delete(clientId);
  }

  /** The connection this client is pinned to, pinning it now if needed. */
  pick(clientId: string): AgentConnection | undefined {
    const pinned = this.pins.get(clientId);
    if (pinned && this.conns.get(pinned.agentId) === pinned) return pinned;
    let best: AgentConnection | undefined;
    let bestScore = -1;
    for (const c of this.conns.values()) {
      const s = rendezvousScore(clientId, c.agentId);
      if (s > bestScore || (s === bestScore && best && c.agentId > best.agentId)) {
        best = c;
        bestScore = s;
      }
    }
    if (best) this.pins.set(clientId, best);
    return best;
  }

  forget(clientId: string): void {
    this.pins.delete(clientId);
  }
}

export class AgentRegistry {
  private readonly pools = new Map<string, AgentPool>();

  get(name: string): AgentPool | undefined {
    return this.pools.get(name);
  }

  /** Adds the connection; true when it is the first of its name. */
  add(conn: AgentConnection): boolean {
    let pool = this.pools.get(conn.name);
    if (!pool) this.pools.set(conn.name, (pool = new AgentPool(conn.name)));
    pool.add(conn);
    return pool.size === 1;
  }

  /** Removes the connection; true when it was the last of its name. */
  remove(conn: AgentConnection): boolean {
    const pool = this.pools.get(conn.name);
    if (!pool) return false;
    pool.remove(conn);
    if (pool.size > 0) return false;
    this.pools.delete(conn.name);
    return true;
  }

  /** Names with at least one connection. */
  names(): string[] {
    return [...this.pools.keys()];
  }

  connections(): AgentConnection[] {
    return [...this.pools.values()].flatMap((p) => p.connections());
  }

  get connectionCount(): number {
    let n = 0;
    for (const p of this.pools.values()) n += p.size;
    return n;
  }

  forgetClient(clientId: string): void {
    for (const p of this.pools.values()) p.forget(clientId);
  }
}
