/**
 * PROTOCOL §8 at the broker (single process): `accepted` answers, de-duplication of resent ids,
 * and the opt-in agent acknowledgements with redelivery. The router asks it before routing a
 * frame with an `id` (`duplicate…`: answered accepted again, nothing delivered) and tells it once
 * the frame is stored for delivery (`accepted…`); the agent lifecycle asks it what a gone
 * connection must get again. In cluster mode (§10) these records move to the shared store.
 */
import { FrameType } from '@agent-bridge/common';
import { AgentIdMemory, ClientIdMemory } from './acks-ids.ts';
import { UnackedMessages } from './acks-unacked.ts';
import type { AgentConnection } from './agent-connection.ts';
import type { WaitEntry } from './agent-wait-queue.ts';
import type { BrokerMetrics } from './metrics.ts';
import type { SessionDelivery } from './session-delivery.ts';

const ACK_PREFIX = `{"type":"${FrameType.ack}","id":`;

/**
 * The id of an agent `ack` in exactly the SDK's shape (`{"type":"ack","id":"…"}`), else undefined
 * (then the frame takes the schema path). One such frame comes per client message: the hot path
 * skips the schema walk.
 */
export function fastAckId(text: string): string | undefined {
  if (!text.startsWith(ACK_PREFIX) || text.charCodeAt(text.length - 1) !== 125 /* } */) return undefined;
  try {
    const id: unknown = JSON.parse(text.slice(ACK_PREFIX.length, -1));
    return typeof id === 'string' && id.length > 0 && id.length <= 128 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** `{"type":"accepted","ref":"…"}`: no seq, never replayed. */
export function acceptedFrame(ref: string): string {
  return `{"type":"${FrameType.accepted}","ref":${JSON.stringify(ref)}}`;
}

export class Acceptance {
  readonly clientIds = new ClientIdMemory();
  readonly agentIds: AgentIdMemory;
  readonly unacked: UnackedMessages;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly delivery: SessionDelivery,
    private readonly metrics: BrokerMetrics,
    limits: { sessionTtlMs: number; agentQueueLimit: number },
  ) {
    this.agentIds = new AgentIdMemory(limits.sessionTtlMs);
    this.unacked = new UnackedMessages(limits.agentQueueLimit, limits.sessionTtlMs);
    // Names that stopped sending lose their expired ids (a live name prunes its own as it goes).
    this.sweeper = setInterval(() => this.agentIds.sweep(), Math.max(1000, limits.sessionTtlMs)).unref();
  }

  // ---------------------------------------------------------------- client frames

  /** A client frame with an id already accepted in this session: accepted again, routed nowhere. */
  duplicateFromClient(clientId: string, id: string): boolean {
    if (!this.clientIds.seen(clientId, id)) return false;
    this.metrics.m.framesDeduplicated.inc({ from: 'client' });
    this.toClient(clientId, id);
    return true;
  }

  /** Handed to the pinned connection or queued for the name: remembered, answered accepted. */
  acceptedFromClient(clientId: string, id: string): void {
    this.clientIds.remember(clientId, id);
    this.metrics.m.framesAccepted.inc({ from: 'client' });
    this.toClient(clientId, id);
  }

  /** The session ended for good. */
  forgetClient(clientId: string): void {
    this.clientIds.forget(clientId);
  }

  private toClient(clientId: string, id: string): void {
    this.delivery.unsequenced(clientId, FrameType.accepted, acceptedFrame(id));
  }

  // ---------------------------------------------------------------- agent frames

  duplicateFromAgent(conn: AgentConnection, id: string): boolean {
    if (!this.agentIds.seen(conn.name, id)) return false;
    this.metrics.m.framesDeduplicated.inc({ from: 'agent' });
    conn.send(FrameType.accepted, acceptedFrame(id));
    return true;
  }

  /** Every recipient's copy has its seq and is in its resume buffer. */
  acceptedFromAgent(conn: AgentConnection, id: string): void {
    this.agentIds.remember(conn.name, id);
    this.metrics.m.framesAccepted.inc({ from: 'agent' });
    conn.send(FrameType.accepted, acceptedFrame(id));
  }

  // ---------------------------------------------------------------- agent acknowledgements

  /** A client.message went to an opted-in connection's socket. */
  handed(conn: AgentConnection, entry: WaitEntry): void {
    if (conn.acks) this.unacked.sent(conn.name, conn.agentId, entry);
  }

  /** `{"type":"ack","id"}`: ignored (no error) from a connection that did not opt in, or for an unknown id. */
  ack(conn: AgentConnection, id: string): void {
    if (conn.acks) this.unacked.ack(conn.name, conn.agentId, id);
  }

  /** The connection went: what it had not acknowledged, oldest first, `redelivered:true`. */
  redeliver(conn: AgentConnection): WaitEntry[] {
    if (!conn.acks) return [];
    const again = this.unacked.take(conn.name, conn.agentId);
    if (again.length) this.metrics.m.framesRedelivered.inc(again.length);
    return again;
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
