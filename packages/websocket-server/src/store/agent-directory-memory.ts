/** The agent directory in this process: a map of pools, each with its pins; synchronous. */
import { rendezvousScore } from '../agent-pool.ts';
import type { AgentDirectory, AgentEntry } from './agent-directory.ts';

interface Pool {
  conns: Map<string, AgentEntry>;
  pins: Map<string, AgentEntry>;
}

export class MemoryAgentDirectory implements AgentDirectory {
  private readonly pools = new Map<string, Pool>();

  add(entry: AgentEntry): boolean {
    let pool = this.pools.get(entry.name);
    if (!pool) this.pools.set(entry.name, (pool = { conns: new Map(), pins: new Map() }));
    pool.conns.set(entry.agentId, entry);
    return pool.conns.size === 1;
  }

  remove(entry: AgentEntry): boolean {
    const pool = this.pools.get(entry.name);
    if (!pool?.conns.delete(entry.agentId)) return false;
    for (const [clientId, e] of pool.pins) if (e.agentId === entry.agentId) pool.pins.delete(clientId);
    if (pool.conns.size > 0) return false;
    this.pools.delete(entry.name);
    return true;
  }

  pick(name: string, clientId: string): AgentEntry | undefined {
    const pool = this.pools.get(name);
    if (!pool) return undefined;
    const pinned = pool.pins.get(clientId);
    if (pinned && pool.conns.get(pinned.agentId) === pinned) return pinned;
    let best: AgentEntry | undefined;
    let bestScore = -1;
    for (const e of pool.conns.values()) {
      const s = rendezvousScore(clientId, e.agentId);
      if (s > bestScore || (s === bestScore && best && e.agentId > best.agentId)) {
        best = e;
        bestScore = s;
      }
    }
    if (best) pool.pins.set(clientId, best);
    return best;
  }

  names(): string[] {
    return [...this.pools.keys()];
  }

  forgetClient(clientId: string): void {
    for (const p of this.pools.values()) p.pins.delete(clientId);
  }
}
