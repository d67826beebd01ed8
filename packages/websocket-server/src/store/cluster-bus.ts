/**
 * What brokers tell each other (PROTOCOL §10), as one typed union. In one process the memory bus
 * loops every message back to this broker's own handler; a cluster's bus (Redis pub/sub, later)
 * carries them to every broker, each of which acts on what concerns its own sockets:
 *
 *  - deliver: a seq'd frame already in the session log, for the broker holding the client's socket;
 *  - client.message: a frame for an agent connection, for the broker holding it;
 *  - lifecycle: a system event for every agent connection (each broker sends it to its own);
 *  - identity: a session's address changed (each broker announces it to its own agents);
 *  - agent.up / agent.down: a connection of a name came or went (pins and wait queues move);
 *  - kick: close this client's socket wherever it is (a newer one took over: 4500);
 *  - deliver.batch: one frame appended to many sessions (a broadcast), for one broker holding
 *    some of their sockets: the text around the seq once, and each session's seq;
 *  - error: an unsequenced `error` frame for a client whose socket another broker may hold.
 * `node` names the one broker a message is for (a cluster's bus sends it to that broker only).
 */
import type { SystemEvent } from '@agent-bridge/common';
import type { WaitEntry } from '../agent-wait-queue.ts';
import type { FrameKind } from '../mailbox.ts';
import type { AgentEntry } from './agent-directory.ts';
import type { Awaitable } from './awaitable.ts';
import type { LoggedFrame } from './session-log.ts';

export type BusMessage =
  | { kind: 'deliver'; clientId: string; frameKind: FrameKind; frame: LoggedFrame }
  | { kind: 'client.message'; agentId: string; node?: string; entry: WaitEntry }
  /** Cluster: one client's messages held together for one connection (inflight-redis.ts), in order. */
  | { kind: 'client.messages'; agentId: string; node?: string; entries: WaitEntry[] }
  | { kind: 'lifecycle'; event: SystemEvent; fields: Record<string, unknown> }
  | { kind: 'identity'; clientId: string; address: string | null }
  | { kind: 'agent.up'; agent: AgentEntry }
  | { kind: 'agent.down'; agent: AgentEntry }
  | { kind: 'kick'; clientId: string; node?: string; code: number; reason: string }
  | { kind: 'error'; clientId: string; payload: string }
  | { kind: 'deliver.batch'; node: string; frameKind: FrameKind; type: string; head: string; tail: string; items: [string, number][] };

export interface ClusterBus {
  /**
   * Send to every broker (this one included), or to the one `node` names. A shared bus answers
   * how many brokers received it: 0 for a message to one broker means that broker is gone.
   */
  publish(message: BusMessage): Awaitable<void | number>;
  /** Receive every message; returns the unsubscribe. */
  subscribe(handler: (message: BusMessage) => void): () => void;
  /** A shared bus reconnected: messages published meanwhile may be lost (re-read the stores). */
  onResubscribed?(listener: () => void): void;
}
