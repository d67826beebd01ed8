/**
 * The brokers of a cluster (PROTOCOL §10) and which of them are alive: each broker beats every
 * second; one that stopped beating for longer than the dead-after bound is claimed by exactly one
 * survivor, which detaches the sessions whose sockets it held (so they can expire or be resumed
 * elsewhere) and removes its agent connections from the directory. In one process there is one
 * broker, always alive: the memory implementation has nothing to do.
 */
import type { Awaitable } from './awaitable.ts';

export interface DeadNode {
  node: string;
  /** Sessions whose socket it held when it died. */
  clients: string[];
  /** Its agent connections, as `name` + `agentId`. */
  agents: { name: string; agentId: string }[];
}

export interface ClusterNodes {
  /**
   * This broker is alive (called every second). False, once: another broker took this run over
   * meanwhile (it was cut off from the store for longer than the dead-after bound), so the
   * sessions and agent connections it still holds sockets of are no longer its own.
   */
  beat(): Awaitable<boolean>;
  /**
   * Brokers silent for longer than `deadAfterMs` (and any whose name starts with `predecessors`:
   * earlier runs of this broker; and `suspects` silent for longer than `suspectAfterMs`), each
   * handed to exactly one caller cluster-wide.
   */
  claimDead(deadAfterMs: number, predecessors?: string, suspects?: string[], suspectAfterMs?: number): Awaitable<DeadNode[]>;
  /** The takeover of a claimed broker is complete: forget it. */
  done(node: string): Awaitable<void>;
  /** This broker holds (true) or no longer holds (false) the session's socket. */
  holdsClient(clientId: string, held: boolean): Awaitable<void>;
  holdsAgent(name: string, agentId: string, held: boolean): Awaitable<void>;
  /** Shutdown: this broker is gone now (others take over at once, not after the bound). */
  leave(): Awaitable<void>;
}

/** One process: the only broker, never dead. */
export class MemoryClusterNodes implements ClusterNodes {
  beat(): boolean {
    return true;
  }
  claimDead(): DeadNode[] {
    return [];
  }
  done(): void {}
  holdsClient(): void {}
  holdsAgent(): void {}
  leave(): void {}
}
