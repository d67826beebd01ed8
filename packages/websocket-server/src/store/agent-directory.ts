/**
 * Every agent connection by name, wherever it is (this broker or, later, another): which names
 * are up, and which connection each client is pinned to. Within a name a client is pinned by
 * rendezvous hashing over every connection of the name (highest hash of clientId + agentId) and
 * keeps that pin until its connection goes, even when others join: a conversation never hops
 * between agent processes needlessly. Data only: the sockets are the local hub's.
 */
import type { Awaitable } from './awaitable.ts';

export interface AgentEntry {
  name: string;
  agentId: string;
  /** The broker holding the socket (cluster mode); this broker's id in memory. */
  node: string;
}

export interface AgentDirectory {
  /** true when it is the first connection of its name. */
  add(entry: AgentEntry): Awaitable<boolean>;
  /** true when it was the last of its name; the pins to it go. */
  remove(entry: AgentEntry): Awaitable<boolean>;
  /** The connection `clientId` is pinned to for `name`, pinning it now if needed. */
  pick(name: string, clientId: string): Awaitable<AgentEntry | undefined>;
  /** Names with at least one connection. */
  names(): Awaitable<string[]>;
  /** The client's session ended: forget its pins. */
  forgetClient(clientId: string): Awaitable<void>;
}
